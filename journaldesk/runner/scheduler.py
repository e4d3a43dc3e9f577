"""The long-running job runner: sync in school hours, a reminder before each consultation session,
the weekly summary. This module is the loop and the jobs; the state is runner/state.py, what is
due runner/timetable.py, the reminder's text runner/digest.py, the inbox runner/inbox.py.

The split follows the `schedule` library's: deciding *what is due* is the pure function
`due_jobs(state, now, timetable)`, the caller owns the loop. `schedule` only wakes the loop up
once a minute (it reads the wall clock itself and keeps nothing between runs); every decision is
made from the persisted `RunnerState` and the `now` handed in, so

* tests pass `now` and need no clock patching;
* a runner restarted, or woken after a sleep or an outage, runs what is due ONCE: a sync is due
  when the current sync slot (day_start + k * sync_every) differs from the last attempt's, the
  summary when this week's summary moment has passed and its summary has not been made; no
  backlog of missed runs is ever replayed;
* a failed job is retried at the next run (the next sync slot; for the reminder and the summary
  after `sync_every` minutes), and one failing job never stops the others.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import filelock

from journaldesk.errors import JournaldeskError, UserError
from journaldesk.jobs.sync import JOB_SYNC
from journaldesk.rules.privacy import mask_all
from journaldesk.runner.digest import digest_items, digest_text, session_label
from journaldesk.runner.inbox import file_signature, inbox_files
from journaldesk.runner.state import (
    Failure,
    load_state,
    save_state,
    state_path_for,
)
from journaldesk.runner.timetable import (
    JOURNAL,
    REMINDER,
    SUMMARY,
    SYNC,
    Timetable,
    declare,
    due_jobs,
    local_time,
    reminder_sessions,
    summary_moment,
)
from journaldesk.settings import Settings
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.vocab import KIND_HOLIDAY, KIND_VACATION, RUN_FAILED
from journaldesk.store.base import Snapshot, Store

log = logging.getLogger(__name__)

# The «Задача» column of «Журнал» and the console say these.
JOB_TITLES = {
    SYNC: JOB_SYNC,
    REMINDER: "Напоминание перед консультацией",
    SUMMARY: "Еженедельная сводка",
    JOURNAL: "Загрузка выгрузки ЭЖ",
}
LOCK_NAME = "runner.lock"
# How far ahead the cached calendar reaches: sessions for reminders, closed days for everything.
SESSIONS_AHEAD_DAYS = 14
CLOSED_AHEAD_DAYS = 60
# Reminded session starts older than this are forgotten (keeps the state file small).
REMINDED_KEEP_DAYS = 7


class RunnerBusy(UserError):
    """Another `journaldesk run` holds the runner lock of these settings."""


# --- the runner ---------------------------------------------------------------------------------


@dataclass
class JobResult:
    """One job run: its id, when, whether it worked, a Russian line, the exit code if not."""

    job: str
    at: dt.datetime
    ok: bool
    message: str
    exit_code: int = 0

    @property
    def title(self) -> str:
        """The job's Russian name."""
        return JOB_TITLES.get(self.job, self.job)


JobFn = Callable[[dt.datetime], str]
SummaryFn = Callable[..., Any]
SendFn = Callable[[str, str], bool]


class _RecordingStore:
    """A store that remembers the last snapshot it read, so the calendar costs no extra read."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.last_snapshot: Snapshot | None = None

    @property
    def api_calls(self) -> int:
        return self._inner.api_calls

    def read(self) -> Snapshot:
        self.last_snapshot = self._inner.read()
        return self.last_snapshot

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _default_summary(store: Store, settings: Settings, *, now: dt.datetime) -> Any:
    from journaldesk.jobs.report import run_summary  # written alongside; imported when first needed

    return run_summary(store, settings, now=now, send=True)


def _default_sender(settings: Settings) -> SendFn:
    def send(subject: str, text: str) -> bool:
        from journaldesk.jobs.notify import send_digest

        return send_digest(settings, subject, text)

    return send


def describe_error(exc: BaseException) -> str:
    """The Russian line for a failure, secrets masked."""
    if isinstance(exc, JournaldeskError):
        text = str(exc)
    else:
        text = f"непредвиденная ошибка ({type(exc).__name__}: {exc})"
    return mask_all(text)


class Runner:
    """Runs the due jobs; `run_due(now)` for one pass, `run_once()` and `loop()` with the lock."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        store_factory: Callable[[Settings], Store] | None = None,
        jobs: dict[str, JobFn] | None = None,
        summary: SummaryFn | None = None,
        send: SendFn | None = None,
        state_path: Path | None = None,
        sleep: Callable[[float], Any] | None = None,
        on_result: Callable[[JobResult], None] | None = None,
    ) -> None:
        from journaldesk.store import open_store

        self.settings = settings
        self.timetable = Timetable.from_settings(settings)
        self.clock = clock or (lambda: dt.datetime.now(ZoneInfo(settings.timezone)))
        self.store_factory = store_factory or open_store
        self.summary = summary or _default_summary
        self.send = send or _default_sender(settings)
        self.state_path = state_path or state_path_for(settings)
        self.lock_path = self.state_path.with_name(LOCK_NAME)
        self._stop = threading.Event()
        self.sleep = sleep or self._stop.wait
        self.on_result = on_result
        self.jobs: dict[str, JobFn] = {
            SYNC: self.job_sync,
            REMINDER: self.job_reminder,
            SUMMARY: self.job_summary,
            JOURNAL: self.job_journal,
        }
        self.jobs.update(jobs or {})
        self.state = load_state(self.state_path)

    # -- stopping ------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """True once a stop was asked for: the running job finishes, no other starts."""
        return self._stop.is_set()

    def request_stop(self, signum: int | None = None, frame: object = None) -> None:
        """The SIGINT/SIGTERM handler: finish the running job, then stop."""
        if not self._stop.is_set():
            log.warning("Получен сигнал остановки: завершаю текущую задачу и выхожу.")
        self._stop.set()

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        names = ["SIGINT", "SIGTERM", "SIGBREAK"]  # SIGBREAK: Ctrl+Break on Windows
        previous = {}
        for name in names:
            sig = getattr(signal, name, None)
            if sig is not None:
                previous[sig] = signal.signal(sig, self.request_stop)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # -- the lock ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """The runner lock: a second runner on the same settings refuses to start."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"Не удалось создать папку журнала «{self.lock_path.parent}»: "
                f"{exc.strerror or exc}. Проверьте параметр log_file в настройках."
            ) from exc
        guard = filelock.FileLock(str(self.lock_path), timeout=0)
        try:
            guard.acquire()
        except filelock.Timeout:
            raise RunnerBusy(
                f"journaldesk run уже работает с этими настройками (блокировка "
                f"«{self.lock_path}»). Второй запуск не нужен: дождитесь окончания первого "
                f"или остановите его."
            ) from None
        try:
            yield
        finally:
            guard.release()

    # -- running -------------------------------------------------------------------------------

    def run_due(self, now: dt.datetime | None = None) -> list[JobResult]:
        """Run every job due at `now` (default: the clock), one after another; never raises."""
        now = now or self.clock()
        self.look_in_inbox(now)
        results: list[JobResult] = []
        ran: set[str] = set()
        # Asked again after each job: a sync that refreshed the calendar may make a reminder due.
        while not self.stopping:
            due = [j for j in due_jobs(self.state, now, self.timetable) if j not in ran]
            if not due:
                break
            ran.add(due[0])
            results.append(self._run_job(due[0], now))
        return results

    def run_once(self) -> list[JobResult]:
        """`journaldesk run --once`: under the runner lock, what is due now, then return."""
        with self.hold():
            return self.run_due()

    def loop(self) -> None:
        """Run until SIGINT/SIGTERM: what is due at start, then at every moment of the timetable."""
        with self.hold(), self._signals():
            # The timetable as `schedule` jobs in the school's zone: they wake the runner; what
            # runs is decided by due_jobs from the saved state (no catch-up, closed days).
            ticker = declare(self.timetable, lambda job: self.run_due())
            self.run_due()
            while not self.stopping:
                ticker.run_pending()
                if self.stopping:
                    break
                # Short sleeps: a stop is noticed within a second even where a signal does not
                # interrupt the wait.
                idle = ticker.idle_seconds
                self.sleep(max(0.05, min(1.0, idle if idle is not None else 1.0)))
        log.info("Планировщик остановлен.")

    def _run_job(self, job: str, now: dt.datetime) -> JobResult:
        title = JOB_TITLES.get(job, job)
        self.state.attempts[job] = now
        try:
            message = self.jobs[job](now)
        except Exception as exc:  # one job failing never stops the others
            result = self._failed(job, now, exc)
        else:
            self._mark_done(job, now)
            self.state.successes[job] = now
            self.state.failures.pop(job, None)
            log.info("%s: %s", title, message)
            result = JobResult(job, now, True, message)
        try:
            save_state(self.state, self.state_path)
        except OSError as exc:
            log.error("Не удалось сохранить состояние планировщика %s: %s", self.state_path, exc)
        if self.on_result is not None:
            self.on_result(result)
        return result

    def _mark_done(self, job: str, now: dt.datetime) -> None:
        if job == REMINDER:
            fresh = [s for s, _ in reminder_sessions(self.state, now, self.timetable)]
            keep_from = now - dt.timedelta(days=REMINDED_KEEP_DAYS)
            self.state.reminded = [s for s in self.state.reminded if s >= keep_from] + fresh
        elif job == SUMMARY:
            self.state.summary_done = summary_moment(now, self.timetable).date()

    def _failed(self, job: str, now: dt.datetime, exc: Exception) -> JobResult:
        title = JOB_TITLES.get(job, job)
        message = describe_error(exc)
        log.error("%s не выполнена: %s", title, message)
        if not isinstance(exc, JournaldeskError):
            log.info("Подробности ошибки задачи «%s»", title, exc_info=exc)
        before = self.state.failures.get(job)
        # A failure that repeats word for word is written to «Журнал» once, not every slot.
        journaled = before is not None and before.journaled and before.message == message
        if not journaled:
            journaled = self._journal_error(title, message, now)
        self.state.failures[job] = Failure(now, message, journaled)
        code = exc.exit_code if isinstance(exc, JournaldeskError) else 1
        return JobResult(job, now, False, message, code)

    def _journal_error(self, title: str, message: str, now: dt.datetime) -> bool:
        """Append one «Журнал» row (Итог «Ошибка») when the sheet is reachable."""
        from journaldesk.jobs.sync import append_cells
        from journaldesk.rules.requests import local_now
        from journaldesk.sheet.frames import parse_tab

        schema = load_schema()
        try:
            store = self.store_factory(self.settings)
            with store.lock():
                snap = store.read()
                sheet_tz = snap.time_zone or self.settings.timezone
                parsed = parse_tab(snap.tabs.get(schema["log"].title), schema["log"])
                row = {
                    "at": local_now(now, sheet_tz),
                    "job": title,
                    "result": RUN_FAILED,
                    "message": message,
                }
                store.write(append_cells(parsed, [row]))
        except Exception as exc:  # the sheet is unreachable: the local log has it
            log.warning(
                "Ошибка не записана в лист «%s»: %s", schema["log"].title, describe_error(exc)
            )
            return False
        return True

    # -- the jobs ------------------------------------------------------------------------------

    def job_sync(self, now: dt.datetime) -> str:
        """One sync; the sheet's calendar read with it refreshes the cached sessions."""
        from journaldesk.jobs.sync import sync

        store = _RecordingStore(self.store_factory(self.settings))
        report = sync(store, self.settings, now=now)  # type: ignore[arg-type]
        if store.last_snapshot is not None:
            try:
                self.remember_calendar(store.last_snapshot, now)
            except Exception as exc:  # the sync itself worked; the reminders wait
                log.warning("Календарь консультаций не обновлён: %s", describe_error(exc))
        return report.summary_ru()

    def remember_calendar(self, snap: Snapshot, now: dt.datetime) -> None:
        """Keep the next sessions and the closed days (holidays, vacations) from a snapshot."""
        calendar = _calendar_from(snap, self.settings, now)
        today = local_time(now, self.timetable.tz).date()
        self.state.sessions = calendar.sessions(
            today, today + dt.timedelta(days=SESSIONS_AHEAD_DAYS)
        )
        closed = set()
        for offset in range(CLOSED_AHEAD_DAYS):
            d = today + dt.timedelta(days=offset)
            reason = calendar.closed_reason(d) or ""
            if reason.startswith((KIND_HOLIDAY, KIND_VACATION)):
                closed.add(d)
        self.state.closed_days = closed
        self.state.calendar_at = now

    def job_reminder(self, now: dt.datetime) -> str:
        """The digest of overdue and at-risk requests before a consultation session."""
        from journaldesk.jobs.sync import plan_snapshot

        sessions = reminder_sessions(self.state, now, self.timetable)
        if not sessions:
            return "напоминать не о чем"
        store = self.store_factory(self.settings)
        snap = store.read()
        calendar = _calendar_from(snap, self.settings, now)
        start, end = sessions[0]
        still = {s for s, _ in calendar.sessions(start.date(), start.date())}
        if start not in still:
            return f"консультация {session_label(start, end)} отменена в календаре"
        plan = plan_snapshot(snap, self.settings, now=now).plan
        items = digest_items(plan.requests)
        if not items:
            return f"перед консультацией {session_label(start, end)} просроченных и под угрозой нет"
        subject, text = digest_text(items, (start, end), self.settings.school.name)
        log.info("%s\n%s", subject, text)
        sent = self.send(subject, text)
        where = "отправлено на почту" if sent else "почта не настроена, текст в журнале"
        return f"{subject} ({where})"

    def look_in_inbox(self, now: dt.datetime) -> None:
        """Note the new lesson exports in journal.inbox (none when it is not set)."""
        inbox = self.settings.journal.inbox
        if inbox is None:
            self.state.inbox = []
            return
        try:
            found = inbox_files(self.settings.path(inbox), self.state.imported, now)
        except OSError as exc:
            log.warning("Папка выгрузок «%s» не читается: %s", inbox, exc)
            found = []
        self.state.inbox = [str(p) for p in found]

    def job_journal(self, now: dt.datetime) -> str:
        """Something new in the inbox: import every export there together (a re-import replaces
        whole weeks, and one week may come in several files, so the folder is the whole set).
        A file that cannot be read is named once and left out until it changes."""
        from journaldesk.jobs.journal_import import import_lessons, import_message, read_exports

        folder = self.settings.path(self.settings.journal.inbox or Path("."))
        new = set(self.state.inbox)
        good, refused = [], []
        for path in inbox_files(folder, {}, now):
            try:
                read_exports([path], self.settings)
            except UserError as exc:
                if str(path) in new:
                    refused.append(str(exc))
            else:
                good.append(path)
        message = ""
        if good:
            result = import_lessons(self.store_factory(self.settings), self.settings, good, now=now)
            message = f"{', '.join(p.name for p in good)}: {import_message(result)}"
        self.state.imported.update(
            {p: file_signature(Path(p)) for p in self.state.inbox if Path(p).exists()}
        )
        self.state.inbox = []
        if refused:
            raise UserError("; ".join([*([message] if message else []), *refused]))
        return message

    def job_summary(self, now: dt.datetime) -> str:
        """The weekly summary through the injected callable (report.run_summary by default)."""
        from journaldesk.jobs.report import summary_line

        store = self.store_factory(self.settings)
        return summary_line(self.summary(store, self.settings, now=now))


def _calendar_from(snap: Snapshot, settings: Settings, now: dt.datetime) -> Any:
    """The working-time calendar from a snapshot's «График» and «Календарь» tabs."""
    from journaldesk.rules.calendar import build_calendar
    from journaldesk.sheet.frames import parse_tab

    schema = load_schema()
    sheet_tz = snap.time_zone or settings.timezone
    tabs = {
        key: parse_tab(snap.tabs.get(schema[key].title), schema[key], sheet_tz=sheet_tz).frame
        for key in ("schedule", "calendar")
    }
    return build_calendar(
        tabs["schedule"],
        tabs["calendar"],
        tz=settings.timezone,
        earliest=None,
        now=local_time(now, settings.timezone),
        vacation_consultations=settings.school.vacation_consultations,
    )
