from services.inspections.app import main

main()
