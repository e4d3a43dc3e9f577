"""Form answers become requests once, on both stores, whatever staff do to the intake tab."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

from journaldesk.jobs.demo_data import FORM_QUESTIONS
from journaldesk.jobs.sync import sync
from journaldesk.rules.intake import new_answers, read_answers
from journaldesk.store.base import CellWrite, InitPlan
from tests.helpers import REQ, SCHEMA, at, tab_rows

NOW = at("01.12.2026 15:10")
TAB = "Ответы на форму (1)"
HEADERS = list(FORM_QUESTIONS)  # the questions docs/form.md asks a school to use


def _answer(i: int, **over: str) -> list[object]:
    row = {
        "stamp": f"0{1 + i % 9}.12.2026 0{i % 10}:{10 + i:02d}:0{i % 10}",
        "who": f"Родитель {i}",
        "role": "Родитель",
        "class": "5А",
        "topic": "Электронный дневник для родителей",
        "text": f"Не входит в дневник, вопрос {i}",
        "contact": f"parent{i}@example.org",
    }
    row.update(over)
    return list(row.values())


def _mapping() -> dict[str, str]:
    from journaldesk.settings import IntakeSettings

    return IntakeSettings().mapping()


def _stamp(raw: object) -> dt.datetime | None:
    return dt.datetime.strptime(str(raw), "%d.%m.%Y %H:%M:%S") if raw else None


# --- the pure rule ----------------------------------------------------------------------------


def _keys_after_import(rows: list[list[object]]) -> list[str]:
    return [a.key for a in read_answers([HEADERS, *rows], _mapping(), _stamp)]


def test_resorted_edited_and_deleted_answers_are_not_new() -> None:
    rows = [_answer(i) for i in range(6)]
    imported = _keys_after_import(rows)
    shuffled = [rows[3], rows[0], rows[5], rows[1], rows[4]]  # rows[2] deleted
    shuffled[1] = _answer(0, text="Исправлено родителем")  # an edit keeps its timestamp
    answers = read_answers([HEADERS, *shuffled], _mapping(), _stamp)
    assert new_answers(answers, imported) == []
    # A genuinely new answer is new, even next to edits and deletions.
    answers = read_answers([HEADERS, *shuffled, _answer(40)], _mapping(), _stamp)
    assert [a.values["requester"] for a in new_answers(answers, imported)] == ["Родитель 40"]


def test_two_identical_answers_are_two_requests() -> None:
    twice = [_answer(1), _answer(1)]
    answers = read_answers([HEADERS, *twice], _mapping(), _stamp)
    assert len(new_answers(answers, [])) == 2
    assert len(new_answers(answers, [answers[0].key])) == 1


def test_headers_match_loosely_and_unknown_questions_are_ignored() -> None:
    headers = ["Timestamp", "  фио ", "Кто вы?", "Любимый цвет", "Опишите вопрос:"]
    answers = read_answers(
        [headers, ["01.12.2026 10:00:00", "Петров", "Учитель", "синий", "текст"]],
        _mapping(),
        _stamp,
    )
    assert answers[0].values == {"requester": "Петров", "role": "Учитель", "description": "текст"}
    assert answers[0].received_at == dt.datetime(2026, 12, 1, 10, 0)


# --- both stores ------------------------------------------------------------------------------


def _add_intake(store, rows: list[list[object]]) -> None:
    store.apply_init(InitPlan(new_tabs=[(TAB, HEADERS)]))
    store.append_rows(TAB, rows)


def _rewrite_intake(store, rows: list[list[object]], old_count: int) -> None:
    """Staff re-sort, edit or delete rows: the whole tab rewritten, trailing rows cleared."""
    cells = [
        CellWrite(TAB, r + 2, c + 1, value)
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
    ]
    cells += [
        CellWrite(TAB, r + 2, c + 1, None)
        for r in range(len(rows), old_count)
        for c in range(len(HEADERS))
    ]
    store.write(cells)


def _form_requests(store) -> Counter:
    rows = tab_rows(store, "requests")
    head = rows[0]
    who = head.index(REQ.header("requester"))
    channel = head.index(REQ.header("channel"))
    return Counter(r[who] for r in rows[1:] if len(r) > channel and r[channel] == "Форма")


def test_each_answer_once_under_resort_edit_and_delete(make_sheet) -> None:
    sheet = make_sheet({})
    rows = [_answer(i) for i in range(5)]
    _add_intake(sheet.reopen(), rows)
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert report.imported == 5
    expected = Counter(f"Родитель {i}" for i in range(5))
    assert _form_requests(sheet.reopen()) == expected
    # Re-sort, edit one, delete one, add two new ones.
    changed = [rows[4], _answer(1, text="Дописал подробности"), rows[0], rows[3]]
    changed += [_answer(7), _answer(8)]
    _rewrite_intake(sheet.reopen(), changed, len(rows))
    second = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert second.imported == 2
    expected.update(["Родитель 7", "Родитель 8"])
    assert _form_requests(sheet.reopen()) == expected
    # Nothing new: nothing imported, and the requests all got their № and deadline.
    third = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert third.imported == 0
    numbers = [r[0] for r in tab_rows(sheet.reopen(), "requests")[1:]]
    assert sorted(numbers) == list(range(1, 8))
    # The intake tab is never written by the job: it holds what staff left there.
    intake = sheet.reopen().read().tabs[TAB].rows
    assert [r[1] for r in intake[1:] if len(r) > 1 and r[1]] == [r[1] for r in changed]


def test_a_sync_that_only_imports_answers_records_itself_in_the_log(make_sheet) -> None:
    """«Журнал» records every run that changed something: answers imported by a sync that had
    nothing else to write add its row, in the same append call."""
    sheet = make_sheet({})
    sync(sheet.reopen(), sheet.settings, now=NOW)
    assert not sync(sheet.reopen(), sheet.settings, now=NOW).wrote
    before = len(tab_rows(sheet.reopen(), "log"))
    _add_intake(sheet.reopen(), [_answer(i) for i in range(2)])
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert report.imported == 2 and report.wrote
    log = tab_rows(sheet.reopen(), "log")
    assert len(log) == before + 1
    message = log[-1][log[0].index(SCHEMA["log"].header("message"))]
    assert "новых №: 2; из формы: 2;" in message, message


def test_bad_answers_become_requests_with_notes_and_formulas_stay_text(make_sheet) -> None:
    sheet = make_sheet({})
    formula = '=HYPERLINK("http://example.com","ссылка")'
    rows = [
        _answer(1, **{"class": "99Я"}),
        _answer(2, topic="Погода"),
        _answer(3, text=""),
        _answer(4, text="я" * 5000),
        _answer(5, text=formula),
    ]
    _add_intake(sheet.reopen(), rows)
    assert sync(sheet.reopen(), sheet.settings, now=NOW).imported == 5
    sync(sheet.reopen(), sheet.settings, now=NOW)
    table = tab_rows(sheet.reopen(), "requests")
    head = table[0]
    by_who = {r[head.index(REQ.header("requester"))]: r for r in table[1:]}
    assert len(by_who) == 5
    check = head.index(REQ.header("check"))
    for name in ("Родитель 1", "Родитель 2"):
        row = by_who[name]
        assert len(row) > check and row[check], f"{name}: no note in «Проверка»"
    # An empty question (the contact line alone in the description) is a request with a note.
    empty = by_who["Родитель 3"]
    assert empty[head.index(REQ.header("description"))] == "Как связаться: parent3@example.org"
    assert "нет вопроса" in empty[check]
    assert "нет вопроса" not in str(by_who["Родитель 4"][check] or "")
    description = head.index(REQ.header("description"))
    assert by_who["Родитель 5"][description].startswith(formula)
    assert by_who["Родитель 4"][description].startswith("я" * 5000)
    if sheet.kind == "google":
        cell = sheet.server.cell(sheet.spreadsheet_id, REQ.title, 6, description + 1)
        assert cell is not None and cell.formula is None and cell.value.startswith(formula)


def test_google_import_adds_one_call_only_when_there_are_answers(make_google_sheet) -> None:
    sheet = make_google_sheet({})
    _add_intake(sheet.reopen(), [_answer(i) for i in range(3)])
    server = sheet.server
    server.reset_calls()
    sync(sheet.reopen(), sheet.settings, now=NOW)
    # read, read (the intake tab is in the batch read), one appendCells for both tabs.
    posts = [u for m, u, _ in server.calls if m == "POST"]
    assert [m for m, _, _ in server.calls[:2]] == ["GET", "GET"]
    assert len(posts) == 1 and posts[0].endswith(":batchUpdate"), server.calls
    server.reset_calls()
    sync(sheet.reopen(), sheet.settings, now=NOW)  # numbers and deadlines for the new rows
    server.reset_calls()
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert not report.wrote and report.imported == 0
    assert len(server.calls) == 2 and all(m == "GET" for m, _, _ in server.calls)


def _doc_list(name: str) -> list[str]:
    text = (Path(__file__).resolve().parent.parent / "docs" / "form.md").read_text("utf-8")
    block = re.search(f"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.S)
    assert block, name
    return [line[2:].strip() for line in block.group(1).strip().splitlines()]


def test_form_guide_lists_exactly_the_schema_choices() -> None:
    assert _doc_list("roles") == list(SCHEMA.enums["role"])
    assert _doc_list("topics") == list(SCHEMA.enums["topic"])


def _is_append(method: str, path: str, query: dict, body: object) -> bool:
    return (
        method == "POST"
        and path.endswith(":batchUpdate")
        and isinstance(body, dict)
        and any("appendCells" in r for r in body.get("requests", []))
    )


def test_google_row_typed_while_importing_is_kept(make_google_sheet) -> None:
    sheet = make_google_sheet({})
    _add_intake(sheet.reopen(), [_answer(i) for i in range(2)])
    server, sid = sheet.server, sheet.spreadsheet_id
    who = REQ.fields.index("requester") + 1

    def staff_type_a_request(srv) -> None:  # after the job's read, before its append lands
        srv.set_cell(sid, REQ.title, 2, who, "Сотрудник ввёл")

    server.before_next(_is_append, staff_type_a_request)
    assert sync(sheet.reopen(), sheet.settings, now=NOW).imported == 2
    names = [r[who - 1] for r in server.values(sid, REQ.title)[1:] if len(r) >= who]
    assert names == ["Сотрудник ввёл", "Родитель 0", "Родитель 1"]
    # The next sync numbers all three, each once, and imports nothing again.
    assert sync(sheet.reopen(), sheet.settings, now=NOW).imported == 0
    numbers = [r[0] for r in server.values(sid, REQ.title)[1:]]
    assert sorted(numbers) == [1, 2, 3]
