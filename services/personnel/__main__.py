from services.personnel.app import main

main()
