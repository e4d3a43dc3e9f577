"""How the workbook reads at a glance: widths per type, wrap, header, colours, print setup.

The demo workbook is built once for the module and read back with openpyxl, as Excel or
LibreOffice would open it. Expected widths come from the rule a person checks by eye: a value
shows (no `###`, not clipped) when the column is at least one character wider than the value
as the cell's number format prints it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from journaldesk.jobs.demo import WORKBOOK_NAME, build_demo
from journaldesk.jobs.init import plan_init
from journaldesk.jobs.sync import sync
from journaldesk.settings import load_settings
from journaldesk.sheet.schema import load_schema
from journaldesk.store.workbook import WorkbookStore
from tests.helpers import SEED_DAY

SCHEMA = load_schema()
TZ = ZoneInfo("Europe/Simferopol")
NOW = dt.datetime(2026, 11, 25, 15, 30, tzinfo=TZ)
# Excel's number format codes, as a person reads the printed value.
PRINTED = {"dd.mm.yyyy hh:mm": "%d.%m.%Y %H:%M", "dd.mm.yyyy": "%d.%m.%Y", "hh:mm": "%H:%M"}
RED, AMBER = "FFC7CE", "FFEB9C"


def printed(cell: Any) -> str:
    """The text a spreadsheet shows for a cell, from its number format."""
    value = cell.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.strftime(PRINTED[cell.number_format.lower()])
    return "" if value is None else str(value)


def width_of(ws: Any, col: int) -> float:
    """The width of a column as the file says (openpyxl's 13 when the file names none)."""
    letter = openpyxl.utils.get_column_letter(col)
    for key, dim in ws.column_dimensions.items():
        lo = dim.min or openpyxl.utils.column_index_from_string(key)
        hi = dim.max or lo
        if lo <= col <= hi:
            return float(dim.width)
    return float(ws.column_dimensions[letter].width)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo")
    build_demo(target, now=NOW)
    return target


@pytest.fixture(scope="module")
def book(demo: Path) -> Any:
    return openpyxl.load_workbook(demo / WORKBOOK_NAME)


def columns_of(type_: str) -> list[tuple[str, int, Any]]:
    return [
        (tab.title, i, c)
        for tab in SCHEMA.tabs.values()
        for i, c in enumerate(tab.columns, start=1)
        if c.type == type_
    ]


@pytest.mark.parametrize("type_", ["datetime", "date", "time"])
def test_every_date_column_shows_its_widest_real_value(book: Any, type_: str) -> None:
    """A moment ДД.ММ.ГГГГ ЧЧ:ММ never turns into ###: each date column is wider than the
    widest value the demo put into it, as printed, and than a full value of its type."""
    full = {"datetime": "29.11.2026 14:30", "date": "29.11.2026", "time": "14:30"}[type_]
    seen = 0
    for title, col, column in columns_of(type_):
        ws = book[title]
        texts = [printed(ws.cell(row=r, column=col)) for r in range(2, ws.max_row + 1)]
        widest = max(texts, key=len, default="")
        seen += bool(widest)
        need = max(len(widest), len(full)) + 1
        assert width_of(ws, col) >= need, (title, column.header, widest, width_of(ws, col))
    assert seen >= 3, "the demo fills several date columns"


def test_short_text_columns_hold_their_widest_value_and_long_text_wraps(book: Any) -> None:
    for tab in SCHEMA.tabs.values():
        ws = book[tab.title]
        for col, column in enumerate(tab.columns, start=1):
            cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
            texts = [printed(c) for c in cells if c.value is not None]
            if not texts:
                continue
            widest = max(len(t) for t in texts)
            if any(c.alignment.wrap_text for c in cells if c.value is not None):
                assert all(c.alignment.wrap_text for c in cells if c.value is not None), (
                    tab.title,
                    column.header,
                )
                continue
            assert width_of(ws, col) >= widest + 1, (tab.title, column.header, widest)


def test_description_and_check_wrap_in_every_row(book: Any) -> None:
    tab = SCHEMA["requests"]
    ws = book[tab.title]
    for name in ("description", "check"):
        col = tab.fields.index(name) + 1
        filled = [
            ws.cell(row=r, column=col)
            for r in range(2, ws.max_row + 1)
            if ws.cell(row=r, column=col).value
        ]
        assert len(filled) >= 3
        assert all(c.alignment.wrap_text for c in filled), name
        assert 40 <= width_of(ws, col) <= 70
        # LibreOffice takes row heights from the file: a text longer than its column gets a
        # row at least two lines (15 pt each) high, or its lines would overlap the next row.
        long = [c for c in filled if len(c.value) > 1.2 * width_of(ws, col)]
        assert long, name
        for c in long:
            assert (ws.row_dimensions[c.row].height or 15) >= 30, (name, c.coordinate)


def test_every_header_word_fits_beside_the_filter_button(book: Any) -> None:
    for tab in SCHEMA.tabs.values():
        ws = book[tab.title]
        for col, header in enumerate(tab.headers, start=1):
            longest = max(len(w) for w in header.split())
            assert width_of(ws, col) >= longest + 3, (tab.title, header)


def test_header_is_bold_frozen_filterable_and_prints_landscape_on_one_page_width(
    book: Any,
) -> None:
    for tab in SCHEMA.tabs.values():
        ws = book[tab.title]
        n = len(tab.columns)
        assert all(c.font.b for c in ws[1][:n]), tab.title
        assert ws.freeze_panes == "A2", tab.title
        lo, top, hi, bottom = openpyxl.utils.range_boundaries(ws.auto_filter.ref)
        assert (lo, top, hi) == (1, 1, n), tab.title
        assert bottom >= ws.max_row, f"{tab.title}: the filter covers every row"
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"


def _rules(ws: Any, col: int) -> dict[str, str]:
    out = {}
    for cf in ws.conditional_formatting:
        if not any(r.min_col <= col <= r.max_col for r in cf.sqref.ranges):
            continue
        for rule in cf.rules:
            out[rule.formula[0].strip('"')] = str(rule.dxf.fill.bgColor.rgb)[-6:]
    return out


def test_colours_mean_one_thing_each(book: Any) -> None:
    tab = SCHEMA["requests"]
    ws = book[tab.title]
    rules = _rules(ws, tab.fields.index("due_state") + 1)
    assert rules == {"Просрочено": RED, "Под угрозой": AMBER}
    consent = SCHEMA["consent"]
    colours = _rules(book[consent.title], consent.fields.index("state") + 1)
    assert colours["Отозвано"] == RED and colours["Ждём дольше срока"] == AMBER
    assert list(colours.values()).count(AMBER) == 1 and list(colours.values()).count(RED) == 1


def test_program_columns_are_a_quiet_grey_and_staff_columns_are_not(book: Any) -> None:
    tab = SCHEMA["requests"]
    ws = book[tab.title]
    for col, column in enumerate(tab.columns, start=1):
        # Cells the file holds (an absent cell shows its column's style).
        fills = {
            str(ws.cell(row=r, column=col).fill.fgColor.rgb)[-6:]
            for r in range(2, ws.max_row + 1)
            if ws.cell(row=r, column=col).value is not None
        }
        if column.owner == "derived":
            # Rows the sync wrote after init took the column's grey too.
            assert fills == {"F2F2F2"}, column.header
        else:
            assert "F2F2F2" not in fills, column.header


def _legacy_workbook(path: Path) -> None:
    """A workbook as the first versions of init left it: every column sized from its header
    alone (12 for «Срок»), a finished-late request painted amber."""
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill

    store = WorkbookStore(path, create=True)
    plan = plan_init(store.read(), store.describe(), today=SEED_DAY)
    plan.looks = []
    store.apply_init(plan)
    book = openpyxl.load_workbook(path)
    tab = SCHEMA["requests"]
    ws = book[tab.title]
    col = openpyxl.utils.get_column_letter(tab.fields.index("due_state") + 1)
    ws.conditional_formatting.add(
        f"{col}2:{col}1048576",
        CellIsRule(
            operator="equal",
            formula=['"Решено с опозданием"'],
            fill=PatternFill(start_color=AMBER, end_color=AMBER, fill_type="solid"),
        ),
    )
    # A person widened «Описание» by hand.
    ws.column_dimensions[
        openpyxl.utils.get_column_letter(tab.fields.index("description") + 1)
    ].width = 77.5
    book.save(path)


def test_init_mends_an_old_workbook_and_keeps_a_width_set_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    _legacy_workbook(path)
    tab = SCHEMA["requests"]
    due = tab.fields.index("due_at") + 1
    before = openpyxl.load_workbook(path)[tab.title]
    assert width_of(before, due) == 12  # the header «Срок» alone: shows ### for a moment

    store = WorkbookStore(path)
    plan = plan_init(store.read(), store.describe(), today=SEED_DAY)
    store.apply_init(plan)
    ws = openpyxl.load_workbook(path)[tab.title]
    assert width_of(ws, due) >= len("29.11.2026 14:30") + 1
    assert width_of(ws, tab.fields.index("description") + 1) == 77.5
    assert _rules(ws, tab.fields.index("due_state") + 1) == {
        "Просрочено": RED,
        "Под угрозой": AMBER,
    }
    again = plan_init(store.read(), store.describe(), today=SEED_DAY)
    assert again.is_empty(), again


def test_a_width_set_by_hand_survives_syncs(demo: Path, tmp_path: Path) -> None:
    import shutil

    target = tmp_path / "demo"
    shutil.copytree(demo, target)
    path = target / WORKBOOK_NAME
    tab = SCHEMA["requests"]
    letter = openpyxl.utils.get_column_letter(tab.fields.index("requester") + 1)
    book = openpyxl.load_workbook(path)
    ws = book[tab.title]
    ws.column_dimensions[letter].width = 41.25
    ws.cell(row=ws.max_row + 1, column=tab.fields.index("requester") + 1, value="Новый Заявитель")
    ws.cell(row=ws.max_row, column=tab.fields.index("topic") + 1, value="Текущие отметки")
    book.save(path)
    settings = load_settings(target / "settings.yaml")
    report = sync(WorkbookStore(path), settings, now=NOW + dt.timedelta(hours=1))
    assert report.wrote and report.new_numbers == 1
    ws = openpyxl.load_workbook(path)[tab.title]
    assert ws.column_dimensions[letter].width == 41.25
    # The new row's derived cells were written grey and wrapped like the rest of the column.
    check = ws.cell(row=ws.max_row, column=tab.fields.index("check") + 1)
    due = ws.cell(row=ws.max_row, column=tab.fields.index("due_at") + 1)
    assert due.value is not None and str(due.fill.fgColor.rgb).endswith("F2F2F2")
    assert check.alignment.wrap_text or check.value is None


def test_google_gets_the_same_look_through_init(sheets_server: Any, google_store: Any) -> None:
    from journaldesk.store.base import width_pixels
    from journaldesk.store.google import look_requests

    sid = sheets_server.create_spreadsheet("Новая", {})
    store = google_store(sid)
    plan = plan_init(store.read(), store.describe(), today=SEED_DAY)
    looks = {look.title: look for look in plan.looks}
    assert set(looks) == {tab.title for tab in SCHEMA.tabs.values()}
    tab = SCHEMA["requests"]
    look = looks[tab.title]
    requests = look_requests(7, look)
    kinds = [next(iter(r)) for r in requests]
    assert kinds.count("setBasicFilter") == 1
    pixels = {
        r["updateDimensionProperties"]["range"]["startIndex"] + 1: r["updateDimensionProperties"][
            "properties"
        ]["pixelSize"]
        for r in requests
        if "updateDimensionProperties" in r
    }
    # A moment needs 16 digits' worth plus a margin: 7 px a digit, as the workbook counts.
    for field in ("received_at", "resolved_at", "due_at"):
        assert pixels[tab.fields.index(field) + 1] >= 17 * 7
    wrapped = {
        r["repeatCell"]["range"]["startColumnIndex"] + 1
        for r in requests
        if "repeatCell" in r
        and r["repeatCell"]["cell"]["userEnteredFormat"].get("wrapStrategy") == "WRAP"
        and r["repeatCell"]["range"]["startRowIndex"] == 1
    }
    assert wrapped == {tab.fields.index("description") + 1, tab.fields.index("check") + 1}
    assert width_pixels(18) == 131

    store.apply_init(plan)
    described = store.describe()
    assert all(described[t]["filtered"] for t in looks)
    # Wrapping and greying the program columns left their date formats alone.
    assert described[tab.title]["format_cols"][tab.fields.index("due_at") + 1] == "DD.MM.YYYY HH:MM"
    assert plan_init(store.read(), store.describe(), today=SEED_DAY).is_empty()


def test_google_init_takes_the_amber_off_finished_rows(
    sheets_server: Any, google_store: Any
) -> None:
    from journaldesk.store.base import InitPlan

    sid = sheets_server.create_spreadsheet("Старая", {})
    store = google_store(sid)
    store.apply_init(plan_init(store.read(), store.describe(), today=SEED_DAY))
    tab = SCHEMA["requests"]
    col = tab.fields.index("due_state") + 1
    # What the first versions of init added: finished-late rows painted amber like a warning.
    google_store(sid).apply_init(
        InitPlan(highlights=[(tab.title, col, {"Решено с опозданием": "amber"})])
    )
    old = google_store(sid)
    assert old.describe()[tab.title]["highlight_values"][col]["Решено с опозданием"] == "amber"

    fresh = google_store(sid)
    plan = plan_init(fresh.read(), fresh.describe(), today=SEED_DAY)
    assert [(t, c) for t, c, _ in plan.highlights] == [(tab.title, col)]
    fresh.apply_init(plan)
    again = google_store(sid)
    described = again.describe()
    assert described[tab.title]["highlight_values"][col] == {
        "Просрочено": "red",
        "Под угрозой": "amber",
    }
    consent = SCHEMA["consent"]
    consent_col = consent.fields.index("state") + 1
    assert len(described[consent.title]["highlight_values"][consent_col]) == 3  # untouched
    assert plan_init(again.read(), described, today=SEED_DAY).is_empty()


def test_a_note_the_sync_writes_later_gets_its_lines(demo: Path, tmp_path: Path) -> None:
    """The sync's patched write grows a row whose wrapped «Проверка» now needs more lines."""
    import shutil

    target = tmp_path / "demo"
    shutil.copytree(demo, target)
    path = target / WORKBOOK_NAME
    tab = SCHEMA["requests"]
    book = openpyxl.load_workbook(path)
    ws = book[tab.title]
    row = ws.max_row + 1
    ws.cell(row=row, column=tab.fields.index("requester") + 1, value="Новый Заявитель")
    ws.cell(row=row, column=tab.fields.index("topic") + 1, value="Текущие отметки")
    ws.cell(row=row, column=tab.fields.index("class_name") + 1, value="12Б")
    book.save(path)
    settings = load_settings(target / "settings.yaml")
    sync(WorkbookStore(path), settings, now=NOW + dt.timedelta(hours=1))
    ws = openpyxl.load_workbook(path)[tab.title]
    col = tab.fields.index("check") + 1
    note = ws.cell(row=row, column=col).value
    width = width_of(ws, col)
    assert note and len(note) > 1.2 * width, note
    # At least as many 15-point lines as the note needs at one letter per digit of width.
    lines = -(-len(note) // int(width))
    assert ws.row_dimensions[row].height >= 15 * min(lines, 8), (
        note,
        ws.row_dimensions[row].height,
    )
