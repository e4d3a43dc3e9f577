"""The runner: what is due when (pure, frozen clock), failures, the lock, --once, no catch-up storm,
a clean stop. No sleeping: every moment is passed in."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import signal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from journaldesk.cli.run import run as run_command
from journaldesk.errors import StructureError
from journaldesk.jobs.demo import build_demo
from journaldesk.runner.digest import DigestItem, digest_text
from journaldesk.runner.scheduler import Runner, RunnerBusy
from journaldesk.runner.state import Failure, RunnerState, load_state, save_state
from journaldesk.runner.timetable import (
    REMINDER,
    SUMMARY,
    SYNC,
    Timetable,
    declare,
    due_jobs,
    summary_moment,
)
from journaldesk.settings import Settings, load_settings
from journaldesk.sheet.frames import parse_tab
from journaldesk.sheet.schema import load_schema
from journaldesk.store import open_store

TZ = ZoneInfo("Europe/Simferopol")
TT = Timetable()  # the settings' defaults: 15 min, 07:30-19:00 Mon-Sat, reminder 30 min, Mon 07:00
SCHEMA = load_schema()
DEMO_NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=TZ)  # a Tuesday


def at(text: str) -> dt.datetime:
    """An aware local moment from «ДД.ММ.ГГГГ ЧЧ:ММ»."""
    return dt.datetime.strptime(text, "%d.%m.%Y %H:%M").replace(tzinfo=TZ)


def made(monday: str) -> RunnerState:
    """A state whose summary of the week with this Monday's moment is made."""
    return RunnerState(summary_done=dt.datetime.strptime(monday, "%d.%m.%Y").date())


# --- what is due, pure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("01.12.2026 10:00", [SYNC]),  # Tuesday, school hours
        ("05.12.2026 10:00", [SYNC]),  # Saturday is a workday by default
        ("06.12.2026 10:00", []),  # Sunday
        ("01.12.2026 07:29", []),  # before day_start
        ("01.12.2026 07:30", [SYNC]),
        ("01.12.2026 18:59", [SYNC]),
        ("01.12.2026 19:00", []),  # day_end is exclusive
        ("01.12.2026 23:00", []),
    ],
)
def test_sync_is_due_only_on_workdays_in_school_hours(moment: str, expected: list[str]) -> None:
    assert due_jobs(made("30.11.2026"), at(moment), TT) == expected


def test_the_weekly_summary_is_due_on_monday_at_seven_local() -> None:
    state = made("23.11.2026")
    assert due_jobs(state, at("30.11.2026 06:59"), TT) == []
    assert due_jobs(state, at("30.11.2026 07:00"), TT) == [SUMMARY]
    # The same moment given in UTC is the same decision.
    utc = at("30.11.2026 07:00").astimezone(dt.UTC)
    assert due_jobs(state, utc, TT) == [SUMMARY]
    assert due_jobs(made("30.11.2026"), at("30.11.2026 07:00"), TT) == []


def test_summary_moment_follows_the_settings_weekday_and_time() -> None:
    tt = Timetable(summary_weekday=4, summary_time=dt.time(16, 30))
    assert summary_moment(at("04.12.2026 16:30"), tt) == at("04.12.2026 16:30")
    assert summary_moment(at("04.12.2026 16:29"), tt) == at("27.11.2026 16:30")
    assert summary_moment(at("01.12.2026 09:00"), tt) == at("27.11.2026 16:30")


def test_a_sync_runs_once_per_slot() -> None:
    state = made("30.11.2026")
    state.attempts[SYNC] = at("01.12.2026 10:00")
    assert due_jobs(state, at("01.12.2026 10:14"), TT) == []
    assert due_jobs(state, at("01.12.2026 10:15"), TT) == [SYNC]
    # A cron run a few seconds late still lands in its own slot: no drift, no skipped slot.
    state.attempts[SYNC] = at("01.12.2026 10:15") + dt.timedelta(seconds=40)
    assert due_jobs(state, at("01.12.2026 10:30") + dt.timedelta(seconds=2), TT) == [SYNC]
    tt5 = Timetable(sync_every=5)
    assert due_jobs(state, at("01.12.2026 10:20"), tt5) == [SYNC]


def test_a_reminder_is_due_thirty_minutes_before_a_session() -> None:
    state = made("30.11.2026")
    state.attempts[SYNC] = at("01.12.2026 14:29")  # keep the sync out of the way
    state.sessions = [(at("01.12.2026 15:00"), at("01.12.2026 17:00"))]
    assert due_jobs(state, at("01.12.2026 14:29"), TT) == []
    state.attempts[SYNC] = at("01.12.2026 14:30")
    assert due_jobs(state, at("01.12.2026 14:30"), TT) == [REMINDER]
    # A runner that starts during the session still reminds; after its end, nothing.
    state.attempts[SYNC] = at("01.12.2026 16:50")
    assert due_jobs(state, at("01.12.2026 16:55"), TT) == [REMINDER]
    state.attempts[SYNC] = at("01.12.2026 17:00")
    assert due_jobs(state, at("01.12.2026 17:00"), TT) == []
    # Once reminded, not again.
    state.reminded = [at("01.12.2026 15:00")]
    state.attempts[SYNC] = at("01.12.2026 14:45")
    assert due_jobs(state, at("01.12.2026 14:45"), TT) == []


def test_nothing_is_due_on_a_day_the_calendar_closes() -> None:
    state = RunnerState(closed_days={dt.date(2027, 1, 5)})  # summary not made, sync never run
    state.sessions = [(at("05.01.2027 15:00"), at("05.01.2027 17:00"))]
    assert due_jobs(state, at("05.01.2027 14:45"), TT) == []
    assert due_jobs(state, at("13.01.2027 14:45"), TT) == [SYNC, SUMMARY]


def test_a_failed_reminder_or_summary_waits_one_interval_before_retrying() -> None:
    state = made("23.11.2026")
    state.failures[SUMMARY] = Failure(at("30.11.2026 07:00"), "нет сети")
    assert SUMMARY not in due_jobs(state, at("30.11.2026 07:14"), TT)
    assert SUMMARY in due_jobs(state, at("30.11.2026 07:15"), TT)


def test_state_survives_a_round_trip_and_a_broken_file(tmp_path: Path) -> None:
    state = RunnerState(
        attempts={SYNC: at("01.12.2026 10:00")},
        successes={SYNC: at("01.12.2026 10:00")},
        failures={SUMMARY: Failure(at("30.11.2026 07:00"), "Ошибка «Сводка»", True)},
        summary_done=dt.date(2026, 11, 23),
        reminded=[at("01.12.2026 15:00")],
        sessions=[(at("02.12.2026 15:00"), at("02.12.2026 17:00"))],
        closed_days={dt.date(2026, 12, 31)},
        calendar_at=at("01.12.2026 10:00"),
    )
    path = tmp_path / "logs" / "runner-state.json"
    save_state(state, path)
    assert load_state(path) == state
    assert [p.name for p in path.parent.iterdir()] == ["runner-state.json"]  # no temp left
    path.write_text("{ half a file", encoding="utf-8")
    assert load_state(path) == RunnerState()


# --- the runner on the demo workbook --------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo-template") / "demo"
    build_demo(target, now=DEMO_NOW)
    return target


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Settings:
    target = tmp_path / "demo"
    shutil.copytree(demo_template, target)
    return load_settings(target / "settings.yaml")


class Calls:
    """Fake jobs that record the moments they ran at."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dt.datetime]] = []

    def job(self, name: str, fail: Exception | None = None):
        def run(now: dt.datetime) -> str:
            self.calls.append((name, now))
            if fail is not None:
                raise fail
            return "готово"

        return run

    def jobs(self, **fail: Exception) -> dict[str, object]:
        return {name: self.job(name, fail.get(name)) for name in (SYNC, REMINDER, SUMMARY)}

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.calls]


def log_rows(settings: Settings) -> list[dict]:
    snap = open_store(settings).read()
    parsed = parse_tab(snap.tabs[SCHEMA["log"].title], SCHEMA["log"])
    return parsed.frame.to_dict("records")


def test_one_job_raising_does_not_stop_the_next_and_is_logged_in_the_sheet(
    demo: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    calls = Calls()
    broken = StructureError("В таблице нет листа «График».")
    runner = Runner(demo, jobs=calls.jobs(sync=broken))
    before = len(log_rows(demo))
    results = runner.run_due(at("30.11.2026 10:00"))
    assert calls.names == [SYNC, SUMMARY]
    assert [(r.job, r.ok) for r in results] == [(SYNC, False), (SUMMARY, True)]
    assert results[0].exit_code == 2
    assert "Синхронизация не выполнена: В таблице нет листа «График»." in caplog.text
    rows = log_rows(demo)
    assert len(rows) == before + 1
    assert rows[-1]["job"] == "Синхронизация"
    assert rows[-1]["result"] == "Ошибка"
    assert rows[-1]["message"] == "В таблице нет листа «График»."
    assert rows[-1]["at"] == dt.datetime(2026, 11, 30, 10, 0)
    # The same failure in the next slot is retried and logged locally, not written again.
    results = runner.run_due(at("30.11.2026 10:15"))
    assert calls.names == [SYNC, SUMMARY, SYNC]
    assert not results[0].ok
    assert len(log_rows(demo)) == before + 1
    # The local state remembers the failure for the next start.
    saved = json.loads(runner.state_path.read_text(encoding="utf-8"))
    assert saved["failures"]["sync"]["message"] == "В таблице нет листа «График»."


def test_an_unexpected_error_is_described_in_russian_and_masked(demo: Settings) -> None:
    calls = Calls()
    runner = Runner(demo, jobs=calls.jobs(summary=RuntimeError("пароль: Qwerty123")))
    runner.state.summary_done = None
    results = runner.run_due(at("30.11.2026 07:10"))
    assert [r.job for r in results] == [SUMMARY]
    assert results[0].message.startswith("непредвиденная ошибка (RuntimeError: пароль")
    assert "Qwerty123" not in results[0].message
    assert "Qwerty123" not in log_rows(demo)[-1]["message"]


def test_a_failure_when_the_sheet_is_unreachable_still_goes_to_the_local_log(
    demo: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    calls = Calls()

    def no_store(settings: Settings):
        raise OSError("нет сети")

    runner = Runner(demo, jobs=calls.jobs(sync=OSError("нет сети")), store_factory=no_store)
    runner.state.summary_done = dt.date(2026, 11, 30)
    results = runner.run_due(at("30.11.2026 10:00"))
    assert not results[0].ok
    assert runner.state.failures[SYNC].journaled is False
    assert "Ошибка не записана в лист «Журнал»" in caplog.text


def test_the_runner_lock_stops_a_second_runner(demo: Settings) -> None:
    first = Runner(demo, jobs=Calls().jobs())
    second_calls = Calls()
    # A school-day morning: a sync is due whatever the real clock says when the tests run.
    second = Runner(demo, jobs=second_calls.jobs(), clock=lambda: at("01.12.2026 10:05"))
    with first.hold():
        with pytest.raises(RunnerBusy, match="journaldesk run уже работает с этими настройками"):
            second.run_once()
        result = CliRunner().invoke(
            run_command, ["--once", "--config", str(demo.base_dir / "settings.yaml")]
        )
        assert result.exit_code == 2
        assert "Ошибка: journaldesk run уже работает с этими настройками" in result.output
    assert second_calls.calls == []
    second.run_once()  # free again once the first one let go
    assert second_calls.names


def test_run_once_runs_only_what_is_due(demo: Settings) -> None:
    calls = Calls()
    runner = Runner(demo, jobs=calls.jobs(), clock=lambda: at("01.12.2026 10:05"))
    runner.state.summary_done = dt.date(2026, 11, 30)
    runner.run_once()
    assert calls.names == [SYNC]
    runner.run_once()  # the same slot: nothing more
    assert calls.names == [SYNC]


def test_run_once_from_the_command_line(demo: Settings) -> None:
    config = str(demo.base_dir / "settings.yaml")
    state = made("30.11.2026")
    save_state(state, demo.path(demo.log_file).parent / "runner-state.json")
    with time_machine.travel(at("01.12.2026 10:05"), tick=False):
        result = CliRunner().invoke(run_command, ["--once", "--config", config])
    assert result.exit_code == 0, result.output
    assert re.match(r"01\.12\.2026 10:05 Синхронизация: прочитано обращений: \d+;", result.output)
    assert "Еженедельная сводка" not in result.output
    with time_machine.travel(at("06.12.2026 10:05"), tick=False):  # Sunday
        result = CliRunner().invoke(run_command, ["--once", "--config", config])
    assert result.exit_code == 0
    assert result.output.strip() == "Сейчас по расписанию делать нечего."


def test_no_catch_up_storm_after_three_days_asleep(demo: Settings) -> None:
    calls = Calls()
    runner = Runner(demo, jobs=calls.jobs())
    runner.state = made("23.11.2026")
    runner.state.attempts[SYNC] = at("27.11.2026 18:45")  # Friday evening, then asleep
    runner.state.sessions = [
        (at(f"{d}.12.2026 15:00"), at(f"{d}.12.2026 17:00")) for d in ("01", "02")
    ]
    runner.state.sessions.insert(0, (at("30.11.2026 14:00"), at("30.11.2026 16:00")))
    runner.run_due(at("01.12.2026 09:12"))  # Tuesday morning: 3+ days, 40 slots missed
    assert calls.names == [SYNC, SUMMARY]
    runner.run_due(at("01.12.2026 09:13"))
    assert calls.names == [SYNC, SUMMARY]
    assert runner.state.summary_done == dt.date(2026, 11, 30)


def test_sigterm_between_jobs_stops_the_loop_cleanly(demo: Settings) -> None:
    calls = Calls()
    runner: Runner

    def sync_then_sigterm(now: dt.datetime) -> str:
        calls.calls.append((SYNC, now))
        # The handler is ours while the loop runs.
        assert signal.getsignal(signal.SIGTERM) == runner.request_stop
        runner.request_stop(signal.SIGTERM, None)
        return "готово"

    sleeps: list[float] = []
    jobs = calls.jobs()
    jobs[SYNC] = sync_then_sigterm
    runner = Runner(demo, jobs=jobs, clock=lambda: at("30.11.2026 10:00"), sleep=sleeps.append)
    previous = signal.getsignal(signal.SIGTERM)
    runner.loop()
    assert calls.names == [SYNC]  # the running job finished, the summary never started
    assert sleeps == []
    assert signal.getsignal(signal.SIGTERM) == previous
    saved = load_state(runner.state_path)
    assert saved.successes[SYNC] == at("30.11.2026 10:00")
    assert SUMMARY not in saved.attempts


def test_the_loop_sleeps_between_checks_until_stopped(demo: Settings) -> None:
    calls = Calls()
    runner: Runner
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            runner.request_stop(signal.SIGINT, None)

    runner = Runner(demo, jobs=calls.jobs(), clock=lambda: at("06.12.2026 10:00"), sleep=sleep)
    runner.state.summary_done = dt.date(2026, 11, 30)
    runner.loop()
    assert calls.calls == []  # a Sunday: nothing due
    assert len(sleeps) == 3 and all(0 < s <= 1.0 for s in sleeps)


# --- the real jobs on the demo ------------------------------------------------------------------


def test_the_sync_job_keeps_the_next_sessions_and_the_closed_days(demo: Settings) -> None:
    runner = Runner(demo, summary=lambda store, settings, now: None)
    results = runner.run_due(at("01.12.2026 10:00"))
    assert [(r.job, r.ok) for r in results] == [(SYNC, True), (SUMMARY, True)]
    state = load_state(runner.state_path)
    assert state.sessions[0] == (at("01.12.2026 15:00"), at("01.12.2026 17:00"))
    assert dt.date(2027, 1, 1) in state.closed_days  # New Year (public holiday)
    assert dt.date(2026, 12, 30) in state.closed_days  # winter vacation from «Календарь»
    assert dt.date(2026, 12, 5) not in state.closed_days
    assert due_jobs(state, at("30.12.2026 10:00"), runner.timetable) == []


def test_the_reminder_lists_numbers_topics_deadlines_and_no_names(demo: Settings) -> None:
    sent: list[tuple[str, str]] = []
    runner = Runner(
        demo,
        summary=lambda store, settings, now: None,
        send=lambda subject, text: sent.append((subject, text)) or True,
    )
    runner.run_due(at("01.12.2026 10:00"))
    results = runner.run_due(at("01.12.2026 14:30"))
    assert [(r.job, r.ok) for r in results] == [(SYNC, True), (REMINDER, True)]
    assert len(sent) == 1
    subject, text = sent[0]
    assert subject.startswith("Консультация вт 01.12.2026 15:00–17:00: просрочено ")
    assert "(отправлено на почту)" in results[1].message
    lines = [ln for ln in text.splitlines() if ln.startswith("№ ")]
    assert lines and all(ln.count(" · ") == 3 for ln in lines)
    assert any("Утерян логин или пароль · срок" in ln for ln in lines)
    snap = open_store(demo).read()
    people = set()
    for key, fields in (("requests", ["requester"]), ("consent", ["pupil", "parent"])):
        frame = parse_tab(snap.tabs[SCHEMA[key].title], SCHEMA[key]).frame
        for f in fields:
            people |= {str(v) for v in frame[f].dropna()}
    surnames = {p.split()[0] for p in people if p.split()}
    assert not [s for s in surnames if s in text]
    # Reminded once per session.
    assert runner.run_due(at("01.12.2026 14:45"))[0].job == SYNC
    assert len(sent) == 1


def test_a_reminder_for_a_session_cancelled_since_the_last_sync_is_not_sent(
    demo: Settings,
) -> None:
    sent: list[tuple[str, str]] = []
    runner = Runner(demo, send=lambda s, t: sent.append((s, t)) or True, jobs={SYNC: lambda n: ""})
    runner.state = made("30.11.2026")
    runner.state.sessions = [(at("01.12.2026 18:00"), at("01.12.2026 18:30"))]  # not in «График»
    results = runner.run_due(at("01.12.2026 17:45"))
    assert results[-1].job == REMINDER and results[-1].ok
    assert "отменена" in results[-1].message
    assert sent == []


def test_digest_masks_a_topic_typed_by_hand() -> None:
    items = [
        DigestItem(7, "пароль Qwerty123 не подходит", at("01.12.2026 16:00"), "Просрочено"),
        DigestItem(8, "Текущие отметки", None, "Под угрозой"),
    ]
    subject, text = digest_text(items, (at("01.12.2026 15:00"), at("01.12.2026 17:00")))
    assert subject == "Консультация вт 01.12.2026 15:00–17:00: просрочено 1, под угрозой 1"
    assert "Qwerty123" not in text
    assert "№ 8 · Текущие отметки · срок не определён · Под угрозой" in text
    assert "просрочено — 1 обращение, под угрозой — 1 обращение." in text


def test_a_first_sync_that_finds_a_session_reminds_in_the_same_pass(demo: Settings) -> None:
    sent: list[tuple[str, str]] = []
    runner = Runner(demo, send=lambda s, t: sent.append((s, t)) or True)
    runner.state = made("30.11.2026")  # no calendar cached yet
    results = runner.run_due(at("01.12.2026 14:40"))
    assert [r.job for r in results] == [SYNC, REMINDER]
    assert len(sent) == 1


def test_the_default_summary_is_the_weekly_report(demo: Settings) -> None:
    runner = Runner(demo, send=lambda s, t: True)
    runner.state.attempts[SYNC] = at("30.11.2026 07:10")
    results = runner.run_due(at("30.11.2026 07:10"))
    assert [(r.job, r.ok) for r in results] == [(SUMMARY, True)], results
    assert results[0].message.startswith("неделя с 23.11.2026: поступило ")
    assert f"{results[0].title}: {results[0].message}".count("водка") == 1  # not «сводка: сводка»
    assert (demo.path(demo.reports_dir) / "2026-11-23").is_dir()


# --- the timetable declared with `schedule` -----------------------------------------------------


def test_the_timetable_is_declared_as_schedule_jobs_in_the_school_zone() -> None:
    tt = Timetable(tz="Europe/Simferopol", sync_every=15, day_start=dt.time(7, 30),
                   day_end=dt.time(19, 0), workdays=frozenset(range(6)), summary_weekday=0,
                   summary_time=dt.time(7, 0))  # fmt: skip
    ticker = declare(tt, lambda job: None)
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    # 07:30, 07:45 … 18:45: (19:00 - 07:30) / 15 min = 46 slots a day
    slots = [dt.time(7 + (30 + 15 * k) // 60, (30 + 15 * k) % 60) for k in range(46)]
    syncs = [j for j in ticker.jobs if SYNC in j.tags]
    assert sorted((j.start_day, j.at_time) for j in syncs) == sorted(
        (d, t) for d in days for t in slots
    )
    (summary,) = [j for j in ticker.jobs if SUMMARY in j.tags]
    assert (summary.start_day, summary.at_time) == ("monday", dt.time(7, 0))
    assert {str(j.at_time_zone) for j in [*syncs, summary]} == {"Europe/Simferopol"}


def test_the_declared_summary_wakes_the_runner_at_seven_school_time() -> None:
    woken: list[str] = []
    sunday_night = at("29.11.2026 23:00")
    with time_machine.travel(sunday_night, tick=False) as traveller:
        ticker = declare(Timetable(), woken.append)
        # Monday 07:00 in Simferopol is 04:00 UTC; schedule keeps it in the machine's own zone.
        monday_seven = at("30.11.2026 07:00").astimezone().replace(tzinfo=None)
        assert ticker.get_next_run(SUMMARY) == monday_seven
        traveller.move_to(at("30.11.2026 06:59"))
        ticker.run_pending()
        assert SUMMARY not in woken
        traveller.move_to(at("30.11.2026 07:00"))
        ticker.run_pending()
        assert woken.count(SUMMARY) == 1
        # Woken ten days late: one summary wake, no backlog replayed.
        traveller.move_to(at("10.12.2026 12:00"))
        ticker.run_pending()
        assert woken.count(SUMMARY) == 2
