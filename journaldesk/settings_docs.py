"""The README's table of settings, generated from the settings model (a test keeps it in step).

python -m journaldesk.settings_docs    # prints the table to paste into README.md
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from journaldesk.settings import Settings

# A key of a mapping whose keys the school chooses (a topic, a class): shown as a placeholder.
_MAP_KEYS = {"topics": "<тема>"}


def _value(value: Any) -> str:
    """A default as it is written in settings.yaml."""
    if value is None:
        return "пусто"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, str):
        return value if value else "пусто"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return str(value)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The section model behind a field's type, if it is one (or a mapping of them)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        model = _model_of(arg)
        if model is not None:
            return model
    return None


def _rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, FieldInfo]]:
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = f"{prefix}{name}"
        section = _model_of(field.annotation)
        if section is not None:
            inner = f"{key}.{_MAP_KEYS[name]}." if name in _MAP_KEYS else f"{key}."
            yield from _rows(section, inner)
        else:
            yield key, field


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def settings_table() -> str:
    """A Markdown table of every setting: key, meaning, default, example."""
    lines = ["| Параметр | Что задаёт | По умолчанию | Пример |", "|---|---|---|---|"]
    for key, field in _rows(Settings, ""):
        default = field.get_default(call_default_factory=True)
        shown = _value(default)
        if key.startswith("topics.") and default is None:
            shown = "как в config/schema.yaml"
        example = ", ".join(str(e) for e in field.examples or [])
        lines.append(
            f"| `{key}` | {_cell(field.description or '')} | {_cell(shown)} | {_cell(example)} |"
        )
    return "\n".join(lines)


def undescribed() -> list[str]:
    """Settings without a Russian description (each must have one)."""
    return [key for key, field in _rows(Settings, "") if not (field.description or "").strip()]


if __name__ == "__main__":
    sys.stdout.write(settings_table() + "\n")
