"""Is the workbook open in Excel or LibreOffice right now? Their lock files say so, and who.

Excel writes an owner file `~$name.xlsx` beside the book; LibreOffice writes
`.~lock.name.xlsx#`, one CSV line naming the person, the computer and the moment. On Windows the
open file itself refuses a replace; on Linux and macOS nothing stops a job from replacing a book
that a person has open, and the person's next save would silently undo the job's write (or the
job's write would undo theirs). So the workbook store never writes while one of these files
exists, whatever its age: see `docs/design-notes.md` for why a lock older than a day still counts.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from journaldesk.errors import StoreUnavailable

# A lock file left this long is probably left over from a crash; it still blocks writes, but the
# message says so and tells how to remove it.
STALE_AFTER = dt.timedelta(days=1)

_EXCEL_NAME_AT = 54  # the owner file: a length byte + ANSI name, then at 54 a UTF-16 copy


@dataclass(frozen=True)
class OfficeLock:
    """A lock file found beside the workbook."""

    path: Path
    program: str  # «Excel» or «LibreOffice»
    who: str  # the person's name as the lock file gives it, or "" when it names nobody
    host: str  # the computer (LibreOffice only), or ""
    since: dt.datetime  # when the lock file was last written (local time)
    stale: bool  # older than STALE_AFTER

    def message(self, book: Path) -> str:
        """One Russian line: who has the book open, and what to do."""
        who = f"пользователь «{self.who}»" if self.who else "неизвестный пользователь"
        where = f" на компьютере «{self.host}»" if self.host else ""
        since = self.since.strftime("%d.%m.%Y %H:%M")
        if self.stale:
            return (
                f"Книга «{book}» отмечена как открытая в {self.program}: {who}{where}, "
                f"с {since} — больше суток назад. Запись не выполнена, чтобы не потерять "
                f"ничьих правок. Если книга уже нигде не открыта, удалите файл «{self.path}»."
            )
        return (
            f"Книга «{book}» открыта в {self.program}: {who}{where}, с {since}. Запись не "
            "выполнена, чтобы не потерять ничьих правок; закройте книгу — запись будет "
            "сделана при следующем запуске."
        )


class BookOpenElsewhere(StoreUnavailable):
    """The workbook is open in Excel or LibreOffice: a write now could lose someone's edits."""

    def __init__(self, lock: OfficeLock, book: Path) -> None:
        super().__init__(lock.message(book))
        self.lock = lock


def lock_file_candidates(book: Path) -> list[tuple[Path, str]]:
    """The lock files Excel and LibreOffice would create for this book, with the program."""
    name = book.name
    out = [
        (book.with_name(f".~lock.{name}#"), "LibreOffice"),
        (book.with_name(f"~${name}"), "Excel"),
    ]
    if len(name) > 2:
        # Word-style owner files replace the first two letters of a long name.
        out.append((book.with_name(f"~${name[2:]}"), "Excel"))
    return out


def find_office_lock(book: Path, *, now: float | None = None) -> OfficeLock | None:
    """The first Excel or LibreOffice lock file beside `book`, or None when there is none."""
    now = time.time() if now is None else now
    for path, program in lock_file_candidates(Path(book)):
        try:
            stat = path.stat()
            data = path.read_bytes()[:4096]
        except OSError:
            continue
        if program == "LibreOffice":
            who, host = parse_libreoffice_lock(data)
        else:
            who, host = parse_excel_owner(data), ""
        since = dt.datetime.fromtimestamp(stat.st_mtime)
        stale = now - stat.st_mtime > STALE_AFTER.total_seconds()
        return OfficeLock(path, program, who, host, since, stale)
    return None


def refuse_if_open(book: Path, *, now: float | None = None) -> None:
    """Raise BookOpenElsewhere when Excel or LibreOffice has `book` open (call before a write)."""
    lock = find_office_lock(book, now=now)
    if lock is not None:
        raise BookOpenElsewhere(lock, Path(book))


def parse_libreoffice_lock(data: bytes) -> tuple[str, str]:
    """(person, computer) from `.~lock.name#`: "Full Name,login,host,date time,profile URL;".

    The full name is empty when LibreOffice has no user data set: the login is used instead.
    """
    text = data.decode("utf-8", errors="replace").strip().rstrip(";")
    fields = [f.strip() for f in text.split(",")]
    fields += [""] * (5 - len(fields))
    full, login, host = fields[0], fields[1], fields[2]
    return _printable(full or login), _printable(host)


def parse_excel_owner(data: bytes) -> str:
    """The person's name from Excel's `~$name` owner file (UTF-16 copy first, then ANSI)."""
    if len(data) > _EXCEL_NAME_AT + 2:
        length = int.from_bytes(data[_EXCEL_NAME_AT : _EXCEL_NAME_AT + 2], "little")
        raw = data[_EXCEL_NAME_AT + 2 : _EXCEL_NAME_AT + 2 + 2 * length]
        if 0 < length <= 54 and len(raw) == 2 * length:
            name = _printable(raw.decode("utf-16-le", errors="replace"))
            if name:
                return name
    if data:
        length = data[0]
        raw = data[1 : 1 + length]
        if 0 < length <= 53 and len(raw) == length:
            return _printable(raw.decode("cp1251", errors="replace"))
    return ""


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable()).strip()[:80]
