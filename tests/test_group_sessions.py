"""Training (regulation 2.1) in group sessions: «Групповое занятие» rows of «Календарь», training
requests booked into them never beyond their places, the agenda naming who is coming, and
«Обучение пройдено» filled from the sessions attended only while empty."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from journaldesk.jobs.sync import sync
from journaldesk.rules.booking import (
    BookingPlan,
    BookingRules,
    Slot,
    agenda,
    agenda_lines,
    parse_slot,
    plan_bookings,
)
from journaldesk.rules.calendar import calendar_notes
from journaldesk.rules.group import GroupSession, group_notes, group_sessions, places_of
from journaldesk.rules.school_year import regulation_hours
from journaldesk.rules.worktime import WorkCalendar, to_minutes
from journaldesk.settings import parse_settings
from tests.helpers import SCHEMA, examples, field_values, make_workbook

TZ = "Europe/Simferopol"
ZONE = ZoneInfo(TZ)
TRAINING = "Обучение работе в ЭЖ"
MARKS = "Текущие отметки"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=ZONE)  # a Wednesday; notice: 2 hours
CALENDAR = WorkCalendar.build(
    regulation_hours(), [], tz=TZ, start=dt.date(2026, 9, 1), end=dt.date(2027, 6, 1)
)
RULES = BookingRules.from_settings(
    parse_settings({"booking": {"room": "12", "reserve_share": 0}}, Path("."))
)
ROOMS = {d: "12" for d in range(5)}


def local(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%d.%m.%Y %H:%M")


def session(start: str, end: str, places: int, room: str = "21", row: int = 2) -> GroupSession:
    day = start.split()[0]
    return GroupSession(row, local(start), local(f"{day} {end}"), room, places)


def requests(*rows: dict[str, object]) -> pd.DataFrame:
    base = {
        "topic": TRAINING,
        "status": "Новое",
        "requester": "Иванова Марина Николаевна",
        "received_at": local("25.11.2026 10:00"),
    }
    data = [{"number": float(i + 1), **base, **row} for i, row in enumerate(rows)]
    return pd.DataFrame(data, index=pd.RangeIndex(2, 2 + len(rows)), dtype=object)


def plan(
    frame: pd.DataFrame,
    groups: list[GroupSession],
    current: list[object] | None = None,
    due: np.ndarray | None = None,
) -> BookingPlan:
    values = list(current or []) + [None] * (len(frame) - len(current or []))
    return plan_bookings(
        frame,
        pd.Series(values, index=frame.index, dtype=object),
        calendar=CALENDAR,
        rules=RULES,
        now=NOW,
        sheet_tz=TZ,
        schedule_rooms=ROOMS,
        due=due,
        groups=groups,
    )


def label(g: GroupSession) -> str:
    return Slot(g.start, g.end, g.room).label()


# -- booking ------------------------------------------------------------------------------------


def test_training_requests_fill_the_earliest_group_session_then_the_next() -> None:
    thu = session("26.11.2026 15:00", "16:30", places=2)
    tue = session("01.12.2026 15:00", "16:30", places=2, row=3)
    frame = requests({}, {}, {}, {"topic": MARKS})
    p = plan(frame, [tue, thu])
    assert list(p.desired) == [
        "чт 26.11.2026 15:00–16:30, каб. 21",
        "чт 26.11.2026 15:00–16:30, каб. 21",
        "вт 01.12.2026 15:00–16:30, каб. 21",
        # The marks request gets an individual slot, and not inside Thursday's group time:
        # Wednesday 15:00 is the first after the notice.
        "ср 25.11.2026 15:00–15:20, каб. 12",
    ]
    assert p.in_group == {2: thu, 3: thu, 4: tue}


def test_the_group_sessions_time_is_never_an_individual_slot() -> None:
    # The group takes all of Wednesday's hours: marks requests go to Thursday.
    wed = session("25.11.2026 15:00", "17:00", places=1)
    frame = requests({"topic": MARKS}, {"topic": MARKS})
    p = plan(frame, [wed])
    assert [parse_slot(t).start for t in p.desired] == [
        local("26.11.2026 15:00"),
        local("26.11.2026 15:20"),
    ]


def test_a_slot_inside_a_group_session_moves_if_the_job_wrote_it_else_is_flagged() -> None:
    # The sync booked Thursday 15:00, a person typed 15:20; then a group session came there.
    g = session("26.11.2026 15:00", "16:30", places=4)
    frame = requests({"topic": MARKS}, {"topic": MARKS})
    own = "чт 26.11.2026 15:00–15:20, каб. 12"
    typed = "26.11 15:20"
    p = plan(frame, [g], current=[own, typed])
    assert p.desired[2] == "ср 25.11.2026 15:00–15:20, каб. 12"
    assert p.rebooked == [(1, own, "ср 25.11.2026 15:00–15:20, каб. 12")]
    assert p.desired[3] == typed  # a person's: kept as typed, flagged
    assert p.notes[3] == ["Консультация: «26.11 15:20» — в это время групповое занятие"]


def test_a_place_in_a_session_deleted_from_the_calendar_is_booked_again() -> None:
    gone = session("26.11.2026 15:00", "16:30", places=4)
    other = session("01.12.2026 15:00", "16:30", places=1, row=3)
    frame = requests({}, {}, {"topic": MARKS})
    # The administrator deleted Thursday's row; two places the job wrote there and a marks slot.
    p = plan(
        frame, [other], current=[label(gone), label(gone), "чт 26.11.2026 15:00–15:20, каб. 12"]
    )
    assert p.desired[2] == label(other)
    assert p.desired[3] == "ср 25.11.2026 15:00–15:20, каб. 12"  # no group place left
    assert p.desired[4] == "чт 26.11.2026 15:00–15:20, каб. 12"  # an individual slot: stays
    assert p.rebooked == [
        (1, label(gone), label(other)),
        (2, label(gone), "ср 25.11.2026 15:00–15:20, каб. 12"),
    ]


def test_with_no_free_group_place_ahead_training_gets_an_individual_slot() -> None:
    full = session("26.11.2026 15:00", "16:30", places=1)
    frame = requests({}, {})
    p = plan(frame, [full], current=[label(full)])
    assert p.desired[2] == label(full)  # kept
    assert parse_slot(p.desired[3]).start == local("25.11.2026 15:00")  # individual
    assert p.in_group == {2: full}


def test_a_group_session_before_the_notice_or_in_the_past_is_not_booked() -> None:
    soon = session("25.11.2026 13:00", "13:45", places=5)  # inside the two hours' notice
    later = session("27.11.2026 14:00", "15:00", places=5, row=3)
    p = plan(requests({}), [soon, later])
    assert p.desired[2] == label(later)


def test_a_late_group_place_says_so() -> None:
    g = session("03.12.2026 15:00", "16:30", places=3)
    due = np.asarray(to_minutes([local("30.11.2026 16:00")], TZ), dtype=float)
    p = plan(requests({}), [g], due=due)
    assert p.desired[2] == label(g)
    assert p.notes[2] == [
        "Консультация: запись позже срока: до срока нет группового занятия со свободными местами"
    ]


def test_typed_places_beyond_capacity_are_kept_and_flagged_and_nobody_is_added() -> None:
    g = session("26.11.2026 15:00", "16:30", places=2)
    frame = requests({}, {}, {}, {})
    p = plan(frame, [g], current=[label(g)] * 3)
    assert list(p.desired[:3]) == [label(g)] * 3
    assert p.desired[5] != label(g)
    for row in (2, 3, 4):
        assert p.notes[row] == [
            f"Консультация: на групповое занятие {label(g)} записано 3 при 2 местах"
        ]
    # Typed group places are not flagged as individual double bookings or out-of-hours slots.
    assert 5 not in p.notes


def test_a_finished_request_gives_its_group_place_back() -> None:
    g = session("26.11.2026 15:00", "16:30", places=1)
    frame = requests({"status": "Решено"}, {})
    p = plan(frame, [g], current=[label(g)])
    assert p.desired[2] is None
    assert p.desired[3] == label(g)


def test_a_group_place_outside_the_consultation_hours_is_kept_unflagged() -> None:
    sat = session("28.11.2026 10:00", "12:00", places=4)  # a Saturday: no consultation hours
    frame = requests({}, {})
    p = plan(frame, [sat], current=[label(sat)])
    assert list(p.desired) == [label(sat), label(sat)]
    assert p.notes == {}


@st.composite
def group_case(draw: st.DrawFn) -> tuple[pd.DataFrame, list[GroupSession], list[object]]:
    groups = []
    for i in range(draw(st.integers(1, 4))):
        day = dt.date(2026, 11, 25) + dt.timedelta(days=draw(st.integers(0, 9)))
        start = dt.datetime.combine(
            day, dt.time(draw(st.integers(9, 17)), draw(st.sampled_from([0, 30])))
        )
        end = start + dt.timedelta(minutes=draw(st.sampled_from([45, 60, 90])))
        groups.append(GroupSession(i + 2, start, end, "21", draw(st.integers(1, 3))))
    n = draw(st.integers(1, 14))
    rows, cells = [], []
    for _ in range(n):
        rows.append(
            {
                "topic": draw(st.sampled_from([TRAINING, TRAINING, MARKS])),
                "status": draw(st.sampled_from(["Новое", "Новое", "В работе", "Решено"])),
            }
        )
        typed = draw(st.sampled_from([None, None, None, "group"]))
        cells.append(label(draw(st.sampled_from(groups))) if typed else None)
    return requests(*rows), groups, cells


@given(group_case())
@hyp_settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
def test_a_group_session_never_gets_more_than_its_places(
    case: tuple[pd.DataFrame, list[GroupSession], list[object]],
) -> None:
    frame, groups, typed = case
    p = plan(frame, groups, current=typed)
    # Rows at the same time in the same room are one session (the first row's places).
    groups = list({g.start: g for g in sorted(groups, key=lambda g: (g.start, -g.row))}.values())
    starts = {g.start: g for g in groups}
    notice = local("25.11.2026 14:00")
    for g in groups:
        holding = [
            row
            for row, text in p.desired.items()
            if frame.at[row, "topic"] == TRAINING and text and parse_slot(text).start == g.start
        ]
        kept_typed = [row for row in holding if typed[row - 2] == p.desired[row]]
        # Never more than its places, unless people typed more in by hand (then none added).
        assert len(holding) <= max(g.places, len(kept_typed))
        if len(kept_typed) >= g.places:
            assert holding == kept_typed
    for row, text in p.desired.items():
        if text is None or typed[row - 2] == text:
            continue
        slot = parse_slot(text)
        if slot.start in starts and frame.at[row, "topic"] == TRAINING:
            continue
        # A new individual slot never lies in a group session's time ...
        assert not any(g.start < slot.end and slot.start < g.end for g in groups), text
        # ... and a training request gets one only when no session ahead has a free place.
        if frame.at[row, "topic"] == TRAINING:
            for g in groups:
                if g.start >= notice:
                    taken = sum(1 for t in p.desired if t and parse_slot(t).start == g.start)
                    assert taken >= g.places, (text, g)


# -- the agenda ---------------------------------------------------------------------------------


def test_the_agenda_names_who_comes_to_each_group_session() -> None:
    g = session("26.11.2026 15:00", "16:30", places=8)
    frame = requests(
        {"requester": "Петрова А. В."},
        {"requester": "Сидоров Б. Г."},
        {"topic": MARKS, "requester": "Кузнецова Е. Д."},
    )
    p = plan(frame, [g])
    days = agenda(
        frame,
        p.desired,
        calendar=CALENDAR,
        rules=RULES,
        day_from=dt.date(2026, 11, 26),
        day_to=dt.date(2026, 11, 26),
        schedule_rooms=ROOMS,
        groups=[g],
    )
    assert [b.requester for b in days[0].bookings] == []  # the marks request is on Wednesday
    # Thursday 15:00–17:00 is 6 slots; the group takes 15:00–16:30, so 16:40 is the only one.
    assert days[0].places == 1
    assert agenda_lines(days) == [
        "Консультации с 26.11.2026 по 26.11.2026",
        "чт 26.11.2026 15:00–17:00, каб. 12 — записано: 0, свободных мест: 1",
        "  записей нет",
        "  Групповое занятие 15:00–16:30, каб. 21: записано 2 из 8",
        "    Петрова А. В. (№ 1)",
        "    Сидоров Б. Г. (№ 2)",
        "Всего записано: 0, свободных мест: 1.",
    ]


# -- the calendar rows --------------------------------------------------------------------------


def calendar_frame(*rows: dict[str, object]) -> pd.DataFrame:
    base = {"date_to": None, "kind": "Групповое занятие", "comment": None}
    return pd.DataFrame(
        [{**base, **r} for r in rows], index=pd.RangeIndex(2, 2 + len(rows)), dtype=object
    )


def test_group_rows_are_read_with_room_and_places_and_flagged_when_incomplete() -> None:
    frame = calendar_frame(
        {"date_from": dt.date(2026, 12, 3), "time_from": dt.time(15), "time_to": dt.time(16, 30),
         "comment": "Кабинет 21, мест: 8"},
        {"date_from": dt.date(2026, 12, 4), "time_from": None, "time_to": None,
         "comment": "на 6 человек"},
        {"date_from": dt.date(2026, 12, 5), "time_from": dt.time(10), "time_to": dt.time(11)},
        {"date_from": dt.date(2026, 12, 6), "kind": "Праздник", "time_from": None,
         "time_to": None},
    )  # fmt: skip
    assert group_sessions(frame) == [
        GroupSession(2, local("03.12.2026 15:00"), local("03.12.2026 16:30"), "21", 8),
        GroupSession(4, local("05.12.2026 10:00"), local("05.12.2026 11:00"), "", 10),
    ]
    notes = group_notes(frame)
    assert notes[3] == [
        "Для группового занятия укажите «Время с» и «Время до»: пока на него никого не записывают"
    ]
    assert notes[4] == [
        "В «Комментарий» не указано число мест: взято 10 (пример: «каб. 21, мест 8»)"
    ]
    assert set(notes) == {3, 4}
    assert [places_of(t) for t in ("мест 8", "8 мест", "12 человек", "каб. 21", None)] == [
        8, 8, 12, None, None
    ]  # fmt: skip


def test_two_sessions_on_one_day_are_no_overlap_but_one_time_and_room_twice_is_flagged() -> None:
    frame = calendar_frame(
        {"date_from": dt.date(2026, 12, 3), "time_from": dt.time(10), "time_to": dt.time(11),
         "comment": "каб. 21, мест 8"},
        {"date_from": dt.date(2026, 12, 3), "time_from": dt.time(15), "time_to": dt.time(16),
         "comment": "каб. 21, мест 8"},
        {"date_from": dt.date(2026, 12, 3), "time_from": dt.time(15), "time_to": dt.time(16),
         "comment": "каб. 14, мест 6"},
        {"date_from": dt.date(2026, 12, 3), "time_from": dt.time(15), "time_to": dt.time(16, 30),
         "comment": "каб. 21, мест 10"},
    )  # fmt: skip
    notes = calendar_notes(frame, now=NOW)
    assert not any("Пересекается" in t for texts in notes.values() for t in texts)
    assert group_notes(frame) == {
        5: ["То же время и кабинет, что в строке 3: занятие одно, записывают на строку 3"]
    }
    # Booking takes the first of the two rows: its places, not the sum.
    p = plan(requests(*[{}] * 10), group_sessions(frame)[1:])
    held = [t for t in p.desired if t == "чт 03.12.2026 15:00–16:00, каб. 21"]
    assert len(held) == 8


# -- the whole sync: places, then «Обучение пройдено» -------------------------------------------


def as_day(value: object) -> dt.date | None:
    """A date cell as a store reads it: a date (workbook) or a serial number (Google)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    return pd.Timestamp(value).date()


def test_a_sync_books_the_group_and_fills_training_done_only_where_empty(make_sheet) -> None:
    staff = [
        {"full_name": "Иванова Мария Петровна", "position": "учитель"},
        {"full_name": "Петров Олег Ильич", "position": "учитель",
         "trained_on": dt.date(2026, 9, 1)},  # typed by a person: stays
        {"full_name": "Сидорова Анна Павловна", "position": "учитель"},  # her session is ahead
        {"full_name": "Орлова Вера Сергеевна", "position": "учитель"},  # not resolved
        {"full_name": "Кузьмин Юрий Львович", "position": "учитель",
         "trained_on": "да, в мае"},  # typed text, not a date: stays too
    ]  # fmt: skip
    past = "вт 17.11.2026 15:00–16:30, каб. 21"
    reqs = [
        {"number": 1, "received_at": dt.datetime(2026, 11, 10, 15, 0), "requester":
         "Иванова М. П.", "topic": TRAINING, "status": "Решено", "consultation": past},
        {"number": 2, "received_at": dt.datetime(2026, 11, 10, 15, 5), "requester":
         "Петров О. И.", "topic": TRAINING, "status": "Решено", "consultation": past},
        {"number": 3, "received_at": dt.datetime(2026, 11, 10, 15, 10), "requester":
         "Орлова В. С.", "topic": TRAINING, "status": "В работе", "consultation": past},
        {"number": 4, "received_at": dt.datetime(2026, 11, 24, 15, 0), "requester":
         "Сидорова А. П.", "topic": TRAINING},
        {"number": 5, "received_at": dt.datetime(2026, 11, 10, 15, 20), "requester":
         "Кузьмин Ю. Л.", "topic": TRAINING, "status": "Решено", "consultation": past},
    ]  # fmt: skip
    calendar = [
        {"date_from": dt.date(2026, 11, 17), "kind": "Групповое занятие",
         "time_from": dt.time(15), "time_to": dt.time(16, 30), "comment": "каб. 21, мест 8"},
        {"date_from": dt.date(2026, 12, 3), "kind": "Групповое занятие",
         "time_from": dt.time(15), "time_to": dt.time(16, 30), "comment": "каб. 21, мест 8"},
    ]  # fmt: skip
    sheet = make_sheet({"staff": staff, "requests": reqs, "calendar": calendar})
    store, settings = sheet.store, sheet.settings
    report = sync(store, settings, now=NOW)
    assert report.cells > 0
    assert field_values(store, "requests", "consultation") == [
        past, past, past, "чт 03.12.2026 15:00–16:30, каб. 21", past
    ]  # fmt: skip
    trained = field_values(store, "staff", "trained_on")
    assert trained[4] == "да, в мае"
    assert [as_day(v) for v in trained[:4]] == [
        dt.date(2026, 11, 17),  # attended, resolved: filled with the session's day
        dt.date(2026, 9, 1),  # typed: kept
        None,  # the session is ahead
        None,  # attended but not resolved
    ]
    again = sync(sheet.reopen(), settings, now=NOW)
    assert again.cells == 0
    assert SCHEMA["staff"].col("trained_on").owner == "auto"


def test_the_notebook_agenda_lists_each_group_place_and_names_only_with_show_names(
    tmp_path: Path,
) -> None:
    from journaldesk.jobs import notebook as nh

    reqs = [
        {"number": n, "received_at": dt.datetime(2026, 11, 24, 15, n), "requester": who,
         "role": "Учитель", "topic": TRAINING}
        for n, who in ((1, "Петрова Анна Викторовна"), (2, "Сидоров Борис Глебович"))
    ]  # fmt: skip
    calendar = [
        {"date_from": dt.date(2026, 12, 3), "kind": "Групповое занятие",
         "time_from": dt.time(15), "time_to": dt.time(16, 30), "comment": "каб. 21, мест 8"},
    ]  # fmt: skip
    _, settings = make_workbook(tmp_path, {"requests": reqs, "calendar": calendar})
    week = (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    table = nh.agenda_table(nh.read_view(settings, now=NOW), *week)
    group = table[table["Время"] == "15:00–16:30, групповое занятие, мест 8"]
    assert list(group["№"]) == [1, 2]
    assert list(group["День"]) == ["03.12.2026", "03.12.2026"]
    assert "Петрова" not in table.to_csv()
    named = nh.agenda_table(
        nh.read_view(settings.model_copy(update={"show_names": True}), now=NOW), *week
    )
    assert list(named[named["Время"].str.contains("групповое")]["Заявитель"]) == [
        "Петрова Анна Викторовна",
        "Сидоров Борис Глебович",
    ]
