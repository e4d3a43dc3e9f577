"""`journaldesk init` on a sheet made by the previous version: the dropdowns whose lists grew get
the new values, and nothing else of the sheet changes (cells, formats, other validations, look).

The previous version's lists are written out here as they were, not taken from the schema."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from journaldesk.cli.main import main
from journaldesk.jobs.demo import fill_cells
from journaldesk.jobs.init import plan_init
from journaldesk.resources import default_file
from journaldesk.sheet.schema import Schema, parse_schema
from journaldesk.store.base import Snapshot
from journaldesk.store.workbook import LISTS_SHEET, WorkbookStore
from tests.helpers import SCHEMA

# The lists as the version before the vendor status, the quarter ends and group sessions had them.
STATUS_BEFORE = ["Новое", "В работе", "Ждём заявителя", "Решено", "Отклонено"]
KINDS_BEFORE = ["Праздник", "Каникулы", "Нет консультаций", "Доп. консультация"]

REQ = SCHEMA["requests"]
CAL = SCHEMA["calendar"]
STATUS_COL = REQ.fields.index("status") + 1
KIND_COL = CAL.fields.index("kind") + 1
GROWN = {(REQ.title, STATUS_COL), (CAL.title, KIND_COL)}


def old_schema() -> Schema:
    """The current contract with the previous version's status and calendar lists."""
    data = yaml.safe_load(default_file("schema.yaml").read_text(encoding="utf-8"))
    data["enums"]["status"] = list(STATUS_BEFORE)
    data["enums"]["calendar_kind"] = list(KINDS_BEFORE)
    return parse_schema(data)


def school_today() -> dt.date:
    # `journaldesk init` seeds the calendar of the school year of its own clock: the old sheet is
    # made as of the same day, so the seed rows are the ones it already has.
    return dt.datetime.now(ZoneInfo("Europe/Simferopol")).date()


ROWS: dict[str, list[dict[str, Any]]] = {
    "requests": [
        {
            "number": 1,
            "received_at": dt.datetime(2026, 11, 2, 14, 10),
            "requester": "Иванова М. П.",
            "role": "Учитель",
            "class_name": "5А",
            "topic": "Текущие отметки",
            "description": "=не формула",
            "status": "Ждём заявителя",
        },
        {"requester": "Петров", "topic": "Техническая неисправность", "status": "Решено"},
    ],
    "staff": [{"full_name": "Иванова Мария Петровна", "position": "учитель"}],
}
CALENDAR_ROW = {
    "date_from": dt.date(2026, 12, 3),
    "kind": "Доп. консультация",
    "time_from": dt.time(16, 0),
    "time_to": dt.time(17, 0),
    "comment": "перед контрольной",
}


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, args, env=env or {})
    assert result.exit_code == 0, result.output
    return result.output


def _write_settings(path: Path, data: dict[str, Any]) -> Path:
    data = {"log_file": "logs/journaldesk.log", **data}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# -- the workbook ----------------------------------------------------------------------------


def _resolve(formula: str | None, lists: Any) -> list[str]:
    prefix = f"'{LISTS_SHEET}'!"
    if not formula or not formula.startswith(prefix):
        return [formula or ""]
    min_col, min_row, _, max_row = range_boundaries(formula[len(prefix) :].replace("$", ""))
    return [
        str(r[0])
        for r in lists.iter_rows(
            min_row=min_row, max_row=max_row, min_col=min_col, max_col=min_col, values_only=True
        )
        if r[0] is not None
    ]


def _validations(ws: Any, lists: Any) -> dict[tuple[int, int, int], tuple]:
    """Every validation by the cells it covers (column, first row, last row): what it allows
    and how it warns."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        what = (
            dv.type,
            tuple(_resolve(dv.formula1, lists)),
            dv.errorStyle,
            dv.error,
            dv.errorTitle,
            bool(dv.allow_blank),
            bool(dv.showErrorMessage),
        )
        for rng in dv.sqref.ranges:
            for col in range(rng.min_col, rng.max_col + 1):
                out[(col, rng.min_row, rng.max_row)] = what
    return out


def _book_state(path: Path) -> dict[str, Any]:
    """What staff see of each tab: cells (value, type, format, font, fill, wrap, note), widths,
    heights, freeze, filter, colours, print setup, validations, protection notes."""
    book = load_workbook(path)
    lists = book[LISTS_SHEET] if LISTS_SHEET in book.sheetnames else None
    state: dict[str, Any] = {"order": book.sheetnames, "active": book.active.title}
    for ws in book.worksheets:
        if ws.title == LISTS_SHEET:
            state[ws.title] = ws.sheet_state
            continue
        cells = {
            c.coordinate: (
                c.value,
                # An empty cell may come back untyped from the first save: both are empty.
                c.data_type if c.value is not None else None,
                c.number_format,
                c.font.b,
                c.font.color.rgb if c.font.color is not None else None,
                c.fill.fgColor.rgb,
                c.alignment.wrap_text,
                c.comment.text if c.comment else None,
            )
            for row in ws.iter_rows()
            for c in row
        }
        state[ws.title] = {
            "cells": cells,
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "column_styles": {k: d.number_format for k, d in ws.column_dimensions.items()},
            "heights": {k: d.height for k, d in ws.row_dimensions.items()},
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "colours": [
                (str(rng.sqref), r.type, r.operator, tuple(r.formula or ()), r.dxfId)
                for rng in ws.conditional_formatting
                for r in rng.rules
            ],
            "print": (
                ws.page_setup.orientation,
                ws.page_setup.fitToWidth,
                ws.print_title_rows,
                ws.sheet_state,
            ),
            "validations": _validations(ws, lists),
        }
    return state


def test_init_gives_an_old_workbook_the_new_list_values_and_changes_nothing_else(
    tmp_path: Path,
) -> None:
    book = tmp_path / "journal.xlsx"
    store = WorkbookStore(book, create=True)
    plan = plan_init(Snapshot(tabs={}), {}, today=school_today(), schema=old_schema())
    store.apply_init(plan)
    seeded = {t: len(r) for t, r in plan.seed_rows}
    store.write(fill_cells(SCHEMA, ROWS))
    store.write(fill_cells(SCHEMA, {"calendar": [CALENDAR_ROW]}, {"calendar": seeded[CAL.title]}))
    described = WorkbookStore(book).describe()
    assert described[REQ.title]["dropdown_values"][STATUS_COL] == STATUS_BEFORE
    assert described[CAL.title]["dropdown_values"][KIND_COL] == KINDS_BEFORE
    before = _book_state(book)

    config = _write_settings(tmp_path / "settings.yaml", {"workbook": {"path": "journal.xlsx"}})
    output = _run(["init", "--config", str(config)])
    assert "выпадающих списков: 2" in output, output

    after = _book_state(book)
    described = WorkbookStore(book).describe()
    assert described[REQ.title]["dropdown_values"][STATUS_COL] == list(REQ.col("status").values)
    assert described[CAL.title]["dropdown_values"][KIND_COL] == list(CAL.col("kind").values)
    assert set(REQ.col("status").values) > set(STATUS_BEFORE)
    assert set(CAL.col("kind").values) > set(KINDS_BEFORE)
    # The grown lists: the same cells covered, the same warning, only the values longer.
    for title, col in GROWN:
        was = {k: v for k, v in before[title]["validations"].items() if k[0] == col}
        now = {k: v for k, v in after[title]["validations"].items() if k[0] == col}
        assert was.keys() == now.keys()
        for key, value in now.items():
            assert value[0] == was[key][0] and value[2:] == was[key][2:]
            assert list(was[key][1]) == _old_values(title)
            assert list(value[1]) == _new_values(title)
    # Everything else, tab by tab.
    for title in before:
        if title in ("order", "active", LISTS_SHEET):
            assert before[title] == after[title], title
            continue
        b, a = dict(before[title]), dict(after[title])
        b["validations"] = {k: v for k, v in b["validations"].items() if (title, k[0]) not in GROWN}
        a["validations"] = {k: v for k, v in a["validations"].items() if (title, k[0]) not in GROWN}
        for part in b:
            assert b[part] == a[part], (title, part)
    # And a second init finds nothing to do.
    assert "менять нечего" in _run(["init", "--config", str(config)])


def _key(title: str) -> str:
    return next(k for k, t in SCHEMA.tabs.items() if t.title == title)


def _old_values(title: str) -> list[str]:
    return STATUS_BEFORE if title == REQ.title else KINDS_BEFORE


def _new_values(title: str) -> list[str]:
    return list(SCHEMA[_key(title)].col("status" if title == REQ.title else "kind").values)


# -- Google ----------------------------------------------------------------------------------


def _google_state(server: Any, sid: str) -> dict[str, Any]:
    """Every tab as the server holds it: cells (value, formula, format, validation), frozen rows,
    colours, protection, filter, grid size."""
    book = server.book(sid)
    state: dict[str, Any] = {"order": [s.title for s in book.sheets]}
    for sheet in book.sheets:
        cells = {
            (r, c): (
                cell.value,
                cell.formula,
                json.dumps(cell.number_format, sort_keys=True),
                json.dumps(cell.validation, sort_keys=True, ensure_ascii=False),
            )
            for r, row in enumerate(sheet.rows)
            for c, cell in enumerate(row)
            if cell is not None
        }
        state[sheet.title] = {
            "cells": cells,
            "grid": (sheet.row_count, sheet.column_count, sheet.frozen_rows),
            "colours": copy.deepcopy(sheet.conditional_formats),
            "protected": copy.deepcopy(sheet.protected_ranges),
            "filter": copy.deepcopy(sheet.basic_filter),
        }
    return state


def test_init_gives_an_old_google_sheet_the_new_list_values_and_changes_nothing_else(
    tmp_path: Path, sheets_server, google_store, service_account_info
) -> None:
    sid = sheets_server.create_spreadsheet()
    store = google_store(sid)
    plan = plan_init(store.read(), store.describe(), today=school_today(), schema=old_schema())
    store.apply_init(plan)
    seeded = {t: len(r) for t, r in plan.seed_rows}
    store.write(fill_cells(SCHEMA, ROWS))
    store.write(fill_cells(SCHEMA, {"calendar": [CALENDAR_ROW]}, {"calendar": seeded[CAL.title]}))
    before = _google_state(sheets_server, sid)

    config = _write_settings(
        tmp_path / "settings.yaml",
        {
            "backend": "google",
            "google": {
                "spreadsheet": f"https://docs.google.com/spreadsheets/d/{sid}/edit",
                "api_url": sheets_server.url,
            },
        },
    )
    env = {
        "JOURNALDESK_CREDENTIALS_JSON": json.dumps(service_account_info),
        "JOURNALDESK_CREDENTIALS": "",
    }
    output = _run(["init", "--config", str(config)], env)
    assert "выпадающих списков: 2" in output, output
    after = _google_state(sheets_server, sid)

    described = google_store(sid).describe()
    assert described[REQ.title]["dropdown_values"][STATUS_COL] == list(REQ.col("status").values)
    assert described[CAL.title]["dropdown_values"][KIND_COL] == list(CAL.col("kind").values)
    assert before["order"] == after["order"]
    for title in before:
        if title == "order":
            continue
        b, a = before[title], after[title]
        for part in ("grid", "colours", "protected", "filter"):
            assert b[part] == a[part], (title, part)
        assert b["cells"].keys() == a["cells"].keys(), title
        for (r, c), was in b["cells"].items():
            now = a["cells"][(r, c)]
            if (title, c + 1) in GROWN and r >= 1:
                assert now[:3] == was[:3], (title, r, c)
                assert was[3] != now[3]
                rule = json.loads(now[3])
                values = [v["userEnteredValue"] for v in rule["condition"]["values"]]
                assert values == _new_values(title)
            else:
                assert now == was, (title, r, c)
    assert "менять нечего" in _run(["init", "--config", str(config)], env)
