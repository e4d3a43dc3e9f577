"""The local .xlsx store: values round-trip, only given cells change, saves are atomic."""

from __future__ import annotations

import datetime as dt
import errno
import gc
import io
import itertools
import os
import re
import zipfile
from pathlib import Path
from typing import BinaryIO

import filelock
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import PatternFill
from python_calamine import CalamineWorkbook

from journaldesk.errors import OutsideFailure, StoreUnavailable, StructureError
from journaldesk.store import workbook as wbmod
from journaldesk.store.base import CellWrite, InitPlan, Snapshot, Store
from journaldesk.store.workbook import LISTS_SHEET, PROTECTED_NOTE, WorkbookStore
from tests.helpers import examples

TAB = "Обращения"


def make_book(path: Path, rows: list[list[object]], title: str = TAB) -> Path:
    """A workbook as staff might have it: one sheet with these rows from A1."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    book.save(path)
    return path


def calamine_cell(path: Path, title: str, row: int, col: int) -> object:
    with CalamineWorkbook.from_path(str(path)) as book:
        rows = book.get_sheet_by_name(title).to_python(skip_empty_area=False)
    return rows[row - 1][col - 1]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    return make_book(tmp_path / "journal.xlsx", [["№", "Тема", "Описание"], [1, "Другое", "x"]])


def test_store_satisfies_protocol(book_path: Path) -> None:
    assert isinstance(WorkbookStore(book_path), Store)
    assert WorkbookStore(book_path).location() == str(book_path)


# -- values ---------------------------------------------------------------------------------------

LONG = "Ж" * 10_000
EMOJI = "Не входит 🙂👍🏽 — «ЭЖ»"
VALUES: list[tuple[object, str | None, object]] = [
    # written, number_format, what read() gives back
    ("обычный текст", None, "обычный текст"),
    ("00123", None, "00123"),
    (42, None, 42),
    (3.25, None, 3.25),
    (True, None, True),
    (dt.date(2026, 9, 1), "DD.MM.YYYY", dt.date(2026, 9, 1)),
    (dt.datetime(2026, 12, 1, 15, 20), "DD.MM.YYYY HH:MM", dt.datetime(2026, 12, 1, 15, 20)),
    (dt.time(14, 30), "HH:MM", dt.time(14, 30)),
    ("=1+1", None, "=1+1"),
    ('=HYPERLINK("x")', None, '=HYPERLINK("x")'),
    ("#N/A", None, "#N/A"),
    (LONG, None, LONG),
    (EMOJI, None, EMOJI),
    (None, None, None),
]


def test_every_value_kind_round_trips(book_path: Path) -> None:
    store = WorkbookStore(book_path)
    store.write(
        [CellWrite(TAB, 2, col, value, fmt) for col, (value, fmt, _) in enumerate(VALUES, 4)]
        + [CellWrite(TAB, 2, 3, None)]  # clearing a cell that held text
    )
    tab = store.read().tabs[TAB]
    got = [tab.cell(2, col) for col in range(4, 4 + len(VALUES))]
    assert got == [expected for _, _, expected in VALUES]
    assert [type(v) for v in got] == [type(expected) for _, _, expected in VALUES]
    assert tab.cell(2, 3) is None


def test_formula_looking_text_is_stored_as_text(book_path: Path) -> None:
    WorkbookStore(book_path).write(
        [CellWrite(TAB, 2, 2, '=HYPERLINK("x")'), CellWrite(TAB, 2, 3, "=1+1")]
    )
    ws = openpyxl.load_workbook(book_path)[TAB]
    assert (ws["B2"].value, ws["B2"].data_type) == ('=HYPERLINK("x")', "s")
    assert (ws["C2"].value, ws["C2"].data_type) == ("=1+1", "s")
    # calamine shows a real formula's cached value (none here), so text proves it is not one
    assert calamine_cell(book_path, TAB, 2, 3) == "=1+1"
    with zipfile.ZipFile(book_path) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_dates_get_excel_formats(book_path: Path) -> None:
    WorkbookStore(book_path).write(
        [
            CellWrite(TAB, 3, 1, dt.datetime(2026, 1, 5, 9, 0), "DD.MM.YYYY HH:MM"),
            CellWrite(TAB, 3, 2, dt.date(2026, 1, 5), "DD.MM.YYYY"),
            CellWrite(TAB, 3, 3, dt.time(9, 0)),  # no format given: a time format anyway
        ]
    )
    ws = openpyxl.load_workbook(book_path)[TAB]
    assert ws["A3"].number_format == "dd.mm.yyyy hh:mm"
    assert ws["B3"].number_format == "dd.mm.yyyy"
    assert ws["C3"].number_format == "hh:mm"
    assert ws["A3"].value == dt.datetime(2026, 1, 5, 9, 0)


def test_aware_datetime_keeps_its_wall_clock(book_path: Path) -> None:
    tz = dt.timezone(dt.timedelta(hours=3))
    store = WorkbookStore(book_path)
    store.write([CellWrite(TAB, 2, 4, dt.datetime(2026, 1, 5, 9, 0, tzinfo=tz))])
    assert store.read().tabs[TAB].cell(2, 4) == dt.datetime(2026, 1, 5, 9, 0)


def test_a_staff_date_format_is_kept_when_none_is_given(tmp_path: Path) -> None:
    path = make_book(tmp_path / "b.xlsx", [["Решено"]])
    book = openpyxl.load_workbook(path)
    book[TAB]["A2"].number_format = "dd.mm.yy h:mm"
    book.save(path)
    WorkbookStore(path).write([CellWrite(TAB, 2, 1, dt.datetime(2026, 2, 3, 10, 15))])
    assert openpyxl.load_workbook(path)[TAB]["A2"].number_format == "dd.mm.yy h:mm"


def test_nan_and_unknown_types_are_refused_before_the_file_is_touched(book_path: Path) -> None:
    before = book_path.read_bytes()
    store = WorkbookStore(book_path)
    with pytest.raises(ValueError):
        store.write([CellWrite(TAB, 2, 1, float("nan"))])
    with pytest.raises(TypeError):
        store.write([CellWrite(TAB, 2, 1, [1, 2])])  # type: ignore[arg-type]
    assert book_path.read_bytes() == before


def test_control_characters_are_dropped_not_fatal(book_path: Path) -> None:
    store = WorkbookStore(book_path)
    store.write([CellWrite(TAB, 2, 3, "до\x00\x07после")])
    assert store.read().tabs[TAB].cell(2, 3) == "допосле"


text_cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
)


@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(text_cells, min_size=1, max_size=8))
def test_any_text_comes_back_as_written(tmp_path: Path, texts: list[str]) -> None:
    path = make_book(tmp_path / "h.xlsx", [["Описание"]])
    store = WorkbookStore(path)
    store.write([CellWrite(TAB, i, 1, t) for i, t in enumerate(texts, start=2)])
    rows = store.read().tabs[TAB].rows
    assert [r[0] for r in rows[1:]] == texts


# -- reading --------------------------------------------------------------------------------------


def test_read_gives_raw_values_aligned_to_sheet_rows(tmp_path: Path) -> None:
    path = tmp_path / "staff.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = TAB
    ws["A1"], ws["B1"], ws["C1"] = "№", "С", "Код"
    # row 2 left empty on purpose: rows[i] must stay sheet row i+1
    ws["A3"] = 7  # openpyxl writes 7; calamine reads every number as float
    ws["B3"] = dt.time(15, 0)
    ws["C3"] = "00123"
    ws["A4"] = 7.5
    ws["B4"] = dt.timedelta(hours=16)  # a time in a duration-formatted cell
    ws["C4"] = dt.datetime(2026, 3, 2)
    ws["C4"].number_format = "dd.mm.yyyy"
    ws["D4"] = dt.datetime(2026, 3, 2, 8, 45)
    ws["A9"].fill = PatternFill("solid", fgColor="FFFF00")  # formatted but empty: not a row
    ws["B10"] = ""
    book.create_sheet("Заметки")["A1"] = "своё"
    book.save(path)

    store = WorkbookStore(path)
    snap = store.read()
    assert isinstance(snap, Snapshot) and snap.time_zone is None
    rows = snap.tabs[TAB].rows
    assert len(rows) == 4
    assert rows[1] == [None, None, None, None]
    assert rows[2][:3] == [7, dt.time(15, 0), "00123"]
    assert type(rows[2][0]) is int
    assert rows[3] == [7.5, dt.time(16, 0), dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 8, 45)]
    assert snap.tabs["Заметки"].rows == [["своё"]]
    assert store.api_calls == 1


def test_the_lists_sheet_is_not_a_tab(tmp_path: Path) -> None:
    store = WorkbookStore(tmp_path / "n.xlsx", create=True)
    store.apply_init(InitPlan(new_tabs=[(TAB, ["Тема"])], dropdowns=[(TAB, 1, ["А", "Б"])]))
    assert list(store.read().tabs) == [TAB]
    assert list(store.describe()) == [TAB]
    assert LISTS_SHEET in openpyxl.load_workbook(store.path).sheetnames


def test_read_columns_answers_from_the_snapshot_while_the_file_is_unchanged(
    book_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = WorkbookStore(book_path)
    store.read()
    calls = store.api_calls

    def no_disk(*args: object, **kwargs: object) -> None:
        raise AssertionError("read_columns touched the file")

    monkeypatch.setattr(wbmod.CalamineWorkbook, "from_path", no_disk)
    assert store.read_columns(TAB, [3, 1]) == [["Описание", "№"], ["x", 1]]
    assert store.api_calls == calls


def test_read_columns_rereads_after_someone_saved(book_path: Path) -> None:
    store = WorkbookStore(book_path)
    snap = store.read()
    snap.tabs[TAB].rows[1][0] = "changed by the caller"  # must not leak into read_columns
    assert store.read_columns(TAB, [1]) == [["№"], [1]]
    assert store.api_calls == 1

    make_book(book_path, [["№", "Тема"], [5, "Другое"], [6, "Другое"]])
    assert store.read_columns(TAB, [1, 2]) == [["№", "Тема"], [5, "Другое"], [6, "Другое"]]
    assert store.api_calls == 2


def test_read_columns_after_our_own_write_reads_the_file(book_path: Path) -> None:
    store = WorkbookStore(book_path)
    store.read()
    store.write([CellWrite(TAB, 3, 1, 2)])
    assert store.read_columns(TAB, [1]) == [["№"], [1], [2]]
    assert store.api_calls == 3


def test_read_columns_of_a_missing_sheet(book_path: Path) -> None:
    store = WorkbookStore(book_path)
    with pytest.raises(StructureError, match="нет листа «Согласия»"):
        store.read_columns("Согласия", [1])


# -- writing leaves everything else alone ---------------------------------------------------------


def test_only_the_given_cells_change(tmp_path: Path) -> None:
    path = tmp_path / "staff.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = TAB
    for c, h in enumerate(["№", "Тема", "Описание", "Своя пометка"], start=1):
        ws.cell(row=1, column=c, value=h)
    ws["A2"], ws["B2"], ws["C2"], ws["D2"] = 1, "Другое", "=не формула", "позвонить"
    ws["C2"].data_type = "s"
    ws["B2"].fill = PatternFill("solid", fgColor="FFFF00")
    ws["E2"] = "=SUM(1,2)"  # a real formula staff typed
    ws["F2"] = CellRichText([TextBlock(InlineFont(b=True), "срочно"), " позвонить"])
    ws.column_dimensions["C"].width = 55
    book.create_sheet("Своё")["A1"] = "не трогать"
    book.save(path)

    WorkbookStore(path).write([CellWrite(TAB, 2, 1, 10), CellWrite(TAB, 5, 1, 11)])

    after = openpyxl.load_workbook(path)
    ws = after[TAB]
    assert ws["A2"].value == 10 and ws["A5"].value == 11  # a row past the end appends
    assert ws["B2"].fill.fgColor.rgb.endswith("FFFF00")
    assert (ws["C2"].value, ws["C2"].data_type) == ("=не формула", "s")
    assert ws["D1"].value == "Своя пометка" and ws["D2"].value == "позвонить"
    assert (ws["E2"].value, ws["E2"].data_type) == ("=SUM(1,2)", "f")
    rich = openpyxl.load_workbook(path, rich_text=True)[TAB]["F2"].value
    assert isinstance(rich, CellRichText) and rich[0].font.b and str(rich) == "срочно позвонить"
    assert ws.column_dimensions["C"].width == 55
    assert after["Своё"]["A1"].value == "не трогать"


def test_write_to_a_missing_sheet_changes_nothing(book_path: Path) -> None:
    before = book_path.read_bytes()
    with pytest.raises(StructureError, match=f"нет листа «Журнал».*|.*{re.escape(book_path.name)}"):
        WorkbookStore(book_path).write([CellWrite(TAB, 2, 1, 5), CellWrite("Журнал", 2, 1, "x")])
    assert book_path.read_bytes() == before


def test_a_merged_cell_is_a_structure_error(book_path: Path) -> None:
    book = openpyxl.load_workbook(book_path)
    book[TAB].merge_cells("B2:C2")
    book.save(book_path)
    with pytest.raises(StructureError, match="C2 объединена"):
        WorkbookStore(book_path).write([CellWrite(TAB, 2, 3, "x")])


def test_empty_write_is_no_call(book_path: Path) -> None:
    mtime = book_path.stat().st_mtime_ns
    store = WorkbookStore(book_path)
    store.write([])
    assert store.api_calls == 0 and book_path.stat().st_mtime_ns == mtime


def test_write_counts_one_call_and_keeps_permissions(book_path: Path) -> None:
    os.chmod(book_path, 0o640)
    store = WorkbookStore(book_path)
    store.write([CellWrite(TAB, 2, 1, 2), CellWrite(TAB, 2, 2, "В работе")])
    assert store.api_calls == 1
    assert book_path.stat().st_mode & 0o777 == 0o640
    assert leftovers(book_path.parent) == []


# -- atomic save ----------------------------------------------------------------------------------


def test_a_failed_replace_leaves_the_old_file_and_no_temp_file(
    book_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = book_path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(wbmod.os, "replace", broken_replace)
    with pytest.raises(OutsideFailure, match="Файл не изменён"):
        WorkbookStore(book_path).write([CellWrite(TAB, 2, 1, 99)])
    assert book_path.read_bytes() == before
    assert leftovers(book_path.parent) == []


def test_disk_full_is_an_outside_failure(book_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = book_path.read_bytes()
    real_write = wbmod.xlsx_patch.write_package

    def write_then_fail(*args: object, **kwargs: object) -> None:
        real_write(*args, **kwargs)  # type: ignore[arg-type]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wbmod.xlsx_patch, "write_package", write_then_fail)
    with pytest.raises(OutsideFailure, match="не хватает места") as err:
        WorkbookStore(book_path).write([CellWrite(TAB, 2, 1, 99)])
    assert str(book_path) in str(err.value)
    assert book_path.read_bytes() == before
    assert leftovers(book_path.parent) == []


def test_file_open_in_excel_is_reported(book_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = book_path.read_bytes()

    def locked(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(wbmod.os, "replace", locked)
    monkeypatch.setattr(wbmod, "_REPLACE_ATTEMPTS", 1)
    with pytest.raises(StoreUnavailable, match="открыт в другой программе") as err:
        WorkbookStore(book_path).write([CellWrite(TAB, 2, 1, 99)])
    assert str(book_path) in str(err.value)
    assert book_path.read_bytes() == before
    assert leftovers(book_path.parent) == []


def test_an_interrupted_save_removes_the_temp_file(
    book_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = book_path.read_bytes()

    def interrupted(source: str, target: BinaryIO, *args: object, **kwargs: object) -> None:
        target.write(b"PK half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(wbmod.xlsx_patch, "write_package", interrupted)
    with pytest.raises(KeyboardInterrupt):
        WorkbookStore(book_path).write([CellWrite(TAB, 2, 1, 99)])
    assert book_path.read_bytes() == before
    assert leftovers(book_path.parent) == []


# -- lock, missing and broken files ---------------------------------------------------------------


def test_a_second_job_is_refused(book_path: Path) -> None:
    other = filelock.FileLock(f"{book_path}.lock")
    with other:
        refused = pytest.raises(StoreUnavailable, match="занята другим заданием journaldesk")
        with refused as err, WorkbookStore(book_path).lock():
            pass
        assert f"«{book_path}»" in str(err.value)
    with WorkbookStore(book_path).lock():  # free again once the other job is done
        assert filelock.FileLock(f"{book_path}.lock", timeout=0).is_locked is False


def test_the_lock_is_held_for_the_run(book_path: Path) -> None:
    with WorkbookStore(book_path).lock(), pytest.raises(filelock.Timeout):
        filelock.FileLock(f"{book_path}.lock", timeout=0).acquire()


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "нет.xlsx"
    store = WorkbookStore(path)
    for action in (store.read, store.describe, lambda: store.write([CellWrite(TAB, 1, 1, 1)])):
        with pytest.raises(StoreUnavailable) as err:
            action()
        assert str(err.value) == (
            f"Файл «{path}» не найден. "
            "Создайте его командой `journaldesk init` или `journaldesk demo`."
        )
    with pytest.raises(StoreUnavailable, match="не найден"):
        store.apply_init(InitPlan(new_tabs=[(TAB, ["№"])]))
    assert not path.exists()


@pytest.mark.parametrize(
    "content",
    [b"\xd0\x9d\xd0\xb5 \xd0\xba\xd0\xbd\xd0\xb8\xd0\xb3\xd0\xb0\n", b"PK\x03\x04 torn zip"],
    ids=["text-renamed", "corrupt-zip"],
)
def test_not_a_workbook(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "journal.xlsx"
    path.write_bytes(content)
    store = WorkbookStore(path)
    for action in (
        store.read,
        store.describe,
        lambda: store.read_columns(TAB, [1]),
        lambda: store.write([CellWrite(TAB, 1, 1, 1)]),
    ):
        with pytest.raises(StoreUnavailable, match=r"не книга Excel \(\.xlsx\)") as err:
            action()
        assert f"«{path}»" in str(err.value)
    assert path.read_bytes() == content


# -- init -----------------------------------------------------------------------------------------

HEADERS = ["№", "Дата обращения", "Тема", "Статус", "Состояние срока", "Проверка"]
TOPICS = ["Поурочное планирование, импорт/экспорт", "Другое", "Текущие отметки" + "!" * 250]
COLOURS = {"Просрочено": "red", "Под угрозой": "amber", "Решено в срок": "green"}
WANTED = {
    "headers": HEADERS,
    "dropdowns": {3: TOPICS, 4: ["Новое", "В работе", "Решено"]},
    "formats": {2: "DD.MM.YYYY HH:MM"},
    "highlights": {5: COLOURS},
    "protected": {5, 6},
}


def plan_for(store: WorkbookStore) -> InitPlan:
    """What the init command does: compare the wanted structure with describe() and the cells."""
    tabs = store.read().tabs
    described = store.describe()
    plan = InitPlan()
    if TAB not in tabs:
        plan.new_tabs.append((TAB, HEADERS))
        have: dict = {
            "frozen": False,
            "dropdown_values": {},
            "format_cols": {},
            "highlight_values": {},
            "protected_cols": set(),
        }
    else:
        have = described[TAB]
        if all(v is None for v in (tabs[TAB].rows or [[]])[0]):
            plan.headers.append((TAB, HEADERS))
    if not have["frozen"]:
        plan.frozen_header.append(TAB)
    for col, values in WANTED["dropdowns"].items():
        if have["dropdown_values"].get(col) != values:
            plan.dropdowns.append((TAB, col, values))
    for col, fmt in WANTED["formats"].items():
        if have["format_cols"].get(col) != fmt:
            plan.number_formats.append((TAB, col, fmt))
    for col, colours in WANTED["highlights"].items():
        if have["highlight_values"].get(col) != colours:
            plan.highlights.append((TAB, col, colours))
    for col in WANTED["protected"] - have["protected_cols"]:
        plan.protected.append((TAB, col))
    if TAB not in tabs:
        plan.seed_rows.append((TAB, [[1, dt.datetime(2026, 9, 1, 14, 0), "Другое", "Новое"]]))
    return plan


def test_init_builds_a_new_workbook_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    path = tmp_path / "new.xlsx"
    store = WorkbookStore(path, create=True)
    assert store.read().tabs == {} and store.describe() == {}
    store.apply_init(plan_for(store))

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [TAB, LISTS_SHEET]  # no default "Sheet"
    assert book[LISTS_SHEET].sheet_state == "veryHidden"
    ws = book[TAB]
    assert [c.value for c in ws[1]] == HEADERS
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width > 12
    assert ws["B2"].value == dt.datetime(2026, 9, 1, 14, 0)
    assert ws["B2"].number_format == "dd.mm.yyyy hh:mm"
    assert ws["E1"].comment.text == PROTECTED_NOTE
    assert ws["E1"].fill.fgColor.rgb.endswith("D9D9D9")
    validations = ws.data_validations.dataValidation
    assert len(validations) == 2
    assert {v.errorStyle for v in validations} == {"warning"}  # warn, never block staff
    assert {str(v.sqref) for v in validations} == {"C2:C1048576", "D2:D1048576"}

    info = store.describe()[TAB]
    assert info["frozen"] is True
    assert info["dropdown_cols"] == {3, 4}
    assert info["dropdown_values"][3] == TOPICS  # long, with a comma: no inline list could
    assert info["format_cols"] == {2: "DD.MM.YYYY HH:MM"}
    assert info["highlight_cols"] == {5}
    assert info["protected_cols"] == {5, 6}
    assert info["max_row"] == 2

    again = plan_for(store)
    assert again.is_empty(), again
    stat = path.stat()
    before = path.read_bytes()
    store.apply_init(again)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stat.st_mtime_ns


def test_applying_the_same_plan_twice_does_not_double_anything(tmp_path: Path) -> None:
    path = make_book(tmp_path / "b.xlsx", [HEADERS, [1, None, "Другое", "Новое"]])
    store = WorkbookStore(path)
    plan = plan_for(store)
    plan.seed_rows.clear()
    store.apply_init(plan)
    first = store.describe()
    store.apply_init(plan)
    assert store.describe() == first
    ws = openpyxl.load_workbook(path)[TAB]
    assert len(ws.data_validations.dataValidation) == 2
    assert sum(len(cf.rules) for cf in ws.conditional_formatting) == len(COLOURS)
    assert ws["E1"].comment.text.count(PROTECTED_NOTE) == 1
    lists = openpyxl.load_workbook(path)[LISTS_SHEET]
    assert lists.max_column == 2


def test_init_on_a_staff_workbook_keeps_their_data(tmp_path: Path) -> None:
    path = tmp_path / "staff.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = TAB
    ws["A2"], ws["B2"], ws["G2"] = 7, dt.datetime(2026, 1, 1, 9, 0), "своя колонка"
    ws["B3"] = "19.08.2021 14:30"  # text typed into a date column
    dim = ws.column_dimensions["A"]
    dim.min, dim.max, dim.width = 1, 3, 30  # one <col> for A:C, as Excel writes it
    book.save(path)

    store = WorkbookStore(path)
    store.apply_init(plan_for(store))

    ws = openpyxl.load_workbook(path)[TAB]
    assert [c.value for c in ws[1]][:6] == HEADERS
    assert (ws["A2"].value, ws["G2"].value) == (7, "своя колонка")
    assert ws["B3"].value == "19.08.2021 14:30"
    assert ws["B2"].number_format == ws["B3"].number_format == "dd.mm.yyyy hh:mm"
    assert [ws.column_dimensions[c].width for c in "ABC"] == [30, 30, 30]
    with zipfile.ZipFile(path) as z:
        cols = re.findall(
            r'<col [^>]*min="(\d+)" max="(\d+)"', z.read("xl/worksheets/sheet1.xml").decode()
        )
    spans = sorted((int(a), int(b)) for a, b in cols)
    assert all(prev[1] < nxt[0] for prev, nxt in itertools.pairwise(spans)), spans
    assert plan_for(store).is_empty()


def test_a_changed_list_replaces_the_old_dropdown(tmp_path: Path) -> None:
    path = make_book(tmp_path / "b.xlsx", [HEADERS])
    store = WorkbookStore(path)
    store.apply_init(InitPlan(dropdowns=[(TAB, 3, ["А", "Б", "В"])]))
    store.apply_init(InitPlan(dropdowns=[(TAB, 3, ["А"])]))
    assert store.describe()[TAB]["dropdown_values"] == {3: ["А"]}
    assert len(openpyxl.load_workbook(path)[TAB].data_validations.dataValidation) == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_a_read_leaves_the_cycle_collector_as_it_found_it(book_path: Path, enabled: bool) -> None:
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        WorkbookStore(book_path).read()
        assert gc.isenabled() is enabled
        with pytest.raises(StructureError):
            WorkbookStore(book_path).read_columns("Нет такого листа", [1])
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()


class _NoSeek(io.RawIOBase):
    """A stream zipfile cannot seek in: it then puts each member's sizes after its data."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.fh.write(data)


@pytest.mark.parametrize("descriptors", [False, True], ids=["sizes-first", "sizes-after"])
def test_untouched_parts_keep_their_compressed_bytes(tmp_path: Path, descriptors: bool) -> None:
    made = make_book(tmp_path / "made.xlsx", [["№", "Тема"], [1, "Другое"]])
    book = openpyxl.load_workbook(made)
    big = book.create_sheet("Большой")
    for r in range(1, 300):
        big.append([r, f"строка {r}", "текст " * 5])
    book.save(made)
    path = tmp_path / "journal.xlsx"
    # Stored deflate blocks: any part deflated again on the way would come out smaller.
    with zipfile.ZipFile(made) as src, open(path, "wb") as fh:
        target = _NoSeek(fh) if descriptors else fh
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=0) as out:
            for info in src.infolist():
                out.writestr(info.filename, src.read(info))
    before = WorkbookStore(path).read()
    with zipfile.ZipFile(path) as z:
        sizes = {i.filename: (i.compress_size, i.CRC) for i in z.infolist()}

    WorkbookStore(path).write([CellWrite(TAB, 2, 2, "Текущие отметки")])

    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        after = {i.filename: (i.compress_size, i.CRC) for i in z.infolist()}
        assert not any(i.flag_bits & 0x8 for i in z.infolist())
    changed = {name for name in sizes if after[name] != sizes[name]}
    assert changed == {"xl/worksheets/sheet1.xml"}
    rows = WorkbookStore(path).read()
    assert rows.tabs["Большой"].rows == before.tabs["Большой"].rows
    assert rows.tabs[TAB].rows == [["№", "Тема"], [1, "Текущие отметки"]]
