"""The demo school's lesson export, as the journal gives it (section I): deterministic per seed.

A timetable of the demo's classes, taught by the teachers of «Сотрудники» (primary classes by
their class teacher, the rest by subject teachers), for the last weeks up to yesterday, school
days only. Most teachers fill in nearly everything on the day; a few are behind (no topic, no
homework, marks without a type of assessment, attendance not marked, entered days later); the
last two days are not all filled in yet; one teacher is ill for a day and a colleague takes the
lessons (the export names the substitute); one lesson is dated on a holiday by mistake.
The export names teachers the short way («Осипова Н. В.»), as journals do.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

from journaldesk.jobs.demo_data import CLASSES

HEADER = [
    "Дата",
    "№ урока",
    "Класс",
    "Предмет",
    "Учитель",
    "Тема урока",
    "Домашнее задание",
    "Вид контроля",
    "Отметки",
    "Посещаемость",
    "Дата заполнения",
]
WEEKS = 8
# The teachers who are behind (by surname) and how often they fill each item in.
BEHIND = {"Захаров": 0.84, "Лысенко": 0.9, "Бойко": 0.87}
DILIGENT = (0.988, 0.999)

# Subjects per week by grade band, and who teaches them: "class" is the class teacher (primary),
# otherwise a surname from «Сотрудники» (or two: 5–9 and 10–11).
_PRIMARY = {
    "Русский язык": 5,
    "Математика": 4,
    "Литературное чтение": 3,
    "Окружающий мир": 2,
    "Физическая культура": 2,
    "Музыка": 1,
    "Изобразительное искусство": 1,
    "Технология": 1,
    "Английский язык": 2,
}
_UPPER = {
    "Русский язык": 4,
    "Литература": 2,
    "Математика": 5,
    "Английский язык": 3,
    "История": 2,
    "Обществознание": 1,
    "География": 2,
    "Биология": 2,
    "Физика": 2,
    "Химия": 2,
    "Физическая культура": 2,
    "Музыка": 1,
    "Технология": 1,
    "ОБЗР": 1,
    "Крымскотатарский язык": 1,
}
_TEACHER = {
    "Русский язык": ("Павленко", "Шевченко"),
    "Литература": ("Павленко", "Шевченко"),
    "Математика": ("Осипова", "Фролова"),
    "Физика": ("Фролова", "Фролова"),
    "Английский язык": ("Лысенко", "Лысенко"),
    "История": ("Захаров", "Захаров"),
    "Обществознание": ("Захаров", "Захаров"),
    "География": ("Мамутова", "Мамутова"),
    "Биология": ("Руденко", "Руденко"),
    "Химия": ("Руденко", "Руденко"),
    "Физическая культура": ("Кравец", "Кравец"),
    "Музыка": ("Никитина", "Никитина"),
    "Изобразительное искусство": ("Никитина", "Никитина"),
    "Технология": ("Бойко", "Бойко"),
    "ОБЗР": ("Бойко", "Бойко"),
    "Крымскотатарский язык": ("Умеров", "Умеров"),
}
_PRIMARY_BY_OTHERS = {"Физическая культура", "Музыка", "Английский язык"}
_TOPICS = (
    "Повторение пройденного",
    "Изучение нового материала, § {n}",
    "Решение задач по теме § {n}",
    "Практическая работа № {k}",
    "Контрольная работа № {k}",
    "Работа над ошибками",
    "Обобщение по разделу",
)
_HOMEWORK = ("§ {n}, вопросы 1–4", "№ {a}–{b}", "Упр. {a}", "Выучить правило, § {n}", "Сообщение")
_ASSESSMENT = ("Работа на уроке", "Самостоятельная работа", "Контрольная работа", "Устный ответ")


def short_name(full_name: str) -> str:
    """«Осипова Наталья Владимировна» -> «Осипова Н. В.»."""
    surname, *rest = full_name.split()
    return " ".join([surname, *(f"{w[0]}." for w in rest)])


def _grade(class_name: str) -> int:
    return int("".join(ch for ch in class_name if ch.isdigit()))


def _timetable(rng: random.Random) -> dict[tuple[str, int], list[str]]:
    """(class, weekday) -> the subjects of the day's lessons in order."""
    out: dict[tuple[str, int], list[str]] = {}
    for class_name in CLASSES:
        grade = _grade(class_name)
        plan = dict(_PRIMARY if grade <= 4 else _UPPER)
        if grade == 1:
            plan.pop("Английский язык")
        if grade < 8:
            plan.pop("Химия", None)
        if grade < 7:
            plan.pop("Физика", None)
        week = [s for s, n in plan.items() for _ in range(n)]
        rng.shuffle(week)
        for weekday in range(5):
            out[(class_name, weekday)] = week[weekday::5]
    return out


def _teacher_of(subject: str, class_name: str, people: dict[str, str], leads: dict[str, str]):
    grade = _grade(class_name)
    if grade <= 4 and subject not in _PRIMARY_BY_OTHERS:
        return leads.get(class_name)
    junior, senior = _TEACHER[subject]
    return people.get(junior if grade <= 9 else senior)


def lesson_rows(
    staff: Sequence[dict[str, object]],
    closed: set[dt.date],
    *,
    today: dt.date,
    seed: int = 2026,
) -> list[list[object]]:
    """The export's rows (header first) for the WEEKS weeks up to yesterday."""
    rng = random.Random(f"{seed}:journal")
    people = {str(s["full_name"]).split()[0]: str(s["full_name"]) for s in staff}
    leads = {str(s["class_led"]): str(s["full_name"]) for s in staff if s.get("class_led")}
    timetable = _timetable(rng)
    skill = {name: BEHIND.get(name.split()[0], rng.uniform(*DILIGENT)) for name in people.values()}
    first = today - dt.timedelta(days=today.weekday() + 7 * (WEEKS - 1))
    days = [
        first + dt.timedelta(days=i)
        for i in range((today - first).days)
        if (first + dt.timedelta(days=i)).weekday() < 5
    ]
    school_days = [d for d in days if d not in closed]
    # One teacher ill for a day two weeks back: a colleague of the same subject takes the lessons.
    ill_day = next((d for d in school_days if d >= today - dt.timedelta(days=14)), None)
    ill, substitute = people.get("Осипова"), people.get("Фролова")
    # One lesson dated on a holiday by mistake (the first closed weekday in range, if any).
    wrong_day = next((d for d in days if d in closed), None)

    rows: list[list[object]] = [HEADER]
    for d in school_days:
        recent = (today - d).days <= 2
        for class_name in CLASSES:
            for number, subject in enumerate(timetable[(class_name, d.weekday())], start=1):
                teacher = _teacher_of(subject, class_name, people, leads)
                if teacher is None:
                    continue
                if d == ill_day and teacher == ill and substitute:
                    teacher = substitute
                p = skill[teacher] - (0.12 if recent else 0.0)
                rows.append(_lesson(rng, d, number, class_name, subject, teacher, p))
    if wrong_day is not None and len(rows) > 1:
        mistaken = list(rows[1])
        mistaken[0] = wrong_day.strftime("%d.%m.%Y")
        rows.append(mistaken)
    return rows


def _lesson(
    rng: random.Random,
    d: dt.date,
    number: int,
    class_name: str,
    subject: str,
    teacher: str,
    p: float,
) -> list[object]:
    n, k, a = rng.randint(1, 40), rng.randint(1, 6), rng.randint(1, 300)
    topic = rng.choice(_TOPICS).format(n=n, k=k) if rng.random() < p else ""
    homework = rng.choice(_HOMEWORK).format(n=n, a=a, b=a + 3) if rng.random() < p else ""
    marks = ""
    assessment = ""
    if rng.random() < 0.55:
        marks = " ".join(
            str(rng.choice((5, 5, 4, 4, 4, 3, 3, 2))) for _ in range(rng.randint(1, 6))
        )
        assessment = rng.choice(_ASSESSMENT) if rng.random() < p else ""
    attendance = "отмечена" if rng.random() < p else ""
    delay = 0 if rng.random() < p else rng.randint(1, 6)
    entered = dt.datetime.combine(d, dt.time(rng.randint(13, 20), rng.choice((0, 15, 30, 45))))
    entered += dt.timedelta(days=delay)
    return [
        d.strftime("%d.%m.%Y"),
        number,
        class_name,
        subject,
        short_name(teacher),
        topic,
        homework,
        assessment,
        marks,
        attendance,
        entered.strftime("%d.%m.%Y %H:%M"),
    ]


def write_export(path: Path, rows: list[list[object]], title: str) -> Path:
    """Save the rows as the journal's .xlsx export: a title line, then the header and lessons."""
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Уроки")
    sheet.append([title])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path
