"""The streaming patcher on sheets written the ways other programs write them."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import pytest

from journaldesk.store import xlsx_patch as xp

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet(rows: str, dimension: str | None, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {ns}>{dim}'
        f"<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>"
    ).encode()


def rows_of(xml: bytes) -> dict[int, dict[str, str]]:
    """row -> {ref: text or value}, read with ElementTree (independent of the patcher)."""
    out: dict[int, dict[str, str]] = {}
    root = ElementTree.fromstring(xml)
    number = 0
    for row in root.iter(f"{{{MAIN}}}row"):
        number = int(row.get("r") or number + 1)
        cells = {}
        for c in row.iter(f"{{{MAIN}}}c"):
            text = "".join(t.text or "" for t in c.iter(f"{{{MAIN}}}t"))
            value = c.findtext(f"{{{MAIN}}}v")
            cells[c.get("r")] = text if c.get("t") == "inlineStr" else value
        out[number] = cells
    return out


def patch(xml: bytes, cells: dict[int, dict[int, object]]) -> bytes:
    edits = xp.SheetEdits(
        "Лист",
        "xl/worksheets/sheet1.xml",
        {
            r: {c: xp.encode_value(v, None, where="") for c, v in cols.items()}
            for r, cols in cells.items()
        },
    )
    out = io.BytesIO()
    xp.patch_part(lambda: io.BytesIO(xml), out, edits, xp.StyleBook(None))
    return out.getvalue()


ROWS = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 6))
EXPECTED = {r: {f"A{r}": str(r)} for r in range(1, 6)}


@pytest.mark.parametrize(
    "dimension",
    ["A1:A5", "A1:A3", "A1:A900", None, "A1"],
    ids=["right", "stale-short", "long", "none", "bare"],
)
@pytest.mark.parametrize("prefix", ["", "x"])
def test_appends_and_changes_land_whatever_the_dimension_says(
    dimension: str | None, prefix: str
) -> None:
    xml = patch(
        sheet(
            ROWS.replace("<row", f"<{prefix}:row")
            .replace("</row", f"</{prefix}:row")
            .replace("<c ", f"<{prefix}:c ")
            .replace("</c", f"</{prefix}:c")
            .replace("<v>", f"<{prefix}:v>")
            .replace("</v>", f"</{prefix}:v>")
            if prefix
            else ROWS,
            dimension,
            prefix,
        ),
        {2: {2: "новое"}, 4: {1: 40}, 7: {1: "добавлено"}},
    )
    expected = {r: dict(cells) for r, cells in EXPECTED.items()}
    expected[2]["B2"] = "новое"
    expected[4]["A4"] = "40"
    expected[7] = {"A7": "добавлено"}
    assert rows_of(xml) == expected


def test_rows_and_cells_without_references_keep_their_places() -> None:
    xml = sheet("<row><c><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row>", None)
    got = rows_of(patch(xml, {1: {1: "первая"}, 2: {3: "третья"}}))
    assert got == {1: {"A1": "первая", "B1": "2"}, 2: {"A2": "3", "C2": "третья"}}


def test_an_empty_sheet_gets_its_rows() -> None:
    xml = f'<worksheet xmlns="{MAIN}"><dimension ref="A1"/><sheetData/></worksheet>'.encode()
    got = patch(xml, {1: {1: "заголовок"}, 3: {2: 7}})
    assert rows_of(got) == {1: {"A1": "заголовок"}, 3: {"B3": "7"}}
    assert b'<dimension ref="A1:B3"/>' in got


def test_untouched_rows_are_copied_byte_for_byte() -> None:
    body = ROWS.replace('<row r="3">', '<row r="3" spans="1:1" ht="30" customHeight="1">')
    original = sheet(body, "A1:A5")
    got = patch(original, {5: {1: 50}})
    assert got.split(b'<row r="5"')[0] == original.split(b'<row r="5"')[0]


@pytest.mark.parametrize(
    "between",
    ["", '<!-- <row r="3"> -->', '<row spans="1:1" r="4"><c r="A4"><v>4</v></c></row>'],
    ids=["plain", "comment", "number-not-first"],
)
def test_a_new_row_between_rows_goes_in_its_place(between: str) -> None:
    body = (
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
        + between
        + '<row r="5"><c r="A5"><v>5</v></c></row><row r="6"><c r="A6"><v>6</v></c></row>'
    )
    got = patch(sheet(body, None), {3: {1: "три"}, 6: {2: "шесть"}, 8: {1: 8}})
    expected = {1: {"A1": "1"}, 2: {"A2": "2"}, 3: {"A3": "три"}, 5: {"A5": "5"}}
    expected[6] = {"A6": "6", "B6": "шесть"}
    expected[8] = {"A8": "8"}
    if "spans" in between:
        expected[4] = {"A4": "4"}
    assert rows_of(got) == expected
    numbers = [int(n) for n in re.findall(rb'<row[^>]*\br="(\d+)"', got)]
    assert numbers == sorted(numbers)


def test_rows_far_apart_in_a_long_sheet_are_patched_and_the_rest_kept() -> None:
    """Longer than the patcher's read size, so rows are jumped over across reads."""
    count = 12_000
    filler = "текст " * 30
    body = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>строка {r} {filler}</t></is></c></row>'
        for r in range(1, count + 1)
    )
    original = sheet(body, None)
    assert len(original) > 2 * (1 << 20)
    edits = {2: {2: "б"}, 9_000: {1: "изменено"}, count + 3: {1: 7}}
    got = patch(original, edits)
    rows = rows_of(got)
    assert rows[2] == {"A2": f"строка 2 {filler}", "B2": "б"}
    assert rows[9_000] == {"A9000": "изменено"}
    assert rows[count + 3] == {f"A{count + 3}": "7"}
    assert len(rows) == count + 1
    between = original.split(b'<row r="9000"')[0].split(b'<row r="3"')[1]
    assert between in got
