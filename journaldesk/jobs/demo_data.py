"""The demo school's contents for every staff-typed tab: pure and deterministic for (now, seed).

МБОУ «Владиславовская ОШ» (Crimea), school year from 1 September: staff, consent forms, the
regulation's consultation hours, two calendar exceptions and a term's worth of help requests,
with a handful of deliberately bad cells a person could type. Rows hold only the columns people
(or the auto-fill) own; derived columns are left to the jobs.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays
import numpy as np

from journaldesk.jobs.init import calendar_row_values
from journaldesk.rules.worktime import (
    CalendarEntry,
    WeeklyHours,
    WorkCalendar,
    minute_to_datetime,
    to_minutes,
)
from journaldesk.sheet.schema import Schema, load_schema
from journaldesk.sheet.vocab import WEEKDAYS

Row = dict[str, object]

TIMEZONE = "Europe/Simferopol"
EMAIL_DOMAIN = "vladislavovka-school.ru"
ROOM = "12"

CLASSES: tuple[str, ...] = (
    "1А", "2А", "2Б", "3А", "4А", "5А", "5Б", "6А", "7А", "8А", "9А", "10А", "11А",
)  # fmt: skip
# Two classes whose class teachers have not collected the forms yet (the demo's story).
BEHIND_CLASSES: tuple[str, ...] = ("7А", "10А")

# The deliberately bad cells, as a person would type them: (tab, field, raw text).
# "Peшено" starts with a Latin P and e; "Текущие отметкы" is a typo; the formula is plain text.
BAD_DATE = "31.02.2026"
BAD_STATUS = "\u0050\u0065шено"
BAD_CLASS = "12Б"
BAD_TOPIC = "Текущие отметкы"
BAD_RECEIVED = "вчера"
BAD_DESCRIPTION = '=HYPERLINK("http://example.com","ссылка") — инструкция не открывается'
BAD_CELLS: tuple[tuple[str, str, str], ...] = (
    ("consent", "issued_on", BAD_DATE),
    ("requests", "status", BAD_STATUS),
    ("requests", "class_name", BAD_CLASS),
    ("requests", "topic", BAD_TOPIC),
    ("requests", "received_at", BAD_RECEIVED),
    ("requests", "description", BAD_DESCRIPTION),
)

# Regulation 2.9: consultation hours by weekday (0 = Monday).
CONSULTATION_HOURS: dict[int, tuple[dt.time, dt.time]] = {
    0: (dt.time(14), dt.time(16)),
    1: (dt.time(15), dt.time(17)),
    2: (dt.time(15), dt.time(17)),
    3: (dt.time(15), dt.time(17)),
    4: (dt.time(14), dt.time(16)),
}

# School-year plan as (month, day) relative to the year that starts on 1 September; these mirror
# config/calendar.yaml for 2026/27 (a test keeps them in step). Both ends inclusive.
_VACATIONS_MD: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((10, 26), (11, 3)),
    ((12, 28), (1, 10)),
    ((3, 20), (3, 28)),
    ((6, 1), (8, 31)),
)
# Last day of each quarter: final marks are due in the days before it.
_TERM_ENDS_MD: tuple[tuple[int, int], ...] = ((10, 25), (12, 27), (3, 19), (5, 31))


# --- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StaffMember:
    full_name: str
    position: str
    class_led: str | None = None
    subject: str | None = None  # "по математике": used in request descriptions


_ADMIN_POSITION = "администратор ЭЖ"
_DEPUTY_POSITION = "заместитель директора по УВР"
_DIRECTOR_POSITION = "директор"
_OFFICE_POSITIONS = (_DIRECTOR_POSITION, _DEPUTY_POSITION, _ADMIN_POSITION)
_PRIMARY = "учитель начальных классов"

_STAFF: tuple[_StaffMember, ...] = (
    _StaffMember("Гречко Людмила Андреевна", _DIRECTOR_POSITION),
    _StaffMember("Сорокина Ирина Викторовна", _DEPUTY_POSITION),
    _StaffMember("Мельник Андрей Олегович", _ADMIN_POSITION),
    _StaffMember("Иванова Марина Николаевна", _PRIMARY, "1А", "по русскому языку"),
    _StaffMember("Ткаченко Оксана Петровна", _PRIMARY, "2А", "по математике"),
    _StaffMember("Белоусова Галина Сергеевна", _PRIMARY, "2Б", "по окружающему миру"),
    _StaffMember("Аблаева Эльвира Решатовна", _PRIMARY, "3А", "по литературному чтению"),
    _StaffMember("Кузьмина Татьяна Ивановна", _PRIMARY, "4А", "по русскому языку"),
    _StaffMember(
        "Павленко Светлана Михайловна",
        "учитель русского языка и литературы",
        "5А",
        "по русскому языку",
    ),
    _StaffMember("Осипова Наталья Владимировна", "учитель математики", "5Б", "по математике"),
    _StaffMember(
        "Умеров Эрнест Серверович",
        "учитель крымскотатарского языка и литературы",
        "6А",
        "по крымскотатарскому языку",
    ),
    _StaffMember(
        "Лысенко Ольга Александровна", "учитель английского языка", "7А", "по английскому"
    ),
    _StaffMember(
        "Захаров Дмитрий Игоревич", "учитель истории и обществознания", "8А", "по истории"
    ),
    _StaffMember("Руденко Елена Васильевна", "учитель биологии и химии", "9А", "по биологии"),
    _StaffMember("Фролова Анна Геннадьевна", "учитель физики и математики", "10А", "по физике"),
    _StaffMember(
        "Шевченко Валентина Павловна", "учитель русского языка и литературы", "11А", "по литературе"
    ),
    _StaffMember("Кравец Сергей Николаевич", "учитель физической культуры", None, "по физкультуре"),
    _StaffMember("Мамутова Зарема Энверовна", "учитель географии", None, "по географии"),
    _StaffMember("Никитина Юлия Романовна", "учитель музыки и ИЗО", None, "по музыке"),
    _StaffMember("Бойко Виктор Степанович", "учитель технологии и ОБЗР", None, "по технологии"),
    _StaffMember("Гаврилюк Алла Викторовна", "социальный педагог"),
)

# Surnames as (masculine, feminine).
_SURNAMES: tuple[tuple[str, str], ...] = tuple(
    (m, f)
    for m, f in (
        ("Иванов", "Иванова"), ("Петров", "Петрова"), ("Смирнов", "Смирнова"),
        ("Кузнецов", "Кузнецова"), ("Попов", "Попова"), ("Васильев", "Васильева"),
        ("Соколов", "Соколова"), ("Михайлов", "Михайлова"), ("Новиков", "Новикова"),
        ("Фёдоров", "Фёдорова"), ("Морозов", "Морозова"), ("Волков", "Волкова"),
        ("Алексеев", "Алексеева"), ("Лебедев", "Лебедева"), ("Семёнов", "Семёнова"),
        ("Егоров", "Егорова"), ("Павлов", "Павлова"), ("Козлов", "Козлова"),
        ("Степанов", "Степанова"), ("Николаев", "Николаева"), ("Орлов", "Орлова"),
        ("Андреев", "Андреева"), ("Макаров", "Макарова"), ("Никитин", "Никитина"),
        ("Захаров", "Захарова"), ("Зайцев", "Зайцева"), ("Соловьёв", "Соловьёва"),
        ("Борисов", "Борисова"), ("Яковлев", "Яковлева"), ("Григорьев", "Григорьева"),
        ("Романов", "Романова"), ("Воробьёв", "Воробьёва"), ("Сергеев", "Сергеева"),
        ("Кириллов", "Кириллова"), ("Ильин", "Ильина"), ("Гусев", "Гусева"),
        ("Титов", "Титова"), ("Кузьмин", "Кузьмина"), ("Белов", "Белова"),
        ("Комаров", "Комарова"), ("Ковалёв", "Ковалёва"), ("Калинин", "Калинина"),
        ("Коваленко", "Коваленко"), ("Бондаренко", "Бондаренко"), ("Ткачук", "Ткачук"),
        ("Кравченко", "Кравченко"), ("Савченко", "Савченко"), ("Литвиненко", "Литвиненко"),
        ("Мороз", "Мороз"), ("Полищук", "Полищук"), ("Гончаренко", "Гончаренко"),
        ("Дмитриенко", "Дмитриенко"), ("Тарасенко", "Тарасенко"), ("Левченко", "Левченко"),
        ("Аметов", "Аметова"), ("Умеров", "Умерова"), ("Сейтаблаев", "Сейтаблаева"),
        ("Ибраимов", "Ибраимова"), ("Абдуллаев", "Абдуллаева"), ("Мустафаев", "Мустафаева"),
        ("Османов", "Османова"), ("Халилов", "Халилова"), ("Джемилев", "Джемилева"),
        ("Белоусов", "Белоусова"), ("Щербаков", "Щербакова"), ("Поляков", "Полякова"),
        ("Жуков", "Жукова"), ("Данилов", "Данилова"), ("Тимофеев", "Тимофеева"),
        ("Медведев", "Медведева"), ("Антонов", "Антонова"), ("Климов", "Климова"),
    )
)  # fmt: skip
_TATAR_SURNAMES = frozenset(
    ("Аметов", "Умеров", "Сейтаблаев", "Ибраимов", "Абдуллаев", "Мустафаев", "Османов",
     "Халилов", "Джемилев")
)  # fmt: skip

# Fathers' first names with the patronymics they give (masculine, feminine).
_FATHERS: tuple[tuple[str, str, str], ...] = (
    ("Александр", "Александрович", "Александровна"), ("Сергей", "Сергеевич", "Сергеевна"),
    ("Андрей", "Андреевич", "Андреевна"), ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Алексей", "Алексеевич", "Алексеевна"), ("Максим", "Максимович", "Максимовна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"), ("Владимир", "Владимирович", "Владимировна"),
    ("Игорь", "Игоревич", "Игоревна"), ("Олег", "Олегович", "Олеговна"),
    ("Николай", "Николаевич", "Николаевна"), ("Роман", "Романович", "Романовна"),
    ("Виктор", "Викторович", "Викторовна"), ("Павел", "Павлович", "Павловна"),
    ("Юрий", "Юрьевич", "Юрьевна"), ("Денис", "Денисович", "Денисовна"),
    ("Артём", "Артёмович", "Артёмовна"), ("Вадим", "Вадимович", "Вадимовна"),
    ("Константин", "Константинович", "Константиновна"), ("Иван", "Иванович", "Ивановна"),
)  # fmt: skip
_TATAR_FATHERS: tuple[tuple[str, str, str], ...] = (
    ("Рустем", "Рустемович", "Рустемовна"), ("Эльдар", "Эльдарович", "Эльдаровна"),
    ("Ленур", "Ленурович", "Ленуровна"), ("Сервер", "Серверович", "Серверовна"),
    ("Решат", "Решатович", "Решатовна"), ("Энвер", "Энверович", "Энверовна"),
)  # fmt: skip
# Fathers of the fathers: the parent's own patronymic.
_GRANDFATHER_PATRONYMICS = (
    ("Викторович", "Викторовна"), ("Николаевич", "Николаевна"), ("Петрович", "Петровна"),
    ("Васильевич", "Васильевна"), ("Иванович", "Ивановна"), ("Михайлович", "Михайловна"),
    ("Анатольевич", "Анатольевна"), ("Геннадьевич", "Геннадьевна"), ("Юрьевич", "Юрьевна"),
    ("Владимирович", "Владимировна"), ("Александрович", "Александровна"),
    ("Сергеевич", "Сергеевна"), ("Григорьевич", "Григорьевна"),
)  # fmt: skip
_TATAR_GRANDFATHER_PATRONYMICS = (
    ("Айдерович", "Айдеровна"), ("Ризаевич", "Ризаевна"), ("Мустафаевич", "Мустафаевна"),
    ("Шевкетович", "Шевкетовна"),
)  # fmt: skip
_MOTHERS = (
    "Елена", "Ольга", "Наталья", "Татьяна", "Анна", "Юлия", "Екатерина", "Светлана",
    "Ирина", "Марина", "Мария", "Анастасия", "Оксана", "Виктория", "Людмила", "Алёна",
    "Евгения", "Надежда", "Валентина", "Кристина",
)  # fmt: skip
_TATAR_MOTHERS = ("Эльвира", "Алие", "Зарема", "Лиля", "Гульнара", "Фатма")
_BOYS = (
    "Артём", "Михаил", "Александр", "Максим", "Иван", "Даниил", "Дмитрий", "Кирилл",
    "Матвей", "Егор", "Тимофей", "Никита", "Илья", "Марк", "Лев", "Роман", "Арсений",
    "Владислав", "Богдан", "Степан", "Фёдор", "Глеб", "Ярослав", "Семён",
)  # fmt: skip
_TATAR_BOYS = ("Эмиль", "Арсен", "Тимур", "Дилявер", "Эльмар", "Амет")
_GIRLS = (
    "Анастасия", "Мария", "Анна", "Виктория", "Полина", "Елизавета", "Алиса", "Дарья",
    "Варвара", "София", "Ксения", "Александра", "Вероника", "Арина", "Ева", "Екатерина",
    "Валерия", "Милана", "Ульяна", "Кира", "Василиса", "Маргарита", "Таисия",
)  # fmt: skip
_TATAR_GIRLS = ("Эльмаз", "Сабина", "Айше", "Мерьем", "Лейла", "Зера")
_GUARDIANS_FEMALE = ("Валентина", "Галина", "Людмила", "Нина", "Тамара", "Вера")

_TRANSLIT = {
    **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziyklmnoprstufye", strict=True)),
    **{"ё": "e", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch"},
    **{"ъ": "", "ь": "", "ю": "yu", "я": "ya"},
}


def _latin(text: str) -> str:
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())


def staff_email(full_name: str) -> str:
    """The school address of a staff member: «ivanova.mn@…» from «Иванова Марина Николаевна»."""
    surname, first, patronymic = full_name.split()
    return f"{_latin(surname)}.{_latin(first[0])}{_latin(patronymic[0])}@{EMAIL_DOMAIN}"


@dataclass
class _Pupil:
    class_name: str
    name: str
    parent: str
    relation: str


# --- calendar helpers -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Year:
    start: dt.date
    end: dt.date
    vacations: tuple[tuple[dt.date, dt.date], ...]
    term_ends: tuple[dt.date, ...]
    public_holidays: frozenset[dt.date]

    def in_vacation(self, day: dt.date) -> bool:
        return any(a <= day <= b for a, b in self.vacations)

    def is_working(self, day: dt.date) -> bool:
        """A day the administrator holds consultations (weekday, no holiday, no vacation)."""
        return (
            day.weekday() in CONSULTATION_HOURS
            and day not in self.public_holidays
            and not self.in_vacation(day)
        )


def _md(year_start: int, month: int, day: int) -> dt.date:
    return dt.date(year_start if month >= 9 else year_start + 1, month, day)


def _school_year(today: dt.date) -> _Year:
    y = today.year if today.month >= 9 else today.year - 1
    found = holidays.country_holidays("RU", years=(y, y + 1))
    return _Year(
        start=dt.date(y, 9, 1),
        end=dt.date(y + 1, 8, 31),
        vacations=tuple((_md(y, *a), _md(y, *b)) for a, b in _VACATIONS_MD),
        term_ends=tuple(_md(y, *md) for md in _TERM_ENDS_MD),
        public_holidays=frozenset(found),
    )


def _local_now(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        return now.replace(second=0, microsecond=0)
    local = now.astimezone(ZoneInfo(TIMEZONE)).replace(tzinfo=None)
    return local.replace(second=0, microsecond=0)


# --- the generator -------------------------------------------------------------------------------


class _Enums:
    """Enum values looked up by their text, checked against the schema at import."""

    def __init__(self, schema: Schema) -> None:
        self._enums = schema.enums

    def __call__(self, enum: str, value: str) -> str:
        if value not in self._enums[enum]:
            raise ValueError(f"schema enum {enum} has no value {value!r}")
        return value


_E = _Enums(load_schema())

ROLE_TEACHER = _E("role", "Учитель")
ROLE_CLASS_TEACHER = _E("role", "Классный руководитель")
ROLE_PARENT = _E("role", "Родитель")
ROLE_PUPIL = _E("role", "Ученик")
ROLE_ADMIN = _E("role", "Администрация")
ROLE_OTHER = _E("role", "Другое")

CH_PERSON = _E("channel", "Лично")
CH_PHONE = _E("channel", "Телефон")
CH_EMAIL = _E("channel", "Эл. почта")
CH_MESSENGER = _E("channel", "Мессенджер")
CH_NOTE = _E("channel", "Записка")

ST_NEW = _E("status", "Новое")
ST_WORK = _E("status", "В работе")
ST_WAIT = _E("status", "Ждём заявителя")
ST_DONE = _E("status", "Решено")
ST_REJECTED = _E("status", "Отклонено")

T_FAULT = _E("topic", "Техническая неисправность")
T_LOGIN = _E("topic", "Утерян логин или пароль")
T_TRAINING = _E("topic", "Обучение работе в ЭЖ")
T_PLANS = _E("topic", "Поурочное планирование, импорт/экспорт")
T_MARKS = _E("topic", "Текущие отметки")
T_FINAL = _E("topic", "Итоговые отметки")
T_ATTENDANCE = _E("topic", "Посещаемость в «АРМ класс»")
T_PROGRESS = _E("topic", "Успеваемость в «АРМ класс»")
T_REPORTS = _E("topic", "Отчёты «Успеваемость» и «Аналитика»")
T_DIARY = _E("topic", "Электронный дневник для родителей")
T_IDEAS = _E("topic", "Вопросы и предложения")

APP_NOT_ISSUED = _E("application", "Не выдано")
APP_ISSUED = _E("application", "Выдано")
APP_SUBMITTED = _E("application", "Подано")
APP_REFUSED = _E("application", "Отказ")
PD_NONE = _E("pd_consent", "Нет")
PD_SIGNED = _E("pd_consent", "Подписано")
PD_REVOKED = _E("pd_consent", "Отозвано")

REL_MOTHER = _E("relation", "Мать")
REL_FATHER = _E("relation", "Отец")
REL_GUARDIAN = _E("relation", "Опекун")

KIND_CANCELLED = _E("calendar_kind", "Нет консультаций")
KIND_EXTRA = _E("calendar_kind", "Доп. консультация")
KIND_GROUP = _E("calendar_kind", "Групповое занятие")
# The demo's group training session (2.1): a computer class for eight.
GROUP_TIME = (dt.time(15, 0), dt.time(16, 30))
GROUP_COMMENT = "каб. 21, мест 8"

_WEEKDAYS = WEEKDAYS


def _fields(schema: Schema, tab: str) -> list[str]:
    """The columns people (or the auto-fill) own: the demo fills these and nothing derived."""
    return [c.field for c in schema[tab].owned_by("staff", "auto")]


def _row(fields: list[str], **values: object) -> Row:
    unknown = set(values) - set(fields)
    if unknown:
        raise KeyError(f"demo row has fields outside the tab: {sorted(unknown)}")
    return {f: values.get(f) for f in fields}


def _weighted(rng: random.Random, table: Sequence[tuple[object, float]]) -> object:
    items = [k for k, _ in table]
    weights = [w for _, w in table]
    return rng.choices(items, weights=weights, k=1)[0]


def _weekday_on_or_after(day: dt.date, rng: random.Random, span: int, year: _Year) -> dt.date:
    """A working day at a random offset 0..span from `day` (moved forward past days off)."""
    d = day + dt.timedelta(days=rng.randint(0, span))
    while d.weekday() >= 5 or d in year.public_holidays or year.in_vacation(d):
        d += dt.timedelta(days=1)
    return d


def _staff_rows(rng: random.Random, year: _Year, today: dt.date, fields: list[str]) -> list[Row]:
    n = len(_STAFF)
    no_manual = set(rng.sample(range(3, n), 3))
    no_training = set(rng.sample(range(3, n), 5))
    rows = []
    for i, s in enumerate(_STAFF):
        manual = None
        if i not in no_manual:
            # Handed out at the August-end/first-week staff meeting; a couple later.
            span = 6 if rng.random() < 0.85 else 40
            manual = _weekday_on_or_after(year.start, rng, span, year)
        trained = None
        if i not in no_training:
            trained = _weekday_on_or_after(year.start + dt.timedelta(days=7), rng, 45, year)
        rows.append(
            _row(
                fields,
                full_name=s.full_name,
                position=s.position,
                class_led=s.class_led,
                email=staff_email(s.full_name),
                manual_given_on=manual if manual and manual <= today else None,
                trained_on=trained if trained and trained <= today else None,
            )
        )
    return rows


def _make_pupils(rng: random.Random) -> list[_Pupil]:
    """About 13 pupils per class with unique names and parents sharing their surname."""
    pupils: list[_Pupil] = []
    seen_pupils: set[str] = set()
    seen_parents: set[str] = set()
    guardian_classes = set(rng.sample(CLASSES, 3))
    for class_name in CLASSES:
        size = rng.choice((12, 12, 12, 13))
        count = 0
        while count < size:
            tatar = rng.random() < 0.14
            male_surname, female_surname = rng.choice(
                [s for s in _SURNAMES if (s[0] in _TATAR_SURNAMES) == tatar]
            )
            father_first, pat_m, pat_f = rng.choice(_TATAR_FATHERS if tatar else _FATHERS)
            boy = rng.random() < 0.5
            if boy:
                first = rng.choice(_TATAR_BOYS if tatar else _BOYS)
                name = f"{male_surname} {first} {pat_m}"
            else:
                first = rng.choice(_TATAR_GIRLS if tatar else _GIRLS)
                name = f"{female_surname} {first} {pat_f}"
            grand = _TATAR_GRANDFATHER_PATRONYMICS if tatar else _GRANDFATHER_PATRONYMICS
            r = rng.random()
            if class_name in guardian_classes and count == size - 1:
                guardian_classes.discard(class_name)
                relation = REL_GUARDIAN
                parent = f"{female_surname} {rng.choice(_GUARDIANS_FEMALE)} {rng.choice(grand)[1]}"
            elif r < 0.76:
                relation = REL_MOTHER
                mothers = _TATAR_MOTHERS if tatar else _MOTHERS
                parent = f"{female_surname} {rng.choice(mothers)} {rng.choice(grand)[1]}"
            else:
                relation = REL_FATHER
                parent = f"{male_surname} {father_first} {rng.choice(grand)[0]}"
            if name in seen_pupils or parent in seen_parents:
                continue
            seen_pupils.add(name)
            seen_parents.add(parent)
            pupils.append(_Pupil(class_name, name, parent, relation))
            count += 1
    return pupils


def _clip(day: dt.date | None, today: dt.date) -> dt.date | None:
    return day if day is not None and day <= today else None


def _consent_rows(
    rng: random.Random, year: _Year, today: dt.date, pupils: list[_Pupil], fields: list[str]
) -> list[Row]:
    by_class: dict[str, list[Row]] = {c: [] for c in CLASSES}
    good = [c for c in CLASSES if c not in BEHIND_CLASSES]
    # Rows that leave a pupil without access (refusals, a login without consent, the revocation)
    # go to classes that are otherwise complete, so every well-along class stays at 90 % or more
    # ready (the settings' default target) and only the two lagging classes fall behind.
    not_ready_kinds = ("refusal", "refusal", "refusal", "login_without_consent", "revocation")
    special_class = dict(zip(rng.sample(good, len(not_ready_kinds)), not_ready_kinds, strict=True))
    for class_name in CLASSES:
        behind = class_name in BEHIND_CLASSES
        members = [p for p in pupils if p.class_name == class_name]
        # The parents' meeting where the class teacher hands the forms out.
        meeting = _weekday_on_or_after(year.start + dt.timedelta(days=1), rng, 10, year)
        order = list(range(len(members)))
        rng.shuffle(order)
        if behind:
            # Under half handed in, most forms out since September, a few never handed out.
            n_submitted = round(len(members) * rng.uniform(0.2, 0.4))
            n_not_issued = rng.randint(1, 3)
        else:
            lagging = 0 if class_name in special_class else rng.choice((0, 1, 1))
            n_submitted = len(members) - lagging
            n_not_issued = 0
        submitting = set(order[:n_submitted])
        never_issued = set(order[len(order) - n_not_issued :])
        for i, p in enumerate(members):
            issued = meeting if rng.random() < 0.8 else meeting + dt.timedelta(rng.randint(1, 12))
            app, pd, submitted, login = APP_ISSUED, PD_NONE, None, None
            if i in submitting:
                app = APP_SUBMITTED
            elif i in never_issued:
                app, issued = APP_NOT_ISSUED, None
            if app == APP_SUBMITTED:
                submitted = issued + dt.timedelta(days=rng.choice((1, 2, 3, 5, 7, 10, 14, 21, 30)))
                submitted = min(submitted, _md(year.start.year, 10, 30))
                if submitted > today:
                    app, submitted = APP_ISSUED, None
                else:
                    pd = PD_SIGNED
                    login = _clip(submitted + dt.timedelta(days=rng.randint(1, 6)), today)
            if issued is not None and issued > today:
                app, issued = APP_NOT_ISSUED, None
            by_class[class_name].append(
                _row(
                    fields,
                    class_name=p.class_name,
                    pupil=p.name,
                    parent=p.parent,
                    relation=p.relation,
                    application=app,
                    pd_consent=pd,
                    issued_on=issued,
                    submitted_on=submitted,
                    revoked_on=None,
                    login_issued_on=login,
                )
            )

    def submitted_rows(classes: Sequence[str]) -> list[Row]:
        return [
            r
            for c in classes
            for r in by_class[c]
            if r["application"] == APP_SUBMITTED and r["pd_consent"] == PD_SIGNED
        ]

    for class_name, kind in special_class.items():
        candidates = submitted_rows([class_name])
        if not candidates:
            continue  # an early `now`: nothing handed in yet
        r = rng.choice(candidates)
        if kind == "refusal":
            r.update(application=APP_REFUSED, pd_consent=PD_NONE, submitted_on=None)
            r.update(login_issued_on=None)
        elif kind == "login_without_consent":  # a contradiction the checks must catch
            r.update(pd_consent=PD_NONE, login_issued_on=r["login_issued_on"] or r["submitted_on"])
        else:  # exactly one revocation: the parent withdrew the consent to personal data
            base = r["login_issued_on"] or r["submitted_on"]
            r.update(pd_consent=PD_REVOKED, revoked_on=min(base + dt.timedelta(days=24), today))

    # The slips that keep a pupil ready each take a different submitted pupil of another class.
    pool = submitted_rows([c for c in good if c not in special_class]) or submitted_rows(good)
    rng.shuffle(pool)
    specials = iter(pool)

    r = next(specials, None)  # contradiction: handed in before it was handed out (a typo)
    if r is not None:
        r.update(submitted_on=max(year.start, r["issued_on"] - dt.timedelta(days=6)))
        if r["issued_on"] <= r["submitted_on"]:
            r.update(issued_on=r["submitted_on"] + dt.timedelta(days=3))
    r = next(specials, None)  # contradiction: a revocation date, consent still «Подписано»
    if r is not None:
        r.update(revoked_on=min(r["submitted_on"] + dt.timedelta(days=30), today))
    r = next(specials, None)  # an impossible date typed as text
    if r is not None:
        r.update(issued_on=BAD_DATE)
    r = next(specials, None)  # one pupil listed twice: the class teacher added the row again
    if r is not None:
        by_class[str(r["class_name"])].append(dict(r))

    return [r for c in CLASSES for r in by_class[c]]


def _schedule_rows(fields: list[str], consultant: str) -> list[Row]:
    return [
        _row(fields, weekday=_WEEKDAYS[wd], start=a, end=b, room=ROOM, consultant=consultant)
        for wd, (a, b) in CONSULTATION_HOURS.items()
    ]


def _calendar_rows(year: _Year, today: dt.date, fields: list[str]) -> list[Row]:
    return [_row(fields, **calendar_row_values(e)) for e in _exceptions(year, today)]


# --- requests ------------------------------------------------------------------------------------

_ROLE_MIX: tuple[tuple[str, float], ...] = (
    (ROLE_PARENT, 40),
    (ROLE_TEACHER, 27),
    (ROLE_CLASS_TEACHER, 16),
    (ROLE_PUPIL, 6),
    (ROLE_ADMIN, 8),
    (ROLE_OTHER, 3),
)
_TOPICS_BY_ROLE: dict[str, tuple[tuple[str, float], ...]] = {
    ROLE_PARENT: (
        (T_LOGIN, 36), (T_DIARY, 34), (T_FAULT, 10), (T_MARKS, 9), (T_ATTENDANCE, 4),
        (T_IDEAS, 5), (T_FINAL, 2),
    ),
    ROLE_PUPIL: ((T_LOGIN, 60), (T_FAULT, 15), (T_DIARY, 20), (T_MARKS, 5)),
    ROLE_TEACHER: (
        (T_MARKS, 30), (T_PLANS, 14), (T_ATTENDANCE, 14), (T_TRAINING, 9), (T_FAULT, 10),
        (T_LOGIN, 7), (T_FINAL, 6), (T_PROGRESS, 4), (T_IDEAS, 3),
    ),
    ROLE_CLASS_TEACHER: (
        (T_ATTENDANCE, 24), (T_PROGRESS, 18), (T_DIARY, 16), (T_MARKS, 10), (T_LOGIN, 10),
        (T_REPORTS, 9), (T_FINAL, 7), (T_TRAINING, 3), (T_FAULT, 3),
    ),
    ROLE_ADMIN: ((T_REPORTS, 50), (T_FINAL, 20), (T_IDEAS, 15), (T_FAULT, 10), (T_PROGRESS, 5)),
    ROLE_OTHER: ((T_FAULT, 40), (T_IDEAS, 30), (T_LOGIN, 15), (T_TRAINING, 15)),
}  # fmt: skip
_CHANNELS_BY_ROLE: dict[str, tuple[tuple[str, float], ...]] = {
    ROLE_PARENT: ((CH_PHONE, 34), (CH_MESSENGER, 36), (CH_PERSON, 20), (CH_NOTE, 5), (CH_EMAIL, 5)),
    ROLE_PUPIL: ((CH_PERSON, 75), (CH_MESSENGER, 25)),
    ROLE_TEACHER: ((CH_PERSON, 60), (CH_MESSENGER, 20), (CH_PHONE, 10), (CH_EMAIL, 10)),
    ROLE_CLASS_TEACHER: ((CH_PERSON, 55), (CH_MESSENGER, 25), (CH_PHONE, 12), (CH_EMAIL, 8)),
    ROLE_ADMIN: ((CH_PERSON, 70), (CH_PHONE, 15), (CH_EMAIL, 15)),
    ROLE_OTHER: ((CH_PERSON, 70), (CH_PHONE, 30)),
}

_PERIODS = ("I четверть", "II четверть", "III четверть", "IV четверть")

# Descriptions as staff write them, by topic.
_STAFF_TEMPLATES: dict[str, tuple[str, ...]] = {
    T_FAULT: (
        "Не открывается журнал {cls}, бесконечная загрузка",
        "После обновления браузера не сохраняются отметки, выдаёт ошибку",
        "Ошибка 502 при входе в ЭлЖур с компьютера в кабинете",
        "Белый экран вместо расписания, пробовали в двух браузерах",
        "Компьютер в учительской не открывает ЭЖ: «соединение сброшено»",
    ),
    T_LOGIN: (
        "Не могу войти в ЭлЖур после смены пароля",
        "Учётная запись заблокирована после нескольких неверных паролей",
        "Забыл(а) пароль от журнала, восстановление не приходит на почту",
        "Нужны логин и пароль для нового совместителя",
    ),
    T_TRAINING: (
        "Прошу провести обучение по заполнению журнала",
        "Запишите на обучение: как выставлять домашнее задание",
        "Покажите, как оформлять замену урока в ЭлЖур",
        "Нужна консультация по вводу тем уроков и видов контроля",
    ),
    T_PLANS: (
        "Не импортируется КТП {subject} из Excel, ошибка формата",
        "Как перенести поурочное планирование с прошлого года",
        "После импорта темы уроков {cls} сдвинулись на неделю",
        "Экспорт КТП {cls} выдаёт пустую таблицу",
    ),
    T_MARKS: (
        "Не могу поставить отметку за {day}, ячейка недоступна",
        "Ошибочно поставил(а) «2» ученику {cls}, нужно исправить",
        "Отметки за контрольную {subject} не видны родителям",
        "Как поставить две отметки за один урок",
        "Не ставится отметка с весом за контрольную работу",
    ),
    T_FINAL: (
        "Не считается средний балл за {period} у {cls}",
        "Как выставить «н/а» за {period}, если ученик не аттестован",
        "Период закрыт — не могу исправить отметку за {period} {subject}",
        "Итоговые отметки {cls} не совпадают с расчётом",
    ),
    T_ATTENDANCE: (
        "В «АРМ класс» не отмечаются пропуски по болезни в {cls}",
        "Как отметить уважительную причину пропуска в {cls}",
        "Пропуски за {day} пропали после сохранения",
        "Отчёт о посещаемости {cls} за месяц пустой",
    ),
    T_PROGRESS: (
        "Не вижу динамику успеваемости {cls} в «АРМ класс»",
        "Как выгрузить список неуспевающих {cls}",
        "В «АРМ класс» не отображаются отметки {subject}",
    ),
    T_REPORTS: (
        "Нужен отчёт по качеству знаний за {period}",
        "Отчёт «Аналитика» по 5–9 классам выдаёт ошибку",
        "Как получить сводную ведомость успеваемости по школе",
        "Не формируется отчёт для управления образования по успеваемости",
    ),
    T_DIARY: (
        "Родители {cls} не видят домашнее задание в дневнике",
        "Как дать доступ к дневнику второму родителю ({cls})",
        "Родители жалуются: не приходят уведомления об отметках",
        "Как распечатать логины для родительского собрания {cls}",
    ),
    T_IDEAS: (
        "Предлагаю напоминание о незаполненных темах уроков",
        "Просьба добавить консультации в среду утром",
        "Неудобно, что журнал выходит из системы через 15 минут",
    ),
}  # fmt: skip
# Descriptions as parents and pupils write them; other topics fall back to the staff texts.
_FAMILY_TEMPLATES: dict[str, tuple[str, ...]] = {
    T_LOGIN: (
        "Не помним пароль от дневника, ребёнок в {cls}",
        "Потеряли листок с логином, просим выдать заново",
        "Не получается войти, пишет «неверный логин или пароль»",
        "Письмо для восстановления пароля не приходит",
        "Сменили номер телефона, не приходит код подтверждения",
        "Учётная запись заблокирована после нескольких попыток входа",
    ),
    T_DIARY: (
        "Не видим домашнее задание в дневнике ({cls})",
        "Как привязать второго ребёнка к учётной записи",
        "В дневнике не отображаются отметки за неделю",
        "Не приходят уведомления об отметках",
        "Второй родитель тоже хочет доступ к дневнику",
        "Где в дневнике смотреть расписание на следующую неделю?",
    ),
    T_FAULT: (
        "Дневник не открывается с телефона, бесконечная загрузка",
        "В приложении ошибка при входе, на компьютере всё работает",
        "Не приходят уведомления в мобильном приложении",
        "Страница с отметками открывается пустой",
    ),
    T_MARKS: (
        "В дневнике нет отметки за контрольную {day}",
        "Отметка в дневнике не совпадает с тетрадью, просим проверить",
        "Что означает вес отметки в дневнике?",
    ),
    T_ATTENDANCE: (
        "В дневнике пропуск за {day}, а ребёнок был на уроке",
        "Как сообщить о болезни, чтобы пропуск был по уважительной причине",
    ),
    T_FINAL: (
        "Не видна отметка за {period} в дневнике",
        "Почему за {period} выставлено «н/а»?",
    ),
    T_IDEAS: (
        "Будет ли собрание для родителей по электронному дневнику?",
        "Просим консультации для родителей в субботу",
        "Неудобно, что дневник выходит из системы через 15 минут",
    ),
}  # fmt: skip
# A parent pasted the password into the message: the jobs must mask it.
_PASTED_PASSWORDS = (
    "не могу войти, пароль: Qwerty123",
    "Логин ivanov_vl, пароль Vlad2026! — пишет ошибка",
)


def _day_weight(day: dt.date, year: _Year) -> float:
    """Relative number of requests on a day: busy September and term ends, quiet vacations."""
    if day.weekday() == 6 or day in year.public_holidays:
        return 0.0
    w = 1.0 if day.weekday() < 5 else 0.2
    if year.in_vacation(day):
        return w * 0.15
    days_in = (day - year.start).days
    if days_in < 14:
        w *= 2.3
    elif days_in < 30:
        w *= 1.5
    if any(0 <= (end - day).days <= 10 for end in year.term_ends):
        w *= 1.7
    return w


def _day_count(rng: random.Random, expected: float) -> int:
    """Requests on one day: the expected number give or take 40 %, rounded at random.

    Steadier than a Poisson draw, so the demo's busy and quiet weeks show in every seed.
    """
    x = expected * rng.uniform(0.6, 1.4)
    whole = int(x)
    return whole + (rng.random() < x - whole)


def _topic_for(rng: random.Random, role: str, day: dt.date, year: _Year) -> str:
    days_in = (day - year.start).days
    near_end = any(-3 <= (end - day).days <= 10 for end in year.term_ends)
    table = []
    for topic, w in _TOPICS_BY_ROLE[role]:
        # Training (2.1) and lesson plans (2.2) belong to the start of the year.
        if days_in < 21 and topic in (T_TRAINING, T_PLANS):
            w *= 5
        elif days_in >= 30 and topic == T_TRAINING:
            w *= 0.2
        if days_in < 30 and topic == T_LOGIN:
            w *= 1.5
        if near_end and topic in (T_FINAL, T_REPORTS):
            w *= 8 if topic == T_FINAL else 4
        elif not near_end and topic == T_FINAL:
            w *= 0.15
        table.append((topic, w))
    return str(_weighted(rng, table))


def _received_time(rng: random.Random, role: str, channel: str) -> dt.time:
    if role in (ROLE_PARENT, ROLE_PUPIL) and channel in (CH_MESSENGER, CH_EMAIL):
        lo, hi = (7 * 60 + 30, 21 * 60 + 30) if rng.random() < 0.6 else (8 * 60, 16 * 60)
    elif rng.random() < 0.9:
        lo, hi = 8 * 60, 17 * 60
    else:
        lo, hi = 17 * 60, 20 * 60
    minute = rng.randint(lo, hi)
    return dt.time(minute // 60, minute % 60)


@dataclass
class _People:
    staff: list[_StaffMember]
    parents: list[_Pupil]  # pupil records, for the parent's name and the pupil's class
    pupils: list[_Pupil]  # pupils old enough to write themselves (5th class and up)


def _requester(
    rng: random.Random, role: str, people: _People
) -> tuple[str, str | None, str | None]:
    """Requester name, class and subject phrase (for the descriptions) for a role."""
    teachers = [s for s in people.staff if s.subject is not None]
    if role == ROLE_PARENT:
        p = rng.choice(people.parents)
        return p.parent, p.class_name, None
    if role == ROLE_PUPIL:
        p = rng.choice(people.pupils)
        return p.name, p.class_name, None
    if role == ROLE_CLASS_TEACHER:
        s = rng.choice([s for s in people.staff if s.class_led])
        return s.full_name, s.class_led, s.subject
    if role == ROLE_TEACHER:
        s = rng.choice(teachers)
        return s.full_name, None, s.subject
    if role == ROLE_ADMIN:
        s = rng.choice(
            [s for s in people.staff if s.position in (_DIRECTOR_POSITION, _DEPUTY_POSITION)]
        )
        return s.full_name, None, None
    s = next(s for s in people.staff if s.position == "социальный педагог")
    return s.full_name, None, None


def _primary_class(full_name: str) -> str | None:
    """A primary-school teacher teaches their own class: the class their texts mention."""
    s = next(s for s in _STAFF if s.full_name == full_name)
    return s.class_led if s.position == _PRIMARY else None


def _description(
    rng: random.Random,
    topic: str,
    role: str,
    cls: str | None,
    subject: str | None,
    day: dt.date,
    year: _Year,
) -> str:
    family = role in (ROLE_PARENT, ROLE_PUPIL)
    templates = (_FAMILY_TEMPLATES if family else {}).get(topic) or _STAFF_TEMPLATES[topic]
    period_i = next((i for i, end in enumerate(year.term_ends) if day <= end + dt.timedelta(3)), 3)
    return rng.choice(templates).format(
        cls=cls or rng.choice(CLASSES[5:]),
        subject=subject or "по математике",
        day=(day - dt.timedelta(days=rng.randint(1, 4))).strftime("%d.%m"),
        period=_PERIODS[period_i],
    )


# Minutes the administrator spends on one request, by topic (low, high): a login is quick, a
# consultation on lesson plans or training takes a while.
_SERVICE_MINUTES: dict[str, tuple[int, int]] = {
    T_LOGIN: (3, 8), T_FAULT: (5, 20), T_TRAINING: (20, 40), T_PLANS: (10, 25),
    T_MARKS: (5, 15), T_FINAL: (10, 20), T_ATTENDANCE: (5, 10), T_PROGRESS: (5, 15),
    T_REPORTS: (10, 25), T_DIARY: (5, 12), T_IDEAS: (3, 10),
}  # fmt: skip


def _sick_week(year: _Year) -> tuple[dt.date, dt.date]:
    """A week the administrator is ill, in the second half of October (nobody types it in)."""
    monday = year.start + dt.timedelta(days=42)
    monday -= dt.timedelta(days=monday.weekday())
    return monday, monday + dt.timedelta(days=4)


def _exceptions(year: _Year, today: dt.date) -> list[CalendarEntry]:
    """The demo school's own «Календарь» rows: a council next week, an extra Saturday before the
    quarter ends, a group training session next week, and two days already cancelled this
    year."""
    # A pedagogical council on the Wednesday of next week (or the next working day after it).
    council = today + dt.timedelta(days=7 - today.weekday() + 2)
    while council.weekday() >= 5 or council in year.public_holidays:
        council += dt.timedelta(days=1)
    # An extra Saturday session in the last full week before a term ends: the next one to come.
    saturdays = []
    for end in year.term_ends:
        sat = end - dt.timedelta(days=7)
        sat -= dt.timedelta(days=(sat.weekday() - 5) % 7)
        saturdays.append(sat)
    extra = next((s for s in saturdays if s > today), saturdays[-1])
    rows = [
        CalendarEntry(council, council, KIND_CANCELLED, comment="педсовет"),
        CalendarEntry(
            extra, extra, KIND_EXTRA, dt.time(10), dt.time(12), "итоговые отметки за четверть"
        ),
        CalendarEntry(
            group_day(year, today), group_day(year, today), KIND_GROUP, *GROUP_TIME, GROUP_COMMENT
        ),
    ]
    for offset, weekday, why in ((17, 3, "совещание при директоре"), (73, 4, "методический день")):
        day = year.start + dt.timedelta(days=offset)
        day += dt.timedelta(days=(weekday - day.weekday()) % 7)
        if day <= today and day != council:
            rows.append(CalendarEntry(day, day, KIND_CANCELLED, comment=why))
    return rows


def group_day(year: _Year, today: dt.date) -> dt.date:
    """The day of the demo's group training session: Thursday of next week, or the next
    working day after it."""
    day = today + dt.timedelta(days=7 - today.weekday() + 3)
    while not year.is_working(day):
        day += dt.timedelta(days=1)
    return day


def _training_requests(staff: list[Row], requests: list[Row]) -> None:
    """The two newest requests (no № yet) become two teachers not trained yet asking for
    training: the demo's sync books them into the group session."""
    untrained = [
        r for r in staff if r["trained_on"] is None and r["position"] not in _OFFICE_POSITIONS
    ]
    texts = (
        "Прошу показать, как выставлять отметки и вести поурочное планирование в ЭЖ.",
        "Я новый учитель, нужно обучение работе в электронном журнале.",
    )
    newest = [r for r in requests[-2:] if r["number"] is None]
    for row, person, text in zip(newest, untrained, texts, strict=False):
        row.update(
            requester=person["full_name"],
            role=ROLE_TEACHER,
            class_name=None,
            channel=CH_PERSON,
            topic=T_TRAINING,
            description=text,
        )


def _demo_calendar(year: _Year, today: dt.date) -> WorkCalendar:
    """The calendar the demo sheet ends up with: the regulation hours, public holidays and
    vacations as `init` seeds them, and the school's own rows."""
    weekly = [WeeklyHours(d, a, b) for d, (a, b) in CONSULTATION_HOURS.items()]
    entries = [CalendarEntry(d, d, "Праздник") for d in sorted(year.public_holidays)]
    entries += [CalendarEntry(a, b, "Каникулы") for a, b in year.vacations]
    entries += _exceptions(year, today)
    return WorkCalendar.build(
        weekly, entries, tz=TIMEZONE, start=year.start, end=today + dt.timedelta(days=60)
    )


def _deadlines(drafts: list[dict[str, object]], calendar: WorkCalendar) -> np.ndarray:
    """Each draft's deadline in minutes, by the topic rules of the schema (as the sync counts)."""
    rules = load_schema().topic_rules
    received = to_minutes([d["received_at"] for d in drafts], TIMEZONE)
    due = np.full(len(drafts), np.nan)
    for i, d in enumerate(drafts):
        rule = rules[str(d["topic"])]
        if rule.sla_hours is not None:
            due[i] = calendar.add(received[i], rule.sla_hours * 60)
        else:
            due[i] = calendar.close_after_sessions(received[i], rule.sla_sessions)
    return due


@dataclass
class _Outcome:
    """What the simulated administrator did with each request by `now`."""

    finished: list[float]  # minutes; NaN when not finished
    held: list[bool]  # waiting for the requester now
    started: list[bool]  # some work done, not finished
    # (start, end) of each wait for the requester; end NaN while it lasts
    waits: dict[int, tuple[float, float]] = field(default_factory=dict)


def _simulate_administrator(
    drafts: list[dict[str, object]], year: _Year, calendar: WorkCalendar, until: float
) -> _Outcome:
    """The administrator's working hours, replayed up to `until`.

    They work only in the consultation hours, earliest deadline first, one request at a time,
    each taking its topic's time; they miss the sick week (a calendar nobody updated). A topic
    that needs a consultation waits for the requester to come: at the earliest two hours on.
    Some requests need an answer from the requester half-way: they wait for it a few days."""
    arrived = to_minutes([d["received_at"] for d in drafts], TIMEZONE)
    rules = load_schema().topic_rules
    visit = np.array([rules[str(d["topic"])].consultation for d in drafts], dtype=bool)
    ready = np.where(visit, calendar.next_open(arrived + 120.0), arrived)
    due = _deadlines(drafts, calendar)
    work = [float(d["_service"]) for d in drafts]  # type: ignore[arg-type]
    follow_up = [float(d["_follow_up"]) for d in drafts]  # type: ignore[arg-type]
    sick_from, sick_to = _sick_week(year)
    sick = (
        to_minutes(dt.datetime.combine(sick_from, dt.time(0)), TIMEZONE),
        to_minutes(dt.datetime.combine(sick_to + dt.timedelta(days=1), dt.time(0)), TIMEZONE),
    )
    out = _Outcome([np.nan] * len(drafts), [False] * len(drafts), [False] * len(drafts))
    queue: list[tuple[float, float, int]] = []  # (deadline, arrival, index)
    pending = [(float(r), i) for i, r in enumerate(ready) if np.isfinite(r)]
    heapq.heapify(pending)
    for start, end in zip(calendar.starts, calendar.ends, strict=True):
        if start >= until:
            break
        if sick[0] <= start < sick[1]:
            continue
        t, end = float(start), min(float(end), until)
        while t < end:
            while pending and pending[0][0] <= t:
                back, i = heapq.heappop(pending)
                if out.held[i]:
                    out.waits[i] = (out.waits[i][0], back)
                out.held[i] = False
                heapq.heappush(queue, (np.inf if np.isnan(due[i]) else due[i], arrived[i], i))
            if not queue:
                if pending and pending[0][0] < end:
                    t = pending[0][0]
                    continue
                break
            _, _, i = queue[0]
            step = min(work[i], end - t)
            work[i] -= step
            t += step
            out.started[i] = True
            if work[i] <= 1e-9:
                heapq.heappop(queue)
                if follow_up[i] > 0:
                    # Half-way: the requester has to send or check something first.
                    work[i], out.held[i] = follow_up[i] / 3, True
                    out.waits[i] = (t, np.nan)
                    again = calendar.next_open(t + follow_up[i] * 24 * 60)
                    if np.isfinite(again):
                        heapq.heappush(pending, (float(again), i))
                    follow_up[i] = 0
                else:
                    out.finished[i] = t
    return out


def _finish_moment(minutes: float) -> dt.datetime | None:
    """A simulated finish as a sheet moment (local wall time, whole minutes, rounded up)."""
    if not np.isfinite(minutes):
        return None
    moment = minute_to_datetime(float(np.ceil(minutes - 1e-6)), TIMEZONE)
    return moment.replace(tzinfo=None) if moment else None


def _request_rows(
    rng: random.Random,
    seed: int,
    year: _Year,
    now_local: dt.datetime,
    pupils: list[_Pupil],
    consent: list[Row],
    fields: list[str],
    history: list[Row],
) -> list[Row]:
    today = now_local.date()
    consultant = next(s.full_name for s in _STAFF if s.position == _ADMIN_POSITION)
    deputy = next(s.full_name for s in _STAFF if s.position == _DEPUTY_POSITION)
    # Parents who got a form are the ones who ask; pupils from the 5th class write themselves.
    asked = {(r["class_name"], r["parent"]) for r in consent if r["issued_on"] is not None}
    people = _People(
        staff=list(_STAFF),
        parents=[p for p in pupils if (p.class_name, p.parent) in asked] or pupils,
        pupils=[p for p in pupils if int(p.class_name[:-1]) >= 5],
    )

    drafts: list[dict[str, object]] = []
    day = year.start
    while day <= today:
        # One generator per day: an earlier `now` sees the same history up to its own day.
        day_rng = random.Random(f"{seed}:requests:{day.isoformat()}")
        n = _day_count(day_rng, 4.9 * _day_weight(day, year))
        # Before a term ends the staff, busy with final marks, ask more than the parents.
        mix = _ROLE_MIX
        if any(0 <= (end - day).days <= 10 for end in year.term_ends):
            mix = tuple((r, w * (0.6 if r == ROLE_PARENT else 1.3)) for r, w in _ROLE_MIX)
        for _ in range(n):
            role = str(_weighted(day_rng, mix))
            if year.in_vacation(day) and role in (ROLE_TEACHER, ROLE_CLASS_TEACHER, ROLE_ADMIN):
                role = ROLE_PARENT if day_rng.random() < 0.7 else role
            name, cls, subject = _requester(day_rng, role, people)
            channel = str(_weighted(day_rng, _CHANNELS_BY_ROLE[role]))
            topic = _topic_for(day_rng, role, day, year)
            received = dt.datetime.combine(day, _received_time(day_rng, role, channel))
            text_cls = cls or (_primary_class(name) if role == ROLE_TEACHER else None)
            description = _description(day_rng, topic, role, text_cls, subject, day, year)
            drafts.append(
                dict(
                    received_at=received,
                    requester=name,
                    role=role,
                    class_name=cls,
                    channel=channel,
                    topic=topic,
                    description=description,
                    _service=day_rng.randint(*_SERVICE_MINUTES[topic]),
                    # One in four needs the requester's answer first: back in 2-7 days.
                    _follow_up=day_rng.randint(2, 7) if day_rng.random() < 1 / 4 else 0,
                    _u=day_rng.random(),
                    _v=day_rng.random(),
                )
            )
        day += dt.timedelta(days=1)
    drafts = [d for d in drafts if d["received_at"] <= now_local]  # type: ignore[operator]
    drafts.sort(key=lambda d: d["received_at"])  # type: ignore[arg-type,return-value]

    # Numbers 1..N in order of arrival, three of them deleted since; the newest few have none yet.
    unnumbered = min(5, len(drafts))
    numbered = len(drafts) - unnumbered
    deleted = set(rng.sample(range(2, numbered + 2), 3)) if numbered > 10 else set()
    numbers = [k for k in range(1, numbered + len(deleted) + 1) if k not in deleted]

    # The statuses come out of the administrator's simulated working hours, not out of a share.
    outcome = _simulate_administrator(
        drafts, year, _demo_calendar(year, today), float(to_minutes(now_local, TIMEZONE))
    )
    rows: list[Row] = []
    for i, d in enumerate(drafts):
        received: dt.datetime = d["received_at"]  # type: ignore[assignment]
        u: float = d["_u"]  # type: ignore[assignment]
        number = numbers[i] if i < numbered else None
        resolved = _finish_moment(outcome.finished[i])
        status: str | None
        if number is None:
            status, resolved = None, None
        elif resolved is not None:
            status = ST_REJECTED if u < 0.05 else ST_DONE
        elif outcome.held[i]:
            status = ST_WAIT
        else:
            status = ST_WORK if outcome.started[i] else ST_NEW
        assignee = None
        if number is not None and d["_v"] < 0.08:  # type: ignore[operator]
            assignee = deputy if d["topic"] in (T_REPORTS, T_FINAL) else consultant
        rows.append(
            _row(
                fields,
                number=number,
                received_at=received,
                requester=d["requester"],
                role=d["role"],
                class_name=d["class_name"],
                channel=d["channel"],
                topic=d["topic"],
                description=d["description"],
                assignee=assignee,
                status=status,
                resolved_at=resolved if status == ST_DONE else None,
            )
        )

    _overdue_and_special(rng, rows, today)
    history.extend(_wait_history(outcome, rows, numbers[:numbered], until=now_local))
    return rows


def _wait_history(
    outcome: _Outcome, rows: list[Row], numbers: list[int], *, until: dt.datetime
) -> list[Row]:
    """The «Изменения» rows the sync would have written while requests waited for the
    requester: into «Ждём заявителя» and back «В работе» (so the waits pause the clock)."""
    schema = load_schema()
    status_header = schema["requests"].header("status")
    fields = [c.field for c in schema["changes"].columns]
    out = []
    for i, (start, end) in sorted(outcome.waits.items()):
        if i >= len(numbers):
            continue
        r = rows[i]
        if r["number"] is None or not isinstance(r["received_at"], dt.datetime):
            continue
        began = _finish_moment(start)
        back = _finish_moment(end)
        out.append(
            _row(fields, number=r["number"], field=status_header, old=ST_WORK, new=ST_WAIT,
                 at=began, job="Синхронизация")
        )  # fmt: skip
        if back is not None and back <= until:
            out.append(
                _row(fields, number=r["number"], field=status_header, old=ST_WAIT, new=ST_WORK,
                     at=back, job="Синхронизация")
            )  # fmt: skip
    return out


def _overdue_and_special(rng: random.Random, rows: list[Row], today: dt.date) -> None:
    """A few forgotten open requests, two pasted passwords, and the bad cells, on distinct rows."""
    used: set[int] = set()

    def pick(pred: Callable[[Row], bool], k: int = 1) -> list[Row]:
        idx = [i for i, r in enumerate(rows) if i not in used and pred(r)]
        chosen = rng.sample(idx, min(k, len(idx)))
        used.update(chosen)
        return [rows[i] for i in chosen]

    def age(r: Row) -> int:
        return (today - r["received_at"].date()).days  # type: ignore[union-attr]

    for r, status in zip(
        pick(lambda r: r["status"] == ST_DONE and 15 <= age(r) <= 45, 4),
        (ST_WORK, ST_NEW, ST_WAIT, ST_WORK),
        strict=False,
    ):
        r.update(status=status, resolved_at=None)
    for r, text in zip(
        pick(lambda r: r["topic"] == T_LOGIN and r["role"] == ROLE_PARENT, 2),
        _PASTED_PASSWORDS,
        strict=False,
    ):
        r.update(description=text)

    numbered = [r for r in rows if r["number"] is not None]
    if not numbered:
        return
    for r in pick(lambda r: r["status"] == ST_DONE and r["number"] is not None):
        r.update(status=BAD_STATUS)
    for r in pick(lambda r: r["role"] == ROLE_PARENT and r["number"] is not None):
        r.update(class_name=BAD_CLASS)
    for r in pick(lambda r: r["topic"] == T_MARKS and r["role"] == ROLE_TEACHER):
        r.update(topic=BAD_TOPIC)

    # «вчера» typed into the date of a request that is still new; typed within the last week.
    def recent(r: Row) -> bool:
        return r["number"] is not None and 1 <= age(r) <= 7

    for r in pick(lambda r: recent(r) and r["status"] == ST_NEW) or pick(recent):
        r.update(received_at=BAD_RECEIVED, status=ST_NEW, resolved_at=None)
    # The formula text sits in an open request (the administrator is still on it).
    for r in (
        pick(lambda r: r["status"] in (ST_NEW, ST_WORK))
        or pick(lambda r: r["status"] == ST_WAIT)
        or pick(recent)
    ):
        r.update(description=BAD_DESCRIPTION, status=ST_WORK, resolved_at=None)


def demo_rows(
    now: dt.datetime, *, seed: int = 2026, history: bool = False
) -> dict[str, list[dict[str, object]]]:
    """Rows of every staff-typed tab of the demo school as of `now` (deterministic per seed).

    Keys are schema tab keys; each row maps the tab's staff/auto fields to plain values. With
    `history`, also the «Изменения» rows earlier syncs would have left (waits for requesters).
    """
    schema = load_schema()
    now_local = _local_now(now)
    today = now_local.date()
    year = _school_year(today)
    rng = random.Random(f"{seed}:school")
    pupils = _make_pupils(rng)
    staff = _staff_rows(random.Random(f"{seed}:staff"), year, today, _fields(schema, "staff"))
    consent = _consent_rows(
        random.Random(f"{seed}:consent"), year, today, pupils, _fields(schema, "consent")
    )
    consultant = next(s.full_name for s in _STAFF if s.position == _ADMIN_POSITION)
    changes: list[Row] = []
    requests = _request_rows(
        random.Random(f"{seed}:numbers"),
        seed,
        year,
        now_local,
        pupils,
        consent,
        _fields(schema, "requests"),
        changes,
    )
    _training_requests(staff, requests)
    extra = {"changes": changes} if history else {}
    return {
        "requests": requests,
        "schedule": _schedule_rows(_fields(schema, "schedule"), consultant),
        "calendar": _calendar_rows(year, today, _fields(schema, "calendar")),
        "consent": consent,
        "staff": staff,
        **extra,
    }


# --- form answers (the intake tab: parents and teachers ask through a form) -------------------

FORM_TAB = "Ответы на форму (1)"
FORM_QUESTIONS = (
    "Отметка времени",
    "ФИО",
    "Кто вы",
    "Класс",
    "Тема",
    "Опишите вопрос",
    "Как с вами связаться",
)
_FORM_TEXTS = (
    "Не могу войти в электронный дневник ребёнка, пишет «неверный пароль».",
    "Не видно оценок за прошлую неделю, хотя учитель говорит, что поставил.",
    "Как подключить второго родителя к дневнику?",
    "Просим провести встречу для родителей по работе с дневником.",
    "Не приходят уведомления о домашнем задании.",
)


def form_answers(now: dt.datetime, *, seed: int = 2026, n: int = 30) -> list[list[object]]:
    """Answers of the school's form, as Google writes them into the intake tab: mostly good,
    a few bad (an unknown class, a topic outside the list, an empty or very long description,
    a formula typed into the description)."""
    rng = random.Random(seed + 18)
    local = _local_now(now).replace(second=0, microsecond=0)
    parent_topics = [t for t in load_schema().enums["topic"] if "родител" in t or "Вопрос" in t]
    rows: list[list[object]] = []
    for i in range(n):
        moment = local - dt.timedelta(hours=3 * (n - i), minutes=rng.randrange(60))
        surname = rng.choice(_SURNAMES)[1]
        name = f"{surname} {rng.choice(_MOTHERS)}"
        contact = f"{_latin(surname).lower()}{i}@example.org" if i % 3 else "+7 978 000-00-00"
        rows.append(
            [
                moment.strftime("%d.%m.%Y %H:%M:%S"),
                name,
                ROLE_PARENT,
                rng.choice(CLASSES),
                rng.choice(parent_topics),
                rng.choice(_FORM_TEXTS),
                contact,
            ]
        )
    bad = {
        3: (3, BAD_CLASS),
        7: (4, "Погода в школе"),
        11: (5, ""),
        15: (5, "Очень длинный вопрос. " * 230),
        19: (5, BAD_DESCRIPTION),
    }
    for i, (col, value) in bad.items():
        if i < n:
            rows[i][col] = value
    return rows
