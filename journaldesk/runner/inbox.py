"""The lesson exports waiting in journal.inbox: which files are new or changed since taken."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

# A file in the inbox changed less than this long ago may still be being copied: wait for it.
INBOX_SETTLE = dt.timedelta(minutes=1)


def file_signature(path: Path) -> str:
    """What tells one version of a file from the next: size and modification time."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def inbox_files(folder: Path, imported: dict[str, str], now: dt.datetime) -> list[Path]:
    """Lesson exports in the inbox not taken yet (new, or changed since): spreadsheets and CSV,
    not the lock and temporary files of office programs, not a file still being written."""
    from journaldesk.jobs.journal_import import CSV_SUFFIXES, SPREADSHEET_SUFFIXES

    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if (
            not path.is_file()
            or name.startswith(("~$", ".~lock", "."))
            or path.suffix.lower() not in (*SPREADSHEET_SUFFIXES, *CSV_SUFFIXES)
        ):
            continue
        changed = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=now.tzinfo)
        if now - changed < INBOX_SETTLE:
            continue
        if imported.get(str(path)) != file_signature(path):
            out.append(path)
    return out
