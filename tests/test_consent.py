"""Rules of the consent tab (Согласия) and the staff tab (Сотрудники): states, checks, coverage."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journaldesk.rules import consent as c
from journaldesk.rules.consent import (
    ConsentRules,
    chase_list,
    consent_rows,
    coverage,
    staff_readiness,
)
from journaldesk.sheet.schema import load_schema
from tests.helpers import examples

SCHEMA = load_schema()
TAB = SCHEMA["consent"]
STAFF = SCHEMA["staff"]
NOT_ISSUED, ISSUED, SUBMITTED, REFUSED, LEFT = TAB.col("application").values
PD_NO, SIGNED, REVOKED, PD_REFUSED = TAB.col("pd_consent").values
S_READY, S_WAIT, S_WAIT_LONG, S_REFUSED, S_REVOKED, S_NOT_ISSUED, S_LEFT = TAB.col("state").values

TODAY = dt.date(2025, 10, 15)
RULES = ConsentRules()


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def consent_frame(rows: dict[int, dict]) -> pd.DataFrame:
    """A typed consent frame as the parsing layer gives it: index = sheet row, every field."""
    return pd.DataFrame(
        [{f: row.get(f) for f in TAB.fields} for row in rows.values()],
        index=pd.Index(list(rows), dtype="int64"),
        columns=TAB.fields,
    )


def staff_frame(rows: dict[int, dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [{f: row.get(f) for f in STAFF.fields} for row in rows.values()],
        index=pd.Index(list(rows), dtype="int64"),
        columns=STAFF.fields,
    )


def one(row: dict, *, today: dt.date = TODAY, rules: ConsentRules = RULES, known=None):
    """State and check of a single row (sheet row 2) in class 5А unless the row says otherwise."""
    row = {"class_name": "5А", "pupil": "Иванов Иван", **row}
    out = consent_rows(
        consent_frame({2: row}), today=today, rules=rules, known_classes=known or set()
    )
    return out.at[2, "state"], out.at[2, "check"]


def h(field: str) -> str:
    return f"«{TAB.header(field)}»"


def test_module_constants_follow_the_schema():
    assert (c.APP_NOT_ISSUED, c.APP_ISSUED, c.APP_SUBMITTED, c.APP_REFUSED) == (
        NOT_ISSUED,
        ISSUED,
        SUBMITTED,
        REFUSED,
    )
    assert set(c._STATE_RANK) == set(TAB.col("state").values)


# --- states ------------------------------------------------------------------------------------


def test_ready_needs_application_and_consent():
    row = {
        "application": SUBMITTED,
        "pd_consent": SIGNED,
        "issued_on": ago(20),
        "submitted_on": ago(10),
        "login_issued_on": ago(9),
    }
    assert one(row) == (S_READY, "")


def test_handed_out_within_the_wait_is_waiting():
    assert one({"application": ISSUED, "pd_consent": PD_NO, "issued_on": ago(14)}) == (S_WAIT, "")


def test_handed_out_longer_than_the_wait_says_since_when_and_stays_put():
    issued = ago(15)
    state, check = one({"application": ISSUED, "pd_consent": PD_NO, "issued_on": issued})
    assert state == S_WAIT_LONG
    assert f"Выдано {issued:%d.%m.%Y}, прошло больше 14 дней" in check
    # The note does not count days: it must not change (and rewrite the sheet) every day.
    _, later = one(
        {"application": ISSUED, "pd_consent": PD_NO, "issued_on": issued},
        today=TODAY + dt.timedelta(days=1),
    )
    assert later == check
    assert "заявление" in check and "согласие" in check


def test_wait_days_come_from_the_rules():
    rules = ConsentRules(wait_days=20)
    row = {"application": ISSUED, "issued_on": ago(21)}
    state, check = one(row, rules=rules)
    assert state == S_WAIT_LONG
    assert "прошло больше 20 дней" in check
    assert one({"application": ISSUED, "issued_on": ago(20)}, rules=rules)[0] == S_WAIT


def test_application_back_but_consent_missing_is_still_waiting_for_the_consent():
    state, check = one({"application": SUBMITTED, "pd_consent": PD_NO, "issued_on": ago(30)})
    assert state == S_WAIT_LONG
    assert "согласие на обработку персональных данных" in check
    assert "заявление на электронный дневник" not in check


def test_waiting_without_an_issued_date_asks_for_it():
    state, check = one({"application": ISSUED})
    assert state == S_WAIT
    assert h("issued_on") in check


def test_empty_application_with_an_issued_date_counts_as_handed_out():
    assert one({"issued_on": ago(3)}) == (S_WAIT, "")


def test_refusal():
    assert one({"application": REFUSED, "issued_on": ago(40)}) == (S_REFUSED, "")


def test_revoked_without_login_is_quiet():
    row = {"application": SUBMITTED, "pd_consent": REVOKED, "revoked_on": ago(2)}
    assert one(row) == (S_REVOKED, "")


def test_revoked_with_login_says_access_must_be_withdrawn():
    row = {
        "application": SUBMITTED,
        "pd_consent": REVOKED,
        "revoked_on": ago(2),
        "login_issued_on": ago(40),
    }
    state, check = one(row)
    assert state == S_REVOKED
    assert "закройте" in check and "доступ" in check
    assert ago(40).strftime("%d.%m.%Y") in check


def test_revocation_wins_over_refusal():
    assert one({"application": REFUSED, "pd_consent": REVOKED, "revoked_on": ago(1)})[0] == (
        S_REVOKED
    )


@pytest.mark.parametrize("application", [NOT_ISSUED, None])
def test_not_issued(application):
    assert one({"application": application}) == (S_NOT_ISSUED, "")


def test_not_issued_with_an_issued_date_is_flagged():
    state, check = one({"application": NOT_ISSUED, "issued_on": ago(3)})
    assert state == S_NOT_ISSUED
    assert h("issued_on") in check and f"«{ISSUED}»" in check


def test_every_state_is_a_schema_value():
    rows = {
        2: {"application": SUBMITTED, "pd_consent": SIGNED},
        3: {"application": ISSUED, "issued_on": ago(1)},
        4: {"application": ISSUED, "issued_on": ago(100)},
        5: {"application": REFUSED},
        6: {"pd_consent": REVOKED, "revoked_on": ago(1)},
        7: {},
        8: {"application": LEFT, "revoked_on": ago(1)},
    }
    frame = consent_frame({k: {"class_name": "5А", "pupil": f"П{k}", **v} for k, v in rows.items()})
    out = consent_rows(frame, today=TODAY, rules=RULES, known_classes=set())
    assert list(out["state"]) == list(TAB.col("state").values)


# --- contradictions ----------------------------------------------------------------------------


@pytest.mark.parametrize("pd_consent", [PD_NO, None])
def test_login_without_signed_consent(pd_consent):
    row = {"application": SUBMITTED, "pd_consent": pd_consent, "login_issued_on": ago(1)}
    state, check = one(row)
    assert state == S_WAIT
    assert "Логин выдан" in check and "согласие на обработку персональных данных" in check
    assert "заявление" not in check


def test_login_without_application():
    row = {"application": REFUSED, "pd_consent": SIGNED, "login_issued_on": ago(1)}
    state, check = one(row)
    assert state == S_REFUSED
    assert "Логин выдан" in check and "заявление на электронный дневник" in check


def test_submitted_before_handed_out():
    row = {
        "application": SUBMITTED,
        "pd_consent": SIGNED,
        "issued_on": ago(5),
        "submitted_on": ago(8),
    }
    state, check = one(row)
    assert state == S_READY
    assert h("submitted_on") in check and h("issued_on") in check
    assert ago(8).strftime("%d.%m.%Y") in check and ago(5).strftime("%d.%m.%Y") in check


def test_same_day_submission_is_fine():
    row = {
        "application": SUBMITTED,
        "pd_consent": SIGNED,
        "issued_on": ago(5),
        "submitted_on": ago(5),
    }
    assert one(row) == (S_READY, "")


def test_revocation_date_with_consent_still_signed():
    row = {"application": SUBMITTED, "pd_consent": SIGNED, "revoked_on": ago(3)}
    state, check = one(row)
    # A revocation date is a revocation: the row is «Отозвано», the note asks to fix the column.
    assert state == S_REVOKED
    assert check == (
        f"Заполнена {h('revoked_on')} {ago(3):%d.%m.%Y}, но согласие отмечено «{SIGNED}»: "
        f"строка считается отозванной. Исправьте столбец {h('pd_consent')}: «{REVOKED}», если "
        f"родитель отозвал согласие; если он подписал новое — впишите его {h('submitted_on')} "
        f"позже даты отзыва; если отзыва не было — очистите {h('revoked_on')}"
    )


def test_revoked_without_a_date():
    state, check = one({"application": SUBMITTED, "pd_consent": REVOKED})
    assert state == S_REVOKED
    assert f"«{REVOKED}»" in check and h("revoked_on") in check


@pytest.mark.parametrize("application", [ISSUED, REFUSED, NOT_ISSUED, None])
def test_submission_date_without_submitted_application(application):
    row = {"application": application, "issued_on": ago(9), "submitted_on": ago(4)}
    _, check = one(row)
    assert h("submitted_on") in check and f"«{SUBMITTED}»" in check


def test_pupil_listed_twice_names_the_other_row():
    frame = consent_frame(
        {
            3: {"class_name": "5А", "pupil": "Петров Пётр", "application": ISSUED},
            8: {"class_name": "5А", "pupil": "  петров   петр ", "application": ISSUED},
            9: {"class_name": "5Б", "pupil": "Петров Пётр", "application": ISSUED},
        }
    )
    out = consent_rows(frame, today=TODAY, rules=RULES, known_classes=set())
    assert "строке 8" in out.at[3, "check"]
    assert "строке 3" in out.at[8, "check"]
    assert "строке" not in out.at[9, "check"]  # same name, other class: another child


def test_pupil_listed_three_times_with_a_latin_lookalike():
    frame = consent_frame(
        {
            2: {"class_name": "7В", "pupil": "Сорокина Алёна"},
            4: {"class_name": "7В", "pupil": "Cорокина Алена"},  # Latin C
            5: {"class_name": "7В", "pupil": "СОРОКИНА АЛЕНА"},
        }
    )
    out = consent_rows(frame, today=TODAY, rules=RULES, known_classes=set())
    assert "строках 4, 5" in out.at[2, "check"]
    assert "строках 2, 5" in out.at[4, "check"]
    assert "строках 2, 4" in out.at[5, "check"]


def test_class_that_does_not_exist():
    state, check = one({"class_name": "5Д"}, known={"5А", "5Б"})
    assert state == S_NOT_ISSUED
    assert "«5Д»" in check and f"«{STAFF.title}»" in check
    assert one({"class_name": "5Б"}, known={"5А", "5Б"})[1] == ""
    assert one({"class_name": "5Д"}, known=set())[1] == ""  # nothing to compare with


@pytest.mark.parametrize("field", ["issued_on", "submitted_on", "revoked_on", "login_issued_on"])
def test_dates_in_the_future(field):
    _, check = one({field: TODAY + dt.timedelta(days=1)})
    assert h(field) in check and "ещё не наступила" in check
    _, check_today = one({field: TODAY})
    assert "ещё не наступила" not in check_today


def test_several_notes_are_joined_and_the_index_is_kept():
    frame = consent_frame(
        {
            17: {
                "class_name": "9Я",
                "pupil": "Орлов",
                "application": ISSUED,
                "submitted_on": TODAY + dt.timedelta(days=2),
            },
            40: {
                "class_name": "9А",
                "pupil": "Орлова",
                "application": SUBMITTED,
                "pd_consent": SIGNED,
            },
        }
    )
    out = consent_rows(frame, today=TODAY, rules=RULES, known_classes={"9А"})
    assert list(out.index) == [17, 40]
    assert list(out.columns) == ["state", "check"]
    notes = out.at[17, "check"].split("; ")
    assert len(notes) == 4  # no issued date, date without «Подано», unknown class, future date
    assert out.at[40, "check"] == ""


def test_empty_sheet():
    out = consent_rows(consent_frame({}), today=TODAY, rules=RULES, known_classes={"5А"})
    assert out.empty and list(out.columns) == ["state", "check"]
    cov = coverage(consent_frame({}), today=TODAY, rules=ConsentRules(classes=("5А",)))
    assert list(cov.index) == ["5А"] and cov.at["5А", "pupils"] == 0
    assert chase_list(consent_frame({}), "5А", today=TODAY, rules=RULES).empty


@pytest.mark.parametrize(
    ("n", "text"), [(1, "1 день"), (3, "3 дня"), (11, "11 дней"), (22, "22 дня")]
)
def test_day_words(n, text):
    assert c._days(n) == text


# --- coverage ----------------------------------------------------------------------------------


def school() -> pd.DataFrame:
    """Two classes, seven pupils (plus one pupil listed twice), worked out by hand below."""
    return consent_frame(
        {
            2: {
                "class_name": "10А",
                "pupil": "Иванов",
                "application": SUBMITTED,
                "pd_consent": SIGNED,
                "issued_on": ago(30),
                "submitted_on": ago(25),
                "login_issued_on": ago(20),
            },
            3: {
                "class_name": "10А",
                "pupil": "Петров",
                "application": ISSUED,
                "pd_consent": PD_NO,
                "issued_on": ago(20),
            },
            4: {
                "class_name": "10А",
                "pupil": "Сидорова",
                "application": SUBMITTED,
                "pd_consent": PD_NO,
                "issued_on": ago(3),
                "submitted_on": ago(1),
            },
            5: {"class_name": "10А", "pupil": "Кузнецов", "application": REFUSED},
            6: {
                "class_name": "2Б",
                "pupil": "Орлова",
                "application": SUBMITTED,
                "pd_consent": SIGNED,
                "login_issued_on": ago(5),
            },
            7: {
                "class_name": "2Б",
                "pupil": "Орлов",
                "application": SUBMITTED,
                "pd_consent": SIGNED,
            },
            8: {
                "class_name": "2Б",
                "pupil": "Смирнов",
                "application": SUBMITTED,
                "pd_consent": REVOKED,
                "revoked_on": ago(2),
                "login_issued_on": ago(30),
            },
            9: {
                "class_name": "2Б",
                "pupil": "орлова",
                "application": ISSUED,
                "issued_on": ago(2),
            },
        }
    )


def test_coverage_figures_worked_by_hand():
    cov = coverage(school(), today=TODAY, rules=ConsentRules(classes=("1А", "10А", "2Б")))
    assert list(cov.index) == ["1А", "2Б", "10А"]
    assert list(cov.columns) == c.COVERAGE_COLUMNS
    counts = [
        "pupils",
        "submitted",
        "signed",
        "ready",
        "logins",
        "waiting",
        "waiting_long",
        "refused",
        "revoked",
        "not_issued",
    ]
    assert cov.loc["1А", counts].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert cov.loc["2Б", counts].tolist() == [3, 3, 2, 2, 2, 0, 0, 0, 1, 0]
    assert cov.loc["10А", counts].tolist() == [4, 2, 1, 1, 1, 1, 1, 1, 0, 0]
    assert cov.at["2Б", "ready_share"] == pytest.approx(2 / 3)
    assert cov.at["10А", "ready_share"] == pytest.approx(0.25)
    assert cov.at["1А", "ready_share"] == 0.0
    states = ["ready", "waiting", "waiting_long", "refused", "revoked", "not_issued"]
    assert (cov[states].sum(axis=1) == cov["pupils"]).all()
    assert cov["target"].tolist() == [0.9, 0.9, 0.9]
    assert cov["deadline"].tolist() == [None, None, None]
    assert not cov["behind"].any()
    assert cov["class_teacher"].tolist() == [None, None, None]


def test_pupil_listed_twice_counts_once_as_the_furthest_row():
    frame = consent_frame(
        {
            2: {"class_name": "3А", "pupil": "Зайцев", "application": ISSUED, "issued_on": ago(1)},
            3: {
                "class_name": "3А",
                "pupil": "зайцев ",
                "application": SUBMITTED,
                "pd_consent": SIGNED,
            },
            4: {"class_name": "3А", "pupil": "Волков", "application": ISSUED, "issued_on": ago(1)},
        }
    )
    cov = coverage(frame, today=TODAY, rules=RULES)
    assert cov.at["3А", "pupils"] == 2
    assert cov.at["3А", "ready"] == 1 and cov.at["3А", "waiting"] == 1
    assert cov.at["3А", "ready_share"] == 0.5


def test_classes_sort_numerically():
    names = ["11Б", "1А", "10А", "2А", "1Б", "Подготовительный"]
    assert sorted(names, key=c.class_sort_key) == [
        "1А",
        "1Б",
        "2А",
        "10А",
        "11Б",
        "Подготовительный",
    ]


def test_behind_only_after_the_deadline():
    deadline = dt.date(2025, 10, 1)
    rules = ConsentRules(deadline=deadline, target_share=0.6)
    on_the_day = coverage(school(), today=deadline, rules=rules)
    assert not on_the_day["behind"].any()
    assert on_the_day.at["10А", "deadline"] == deadline
    day_after = coverage(school(), today=deadline + dt.timedelta(days=1), rules=rules)
    assert day_after["behind"].to_dict() == {"2Б": False, "10А": True}  # 2/3 ≥ 0.6, 1/4 < 0.6


def test_target_reached_exactly_is_not_behind():
    frame = consent_frame(
        {
            i: {
                "class_name": "4А",
                "pupil": f"Ученик {i}",
                "application": SUBMITTED,
                "pd_consent": SIGNED if i <= 10 else PD_NO,
            }
            for i in range(2, 14)
        }
    )  # 9 of 12 ready
    late = dt.date(2025, 9, 1)
    assert not coverage(frame, today=TODAY, rules=ConsentRules(0, 0.75, late)).at["4А", "behind"]
    assert coverage(frame, today=TODAY, rules=ConsentRules(0, 0.76, late)).at["4А", "behind"]


def test_no_deadline_never_behind():
    cov = coverage(school(), today=TODAY, rules=ConsentRules(target_share=1.0))
    assert not cov["behind"].any()


def test_per_class_overrides():
    deadline = dt.date(2025, 10, 1)
    rules = ConsentRules(
        target_share=0.9,
        deadline=deadline,
        per_class={"10А": (0.2, None), "2Б": (None, dt.date(2025, 10, 20))},
    )
    cov = coverage(school(), today=TODAY, rules=rules)
    assert cov.at["10А", "target"] == 0.2 and cov.at["10А", "deadline"] == deadline
    assert cov.at["2Б", "target"] == 0.9 and cov.at["2Б", "deadline"] == dt.date(2025, 10, 20)
    assert not cov.at["10А", "behind"]  # 0.25 ≥ its own 0.2
    assert not cov.at["2Б", "behind"]  # below 0.9, but its own deadline is still ahead
    later = coverage(school(), today=dt.date(2025, 10, 21), rules=rules)
    assert later.at["2Б", "behind"]


def test_coverage_takes_classes_and_teachers_from_the_staff_tab():
    staff = staff_frame(
        {
            2: {"full_name": "Соколова Анна Петровна", "class_led": "2Б"},
            3: {"full_name": "Лебедев Олег Ильич", "class_led": "1А"},
            4: {"full_name": "Морозова Ирина", "position": "Учитель"},
        }
    )
    cov = coverage(school(), today=TODAY, rules=RULES, staff=staff)
    assert list(cov.index) == ["1А", "2Б", "10А"]
    assert cov["class_teacher"].tolist() == ["Лебедев Олег Ильич", "Соколова Анна Петровна", None]


# --- staff -------------------------------------------------------------------------------------


def staff() -> pd.DataFrame:
    return staff_frame(
        {
            2: {
                "full_name": "Соколова Анна Петровна",
                "position": "Учитель",
                "class_led": "2Б",
                "manual_given_on": ago(100),
                "trained_on": ago(90),
            },
            3: {
                "full_name": "Лебедев Олег Ильич",
                "position": "Учитель",
                "class_led": "10А",
                "trained_on": ago(90),
            },
            4: {
                "full_name": "Морозова Ирина",
                "position": "Заместитель директора по УВР",
                "manual_given_on": ago(100),
            },
            5: {"full_name": None, "position": "Учитель"},  # an empty line with a stray cell
        }
    )


def test_staff_without_manual_or_training():
    result = staff_readiness(staff())
    assert result["no_manual"]["full_name"].tolist() == ["Лебедев Олег Ильич"]
    assert result["no_manual"].index.tolist() == [3]
    assert result["no_training"]["full_name"].tolist() == ["Морозова Ирина"]
    assert result["no_training"].at[4, "position"] == "Заместитель директора по УВР"
    assert result["behind_classes"].empty
    assert list(result["behind_classes"].columns)[:3] == ["full_name", "class_name", "ready_share"]


def test_class_teachers_of_classes_behind():
    rules = ConsentRules(deadline=dt.date(2025, 10, 1), classes=("1А", "2Б", "10А"))
    cov = coverage(school(), today=TODAY, rules=rules)
    behind = staff_readiness(staff(), cov)["behind_classes"]
    # 2Б (2/3) and 10А (1/4) are under 0.9 after the deadline; 1А has no rows and no teacher
    assert behind["class_name"].tolist() == ["1А", "2Б", "10А"]
    assert behind["full_name"].tolist() == [None, "Соколова Анна Петровна", "Лебедев Олег Ильич"]
    assert behind["ready_share"].tolist() == pytest.approx([0.0, 2 / 3, 0.25])


# --- the class teacher's list ------------------------------------------------------------------


def test_chase_list_longest_waiting_first():
    out = chase_list(school(), "10а", today=TODAY, rules=RULES)
    # Кузнецов (row 5) refused: a refusal is final, nobody reminds that parent.
    assert out["pupil"].tolist() == ["Петров", "Сидорова"]
    assert out["state"].tolist() == [S_WAIT_LONG, S_WAIT]
    assert out["days_waiting"].tolist() == [20, 3]
    assert out.index.tolist() == [3, 4]
    assert list(out.columns) == c.CHASE_COLUMNS


def test_chase_list_skips_pupils_ready_through_another_row():
    out = chase_list(school(), "2Б", today=TODAY, rules=RULES)
    assert out["pupil"].tolist() == ["Смирнов"]  # «орлова» (row 9) is ready in row 6
    assert "закройте" in out.iloc[0]["check"]


# --- purity ------------------------------------------------------------------------------------


def test_inputs_are_not_modified():
    frame, people = school(), staff()
    frame_copy, people_copy = frame.copy(deep=True), people.copy(deep=True)
    rules = ConsentRules(deadline=dt.date(2025, 10, 1))
    consent_rows(frame, today=TODAY, rules=rules, known_classes={"2Б"})
    cov = coverage(frame, today=TODAY, rules=rules, staff=people)
    cov_copy = cov.copy(deep=True)
    staff_readiness(people, cov)
    chase_list(frame, "10А", today=TODAY, rules=rules)
    pd.testing.assert_frame_equal(frame, frame_copy)
    pd.testing.assert_frame_equal(people, people_copy)
    pd.testing.assert_frame_equal(cov, cov_copy)


# --- properties --------------------------------------------------------------------------------

_dates = st.one_of(st.none(), st.dates(dt.date(2025, 8, 1), dt.date(2025, 11, 1)))
_rows = st.fixed_dictionaries(
    {
        "class_name": st.sampled_from(["1А", "1Б", "5А", None]),
        "pupil": st.sampled_from(["Иванов", "иванов", "Петров", "Ёлкин", "Елкин", None]),
        "application": st.sampled_from([*TAB.col("application").values, None]),
        "pd_consent": st.sampled_from([*TAB.col("pd_consent").values, None]),
        "issued_on": _dates,
        "submitted_on": _dates,
        "revoked_on": _dates,
        "login_issued_on": _dates,
    }
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_rows, max_size=12))
def test_any_sheet_gets_a_state_per_row_and_counts_that_add_up(rows):
    frame = consent_frame({i + 2: r for i, r in enumerate(rows)})
    out = consent_rows(frame, today=TODAY, rules=RULES, known_classes={"1А"})
    assert out.index.equals(frame.index)
    assert set(out["state"]) <= set(TAB.col("state").values)
    assert all(isinstance(v, str) for v in out["check"])
    cov = coverage(frame, today=TODAY, rules=RULES)
    states = ["ready", "waiting", "waiting_long", "refused", "revoked", "not_issued"]
    assert (cov[states].sum(axis=1) == cov["pupils"]).all()
    assert (cov["ready"] <= cov[["submitted", "signed"]].min(axis=1)).all()
    listed: dict[tuple[str, str], bool] = {}  # pupil -> still at school (a row not «Выбыл»)
    for r in rows:
        if r["class_name"] and r["pupil"]:
            key = (r["class_name"], r["pupil"].lower().replace("ё", "е"))
            listed[key] = listed.get(key, False) or r["application"] != LEFT
    assert int(cov["pupils"].sum()) == sum(listed.values())


def test_pandas_string_columns_give_the_same_answers():
    frame = school()
    typed = frame.copy()
    for field in ["class_name", "pupil", "parent", "application", "pd_consent"]:
        typed[field] = pd.array(frame[field].tolist(), dtype="str")  # missing cells become NaN
    rules = ConsentRules(deadline=dt.date(2025, 10, 1))
    args = {"today": TODAY, "rules": rules}
    pd.testing.assert_frame_equal(
        consent_rows(typed, known_classes={"2Б"}, **args),
        consent_rows(frame, known_classes={"2Б"}, **args),
    )
    pd.testing.assert_frame_equal(coverage(typed, **args), coverage(frame, **args))
    pd.testing.assert_frame_equal(chase_list(typed, "2Б", **args), chase_list(frame, "2Б", **args))


def test_a_class_spelled_two_ways_is_one_class_named_as_the_school_lists_it():
    frame = consent_frame(
        {
            2: {
                "class_name": "5а",
                "pupil": "Белов",
                "application": SUBMITTED,
                "pd_consent": SIGNED,
            },
            3: {"class_name": "5 А", "pupil": "Белова", "application": ISSUED, "issued_on": ago(1)},
        }
    )
    cov = coverage(frame, today=TODAY, rules=ConsentRules(classes=("5А",)))
    assert list(cov.index) == ["5А"]
    assert cov.at["5А", "pupils"] == 2 and cov.at["5А", "ready_share"] == 0.5


# --- 152-ФЗ cases: each with its state, its note and its line in the chase list -----------------

# Days off of autumn 2025, by hand (the transfer of 1 Nov and Unity Day).
DAYS_OFF = {dt.date(2025, 11, 3), dt.date(2025, 11, 4)}


def working_days_later(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (Mon–Fri, DAYS_OFF off), counted one day at a time."""
    d = start
    while n:
        d += dt.timedelta(days=1)
        if d.weekday() < 5 and d not in DAYS_OFF:
            n -= 1
    return d


def chase_of(row: dict, *, today: dt.date = TODAY, rules: ConsentRules = RULES) -> pd.DataFrame:
    row = {"class_name": "5А", "pupil": "Иванов Иван", **row}
    return chase_list(consent_frame({2: row}), "5А", today=today, rules=rules)


def test_revocation_date_with_signed_consent_is_revoked_and_chased_while_login_stands():
    revoked = dt.date(2025, 10, 15)  # a Wednesday
    row = {
        "application": SUBMITTED,
        "pd_consent": SIGNED,
        "submitted_on": ago(40),
        "revoked_on": revoked,
        "login_issued_on": ago(30),
    }
    state, check = one(row)
    assert state == S_REVOKED
    until = working_days_later(revoked, 10)
    assert until == dt.date(2025, 10, 29)
    assert "строка считается отозванной" in check
    assert f"закройте родителю доступ к электронному дневнику до {until:%d.%m.%Y}" in check
    [line] = chase_of(row)["todo"]
    assert line == f"отключить доступ до {until:%d.%m.%Y}"


def test_a_consent_signed_again_after_the_revocation_is_ready_and_quiet():
    row = {
        "application": SUBMITTED,
        "pd_consent": SIGNED,
        "revoked_on": ago(20),
        "submitted_on": ago(5),
        "login_issued_on": ago(4),
    }
    assert one(row) == (S_READY, "")
    assert chase_of(row).empty


def test_the_access_deadline_counts_working_days_past_the_holidays():
    revoked = dt.date(2025, 10, 31)  # Friday; 3 and 4 November are days off
    row = {"pd_consent": REVOKED, "revoked_on": revoked, "login_issued_on": ago(60)}
    until = working_days_later(revoked, 10)
    assert until == dt.date(2025, 11, 18)
    today = dt.date(2025, 11, 5)
    state, check = one(row, today=today)
    assert state == S_REVOKED and f"до {until:%d.%m.%Y}" in check
    assert chase_of(row, today=today)["todo"].tolist() == [f"отключить доступ до {until:%d.%m.%Y}"]
    # Five working days instead of ten, from the settings.
    rules = ConsentRules(access_days=5)
    five = working_days_later(revoked, 5)
    assert chase_of(row, today=today, rules=rules)["todo"].tolist() == [
        f"отключить доступ до {five:%d.%m.%Y}"
    ]
    # Past the deadline the chase list says so.
    late = chase_of(row, today=dt.date(2025, 11, 20))["todo"].tolist()
    assert late == [f"отключить доступ до {until:%d.%m.%Y} — срок прошёл"]


def test_a_revocation_leaves_the_chase_list_once_the_login_is_cleared():
    row = {"application": SUBMITTED, "pd_consent": REVOKED, "revoked_on": ago(3)}
    assert one(row) == (S_REVOKED, "")
    assert chase_of(row).empty


def test_a_revocation_leaves_the_chase_list_when_a_new_consent_is_signed_in_a_new_row():
    frame = consent_frame(
        {
            2: {
                "class_name": "5А",
                "pupil": "Иванов Иван",
                "pd_consent": REVOKED,
                "revoked_on": ago(10),
                "login_issued_on": ago(50),
            },
            3: {
                "class_name": "5А",
                "pupil": "Иванов Иван",
                "application": SUBMITTED,
                "pd_consent": SIGNED,
                "submitted_on": ago(2),
            },
        }
    )
    assert chase_list(frame, "5А", today=TODAY, rules=RULES).empty


def test_a_refusal_of_the_pd_consent_is_final_and_counted_apart():
    row = {"application": SUBMITTED, "pd_consent": PD_REFUSED, "issued_on": ago(60)}
    assert one(row) == (S_REFUSED, "")  # no «напомните»: a refusal is final
    assert chase_of(row).empty
    frame = consent_frame(
        {
            2: {"class_name": "5А", "pupil": "А", **row},
            3: {"class_name": "5А", "pupil": "Б", "application": REFUSED},
            4: {"class_name": "5А", "pupil": "В", "application": ISSUED, "issued_on": ago(1)},
        }
    )
    cov = coverage(frame, today=TODAY, rules=RULES)
    assert cov.at["5А", "pupils"] == 3
    assert cov.at["5А", "refused"] == 2 and cov.at["5А", "pd_refused"] == 1
    assert cov.at["5А", "waiting"] == 1 and cov.at["5А", "signed"] == 0


def test_a_refusal_with_a_login_asks_to_close_the_access():
    row = {"pd_consent": PD_REFUSED, "login_issued_on": ago(3)}
    state, check = one(row)
    assert state == S_REFUSED
    assert check == (
        f"Родитель отказался от обработки персональных данных, а логин выдан "
        f"{ago(3):%d.%m.%Y}: закройте доступ к электронному дневнику"
    )


@pytest.mark.parametrize("relation", ["Другое", None])
def test_a_relation_other_or_empty_asks_for_the_document(relation):
    row = {
        "parent": "Петрова Анна",
        "relation": relation,
        "application": ISSUED,
        "issued_on": ago(2),
    }
    state, check = one(row)
    assert state == S_WAIT
    if relation:
        assert check == (
            f"{h('relation')} — «Другое»: попросите документ, подтверждающий, что это законный "
            "представитель ученика (например, решение об опеке или попечительстве), и храните "
            "его копию вместе с заявлением"
        )
    else:
        assert check.startswith(f"Не заполнено {h('relation')}: выберите, кем родитель")
        assert "законный представитель" in check
    assert chase_of(row)["todo"].tolist() == [
        "напомнить родителю; попросить документ законного представителя"
    ]


@pytest.mark.parametrize("relation", ["Мать", "Отец", "Опекун", "Попечитель"])
def test_a_named_relation_needs_no_document(relation):
    row = {"parent": "Петрова Анна", "relation": relation, "application": ISSUED}
    row["issued_on"] = ago(2)
    assert one(row) == (S_WAIT, "")


def test_a_pupil_who_left_drops_out_of_the_counts_and_the_chase_list():
    left_on = ago(10)
    row = {"application": LEFT, "revoked_on": left_on, "issued_on": ago(90)}
    assert one(row) == (S_LEFT, "")
    assert chase_of(row).empty
    frame = consent_frame(
        {
            2: {"class_name": "5А", "pupil": "А", **row},
            3: {"class_name": "5А", "pupil": "Б", "application": SUBMITTED, "pd_consent": SIGNED},
        }
    )
    cov = coverage(frame, today=TODAY, rules=RULES)
    assert cov.at["5А", "pupils"] == 1 and cov.at["5А", "ready_share"] == 1.0
    assert cov.at["5А", "left"] == 1
    assert c.deletion_list(frame, today=TODAY, rules=RULES).empty


def test_a_pupil_who_left_is_listed_for_deletion_after_the_retention_period():
    left_on = dt.date(2025, 9, 1)
    row = {"application": LEFT, "revoked_on": left_on}
    rules = ConsentRules(retention_days=30)
    due = left_on + dt.timedelta(days=30)  # 01.10.2025
    assert one(row, rules=rules, today=due - dt.timedelta(days=1)) == (S_LEFT, "")
    state, check = one(row, rules=rules, today=due)
    assert state == S_LEFT
    assert check == (
        f"Ученик выбыл {left_on:%d.%m.%Y}; срок хранения данных (30 дней) истёк "
        f"{due:%d.%m.%Y}: удалите эту строку"
    )
    frame = consent_frame({7: {"class_name": "5А", "pupil": "Иванов Иван", **row}})
    out = c.deletion_list(frame, today=due, rules=rules)
    assert out.index.tolist() == [7]
    assert out.iloc[0].to_dict() == {
        "class_name": "5А",
        "pupil": "Иванов Иван",
        "left_on": left_on,
        "delete_after": due,
    }


def test_a_pupil_marked_left_without_a_date_asks_for_it():
    state, check = one({"application": LEFT})
    assert state == S_LEFT
    assert check == (
        f"Ученик выбыл: впишите дату выбытия в {h('revoked_on')} — от неё считается срок "
        "хранения данных"
    )


def test_a_whole_class_that_left_is_set_in_the_settings():
    rules = ConsentRules(left_classes={"9Б": dt.date(2025, 6, 30)}, retention_days=90)
    frame = consent_frame(
        {
            2: {"class_name": "9б", "pupil": "А", "application": SUBMITTED, "pd_consent": SIGNED},
            3: {"class_name": "5А", "pupil": "Б", "application": ISSUED, "issued_on": ago(1)},
        }
    )
    out = consent_rows(frame, today=TODAY, rules=rules, known_classes=set())
    assert out.at[2, "state"] == S_LEFT
    assert "удалите эту строку" in out.at[2, "check"]  # 30.06 + 90 days = 28.09.2025
    assert list(coverage(frame, today=TODAY, rules=rules).index) == ["5А"]
    assert c.deletion_list(frame, today=TODAY, rules=rules).index.tolist() == [2]


def test_the_class_teachers_list_in_the_terminal_says_what_to_do():
    from journaldesk.cli.consent import chase_lines

    revoked = dt.date(2025, 10, 15)
    frame = consent_frame(
        {
            2: {
                "class_name": "5А",
                "pupil": "Иванов Иван",
                "parent": "Иванова Анна",
                "relation": "Мать",
                "pd_consent": REVOKED,
                "revoked_on": revoked,
                "login_issued_on": ago(30),
            },
            3: {"class_name": "5А", "pupil": "Петров Пётр", "pd_consent": PD_REFUSED},
        }
    )
    lines = chase_lines(chase_list(frame, "5А", today=TODAY, rules=RULES), "5А", TODAY)
    assert lines[2].split() == ["Ученик", "Родитель", "Состояние", "Дней", "ждём", "Что", "сделать"]
    [row] = lines[4:]
    until = working_days_later(revoked, 10)
    assert row.startswith("Иванов Иван") and row.endswith(f"отключить доступ до {until:%d.%m.%Y}")
    assert "Петров" not in "\n".join(lines)  # a refusal is never chased


def test_the_weekly_report_counts_a_pupil_who_left_later_as_still_at_school():
    from journaldesk.rules.summary import consent_as_of

    frame = consent_frame(
        {
            2: {
                "class_name": "5А",
                "pupil": "А",
                "application": LEFT,
                "pd_consent": SIGNED,
                "issued_on": ago(60),
                "submitted_on": ago(50),
                "revoked_on": ago(5),  # the day the pupil left
            },
        }
    )
    week_ago = consent_as_of(frame, ago(7))
    assert week_ago.at[2, "application"] == SUBMITTED and week_ago.at[2, "revoked_on"] is None
    cov = coverage(week_ago, today=ago(7), rules=RULES)
    assert cov.at["5А", "pupils"] == 1 and cov.at["5А", "ready"] == 1
    now = coverage(consent_as_of(frame, TODAY), today=TODAY, rules=RULES)
    assert "5А" not in now.index  # left: out of the counts (no other pupil names the class)
