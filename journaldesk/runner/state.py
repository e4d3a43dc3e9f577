"""What the runner remembers between runs: the state, persisted as JSON next to the log."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journaldesk.settings import Settings

log = logging.getLogger(__name__)

STATE_NAME = "runner-state.json"


@dataclass
class Failure:
    """The last failure of a job: when, the Russian message, whether «Журнал» got a row."""

    at: dt.datetime
    message: str
    journaled: bool = False


@dataclass
class RunnerState:
    """What the runner remembers between runs (persisted as JSON next to the log)."""

    attempts: dict[str, dt.datetime] = field(default_factory=dict)
    successes: dict[str, dt.datetime] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    summary_done: dt.date | None = None  # the date of the summary moment last made
    reminded: list[dt.datetime] = field(default_factory=list)  # session starts reminded
    sessions: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    closed_days: set[dt.date] = field(default_factory=set)  # holidays and vacations ahead
    calendar_at: dt.datetime | None = None  # when sessions/closed_days were taken from the sheet
    # Lesson exports in journal.inbox: file -> "size:mtime" of the version already taken (or
    # refused), and the files waiting now (found just before the due jobs are worked out).
    imported: dict[str, str] = field(default_factory=dict)
    inbox: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "attempts": {k: v.isoformat() for k, v in self.attempts.items()},
            "successes": {k: v.isoformat() for k, v in self.successes.items()},
            "failures": {
                k: {"at": f.at.isoformat(), "message": f.message, "journaled": f.journaled}
                for k, f in self.failures.items()
            },
            "summary_done": self.summary_done.isoformat() if self.summary_done else None,
            "reminded": [s.isoformat() for s in self.reminded],
            "sessions": [[s.isoformat(), e.isoformat()] for s, e in self.sessions],
            "closed_days": sorted(d.isoformat() for d in self.closed_days),
            "calendar_at": self.calendar_at.isoformat() if self.calendar_at else None,
            "imported": dict(self.imported),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunnerState:
        """The state from `to_json`'s output (unknown keys are ignored)."""
        when = dt.datetime.fromisoformat
        return cls(
            attempts={k: when(v) for k, v in (data.get("attempts") or {}).items()},
            successes={k: when(v) for k, v in (data.get("successes") or {}).items()},
            failures={
                k: Failure(when(v["at"]), str(v["message"]), bool(v.get("journaled")))
                for k, v in (data.get("failures") or {}).items()
            },
            summary_done=(
                dt.date.fromisoformat(data["summary_done"]) if data.get("summary_done") else None
            ),
            reminded=[when(s) for s in data.get("reminded") or []],
            sessions=[(when(s), when(e)) for s, e in data.get("sessions") or []],
            closed_days={dt.date.fromisoformat(d) for d in data.get("closed_days") or []},
            calendar_at=when(data["calendar_at"]) if data.get("calendar_at") else None,
            imported={str(k): str(v) for k, v in (data.get("imported") or {}).items()},
        )


def state_path_for(settings: Settings) -> Path:
    """`<log dir>/runner-state.json`."""
    return settings.path(settings.log_file).parent / STATE_NAME


def load_state(path: Path) -> RunnerState:
    """The saved state; an empty one when the file is missing or unreadable (never a stop)."""
    try:
        return RunnerState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return RunnerState()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("Файл состояния %s не читается (%s): начинаю с чистого состояния.", path, exc)
        return RunnerState()


def save_state(state: RunnerState, path: Path) -> None:
    """Write the state atomically: a temporary file in the same folder, then replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".runner-state-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state.to_json(), fh, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
