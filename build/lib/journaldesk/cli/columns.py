"""`python -m journaldesk.cli.columns`: the README's tables of tabs and columns, from the schema."""

from __future__ import annotations

import click

from journaldesk.sheet.docs import all_tables

if __name__ == "__main__":
    click.echo(all_tables())
