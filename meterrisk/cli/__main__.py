from meterrisk.cli import main

main()
