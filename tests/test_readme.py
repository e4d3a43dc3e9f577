"""The README stays true: its column tables match the schema, its commands exist."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from journaldesk.cli.main import main
from journaldesk.sheet.docs import all_tables

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_column_tables_match_the_schema() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- columns:start -->") + len("<!-- columns:start -->")
    end = text.index("<!-- columns:end -->")
    assert text[start:end].strip() == all_tables().strip(), (
        "README.md is out of date: paste the output of `python -m journaldesk.cli.columns`"
    )


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


def test_every_command_has_help_and_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    runner = CliRunner()
    for name, command in main.commands.items():
        assert command.help, name
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert f"`{name}`" in text, f"command {name} is not in the README"
