from gitassist.cli.main import main

main()
