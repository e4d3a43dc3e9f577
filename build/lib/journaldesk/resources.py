"""The files that ship with the package: the sheet contract, the default calendar, the templates.

They live at the top of the project (`config/`, `templates/`) and are mapped into the package as
`journaldesk.defaults` and `journaldesk.templates`, so the same code reads them from a source
checkout, an editable install and an installed wheel.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def default_file(name: str) -> Traversable:
    """A file of `config/` (schema.yaml, calendar.yaml, settings.example.yaml)."""
    return files("journaldesk.defaults") / name


def template_file(name: str) -> Traversable:
    """A Jinja2 template of `templates/`."""
    return files("journaldesk.templates") / name
