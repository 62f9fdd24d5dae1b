from gitassist.cli.entry import main

main()
