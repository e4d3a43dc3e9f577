"""Section I of the regulation: is the journal filled in? (pure)

Every teacher enters, for each lesson taught that day, the topic, the homework, the type of
assessment, the marks and the absences. From the journal's own lesson export (one row per lesson)
these rules say what each lesson lacks, and sum it up per teacher and week:

* no topic;
* no homework, except in subjects and grades where none is set (a setting: PE, grade 1);
* marks given but no type of assessment;
* no attendance mark;
* entered late: after the lesson's day plus `late_after_days` (only when the export carries the
  moment of entry).

A lesson dated on a closed day of «Календарь» (a holiday or a vacation) is suspicious: it is
reported, never counted. A lesson is complete when it lacks nothing of the first four; lateness
is counted apart (the lesson is in the journal, only late).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journaldesk.sheet.textfmt import blank_mask, is_blank
from journaldesk.sheet.vocab import KIND_HOLIDAY, KIND_VACATION

# What each gap is called for people (the e-mail, the CLI), in the order of the tab's columns.
GAPS: dict[str, str] = {
    "no_topic": "тема урока",
    "no_homework": "домашнее задание",
    "no_assessment": "вид контроля",
    "no_attendance": "посещаемость",
}
LATE = "late"
# An attendance cell that says "not marked" in so many words (an empty cell says it too).
_NOT_MARKED = {"не отмечена", "не отмечено", "нет отметки", "false", "ложь"}
_NO_MARKS = {"0", "нет", "-", "—", "–"}
_GRADE = re.compile(r"^\s*(\d{1,2})")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class FillRules:
    """The school's settings for section I."""

    no_homework_subjects: frozenset[str] = frozenset()
    no_homework_grades: frozenset[int] = frozenset()
    late_after_days: int = 0

    @classmethod
    def of(
        cls, subjects: Iterable[str], grades: Iterable[int], late_after_days: int = 0
    ) -> FillRules:
        """Rules from plain lists (subjects compared ignoring case, spaces and ё)."""
        return cls(frozenset(text_key(s) for s in subjects), frozenset(grades), late_after_days)


def text_key(value: object) -> str:
    """How names of subjects and teachers are compared: spaces collapsed, any case, е for ё."""
    if is_blank(value):
        return ""
    return _SPACES.sub(" ", str(value).replace("\xa0", " ")).strip().casefold().replace("ё", "е")


def name_key(name: object) -> str:
    """A person's name as «фамилия и о»: «Иванова Мария Петровна», «Иванова М.П.» and
    «М. П. Иванова» are one key (exports shorten names, «Сотрудники» has them in full)."""
    words = [w for w in re.split(r"[\s.]+", text_key(name)) if w]
    if not words:
        return ""
    if len(words) >= 2 and len(words[0]) == 1 and len(words[-1]) > 1:
        words = [words[-1], *words[:-1]]  # initials first
    return " ".join([words[0], *(w[0] for w in words[1:3])])


def grade_of(class_name: object) -> int | None:
    """The grade (parallel) of a class: «10Б» -> 10, «1А» -> 1; None when it has no number."""
    m = _GRADE.match("" if is_blank(class_name) else str(class_name))
    return int(m.group(1)) if m else None


def monday(d: dt.date) -> dt.date:
    """The Monday of a date's week."""
    return d - dt.timedelta(days=d.weekday())


def closed_days(calendar: pd.DataFrame) -> set[dt.date]:
    """The holidays and vacation days of «Календарь» (typed rows; unreadable ones are skipped)."""
    days: set[dt.date] = set()
    for date_from, date_to, kind in zip(
        calendar["date_from"], calendar["date_to"], calendar["kind"], strict=True
    ):
        if is_blank(date_from) or kind not in (KIND_HOLIDAY, KIND_VACATION):
            continue
        last = date_from if is_blank(date_to) else date_to
        d = date_from
        while d <= last:
            days.add(d)
            d += dt.timedelta(days=1)
    return days


def _per_value(series: pd.Series, fn: Callable[[object], object]) -> pd.Series:
    """fn of each cell, computed once per distinct value (a year has ~40k lessons, few names)."""
    values = series.astype(object).where(series.notna(), None)
    distinct = pd.unique(values.to_numpy())
    return values.map(dict(zip(distinct, (fn(v) for v in distinct), strict=True)))


def _lower(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str).str.strip().str.casefold()


def check_lessons(
    lessons: pd.DataFrame, rules: FillRules, closed: set[dt.date] | frozenset[dt.date]
) -> pd.DataFrame:
    """The lessons with a boolean column per gap, `late`, `closed_day`, `complete`, `week_start`.

    `lessons` holds one row per lesson: date (datetime.date), class_name, subject, teacher, topic,
    homework and, when the export has them, assessment, marks, attendance, entered_at (a naive
    datetime). A rule whose column the export lacks finds nothing.
    """
    out = lessons.copy()
    n = len(out)
    none = np.zeros(n, dtype=bool)
    dates = out["date"]
    out["no_topic"] = blank_mask(out["topic"])
    subjects = _per_value(out["subject"], text_key)
    grades = _per_value(out["class_name"], grade_of)
    exempt = (
        subjects.isin(rules.no_homework_subjects).to_numpy()
        | grades.isin(rules.no_homework_grades).to_numpy()
    )
    out["no_homework"] = blank_mask(out["homework"]) & ~exempt
    if "marks" in out and "assessment" in out:
        marks = _lower(out["marks"])
        has_marks = ~(marks.eq("") | marks.isin(_NO_MARKS)).to_numpy()
        out["no_assessment"] = has_marks & blank_mask(out["assessment"])
    else:
        out["no_assessment"] = none
    if "attendance" in out:
        out["no_attendance"] = (
            blank_mask(out["attendance"]) | _lower(out["attendance"]).isin(_NOT_MARKED).to_numpy()
        )
    else:
        out["no_attendance"] = none
    if "entered_at" in out:
        entered = pd.to_datetime(out["entered_at"], errors="coerce")
        deadline = pd.to_datetime(dates) + pd.Timedelta(days=rules.late_after_days + 1)
        out["late"] = (entered.notna() & (entered >= deadline)).to_numpy()
    else:
        out["late"] = none
    out["closed_day"] = dates.isin(closed).to_numpy() if closed else none
    gaps = out[list(GAPS)].to_numpy()
    out["complete"] = ~gaps.any(axis=1)
    out["week_start"] = _per_value(dates, monday)
    return out


def teacher_weeks(checked: pd.DataFrame, *, imported_at: dt.datetime | None = None) -> pd.DataFrame:
    """One row per week and teacher (the «Заполнение ЭЖ» fields): lessons counted, complete, each
    gap, late, the share filled in per cent, and the lessons on closed days (not counted)."""
    columns = [
        "week_start",
        "teacher",
        "lessons",
        "complete",
        *GAPS,
        LATE,
        "filled_share",
        "closed_day_lessons",
        "imported_at",
    ]
    if checked.empty:
        return pd.DataFrame(columns=columns)
    frame = checked.assign(teacher=_per_value(checked["teacher"], _clean_name))
    frame = frame[frame["teacher"] != ""]
    counted = frame[~frame["closed_day"]]
    keys = ["week_start", "teacher"]
    sums = counted.groupby(keys, sort=True)[["complete", *GAPS, LATE]].sum()
    sums.insert(0, "lessons", counted.groupby(keys, sort=True).size())
    closed = frame[frame["closed_day"]].groupby(keys).size().rename("closed_day_lessons")
    table = sums.join(closed, how="outer").fillna(0).astype(int).reset_index()
    table["filled_share"] = [
        round(c / n * 100, 1) if n else None
        for c, n in zip(table["complete"], table["lessons"], strict=True)
    ]
    table["imported_at"] = imported_at
    return table[columns]


def _clean_name(value: object) -> str:
    return "" if is_blank(value) else _SPACES.sub(" ", str(value)).strip()


@dataclass(frozen=True)
class LessonToFix:
    """One lesson a teacher still has to complete: where, when, what is missing."""

    date: dt.date
    class_name: str
    subject: str
    missing: tuple[str, ...]


def lessons_to_fix(checked: pd.DataFrame) -> dict[str, list[LessonToFix]]:
    """Per teacher (as named in the export), their counted lessons that lack something, by date."""
    todo = checked[~checked["complete"] & ~checked["closed_day"]]
    out: dict[str, list[LessonToFix]] = {}
    for row in todo.sort_values(["date", "class_name", "subject"]).itertuples(index=False):
        missing = tuple(label for gap, label in GAPS.items() if getattr(row, gap))
        out.setdefault(_clean_name(row.teacher), []).append(
            LessonToFix(row.date, str(row.class_name), str(row.subject), missing)
        )
    out.pop("", None)
    return out


# --- the weekly summary's section --------------------------------------------------------------


@dataclass(frozen=True)
class TeacherShare:
    """A teacher's week: lessons counted and the share complete."""

    teacher: str
    lessons: int
    complete: int
    share: float


@dataclass
class JournalWeek:
    """Section I in the weekly summary: the school's share of complete lessons, the teachers
    below the threshold, the trend of the last weeks (from the «Заполнение ЭЖ» rows)."""

    week_start: dt.date
    threshold: float
    lessons: int = 0
    complete: int = 0
    share: float | None = None
    change: float | None = None  # share minus the previous imported week's, in shares
    teachers: int = 0
    behind: list[TeacherShare] = field(default_factory=list)
    gaps: dict[str, int] = field(default_factory=dict)  # label -> lessons lacking it
    late: int = 0
    closed_day_lessons: int = 0
    trend: list[tuple[dt.date, float | None]] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        """Whether an export of this week was loaded."""
        return self.lessons > 0 or self.closed_day_lessons > 0


def journal_week(
    rows: pd.DataFrame, week_start: dt.date, *, threshold: float, trend_weeks: int = 8
) -> JournalWeek | None:
    """The summary section from the tab's rows (fields of «Заполнение ЭЖ»); None when the tab has
    no rows at all (the school does not load exports)."""
    rows = rows[rows["week_start"].notna() & rows["teacher"].notna()]
    if rows.empty:
        return None
    week = JournalWeek(week_start=week_start, threshold=threshold)
    nums = ["lessons", "complete", *GAPS, LATE, "closed_day_lessons"]
    data = rows.assign(**{c: pd.to_numeric(rows[c], errors="coerce").fillna(0) for c in nums})
    by_week = data.groupby("week_start")[["lessons", "complete"]].sum()
    first = week_start - dt.timedelta(days=7 * (trend_weeks - 1))
    for start in (first + dt.timedelta(days=7 * i) for i in range(trend_weeks)):
        if start in by_week.index and by_week.loc[start, "lessons"] > 0:  # vacations left out
            lessons, complete = by_week.loc[start]
            week.trend.append((start, complete / lessons))
    this = data[data["week_start"] == week_start]
    week.lessons = int(this["lessons"].sum())
    week.complete = int(this["complete"].sum())
    week.late = int(this[LATE].sum())
    week.closed_day_lessons = int(this["closed_day_lessons"].sum())
    week.gaps = {label: int(this[gap].sum()) for gap, label in GAPS.items()}
    week.teachers = int((this["lessons"] > 0).sum())
    if week.lessons:
        week.share = week.complete / week.lessons
    earlier = [s for d, s in week.trend if d < week_start and s is not None]
    if week.share is not None and earlier:
        week.change = week.share - earlier[-1]
    behind = [
        TeacherShare(str(r.teacher), int(r.lessons), int(r.complete), r.complete / r.lessons)
        for r in this.itertuples(index=False)
        if r.lessons > 0 and r.complete / r.lessons < threshold
    ]
    week.behind = sorted(behind, key=lambda t: (t.share, t.teacher))
    return week
