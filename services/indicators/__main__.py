from services.indicators.app import main

main()
