"""The weekly figures on a small hand-made week (Mon 23.11.2026 – Sun 29.11.2026), by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from journaldesk.jobs.sync import parse_snapshot, plan_sheet
from journaldesk.rules.privacy import MASK, quote
from journaldesk.rules.summary import (
    WeekFigures,
    available_slots,
    consent_as_of,
    default_week,
    week_figures,
)
from journaldesk.settings import Settings, parse_settings
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import count
from journaldesk.store.base import Snapshot, TabData

SCHEMA = load_schema()
TZ = "Europe/Simferopol"  # UTC+3 all year
UTC = dt.UTC
WEEK = dt.date(2026, 11, 23)
# Monday 30.11.2026 07:00 local, given in UTC: the clock the summary job would see.
NOW = dt.datetime(2026, 11, 30, 4, 0, tzinfo=UTC)

TECH = "Техническая неисправность"  # 2 working hours
LOGIN = "Утерян логин или пароль"  # 1 working hour
IDEAS = "Вопросы и предложения"  # 10 working hours


def d(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    """A naive local moment in November 2026, as a date cell holds it."""
    return dt.datetime(2026, month, day, hour, minute)


def tab(key: str, rows: list[dict[str, object]]) -> TabData:
    t = SCHEMA[key]
    return TabData(t.title, [t.headers] + [[r.get(f) for f in t.fields] for r in rows])


REQUESTS = [
    # resolved in 60 working minutes, in time
    dict(number=1, received_at=d(23, 14), requester="Сидоров Иван Петрович", role="Учитель",
         topic=TECH, description="Не открывается журнал", status="Решено", resolved_at=d(23, 15)),
    # 90 minutes for a 1-hour topic: late
    dict(number=2, received_at=d(24, 15), requester="Иванова Анна Сергеевна", role="Родитель",
         class_name="5А", topic=LOGIN, description="не могу войти, пароль: Qwerty123",
         status="Решено", resolved_at=d(24, 16, 30)),
    # Wed 15:00 -> Thu 15:30: 120 + 30 = 150 working minutes, late; its slot is in the week
    dict(number=3, received_at=d(25, 15), requester="Петрова Ольга", role="Учитель",
         topic=TECH, description="Принтер в кабинете", status="Решено", resolved_at=d(26, 15, 30),
         consultation="чт 26.11.2026 15:20–15:40, каб. 12"),
    # Sunday 23:30 local (20:30 UTC): in the week
    dict(number=4, received_at=d(29, 23, 30), requester="Кузнецов Олег", role="Учитель",
         topic=IDEAS, description="Предложение", status="Новое",
         consultation="пн 30.11.2026 14:00–14:20, каб. 12"),
    # Monday 00:10 local (Sunday 21:10 UTC): the next week
    dict(number=5, received_at=d(30, 0, 10), requester="Кузнецов Олег", role="Учитель",
         topic=IDEAS, description="Ещё предложение", status="Новое"),
    # the week before, still open and overdue: due Fri 20.11 16:00
    dict(number=6, received_at=d(20, 14), requester="Иванова Анна Сергеевна", role="Родитель",
         class_name="5А", topic=TECH, description="Иванова Анна Сергеевна: не грузится дневник, "
         "пишите на anna.ivanova@mail.ru", status="В работе"),
    # rejected on Tue 24.11 (the history says so)
    dict(number=7, received_at=d(16, 14), requester="Смирнов Глеб", role="Ученик",
         class_name="5Б", topic=LOGIN, description="Просьба", status="Отклонено"),
    # waiting for the requester: open, paused
    dict(number=8, received_at=d(23, 14, 30), requester="Сидоров Иван Петрович", role="Учитель",
         topic=TECH, description="Нужны подробности", status="Ждём заявителя"),
]  # fmt: skip

CHANGES = [
    dict(number=7, field="Статус", old="", new="Новое", at=d(16, 14, 15), job="Синхронизация"),
    dict(number=7, field="Статус", old="Новое", new="Отклонено", at=d(24, 15), job="Синхронизация"),
]

SCHEDULE = [
    dict(weekday="Понедельник", start=dt.time(14), end=dt.time(16), room="12"),
    *(
        dict(weekday=w, start=dt.time(15), end=dt.time(17), room="12")
        for w in ("Вторник", "Среда", "Четверг")
    ),
    dict(weekday="Пятница", start=dt.time(14), end=dt.time(16), room="12"),
]

CONSENT = [
    # ready since 10.11
    dict(class_name="5А", pupil="Иванов Пётр", parent="Иванова Анна Сергеевна", relation="Мать",
         application="Подано", pd_consent="Подписано", issued_on=dt.date(2026, 11, 2),
         submitted_on=dt.date(2026, 11, 10)),
    # ready since Wednesday of the week: last week it was only handed out
    dict(class_name="5А", pupil="Орлова Мария", parent="Орлов Дмитрий", relation="Отец",
         application="Подано", pd_consent="Подписано", issued_on=dt.date(2026, 11, 2),
         submitted_on=dt.date(2026, 11, 25)),
    # handed out; the submitted date contradicts the status: one «Проверка» note
    dict(class_name="5Б", pupil="Смирнов Глеб", parent="Смирнова Вера", relation="Мать",
         application="Выдано", pd_consent="Нет", issued_on=dt.date(2026, 11, 10),
         submitted_on=dt.date(2026, 11, 12)),
]  # fmt: skip

STAFF = [
    dict(full_name="Сидоров Иван Петрович", position="учитель", class_led="5А",
         manual_given_on=dt.date(2026, 9, 1), trained_on=dt.date(2026, 9, 5)),
    dict(full_name="Петрова Ольга", position="учитель", class_led="5Б",
         manual_given_on=dt.date(2026, 9, 1)),
]  # fmt: skip

HISTORY = [
    dict(week_start=dt.date(2026, 11, 16), received=4, resolved=3, applications_share=50.0,
         consent_share=40.0),
]  # fmt: skip


def snapshot(**override: list[dict[str, object]]) -> Snapshot:
    rows = {
        "requests": REQUESTS,
        "schedule": SCHEDULE,
        "calendar": [],
        "consent": CONSENT,
        "staff": STAFF,
        "summary": HISTORY,
        "log": [],
        "changes": CHANGES,
    }
    rows.update(override)
    return Snapshot(tabs={SCHEMA[k].title: tab(k, v) for k, v in rows.items()})


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("settings")
    return parse_settings(
        {"timezone": TZ, "consent": {"target_share": 0.9, "deadline": dt.date(2026, 11, 20)}},
        base,
    )


def figures_for(
    settings: Settings, snap: Snapshot | None = None, *, now: dt.datetime = NOW, **kw: object
) -> WeekFigures:
    parsed = parse_snapshot(snap or snapshot(), SCHEMA, TZ)
    plan = plan_sheet(parsed, settings, now=now, sheet_tz=TZ)
    return week_figures(parsed, plan, settings, now=now, sheet_tz=TZ, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def week(settings: Settings) -> WeekFigures:
    return figures_for(settings)


def test_default_week_is_the_last_complete_one_in_the_school_zone() -> None:
    # Sunday 21:30 UTC is already Monday 00:30 in Simferopol: the week of 23.11 is complete.
    assert default_week(dt.datetime(2026, 11, 29, 21, 30, tzinfo=UTC), TZ) == WEEK
    # Sunday 20:30 UTC is Sunday 23:30 there: the week of 23.11 is still running.
    assert default_week(dt.datetime(2026, 11, 29, 20, 30, tzinfo=UTC), TZ) == dt.date(2026, 11, 16)


def test_week_boundary_follows_local_midnight_not_utc(week: WeekFigures) -> None:
    sunday = d(29, 23, 30).replace(tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    monday = d(30, 0, 10).replace(tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    assert sunday.date() == monday.date() == dt.date(2026, 11, 29)  # the same UTC day
    assert week.week_start == WEEK and week.week_end == dt.date(2026, 11, 30)
    assert week.received == 5  # №1, 2, 3, 8 and the Sunday-night №4; not the Monday №5
    ideas = next(t for t in week.topics if t.topic == IDEAS)
    assert ideas.received == 1


def test_requests_resolved_and_sla_compliance(week: WeekFigures) -> None:
    assert week.resolved == 3
    assert week.resolved_in_time == 1  # only №1
    assert week.in_time_share == pytest.approx(1 / 3)


def test_median_working_time_to_resolve_overall_and_by_topic(week: WeekFigures) -> None:
    # 60, 90 and 150 working minutes: the median is 90 (the mean would be 100)
    assert week.median_resolve_minutes == 90
    by_topic = {t.topic: t for t in week.topics}
    assert by_topic[TECH].median_minutes == 105  # 60 and 150
    assert by_topic[LOGIN].median_minutes == 90
    assert by_topic[TECH].received == 3 and by_topic[TECH].resolved == 2
    assert week.top_topics[0].topic == TECH


def test_open_overdue_at_risk_and_backlog_age(week: WeekFigures) -> None:
    # open at Monday 00:00: №4 (0 min), №6 (720 working minutes), №8 (570, waiting)
    assert week.open_at_end == 3
    assert week.overdue_at_end == 1  # №6; №8 is paused
    assert week.at_risk_at_end == 0
    assert week.backlog_median_minutes == 570
    assert week.backlog_max_minutes == 720
    # now (Monday 07:00) №5 has arrived too
    assert week.open_now == 4
    assert week.overdue_now == 1 and week.paused_now == 1


def test_now_figures_are_the_syncs_due_states(settings: Settings) -> None:
    parsed = parse_snapshot(snapshot(), SCHEMA, TZ)
    plan = plan_sheet(parsed, settings, now=NOW, sheet_tz=TZ)
    states = plan.requests.derived["due_state"]
    f = week_figures(parsed, plan, settings, now=NOW, sheet_tz=TZ)
    assert f.overdue_now == int((states == "Просрочено").sum())
    assert f.at_risk_now == int((states == "Под угрозой").sum())
    assert f.paused_now == int((states == "Приостановлено").sum())


def test_a_past_week_takes_statuses_from_the_history(settings: Settings) -> None:
    f = figures_for(settings, week_start=dt.date(2026, 11, 18))  # any day picks its week
    assert f.week_start == dt.date(2026, 11, 16)
    # at 23.11 00:00 №6 was open and №7 not yet rejected (rejected on 24.11 by the history)
    assert f.open_at_end == 2
    assert f.overdue_at_end == 2  # №6 was due on Friday 20.11 16:00, №7 on Monday 16.11 15:00
    assert f.approximations  # a rebuilt week says what is approximated
    without_history = figures_for(settings, snapshot(changes=[]), week_start=dt.date(2026, 11, 16))
    # no observation: a rejected request counts as rejected from the start
    assert without_history.open_at_end == 1


def test_consultation_slots_booked_and_available(week: WeekFigures, settings: Settings) -> None:
    assert week.slots_booked == 1  # Thursday's slot; Monday 30.11 belongs to the next week
    assert week.consultation_minutes == 600
    assert week.slots_available == 30  # 600 minutes / 20-minute slots x capacity 1


def test_available_slots_respect_capacity_buffer_and_daily_cap() -> None:
    parsed = parse_snapshot(snapshot(), SCHEMA, TZ)
    from journaldesk.rules.booking import BookingRules
    from journaldesk.rules.calendar import build_calendar

    cal = build_calendar(
        parsed["schedule"].frame, parsed["calendar"].frame, tz=TZ, earliest=None, now=NOW
    )
    tuned = BookingRules(slot_minutes=20, capacity=2, buffer_minutes=10, daily_cap=7)
    # a 120-minute session holds 4 slots of 20 + 10 (the last needs no buffer): 8 places,
    # capped at 7 a day, 5 days
    assert available_slots(cal, WEEK, dt.date(2026, 11, 29), tuned) == (35, 600.0)


# Every shape of «Консультация» the booking writes or accepts, and some it refuses; True: a slot
# in the week of 23.11.2026 that the booking keeps (all requests are resolved, all slots past).
SLOT_CELLS: list[tuple[object, bool]] = [
    ("пн 23.11.2026 14:00–14:20, каб. 12", True),  # the label the booking writes
    ("24.11 15:20-15:40", True),  # no year: the booking's year hint
    ("15:20-15:40 25.11.2026", True),  # the time first
    ("Чт. 26.11.26 с 15:40 до 16:00", True),  # two-digit year, «с … до …»
    ("2026-11-27 14:00–14:20 каб 12", True),  # ISO date
    ("пятница, 27.11.2026 в 14:20", True),  # no end: one slot long
    (d(25, 16), True),  # a sheet turned the text into a date-time cell
    ("ср 24.11.2026 15:20–15:40", False),  # 24.11.2026 is a Tuesday: refused with a note
    ("24.11.2026 15:20–15:40 перезвонить", False),  # not a slot: refused with a note
    ("придёт в четверг", False),
    ("вс 22.11.2026 15:00–15:20", False),  # the week before
]


def test_slots_booked_counts_every_slot_shape_the_booking_keeps(settings: Settings) -> None:
    rows = [
        dict(number=i + 1, received_at=d(20, 14), requester="Петрова Ольга", role="Учитель",
             topic=TECH, description=f"Просьба {i}", status="Решено", resolved_at=d(20, 15),
             consultation=cell)
        for i, (cell, _) in enumerate(SLOT_CELLS)
    ]  # fmt: skip
    f = figures_for(settings, snapshot(requests=rows, changes=[]))
    assert f.slots_booked == sum(in_week for _, in_week in SLOT_CELLS)


def test_consent_coverage_and_change_since_last_week(week: WeekFigures) -> None:
    classes = {c.class_name: c for c in week.classes}
    assert classes["5А"].ready == 2 and classes["5А"].ready_share == 1.0
    assert classes["5А"].change == pytest.approx(0.5)  # Орлова submitted on 25.11
    assert classes["5Б"].ready_share == 0.0 and classes["5Б"].behind
    assert week.pupils == 3
    assert week.applications_share == pytest.approx(2 / 3)
    # last week's shares come from the «Сводка» row of 16.11 (50 % and 40 %)
    assert week.previous_source == "history"
    assert week.applications_change == pytest.approx(2 / 3 - 0.5)
    assert week.consent_change == pytest.approx(2 / 3 - 0.4)
    assert week.behind_classes == ["5Б"]


def test_change_is_recomputed_when_the_history_has_no_row(settings: Settings) -> None:
    f = figures_for(settings, snapshot(summary=[]))
    assert f.previous_source == "recomputed"
    assert f.applications_change == pytest.approx(2 / 3 - 1 / 3)


def test_consent_as_of_rolls_forms_back_by_their_dates() -> None:
    parsed = parse_snapshot(snapshot(), SCHEMA, TZ)
    before = consent_as_of(parsed["consent"].frame, dt.date(2026, 11, 20))
    assert list(before["application"]) == ["Подано", "Выдано", "Выдано"]
    assert list(before["pd_consent"]) == ["Подписано", "Нет", "Нет"]
    early = consent_as_of(parsed["consent"].frame, dt.date(2026, 11, 1))
    assert set(early["application"]) == {"Не выдано"}


def test_staff_readiness_and_sheet_problems(week: WeekFigures) -> None:
    assert week.no_manual == []
    assert week.no_training == ["Петрова Ольга"]
    assert week.problems["Согласия"] == 1
    assert week.problems_total == sum(week.problems.values())


def test_history_row_fields_match_the_schema(week: WeekFigures) -> None:
    row = week.history_row()
    assert list(row) == SCHEMA["summary"].fields
    assert row["week_start"] == WEEK
    assert row["in_time_share"] == 33.3
    assert row["median_hours"] == 1.5
    assert row["open"] == 3


def test_overdue_list_shows_numbers_and_masks_quotes(week: WeekFigures) -> None:
    [item] = week.overdue_list
    assert item.number == 6 and item.requester is None
    assert "anna.ivanova@mail.ru" not in item.quote
    # The requester is also a parent on «Согласия»: marked as a parent, in any form.
    assert "Иванова" not in item.quote and "Анна" not in item.quote
    assert item.quote.startswith("[родитель]")


def test_quotes_mask_pasted_passwords() -> None:
    text = quote("не могу войти, пароль: Qwerty123", None)
    assert "Qwerty123" not in text and MASK in text


def test_show_names_lets_the_requester_through(settings: Settings) -> None:
    f = figures_for(settings.model_copy(update={"show_names": True}))
    assert f.overdue_list[0].requester == "Иванова Анна Сергеевна"


def test_an_empty_sheet_gives_an_empty_week(settings: Settings) -> None:
    f = figures_for(settings, snapshot(requests=[], consent=[], staff=[], summary=[], changes=[]))
    assert (f.received, f.resolved, f.open_at_end, f.slots_booked) == (0, 0, 0, 0)
    assert f.in_time_share is None and f.median_resolve_minutes is None
    assert f.backlog_max_minutes is None and f.classes == [] and f.pupils == 0


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1 обращение"), (2, "2 обращения"), (5, "5 обращений"), (11, "11 обращений"),
     (21, "21 обращение"), (22, "22 обращения"), (112, "112 обращений")],
)  # fmt: skip
def test_plural_forms(n: int, text: str) -> None:
    assert count(n, "обращение", "обращения", "обращений") == text


def test_module_reads_no_clock() -> None:
    source = Path(__file__).resolve().parent.parent / "journaldesk" / "rules" / "summary.py"
    assert "datetime.now" not in source.read_text() and "dt.datetime.now" not in source.read_text()


def test_a_topic_outside_the_list_is_not_called_missing(settings: Settings) -> None:
    extra = [
        dict(number=20, received_at=d(24, 15), requester="Учитель А", role="Учитель",
             topic="Принтер не печатает", description="x", status="Новое"),
        dict(number=21, received_at=d(24, 15), requester="Учитель Б", role="Учитель",
             description="y", status="Новое"),
    ]  # fmt: skip
    f = figures_for(settings, snapshot(requests=REQUESTS + extra))
    counts = {t.topic: t.received for t in f.topics}
    assert counts.get("(тема не из списка)") == 1
    assert counts.get("(тема не указана)") == 1


def test_lateness_reads_the_same_wherever_it_is_shown() -> None:
    from journaldesk.sheet.textfmt import late_by

    due = dt.datetime(2026, 11, 23, 15, 0)
    assert late_by(750, due, 3) == "12,5 раб. ч (с 23.11)"
    assert late_by(750, due, 9) == "12,5 раб. ч (с 23.11, 9 календарных дней)"
    assert late_by(40, due, 8) == "40 раб. мин (с 23.11, 8 календарных дней)"
    assert late_by(120, due, 22) == "2 раб. ч (с 23.11, 22 календарных дня)"
    assert late_by(None, None, None) == "—"
    assert late_by(90, None, 30) == "1,5 раб. ч"
