"""A school year simulated through the runner (tests/simulation_runner.py): the runner's own
timetable wakes the jobs (syncs, the digest before each session, the Monday summary, the journal
inbox); staff, parents and an office program act between its moments; no invariant broken, and
a quiet week adds nothing to «Журнал» and «Изменения». Each new check is shown to fail on a
sheet or a runner that breaks its rule. benchmarks/school_year_runner.py runs the whole year;
tests/test_school_year.py runs the stores' faults on both stores."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from journaldesk.rules.worktime import CalendarEntry, WeeklyHours, WorkCalendar
from journaldesk.runner import scheduler
from journaldesk.runner.state import RunnerState
from journaldesk.sheet.vocab import KIND_EXTRA, KIND_HOLIDAY
from tests.helpers import SCHEMA
from tests.simulation_runner import (
    Mail,
    RunnerYear,
    TypedCalendar,
    book_grid,
    booked_slot,
    calendar_booking_problems,
    mail_problems,
    summary_problems,
    tab_records,
    week_recount,
)


def _year(tmp_path: Path, **over) -> RunnerYear:
    params = dict(
        seed=21,
        pupils=100,
        first=dt.date(2026, 9, 1),
        last=dt.date(2026, 9, 14),
        sync_every=120,
        requests_per_day=6.0,
        form_answers_per_day=1.5,
        sittings_per_day=4.0,
        fault_rate=0.5,
        shuffle_every=6,
        quiet_week=dt.date(2026, 9, 7),
    )
    params.update(over)
    return RunnerYear(tmp_path, **params)


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory: pytest.TempPathFactory) -> RunnerYear:
    """A busy first week, a quiet week, a busy Monday; run once for every test here."""
    year = _year(tmp_path_factory.mktemp("year"))
    year.run()
    return year


def test_two_weeks_by_the_runner_break_no_invariant(two_weeks: RunnerYear) -> None:
    report = two_weeks.report
    assert report.violations == [], "\n".join(report.violations[:20])
    # The run went deep enough to mean something.
    lines = report.lines()
    assert report.jobs["sync"] >= 60 and report.writing_steps >= 10, lines
    # Last week's on the first morning, then every Monday.
    assert report.jobs["summary"] == 3 and report.summaries_checked == 3, lines
    assert report.jobs["journal"] >= 1 and report.mails["teacher"] >= 1, lines
    assert report.mails["summary"] == 3 and report.mails["reply"] >= 1, lines
    assert report.faults >= 1, lines
    for kind in ("add", "status", "form answer", "journal export", "consent: handed out"):
        assert report.edits[kind] >= 1, (kind, report.edits)
    # A quiet week: syncs run all week and add no row to «Журнал» or «Изменения».
    assert report.quiet_week_syncs >= 30, lines
    assert (report.quiet_week_journal, report.quiet_week_changes) == (0, 0), lines


# --- each check fails when its rule is broken --------------------------------------------------


def _set(grid: dict, key: str, rec: dict, field: str, value: object) -> None:
    from tests.simulation_runner import SCHEMA

    tab = SCHEMA[key]
    header = {v[0]: c for (r, c), v in grid[tab.title].items() if r == 1}
    grid[tab.title][(rec["_row"], header[tab.header(field)])] = (value, type(value).__name__)


def test_a_booking_on_a_holiday_or_over_capacity_is_caught(two_weeks: RunnerYear) -> None:
    grid = book_grid(two_weeks.path)
    now = two_weeks.now.replace(tzinfo=None)
    assert calendar_booking_problems(grid, now, 1) == []
    booked = [
        r
        for r in tab_records(grid, "requests")
        if booked_slot(r["consultation"]) and booked_slot(r["consultation"])[0] > now
    ]
    assert booked, "the week left no booking ahead"
    # 04.11.2026 is Unity Day, a holiday of the calendar `init` seeded.
    _set(grid, "requests", booked[0], "consultation", "ср 04.11.2026 15:00–15:20, каб. 12")
    problems = calendar_booking_problems(grid, now, 1)
    assert any("outside a session (Праздник)" in p for p in problems), problems
    # Saturday has no consultation hours.
    _set(grid, "requests", booked[0], "consultation", "сб 07.11.2026 15:00–15:20, каб. 12")
    problems = calendar_booking_problems(grid, now, 1)
    assert any("outside a session (outside the hours)" in p for p in problems), problems
    grid = book_grid(two_weeks.path)
    other = next(r for r in tab_records(grid, "requests") if r["_row"] != booked[0]["_row"])
    _set(grid, "requests", other, "consultation", booked[0]["consultation"])
    problems = calendar_booking_problems(grid, now, 1)
    assert any("(capacity 1)" in p for p in problems), problems
    grid = book_grid(two_weeks.path)
    _set(grid, "requests", booked[0], "status", "Решено")
    problems = calendar_booking_problems(grid, now, 1)
    assert any("Решено keeps a future slot" in p for p in problems), problems


def test_a_summary_figure_off_by_one_is_caught(two_weeks: RunnerYear) -> None:
    week = dt.date(2026, 8, 31)
    grid = copy.deepcopy(two_weeks.summary_grids[week])
    assert summary_problems(grid, week) == []
    want = week_recount(grid, week)
    assert want["received"] >= 5, want
    row = next(r for r in tab_records(grid, "summary") if r["received"] == want["received"])
    _set(grid, "summary", row, "received", want["received"] + 1)
    assert summary_problems(grid, week) == [
        f"week of 31.08.2026: «Сводка» received {want['received'] + 1}.0, recount "
        f"{want['received']}"
    ]


def test_a_mail_sent_twice_or_for_no_session_is_caught() -> None:
    at = dt.datetime(2026, 9, 14, 7, 0)
    summary = Mail(at, ("zam@school.test",), "Сводка службы помощи по ЭЖ за неделю 7–13 сен", "")
    digest = Mail(at, ("zam@school.test",), "Консультация пн 14.09.2026 14:00–16:00: 1", "")
    sessions = {dt.datetime(2026, 9, 14, 14, 0): True}
    assert mail_problems([summary, digest], sessions) == []
    assert mail_problems([summary, summary], sessions) == [
        "summary sent twice: ('Сводка службы помощи по ЭЖ за неделю 7–13 сен',)"
    ]
    assert mail_problems([digest], {dt.datetime(2026, 9, 14, 14, 0): False}) == [
        "a digest for 'пн 14.09.2026 14:00–16:00', not a session of the calendar"
    ]


def test_a_runner_that_forgets_its_summary_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken copy of the runner's rule "the summary is made once per week": the simulation
    sees the second summary of the same week."""
    real = scheduler.Runner._mark_done

    def forgetful(self, job: str, now: dt.datetime) -> None:
        if job != scheduler.SUMMARY:
            real(self, job, now)

    monkeypatch.setattr(scheduler.Runner, "_mark_done", forgetful)
    year = _year(
        tmp_path, first=dt.date(2026, 9, 14), last=dt.date(2026, 9, 14), quiet_week=None,
        sync_every=240,
    )  # fmt: skip
    report = year.run()
    assert any("summary sent twice" in v for v in report.violations), report.violations


def test_a_runner_that_works_on_holidays_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken copy of the rule "nothing is due on a holiday": the simulation sees the runner
    sync on 8 March (a holiday of the calendar `init` seeds)."""
    real = scheduler.due_jobs

    def tireless(state: RunnerState, now: dt.datetime, tt) -> list[str]:
        return real(dataclasses.replace(state, closed_days=set()), now, tt)

    monkeypatch.setattr(scheduler, "due_jobs", tireless)
    year = _year(
        tmp_path, first=dt.date(2027, 3, 6), last=dt.date(2027, 3, 8), quiet_week=None,
        sync_every=240, fault_rate=0.0,
    )  # fmt: skip
    report = year.run()
    assert any(v.startswith("08.03.2027") and "on a closed day" in v for v in report.violations), (
        report.violations
    )


def _calendar_grid(rows: list[dict]) -> dict:
    tab = SCHEMA["calendar"]
    cells = {(1, c): (tab.header(f), "str") for c, f in enumerate(tab.fields, start=1)}
    for r, row in enumerate(rows, start=2):
        for c, f in enumerate(tab.fields, start=1):
            if row.get(f) is not None:
                cells[(r, c)] = (row[f], type(row[f]).__name__)
    return {tab.title: cells}


def test_a_holiday_with_an_extra_session_typed_is_a_working_day_for_both() -> None:
    """The simulation's reading of the calendar and the tool's agree: a holiday rests the runner,
    unless an extra session is typed for that day (the administrator will be in)."""
    day = dt.date(2027, 2, 24)
    holiday = {"date_from": dt.datetime(2027, 2, 24), "kind": KIND_HOLIDAY}
    extra = {
        "date_from": dt.datetime(2027, 2, 24), "kind": KIND_EXTRA,
        "time_from": dt.time(9, 0), "time_to": dt.time(10, 0),
    }  # fmt: skip
    weekly = [WeeklyHours(day.weekday(), dt.time(15, 0), dt.time(17, 0))]
    for rows, closed in (([holiday], True), ([holiday, extra], False), ([extra, holiday], False)):
        assert TypedCalendar(_calendar_grid(rows)).school_closed(day) is closed
        entries = [
            CalendarEntry(day, day, r["kind"], r.get("time_from"), r.get("time_to")) for r in rows
        ]
        tool = WorkCalendar.build(
            weekly, entries, tz="Europe/Moscow", start=dt.date(2027, 2, 1),
            end=dt.date(2027, 3, 31),
        )  # fmt: skip
        assert (tool.closed_reason(day) is not None) is closed
