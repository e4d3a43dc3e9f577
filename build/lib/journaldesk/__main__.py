"""`python -m journaldesk ...` runs the command line (the same as the `journaldesk` command)."""

from journaldesk.cli.main import main

main()
