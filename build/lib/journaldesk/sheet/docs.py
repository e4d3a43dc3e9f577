"""The README's tables of columns, generated from config/schema.yaml (a test keeps them in step).

python -m journaldesk.cli.columns    # prints the tables to paste into README.md
"""

from __future__ import annotations

from journaldesk.sheet.schema import Schema, load_schema

OWNERS_RU = {
    "staff": "сотрудники",
    "auto": "сотрудники; пустую заполняет программа",
    "derived": "программа",
}
TYPES_RU = {
    "text": "текст",
    "int": "целое число",
    "number": "число",
    "date": "дата ДД.ММ.ГГГГ",
    "datetime": "дата и время ДД.ММ.ГГГГ ЧЧ:ММ",
    "time": "время ЧЧ:ММ",
    "enum": "список",
    "class": "класс (5А)",
    "email": "эл. почта",
}


def columns_table(schema: Schema, key: str) -> str:
    """A Markdown table of one tab's columns: header, type, who fills it, allowed values."""
    tab = schema[key]
    lines = [
        f"#### {tab.title}",
        "",
        "| Столбец | Тип | Кто заполняет | Значения |",
        "|---|---|---|---|",
    ]
    for c in tab.columns:
        values = ", ".join(c.values) if c.values else ""
        required = " (обязательно)" if c.required else ""
        lines.append(
            f"| {c.header} | {TYPES_RU[c.type]}{required} | {OWNERS_RU[c.owner]} | {values} |"
        )
    return "\n".join(lines)


def all_tables(schema: Schema | None = None) -> str:
    """Every tab's table, in schema order."""
    schema = schema or load_schema()
    return "\n\n".join(columns_table(schema, key) for key in schema.tabs)
