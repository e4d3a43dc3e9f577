"""`journaldesk journal FILE…`: read the journal's lesson exports, judge them by section I of the
regulation, put one row per teacher and week into «Заполнение ЭЖ», and (when allowed) tell each
teacher which of their lessons to complete.

    files -> lessons (any column order, header aliases, .xlsx/.xls/.ods or .csv in UTF-8 or
    Windows-1251) -> rules.journal_fill -> the week's rows replaced in place -> «Журнал» -> mail

A re-import of a week replaces that week's rows (a teacher no longer in it has their row emptied):
export the whole school for the week, or pass every file of it in one command. Nothing about
pupils is kept: marks and absences are only looked at to see whether they were entered.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from journaldesk.errors import StructureError, UserError
from journaldesk.jobs.sync import append_cells
from journaldesk.resources import template_file
from journaldesk.rules.journal_fill import (
    FillRules,
    LessonToFix,
    check_lessons,
    closed_days,
    lessons_to_fix,
    name_key,
    teacher_weeks,
    text_key,
)
from journaldesk.rules.plan import plain
from journaldesk.rules.requests import local_now
from journaldesk.settings import REQUIRED_LESSON_FIELDS, Settings
from journaldesk.sheet.cells import parse_column
from journaldesk.sheet.frames import ParsedTab, parse_tab
from journaldesk.sheet.schema import Schema, load_schema
from journaldesk.sheet.textfmt import as_date, day, is_blank, percent
from journaldesk.sheet.vocab import RUN_OK, RUN_WITH_NOTES
from journaldesk.store.base import NUMBER_FORMATS, CellWrite, Store

log = logging.getLogger(__name__)

JOB_JOURNAL = "Загрузка выгрузки ЭЖ"
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt")
# The header row may sit under a title («Выгрузка уроков за период …»): look this far down.
HEADER_SEARCH_ROWS = 15
_DATE_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d.%m.%y",
)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# How many unreadable rows are named one by one (the rest are counted).
SKIPPED_SHOWN = 5


# --- reading a file -----------------------------------------------------------------------------


def _header_key(value: object) -> str:
    return text_key(value).rstrip(":").strip()


def find_columns(row: Sequence[object], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Which column (0-based) of a header row holds each lesson field (first alias found wins)."""
    where = {_header_key(cell): i for i, cell in reversed(list(enumerate(row))) if cell}
    found: dict[str, int] = {}
    taken: set[int] = set()
    for name, names in aliases.items():
        for alias in names:
            i = where.get(_header_key(alias))
            if i is not None and i not in taken:
                found[name] = i
                taken.add(i)
                break
    return found


def _missing_message(
    name: str, row: Sequence[object], found: dict[str, int], aliases: dict[str, tuple[str, ...]]
) -> str:
    missing = [f for f in REQUIRED_LESSON_FIELDS if f not in found]
    parts = []
    for f in missing:
        first, *others = aliases[f]
        alt = f" (или {', '.join(f'«{o}»' for o in others)})" if others else ""
        parts.append(f"«{first}»{alt}")
    headers = [str(c).strip() for c in row if not is_blank(c) and str(c).strip()]
    seen = ", ".join(f"«{h}»" for h in headers) if headers else "нет ни одного заголовка"
    word = "столбца" if len(missing) == 1 else "столбцов"
    return (
        f"Файл «{name}»: нет {word} {'; '.join(parts)}. Заголовки в файле: {seen}. "
        "Если столбец называется иначе, добавьте название в journal.headers настроек."
    )


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1251 (what Excel saves «CSV» as in Russia)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _csv_rows(path: Path) -> list[list[object]]:
    text = _decode(path.read_bytes())
    sample = text[:20000]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]


def _sheet_rows(path: Path) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_index(0).to_python(skip_empty_area=False)


def read_rows(path: Path) -> list[list[object]]:
    """The raw rows of an export's first sheet (or of a CSV file); UserError when unreadable."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise UserError(f"Файл «{path}» не найден.")
    try:
        if suffix in SPREADSHEET_SUFFIXES:
            return _sheet_rows(path)
        if suffix in CSV_SUFFIXES:
            return _csv_rows(path)
    except UserError:
        raise
    except Exception as exc:  # calamine and csv raise many kinds: the file is not what it says
        raise UserError(
            f"Файл «{path.name}» не читается как {suffix[1:].upper()}: {exc}. Сохраните "
            "выгрузку заново (Excel .xlsx или CSV)."
        ) from None
    raise UserError(
        f"Файл «{path.name}»: неизвестный формат «{suffix or 'без расширения'}». Нужна выгрузка "
        "уроков в Excel (.xlsx, .xls, .ods) или CSV."
    )


def _moments(values: list[object]) -> pd.Series:
    """Dates and moments as typed, as a datetime64 series (NaT where none can be read): date
    cells, Excel serial numbers, text «ДД.ММ.ГГГГ[ ЧЧ:ММ]» or ISO."""
    series = pd.Series(values, dtype=object)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    kinds = series.map(type)
    is_moment = kinds.map(lambda k: issubclass(k, dt.date)).to_numpy(dtype=bool)
    if is_moment.any():
        out[is_moment] = pd.to_datetime(series[is_moment].map(_as_datetime))
    is_number = kinds.isin([int, float]).to_numpy()
    if is_number.any():
        days = pd.to_numeric(series[is_number], errors="coerce")
        days = days.where((days > 20000) & (days < 80000))
        out[is_number] = _EXCEL_EPOCH + pd.to_timedelta(days, unit="D").round("s")
    is_text = kinds.map(lambda k: issubclass(k, str)).to_numpy(dtype=bool)
    if is_text.any():
        text = series[is_text].str.strip()
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        for fmt in _DATE_FORMATS:
            todo = parsed.isna() & (text != "")
            if not todo.any():
                break
            parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        out[is_text] = parsed
    return out


def _as_datetime(value: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time())


def _texts(values: list[object]) -> list[str | None]:
    """Cells as text: numbers without a trailing «.0», empty cells as None."""
    if all(type(v) is str for v in values):  # a CSV file: only text
        return [v.strip() or None for v in values]
    out: list[str | None] = []
    for v in values:
        if v is None or v == "":
            out.append(None)
        elif isinstance(v, float):
            out.append(None if np.isnan(v) else (str(int(v)) if v.is_integer() else str(v)))
        else:
            text = str(v).strip()
            out.append(text or None)
    return out


@dataclass
class ExportFile:
    """One export read: its lessons (one row per lesson, typed) and the rows it could not read."""

    path: Path
    lessons: pd.DataFrame
    skipped: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the optional fields it carries


def read_export(path: Path, aliases: dict[str, tuple[str, ...]]) -> ExportFile:
    """Read one lesson export. A missing required column is a UserError (one Russian line naming
    it and the headers found); a row whose date, class, subject or teacher cannot be read is
    skipped and named in `skipped`."""
    rows = read_rows(path)
    best: tuple[int, dict[str, int]] = (0, {})
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = find_columns(row, aliases)
        if all(f in found for f in REQUIRED_LESSON_FIELDS):
            best = (i, found)
            break
        if sum(f in found for f in REQUIRED_LESSON_FIELDS) > sum(
            f in best[1] for f in REQUIRED_LESSON_FIELDS
        ):
            best = (i, found)
    header_at, found = best
    if not all(f in found for f in REQUIRED_LESSON_FIELDS):
        header_row = rows[header_at] if rows else []
        raise UserError(_missing_message(path.name, header_row, found, aliases))

    body = rows[header_at + 1 :]
    width = max(found.values()) + 1
    body = [r if len(r) >= width else [*r, *([None] * (width - len(r)))] for r in body]
    columns = {name: [r[i] for r in body] for name, i in found.items()}
    frame = pd.DataFrame(
        {name: _texts(values) for name, values in columns.items() if name != "date"},
        index=pd.RangeIndex(header_at + 2, header_at + 2 + len(body)),
    )
    moments = _moments(columns["date"])
    moments.index = frame.index
    frame["date"] = moments.dt.date.where(moments.notna(), None)
    if "entered_at" in found:
        entered = _moments(columns["entered_at"])
        entered.index = frame.index
        frame["entered_at"] = entered

    empty = frame.drop(columns=["date"]).isna().all(axis=1) & moments.isna()
    frame = frame[~empty.to_numpy()]
    bad_date = frame["date"].isna()
    lacking = frame[["class_name", "subject", "teacher"]].isna().any(axis=1)
    skipped = []
    date_header = rows[header_at][found["date"]]
    for row in frame.index[bad_date.to_numpy()]:
        raw = columns["date"][row - header_at - 2]
        skipped.append(f"строка {row}: «{date_header}» «{raw}» — не дата (нужна ДД.ММ.ГГГГ)")
    for row in frame.index[(lacking & ~bad_date).to_numpy()]:
        skipped.append(f"строка {row}: не указан класс, предмет или учитель")
    frame = frame[~(bad_date | lacking).to_numpy()]
    optional = [f for f in found if f not in REQUIRED_LESSON_FIELDS]
    return ExportFile(path, frame.reset_index(drop=True), skipped, optional)


def combine(files: list[ExportFile]) -> pd.DataFrame:
    """The lessons of several exports as one frame; a lesson repeated in a later file (the same
    row, every column) is counted once."""
    if not files:
        return pd.DataFrame(columns=["date", "class_name", "subject", "teacher"])
    if len(files) == 1:
        return files[0].lessons
    frames = []
    seen: set[int] = set()
    for f in files:
        keys = pd.util.hash_pandas_object(f.lessons.astype(str), index=False).to_numpy()
        frames.append(f.lessons[~np.isin(keys, list(seen))] if seen else f.lessons)
        seen.update(keys.tolist())
    return pd.concat(frames, ignore_index=True)


# --- the «Заполнение ЭЖ» rows -------------------------------------------------------------------


def week_writes(
    parsed: ParsedTab, fresh: list[list], table: pd.DataFrame, *, sheet_tz: str
) -> tuple[list[CellWrite], int, int, int]:
    """The cells that put `table` (rows of «Заполнение ЭЖ») into the tab: each week and teacher
    over its row where there is one, else appended; rows of the imported weeks whose teacher is no
    longer there, and second rows of the same week and teacher, emptied. `fresh` is a re-read of
    the «Неделя с» and «Учитель» columns just before writing (header first), so rows are found
    where they are now. Returns (writes, added, replaced, emptied)."""
    tab = parsed.tab
    weeks, _ = parse_column(
        [r[0] if r else None for r in fresh[1:]], tab.col("week_start"), sheet_tz=sheet_tz
    )
    teachers = [name_key(r[1]) if len(r) > 1 else "" for r in fresh[1:]]
    imported = set(table["week_start"])
    rows_of: dict[tuple[dt.date, str], list[int]] = {}
    for i, (week, teacher) in enumerate(zip(weeks, teachers, strict=True)):
        week = as_date(week)
        if week in imported:
            rows_of.setdefault((week, teacher), []).append(i + 2)
    filled = [i + 2 for i, r in enumerate(fresh[1:]) if any(not is_blank(v) for v in r)]
    next_row = max([parsed.last_row, *filled]) + 1

    def cells(row: int, values: dict[str, object] | None) -> list[CellWrite]:
        return [
            CellWrite(
                tab.title,
                row,
                parsed.col_index[c.field],
                None if values is None else plain(values.get(c.field)),
                NUMBER_FORMATS.get(c.type),
            )
            for c in tab.columns
        ]

    writes: list[CellWrite] = []
    added = replaced = 0
    for values in table.to_dict("records"):
        key = (values["week_start"], name_key(values["teacher"]))
        rows = rows_of.pop(key, [])
        if rows:
            writes += cells(rows[0], values)
            replaced += 1
            rows = rows[1:]
        else:
            writes += cells(next_row, values)
            next_row += 1
            added += 1
        for extra in rows:
            writes += cells(extra, None)
    emptied = 0
    for rows in rows_of.values():
        for row in rows:
            writes += cells(row, None)
            emptied += 1
    return writes, added, replaced, emptied


# --- e-mail to teachers -------------------------------------------------------------------------


def teacher_email_text(teacher: str, lessons: list[LessonToFix], school: str) -> tuple[str, str]:
    """The subject and text of one teacher's message: only their own lessons to complete."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda n: template_file(n).read_text(encoding="utf-8")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = day
    first, last = lessons[0].date, lessons[-1].date
    period = day(first) if first == last else f"{day(first)}–{day(last)}"
    subject = f"ЭЖ: уроки, которые нужно заполнить ({period})"
    text = env.get_template("journal_teacher.txt.j2").render(
        teacher=teacher, lessons=lessons, school=school, period=period
    )
    return subject, text


def staff_emails(staff: pd.DataFrame) -> dict[str, str]:
    """name key -> e-mail, from «Сотрудники» (rows without an address are left out)."""
    out: dict[str, str] = {}
    for name, email in zip(staff["full_name"], staff["email"], strict=True):
        if not is_blank(name) and not is_blank(email):
            out.setdefault(name_key(name), str(email).strip())
    return out


# --- the run ------------------------------------------------------------------------------------


@dataclass
class JournalImport:
    """What one import did, for the CLI, the runner, the log and the notebook."""

    files: list[Path]
    lessons: int = 0  # lessons read
    counted: int = 0  # lessons on open days
    complete: int = 0
    closed_day_lessons: int = 0
    weeks: list[dt.date] = field(default_factory=list)
    teachers: int = 0
    added: int = 0
    replaced: int = 0
    emptied: int = 0
    late: int = 0
    gaps: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)  # optional columns not in a file
    mailed: list[str] = field(default_factory=list)  # teachers written to
    no_address: list[str] = field(default_factory=list)  # teachers with gaps and no e-mail
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # the rows written
    checked: pd.DataFrame = field(default_factory=pd.DataFrame)  # the lessons with their gaps

    @property
    def share(self) -> float | None:
        """The share of counted lessons that are complete."""
        return self.complete / self.counted if self.counted else None


def fill_rules(settings: Settings) -> FillRules:
    """Section I's rules as the settings give them."""
    j = settings.journal
    return FillRules.of(j.no_homework_subjects, j.no_homework_grades, j.late_after_days)


def read_exports(paths: Sequence[Path], settings: Settings) -> list[ExportFile]:
    """Every file read (the first unreadable one stops the import: nothing is half-loaded)."""
    aliases = settings.journal.aliases()
    return [read_export(Path(p), aliases) for p in paths]


def import_lessons(
    store: Store,
    settings: Settings,
    paths: Sequence[Path],
    *,
    now: dt.datetime,
    mail: bool = True,
    sender_for: Callable[[str], object] | None = None,
    schema: Schema | None = None,
) -> JournalImport:
    """Import lesson exports into «Заполнение ЭЖ» (one write, under the store's lock) and, when
    `mail`, journal.email_teachers and the mail settings allow, e-mail each teacher with gaps the
    list of their own lessons. `sender_for(address)` overrides the mail settings (tests)."""
    from journaldesk.jobs.notify import sender_from_settings

    schema = schema or load_schema()
    t0 = time.perf_counter()
    files = read_exports(paths, settings)
    lessons = combine(files)
    result = JournalImport(files=[f.path for f in files], lessons=len(lessons))
    for f in files:
        result.skipped += [f"{f.path.name}, {s}" for s in f.skipped]
    optional = {"assessment", "marks", "attendance"}
    result.missing_columns = sorted({c for f in files for c in optional - set(f.columns)})

    tab = schema["journal_fill"]
    with store.lock():
        calls0 = store.api_calls
        snap = store.read()
        sheet_tz = snap.time_zone or settings.timezone
        if tab.title not in snap.tabs:
            raise StructureError(
                f"В таблице нет листа «{tab.title}». Создайте его командой `journaldesk init` "
                "(остальные листы она не тронет)."
            )
        parsed = {
            key: parse_tab(snap.tabs.get(schema[key].title), schema[key], sheet_tz=sheet_tz)
            for key in ("calendar", "staff", "log", "journal_fill")
        }
        stamp = local_now(now, sheet_tz).replace(second=0, microsecond=0)
        checked = check_lessons(
            lessons, fill_rules(settings), closed_days(parsed["calendar"].frame)
        )
        table = teacher_weeks(checked, imported_at=stamp)
        fresh = store.read_columns(
            tab.title,
            [
                parsed["journal_fill"].col_index["week_start"],
                parsed["journal_fill"].col_index["teacher"],
            ],
        )
        writes, result.added, result.replaced, result.emptied = week_writes(
            parsed["journal_fill"], fresh, table, sheet_tz=sheet_tz
        )
        _summarise(result, checked, table)
        log_row = {
            "at": stamp,
            "job": JOB_JOURNAL,
            "result": RUN_WITH_NOTES if result.skipped else RUN_OK,
            "rows": result.lessons,
            "cells": len(writes),
            "problems": len(result.skipped),
            "api_calls": store.api_calls - calls0 + 1,
            "seconds": round(time.perf_counter() - t0, 2),
            "message": import_message(result),
        }
        store.write(writes + append_cells(parsed["log"], [log_row]))
    result.table, result.checked = table, checked
    log.info("Выгрузка ЭЖ загружена: %s", import_message(result))

    if mail and settings.journal.email_teachers:
        if sender_for is None and not settings.mail.host.strip():
            log.info("Почта не настроена: письма учителям не отправлены")
        else:
            addresses = staff_emails(parsed["staff"].frame)
            for teacher, todo in lessons_to_fix(checked).items():
                address = addresses.get(name_key(teacher))
                if address is None:
                    result.no_address.append(teacher)
                    continue
                sender = (
                    sender_for(address)
                    if sender_for is not None
                    else sender_from_settings(settings, recipients=[address])
                )
                subject, text = teacher_email_text(teacher, todo, settings.school.name)
                sender.send(subject, text)  # type: ignore[union-attr]
                result.mailed.append(teacher)
    return result


def _summarise(result: JournalImport, checked: pd.DataFrame, table: pd.DataFrame) -> None:
    from journaldesk.rules.journal_fill import GAPS, LATE

    counted = checked[~checked["closed_day"]] if len(checked) else checked
    result.counted = len(counted)
    result.complete = int(counted["complete"].sum()) if len(counted) else 0
    result.closed_day_lessons = len(checked) - len(counted)
    result.late = int(counted[LATE].sum()) if len(counted) else 0
    result.gaps = {
        label: int(counted[gap].sum()) if len(counted) else 0 for gap, label in GAPS.items()
    }
    result.weeks = sorted(set(table["week_start"]))
    result.teachers = int(table["teacher"].nunique()) if len(table) else 0


def import_message(result: JournalImport) -> str:
    """One Russian line about an import (the «Журнал» row and the log)."""
    weeks = (
        f"недели {day(result.weeks[0])}–{day(result.weeks[-1] + dt.timedelta(days=6))}"
        if result.weeks
        else "недель нет"
    )
    share = percent(result.share)
    return (
        f"{weeks}: уроков {result.counted}, заполнено полностью {share}; строк добавлено "
        f"{result.added}, заменено {result.replaced}"
        + (
            f"; уроков в нерабочие дни {result.closed_day_lessons}"
            if result.closed_day_lessons
            else ""
        )
        + (f"; строк пропущено {len(result.skipped)}" if result.skipped else "")
    )
