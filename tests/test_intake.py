"""Form answers become requests once, on both stores, whatever staff do to the intake tab."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from journaldesk.errors import OutsideFailure
from journaldesk.jobs.demo_data import FORM_QUESTIONS
from journaldesk.jobs.sync import sync
from journaldesk.rules.intake import new_answers, read_answers
from journaldesk.store.base import CellWrite, InitPlan
from journaldesk.store.workbook import WorkbookStore
from tests.helpers import REQ, SCHEMA, at, make_workbook, request, tab_rows
from tests.sheets_api.fixtures import InProcessAdapter, in_process, is_reread, is_write

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


def _log_messages(store) -> list[str]:
    rows = tab_rows(store, "log")
    col = rows[0].index(SCHEMA["log"].header("message"))
    return [r[col] for r in rows[1:] if len(r) > col and r[col]]


def _numbers_by_requester(store) -> dict[str, object]:
    rows = tab_rows(store, "requests")
    who = rows[0].index(REQ.header("requester"))
    return {r[who]: r[0] for r in rows[1:] if len(r) > who and r[who]}


def test_the_log_row_of_a_sync_that_also_writes_counts_the_answers(make_sheet) -> None:
    """The answers go into the sync's one write, after the rows it numbers: the «Журнал» row
    of that write counts them, and their № come after every № the same run gives."""
    sheet = make_sheet({"requests": [request(requester="Набрано вручную")]})
    _add_intake(sheet.reopen(), [_answer(i) for i in range(3)])
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert report.wrote and report.imported == 3
    [message] = _log_messages(sheet.reopen())
    assert "новых №: 4; из формы: 3;" in message, message
    numbers = _numbers_by_requester(sheet.reopen())
    assert numbers == {"Набрано вручную": 1, "Родитель 0": 2, "Родитель 1": 3, "Родитель 2": 4}
    recorded = [
        r[0] for r in tab_rows(sheet.reopen(), "changes")[1:] if len(r) > 1 and r[1] == "Форма"
    ]
    assert sorted(recorded) == [2, 3, 4]
    # The next run gives the imported rows their deadlines and imports nothing again; then quiet.
    second = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert second.imported == 0 and "из формы: 0;" in _log_messages(sheet.reopen())[-1]
    assert not sync(sheet.reopen(), sheet.settings, now=NOW).wrote


def _endpoint(method: str, path: str) -> str:
    tail = path.rsplit("/", 1)[-1]
    return f"{method} {tail.split(':', 1)[1] if ':' in tail else 'get'}"


def _record_bodies(server) -> list[tuple[str, object]]:
    """Every request's (path, JSON body) from now on (a hook whose predicate never fires)."""
    seen: list[tuple[str, object]] = []
    server.before_next(lambda m, path, q, body: seen.append((path, body)) and False, None)
    return seen


def _appends(seen: list[tuple[str, object]]) -> list[str]:
    return [
        path
        for path, body in seen
        if isinstance(body, dict) and any("appendCells" in r for r in body.get("requests", []))
    ]


def test_google_answers_add_no_call_of_their_own(make_google_sheet) -> None:
    """The call budget holds with answers to import: the same number of calls as the same
    sync without them, whether it tags rows first (5) or not (4); the rows go in with
    appendCells inside a batch update the sync makes anyway, never in a call of their own."""
    typed = [request(requester=f"Сотрудник {i}") for i in range(2)]
    plain, form = make_google_sheet({"requests": typed}), make_google_sheet({"requests": typed})
    _add_intake(form.reopen(), [_answer(i) for i in range(3)])
    _add_intake(plain.reopen(), [])
    calls = {}
    for name, sheet in (("plain", plain), ("form", form)):
        seen = _record_bodies(sheet.server)
        sheet.server.reset_calls()
        report = sync(sheet.reopen(), sheet.settings, now=NOW)
        assert report.wrote and report.imported == (3 if name == "form" else 0)
        calls[name] = [_endpoint(m, p) for m, p, _ in sheet.server.calls]
        assert len(_appends(seen)) == (1 if name == "form" else 0), seen
    # read, read, re-read (a batch update carrying the rows), tag, write by tag.
    assert len(calls["form"]) == len(calls["plain"]) == 5, calls
    assert calls["form"][2] == "POST batchUpdate" and calls["form"][4].endswith("ByDataFilter")
    assert "из формы: 3;" in _log_messages(form.reopen())[-1]
    for sheet in (plain, form):
        sync(sheet.reopen(), sheet.settings, now=NOW)  # deadlines of the imported rows
        assert not sync(sheet.reopen(), sheet.settings, now=NOW).wrote
    # Rows tagged already: a status changed by hand and two new answers: 4 calls, as without.
    status = REQ.fields.index("status") + 1
    _add_intake(plain.reopen(), [])
    form.reopen().append_rows(TAB, [_answer(20), _answer(21)])
    for name, sheet in (("plain", plain), ("form", form)):
        sheet.server.set_cell(sheet.spreadsheet_id, REQ.title, 2, status, "Решено")
        seen = _record_bodies(sheet.server)
        sheet.server.reset_calls()
        report = sync(sheet.reopen(), sheet.settings, now=NOW)
        assert report.imported == (2 if name == "form" else 0)
        calls[name] = [_endpoint(m, p) for m, p, _ in sheet.server.calls]
        assert len(_appends(seen)) == (1 if name == "form" else 0)
    assert len(calls["form"]) == len(calls["plain"]) == 4, calls
    assert "из формы: 2;" in _log_messages(form.reopen())[-1]
    assert sorted(_form_requests(form.reopen())) == sorted(
        f"Родитель {i}" for i in (0, 1, 2, 20, 21)
    )


def test_google_import_adds_one_call_only_when_there_are_answers(make_google_sheet) -> None:
    sheet = make_google_sheet({})
    _add_intake(sheet.reopen(), [_answer(i) for i in range(3)])
    server = sheet.server
    server.reset_calls()
    sync(sheet.reopen(), sheet.settings, now=NOW)
    # read, read (the intake tab is in the batch read), one write: appendCells for both tabs
    # and the «Журнал» row, in one batch update.
    posts = [u for m, u, _ in server.calls if m == "POST"]
    assert [m for m, _, _ in server.calls[:2]] == ["GET", "GET"]
    assert len(posts) == 1 and posts[0].endswith(":batchUpdate"), server.calls
    assert "из формы: 3;" in _log_messages(sheet.reopen())[-1]
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


class _AppendReplyLost(InProcessAdapter):
    """Serves requests in-process; the first batch update carrying appendCells takes effect
    and then its reply is lost (the connection reset on the way back)."""

    lost = 0

    def send(self, request: Any, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        body = json.loads(request.body or b"{}") if request.method == "POST" else {}
        appends = any("appendCells" in r for r in body.get("requests", []))
        if appends and not self.lost:
            self.lost += 1
            raise requests.exceptions.ConnectionError(
                ConnectionResetError(104, "Connection reset by peer")
            )
        return response


@pytest.mark.parametrize("typed", [0, 1], ids=["answers_alone", "with_a_typed_request"])
def test_google_answers_whose_reply_was_lost_are_imported_once(
    make_google_sheet, typed: int
) -> None:
    """A reply lost after Google applied the batch that adds the answers: the call is not
    tried again (the rows and their «Изменения» records landed together), the run fails, and
    the next run finds them imported — whether they rode in the write (answers alone) or in
    the re-read before a write by tag."""
    sheet = make_google_sheet({"requests": [request(requester="Набрано")] * typed})
    _add_intake(sheet.reopen(), [_answer(i) for i in range(2)])
    store = in_process(sheet.reopen(), sheet.server)
    adapter = _AppendReplyLost(sheet.server)
    store._http.session.mount(sheet.server.url, adapter)
    with pytest.raises(OutsideFailure, match="нет соединения"):
        sync(store, sheet.settings, now=NOW)
    assert adapter.lost == 1
    assert _form_requests(sheet.reopen()) == Counter(["Родитель 0", "Родитель 1"])
    assert sync(sheet.reopen(), sheet.settings, now=NOW).imported == 0
    assert sync(sheet.reopen(), sheet.settings, now=NOW).imported == 0
    assert _form_requests(sheet.reopen()) == Counter(["Родитель 0", "Родитель 1"])
    # Each row one № of its own (a typed row whose write never came gets one above the
    # answers' next run: a № is never reused).
    numbers = [r[0] for r in tab_rows(sheet.reopen(), "requests")[1:]]
    assert len(set(numbers)) == len(numbers) == 2 + typed and all(numbers)


def test_google_answers_landed_before_a_refused_write_are_logged_once(make_google_sheet) -> None:
    """The answers ride in the re-read; the write by tag after it is refused whole (a row
    deleted in that instant): the answers stay imported once, and «Журнал» still says so."""
    sheet = make_google_sheet({"requests": [request(requester=f"Сотрудник {i}") for i in (1, 2)]})
    server, sid = sheet.server, sheet.spreadsheet_id
    sync(sheet.reopen(), sheet.settings, now=NOW)  # numbered and tagged
    _add_intake(sheet.reopen(), [_answer(i) for i in range(2)])
    server.set_cell(sid, REQ.title, 2, REQ.fields.index("status") + 1, "Решено")
    server.before_next(is_write, lambda srv: srv.delete_row(sid, REQ.title, 2))
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert report.imported == 2 and report.cells == 0
    assert "новых №: 2; из формы: 2;" in _log_messages(sheet.reopen())[-1]
    assert _form_requests(sheet.reopen()) == Counter(["Родитель 0", "Родитель 1"])
    assert sync(sheet.reopen(), sheet.settings, now=NOW).imported == 0
    assert _numbers_by_requester(sheet.reopen()) == {
        "Сотрудник 2": 2,
        "Родитель 0": 3,
        "Родитель 1": 4,
    }


def _staff_edits(sid: str) -> dict[str, Any]:
    who = REQ.fields.index("requester")
    typed = [None] * len(REQ.fields)
    typed[who] = "Вписано в последний миг"
    typed[REQ.fields.index("topic")] = "Техническая неисправность"
    typed[REQ.fields.index("description")] = "Не открывается журнал"
    return {
        "typed_at_the_end": lambda srv: srv.insert_rows(
            sid, REQ.title, len(srv.values(sid, REQ.title)) + 1, [typed]
        ),
        "typed_above": lambda srv: srv.insert_rows(sid, REQ.title, 2, [typed]),
        "sorted": lambda srv: srv.sort_rows(sid, REQ.title, who + 1, reverse=True),
        "deleted": lambda srv: srv.delete_row(sid, REQ.title, 2),
    }


# Just before the re-read, the batch that carries the answers: where the table ends moves.
# Just before the write by tag: the rows the answers joined move under the tags.
@pytest.mark.parametrize(
    ("edit", "moment"),
    [
        ("typed_at_the_end", "reread"),
        ("sorted", "reread"),
        ("typed_above", "write"),
        ("deleted", "write"),
    ],
)
def test_google_answers_once_whatever_staff_do_as_they_land(
    make_google_sheet, edit: str, moment: str
) -> None:
    """Staff edit «Обращения» just before the batch that carries the answers (the re-read) or
    just before the write by tag after it: every answer becomes one request, nothing typed is
    lost or overwritten, and no № is given twice."""
    sheet = make_google_sheet({"requests": [request(requester=f"Сотрудник {i}") for i in (1, 2)]})
    server, sid = sheet.server, sheet.spreadsheet_id
    sync(sheet.reopen(), sheet.settings, now=NOW)  # numbered and tagged
    server.set_cell(sid, REQ.title, 3, REQ.fields.index("status") + 1, "Решено")
    _add_intake(sheet.reopen(), [_answer(i) for i in range(3)])
    when = is_reread if moment == "reread" else is_write
    server.before_next(when, _staff_edits(sid)[edit])
    sync(sheet.reopen(), sheet.settings, now=NOW)
    assert not server._hooks, "the edit never came: the sync wrote nothing by tag"
    sync(sheet.reopen(), sheet.settings, now=NOW)
    assert _form_requests(sheet.reopen()) == Counter(f"Родитель {i}" for i in range(3))
    rows = tab_rows(sheet.reopen(), "requests")[1:]
    names = Counter(r[REQ.fields.index("requester")] for r in rows)
    expected = Counter(["Сотрудник 2"] if edit == "deleted" else ["Сотрудник 1", "Сотрудник 2"])
    expected.update(f"Родитель {i}" for i in range(3))
    if edit.startswith("typed"):
        expected["Вписано в последний миг"] += 1
    assert names == expected
    numbers = [r[0] for r in rows]
    assert len(set(numbers)) == len(numbers) and all(numbers)
    assert not sync(sheet.reopen(), sheet.settings, now=NOW).wrote


def test_workbook_answers_go_in_the_same_save(tmp_path: Path) -> None:
    """On the workbook the answers are added in the sync's one save, under its file lock:
    one read and one save (each counts as a call), as the same sync without answers."""
    calls = {}
    for name, answers in (("plain", 0), ("form", 2)):
        (tmp_path / name).mkdir()
        store, settings = make_workbook(tmp_path / name, {"requests": [request()]})
        _add_intake(store, [_answer(i) for i in range(answers)])
        report = sync(WorkbookStore(settings.workbook_path), settings, now=NOW)
        assert report.imported == answers and report.wrote
        message = _log_messages(WorkbookStore(settings.workbook_path))[-1]
        assert f"из формы: {answers};" in message
        calls[name] = report.api_calls
    assert calls["form"] == calls["plain"] == 2
