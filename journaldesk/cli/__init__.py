"""The `journaldesk` command line (in Russian: see russian.py)."""

from journaldesk.cli.russian import install

install()
