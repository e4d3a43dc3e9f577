"""The README's table of settings is the settings model's: every key, described in Russian."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from journaldesk.resources import default_file
from journaldesk.settings_docs import settings_table, undescribed

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- settings:start -->") + len("<!-- settings:start -->")
    return text[start : text.index("<!-- settings:end -->")].strip()


def test_readme_settings_table_matches_the_model() -> None:
    assert _readme_table() == settings_table().strip(), (
        "README.md is out of date: paste the output of `python -m journaldesk.settings_docs`"
    )


def test_every_setting_is_described_in_russian() -> None:
    assert undescribed() == []
    for line in settings_table().splitlines()[2:]:
        meaning = line.split(" | ")[1]
        assert re.search("[а-яё]", meaning), line


def _leaf_keys(data: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        if prefix == "topics.":
            keys |= {f"topics.<тема>.{k}" for k in value}
        elif isinstance(value, dict) and key not in ("per_class",):
            keys |= _leaf_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_every_key_of_the_example_settings_is_in_the_table() -> None:
    # Written independently of the generator: the keys a school sees in the example file.
    example = yaml.safe_load(default_file("settings.example.yaml").read_text(encoding="utf-8"))
    in_table = set(re.findall(r"^\| `([^`]+)`", _readme_table(), flags=re.M))
    assert _leaf_keys(example) <= in_table, _leaf_keys(example) - in_table
