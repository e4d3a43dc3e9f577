"""Pure rules for the consent tab (Согласия) and the staff tab (Сотрудники).

Section III of the regulation: class teachers of classes 1-11 collect the parents' applications
for the e-diary and, since 1 Sept 2025, a separate consent to the processing of personal data;
2.10 hands every employee the user manual, 2.1 is training. Inputs are the typed frames of the
parsing layer (index = sheet row number, one column per schema field, dates as `datetime.date` or
None, enums as their canonical value or None); nothing here reads a sheet, a clock or a file.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journaldesk.rules.school_year import public_holidays_ru
from journaldesk.settings import ConsentSettings
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import LOOKALIKES, count, day
from journaldesk.sheet.vocab import (
    APP_ISSUED,
    APP_LEFT,
    APP_NOT_ISSUED,
    APP_REFUSED,
    APP_SUBMITTED,
    PD_REFUSED,
    PD_REVOKED,
    PD_SIGNED,
    REL_OTHER,
    STATE_LEFT,
    STATE_NOT_ISSUED,
    STATE_READY,
    STATE_REFUSED,
    STATE_REVOKED,
    STATE_WAITING,
    STATE_WAITING_LONG,
)

_SCHEMA = load_schema()
_CONSENT = _SCHEMA["consent"]
_STAFF = _SCHEMA["staff"]


# Which row stands for a pupil listed more than once: the one that got furthest, and among
# waiting rows the most urgent one; ties go to the upper row.
_STATE_RANK = {
    STATE_READY: 0,
    STATE_WAITING_LONG: 1,
    STATE_WAITING: 2,
    STATE_REVOKED: 3,
    STATE_REFUSED: 4,
    STATE_NOT_ISSUED: 5,
    STATE_LEFT: 6,
}

_DATE_FIELDS = ("issued_on", "submitted_on", "revoked_on", "login_issued_on")

COVERAGE_COLUMNS = [
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
    "pd_refused",
    "left",
    "ready_share",
    "target",
    "deadline",
    "behind",
    "class_teacher",
]
CHASE_COLUMNS = ["pupil", "parent", "state", "days_waiting", "todo", "check"]
DELETION_COLUMNS = ["class_name", "pupil", "left_on", "delete_after"]


@dataclass(frozen=True)
class ConsentRules:
    """The school's targets for the consent campaign (from the settings)."""

    wait_days: int = 14  # a form handed out longer than this is «Ждём дольше срока»
    target_share: float = 0.9  # share of pupils with application submitted AND consent signed
    deadline: dt.date | None = None  # the school-wide deadline
    # class -> (target, deadline); a None inside falls back to the school-wide value
    per_class: dict[str, tuple[float | None, dt.date | None]] = field(default_factory=dict)
    # the classes that exist in the school (empty: taken from the staff tab and the consent tab)
    classes: tuple[str, ...] = ()
    # after a revocation, the parent's e-diary access must end within this many working days
    access_days: int = 10
    # a pupil who left is listed for deletion this many days after leaving
    retention_days: int = 30
    # classes that left as a whole (graduates) -> the day they left
    left_classes: dict[str, dt.date] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, consent: ConsentSettings) -> ConsentRules:
        """The campaign's targets from the settings' `consent` section."""
        per_class = {
            name: (spec.get("target"), spec.get("deadline"))
            for name, spec in consent.per_class.items()
        }
        return cls(
            wait_days=consent.wait_days,
            target_share=consent.target_share,
            deadline=consent.deadline,
            per_class=per_class,
            access_days=consent.access_days,
            retention_days=consent.retention_days,
            left_classes=dict(consent.left_classes),
        )

    def target_for(self, class_name: str) -> float:
        """The ready share this class must reach."""
        target = self.per_class.get(class_name, (None, None))[0]
        return self.target_share if target is None else float(target)

    def deadline_for(self, class_name: str) -> dt.date | None:
        """The date by which this class must reach its target (None: no deadline)."""
        deadline = self.per_class.get(class_name, (None, None))[1]
        return self.deadline if deadline is None else deadline


# --- small helpers -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _days_off(first_year: int, last_year: int) -> np.ndarray:
    """Russian public holidays of these years, as numpy days (for working-day counts)."""
    return np.array(sorted(public_holidays_ru(first_year, last_year)), dtype="datetime64[D]")


def working_days_after(start: pd.Series, days: int) -> pd.Series:
    """The date `days` working days (Monday to Friday, public holidays off) after each date."""
    out = pd.Series(pd.NaT, index=start.index, dtype="datetime64[ns]")
    known = start.notna()
    if not known.any():
        return out
    first = start[known]
    holidays = _days_off(int(first.dt.year.min()), int(first.dt.year.max()) + 1)
    begin = first.to_numpy(dtype="datetime64[D]")
    # From the day itself: rolled forward to a working day when it is none, then `days` on.
    due = np.busday_offset(begin, days, roll="forward", holidays=holidays)
    out[known] = pd.to_datetime(due)
    return out


_CLASS_RE = re.compile(r"^(\d+)(.*)$")


def _pupil_key(name: object) -> str:
    """A pupil's name for comparison: case, spaces, ё and Latin look-alike letters ignored."""
    if not isinstance(name, str):
        return ""
    text = " ".join(name.split()).casefold().replace("ё", "е")
    return text.translate(LOOKALIKES)


def _class_key(name: object) -> str:
    """A class name for comparison: «5 а» and «5А» are the same class."""
    if not isinstance(name, str):
        return ""
    return "".join(name.split()).upper().replace("Ё", "Е")


def class_sort_key(name: str) -> tuple[int, int, str]:
    """Sort classes numerically: 1А, 1Б, 2А, ..., 11Б; anything else after them."""
    match = _CLASS_RE.match(name)
    if match:
        return (0, int(match.group(1)), match.group(2))
    return (1, 0, name)


def _sorted_classes(names: set[str]) -> list[str]:
    return sorted(names, key=class_sort_key)


def _days(n: int) -> str:
    """«1 день», «3 дня», «14 дней»."""
    return count(int(n), "день", "дня", "дней")


def _h(field_name: str) -> str:
    return f"«{_CONSENT.header(field_name)}»"


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of the frame, or an all-empty one when the frame lacks it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _text_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A text or enum column as plain Python objects, missing values as None."""
    col = _column(frame, name).astype(object)
    return col.where(col.notna(), None)


def _date_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A date column as datetime64 (None -> NaT), so comparisons are vectorised."""
    col = _column(frame, name)
    return pd.to_datetime(col.astype(object), errors="coerce").dt.normalize()


def _value_label(value: object) -> str:
    return f"«{value}»" if isinstance(value, str) and value else "пусто"


# --- the state of every row --------------------------------------------------------------------


def _assess(consent: pd.DataFrame, today: dt.date, rules: ConsentRules) -> pd.DataFrame:
    """Every row's state, days waiting and the facts the counts need, index as the input."""
    app = _text_column(consent, "application")
    pdc = _text_column(consent, "pd_consent")
    dates = {name: _date_column(consent, name) for name in _DATE_FIELDS}
    issued = dates["issued_on"]
    now = pd.Timestamp(today)

    revoked_on, submitted_on = dates["revoked_on"], dates["submitted_on"]
    class_key = _text_column(consent, "class_name").map(_class_key)

    # A pupil who left: «Выбыл» (the day in «Дата отзыва»), or a class the settings say left.
    class_left = {_class_key(c): pd.Timestamp(d) for c, d in rules.left_classes.items()}
    left_by_class = class_key.map(class_left).astype("datetime64[ns]")
    marked_left = app.eq(APP_LEFT)
    left = marked_left | left_by_class.notna()
    left_on = revoked_on.where(marked_left & revoked_on.notna(), left_by_class)

    pd_refused = pdc.eq(PD_REFUSED)
    # A consent signed again after a revocation: «Подано» later than «Дата отзыва».
    signed_again = (
        pdc.eq(PD_SIGNED) & submitted_on.notna() & revoked_on.notna() & (submitted_on > revoked_on)
    )
    # A revocation date makes the row revoked whatever the consent column says (the note asks
    # to fix the column): access must end either way.
    revoked = (pdc.eq(PD_REVOKED) | (revoked_on.notna() & ~signed_again & ~pd_refused)) & ~left
    refused = app.eq(APP_REFUSED) | pd_refused
    submitted = app.eq(APP_SUBMITTED)
    signed = pdc.eq(PD_SIGNED) & ~revoked
    ready = submitted & signed
    # An empty «Заявление» with a handed-out date still means the form is out with the parent.
    waiting = app.eq(APP_ISSUED) | (submitted & ~signed) | (app.isna() & issued.notna())
    days = (now - issued).dt.days
    long_wait = waiting & days.gt(rules.wait_days)

    state = np.select(
        [left, revoked, refused, ready, long_wait, waiting],
        [
            STATE_LEFT,
            STATE_REVOKED,
            STATE_REFUSED,
            STATE_READY,
            STATE_WAITING_LONG,
            STATE_WAITING,
        ],
        default=STATE_NOT_ISSUED,
    )
    login = dates["login_issued_on"].notna()
    # Until «Логин выдан» is cleared (or a new consent signed), the access must be switched off.
    access_until = working_days_after(revoked_on.where(revoked & login), rules.access_days)
    delete_after = left_on + pd.Timedelta(days=rules.retention_days)
    days_waiting = days.where(waiting).astype("Int64")
    return pd.DataFrame(
        {
            "class_name": _text_column(consent, "class_name"),
            "class_key": class_key,
            "pupil": _text_column(consent, "pupil"),
            "pupil_key": _text_column(consent, "pupil").map(_pupil_key),
            "parent": _text_column(consent, "parent"),
            "application": app,
            "pd_consent": pdc,
            "state": pd.Series(state, index=consent.index, dtype=object),
            "days_waiting": days_waiting,
            "submitted": submitted,
            "signed": signed,
            "login": login,
            "relation": _text_column(consent, "relation"),
            "pd_refused": pd_refused,
            "marked_left": marked_left,
            "left_on": left_on,
            "delete_after": delete_after,
            "access_until": access_until,
            "signed_again": signed_again,
            **dates,
        },
        index=consent.index,
    )


def _one_per_pupil(assessed: pd.DataFrame) -> pd.DataFrame:
    """One row per (class, pupil), the one that got furthest; rows without class or pupil go."""
    rows = assessed[(assessed["class_key"] != "") & (assessed["pupil_key"] != "")]
    rows = rows.rename_axis(None)  # parse_tab names the index "row", as the sort key below is
    if rows.empty:
        return rows
    rank = rows["state"].map(_STATE_RANK)
    order = pd.DataFrame({"rank": rank, "row": rows.index}, index=rows.index)
    order = order.sort_values(["rank", "row"], kind="stable")
    rows = rows.loc[order.index]
    rows = rows[~rows.duplicated(["class_key", "pupil_key"], keep="first")]
    return rows.sort_index()


# --- the checks of every row -------------------------------------------------------------------


def _notes(
    assessed: pd.DataFrame, today: dt.date, rules: ConsentRules, known: set[str]
) -> list[list[str]]:
    """Per row, the list of plain-Russian notes (an empty list when the row is fine)."""
    notes: dict[object, list[str]] = {row: [] for row in assessed.index}
    now = pd.Timestamp(today)

    def add(mask: pd.Series, make: Callable[[dict], str]) -> None:
        # Plain dicts of the flagged rows only (far cheaper per row than .loc; most rows of a
        # kept sheet have no note, and a dict of every row on every sync cost more than the rest).
        picked = mask.to_numpy(dtype=bool)
        if picked.any():
            for row, record in assessed[picked].to_dict("index").items():
                notes[row].append(make(record))

    a = assessed
    state, app, pdc = a["state"], a["application"], a["pd_consent"]
    issued, submitted, revoked, login = (a[name] for name in _DATE_FIELDS)

    def missing_part(r: dict) -> str:
        parts = []
        if r["application"] != APP_SUBMITTED:
            parts.append("заявление на электронный дневник")
        if r["pd_consent"] != PD_SIGNED:
            parts.append("согласие на обработку персональных данных")
        return " и ".join(parts)

    add(
        state.eq(STATE_WAITING_LONG),
        lambda r: (
            # No running day count here: the note would change every day and so would the
            # sheet; the date says how long, and chase_list() counts the days.
            f"Выдано {day(r['issued_on'])}, прошло больше {_days(rules.wait_days)}: "
            f"родитель ещё не вернул {missing_part(r)}, напомните ему"
        ),
    )
    add(
        state.isin([STATE_WAITING, STATE_WAITING_LONG]) & issued.isna(),
        lambda r: f"Не заполнена {_h('issued_on')}: нельзя посчитать, сколько дней ждём ответа",
    )
    add(
        app.eq(APP_NOT_ISSUED) & issued.notna(),
        lambda r: (
            f"Заявление отмечено «{APP_NOT_ISSUED}», но заполнена {_h('issued_on')} "
            f"{day(r['issued_on'])}: если форму уже выдали, выберите «{APP_ISSUED}»"
        ),
    )
    left = state.eq(STATE_LEFT)
    marked_left = a["marked_left"]
    pd_refused = a["pd_refused"]
    # Access to the e-diary needs a signed consent; a revoked one means the access must go.
    add(
        login.notna() & state.eq(STATE_REVOKED),
        lambda r: (
            "Согласие на обработку персональных данных отозвано"
            + (f" {day(r['revoked_on'])}" if pd.notna(r["revoked_on"]) else "")
            + f", а логин родителю выдан {day(r['login_issued_on'])}: "
            "закройте родителю доступ к электронному дневнику"
            + (f" до {day(r['access_until'])}" if pd.notna(r["access_until"]) else "")
            + f" и очистите {_h('login_issued_on')}"
        ),
    )
    add(
        login.notna() & pd_refused & ~left,
        lambda r: (
            f"Родитель отказался от обработки персональных данных, а логин выдан "
            f"{day(r['login_issued_on'])}: закройте доступ к электронному дневнику"
        ),
    )
    add(
        login.notna() & left,
        lambda r: (
            f"Ученик выбыл, а логин родителю выдан {day(r['login_issued_on'])}: закройте "
            f"доступ к электронному дневнику и очистите {_h('login_issued_on')}"
        ),
    )
    add(
        login.notna()
        & ~state.isin([STATE_REVOKED, STATE_LEFT, STATE_READY])
        & ~pd_refused
        & ~(app.eq(APP_SUBMITTED) & pdc.eq(PD_SIGNED)),
        lambda r: (
            f"Логин выдан {day(r['login_issued_on'])}, но родитель ещё не сдал "
            f"{missing_part(r)}: без них доступ к электронному дневнику давать нельзя"
        ),
    )
    add(
        submitted.notna() & issued.notna() & (submitted < issued),
        lambda r: (
            f"{_h('submitted_on')} {day(r['submitted_on'])} раньше, чем {_h('issued_on')} "
            f"{day(r['issued_on'])}: форму не могли сдать до того, как её выдали, "
            "проверьте даты"
        ),
    )
    add(
        revoked.notna() & ~pdc.eq(PD_REVOKED) & ~a["signed_again"] & ~marked_left & ~left,
        lambda r: (
            f"Заполнена {_h('revoked_on')} {day(r['revoked_on'])}, но согласие отмечено "
            f"{_value_label(r['pd_consent'])}"
            + (": строка считается отозванной" if r["state"] == STATE_REVOKED else "")
            + f". Исправьте столбец {_h('pd_consent')}: «{PD_REVOKED}», если родитель отозвал "
            f"согласие; если он подписал новое — впишите его {_h('submitted_on')} позже даты "
            f"отзыва; если отзыва не было — очистите {_h('revoked_on')}"
        ),
    )
    add(
        marked_left & revoked.isna(),
        lambda r: (
            f"Ученик выбыл: впишите дату выбытия в {_h('revoked_on')} — от неё считается "
            "срок хранения данных"
        ),
    )
    add(
        left & (a["delete_after"] <= now),
        lambda r: (
            f"Ученик выбыл {day(r['left_on'])}; срок хранения данных "
            f"({_days(rules.retention_days)}) истёк {day(r['delete_after'])}: удалите эту строку"
        ),
    )
    relation = a["relation"]
    has_parent = a["parent"].map(lambda v: isinstance(v, str) and bool(v.strip()))
    add(
        has_parent & relation.eq(REL_OTHER) & ~left,
        lambda r: (
            f"{_h('relation')} — «{REL_OTHER}»: попросите документ, подтверждающий, что это "
            "законный представитель ученика (например, решение об опеке или попечительстве), "
            "и храните его копию вместе с заявлением"
        ),
    )
    add(
        has_parent & relation.isna() & ~left,
        lambda r: (
            f"Не заполнено {_h('relation')}: выберите, кем родитель приходится ученику; если "
            "это не мать и не отец — попросите документ, подтверждающий, что он законный "
            "представитель"
        ),
    )
    add(
        pdc.eq(PD_REVOKED) & revoked.isna(),
        lambda r: f"Согласие отмечено «{PD_REVOKED}», но не заполнена {_h('revoked_on')}",
    )
    add(
        submitted.notna() & ~app.eq(APP_SUBMITTED) & ~marked_left,
        lambda r: (
            f"Заполнена {_h('submitted_on')} {day(r['submitted_on'])}, но заявление отмечено "
            f"{_value_label(r['application'])}: если родитель сдал заявление, "
            f"выберите «{APP_SUBMITTED}»"
        ),
    )

    listed = a[(a["class_key"] != "") & (a["pupil_key"] != "")]
    # Only pupils listed twice are grouped: grouping every row cost more than all the notes.
    twice = listed[listed.duplicated(["class_key", "pupil_key"], keep=False)]
    groups = twice.groupby(["class_key", "pupil_key"], sort=False).groups if len(twice) else {}
    for rows in groups.values():
        if len(rows) < 2:
            continue
        for row in rows:
            others = ", ".join(str(o) for o in rows if o != row)
            word = "строке" if len(rows) == 2 else "строках"
            notes[row].append(
                f"Этот ученик ({a.at[row, 'class_name']}) записан ещё и в {word} "
                f"{others}: оставьте одну строку на ученика"
            )

    if known:
        known_keys = {_class_key(c) for c in known}
        unknown = (a["class_key"] != "") & ~a["class_key"].isin(known_keys)
        add(
            unknown,
            lambda r: (
                f"Класса «{r['class_name']}» в школе нет: проверьте {_h('class_name')} "
                f"(список классов — в настройках или на вкладке «{_STAFF.title}»)"
            ),
        )

    for name in _DATE_FIELDS:
        add(
            a[name] > now,
            lambda r, name=name: (
                f"{_h(name)} {day(r[name])} ещё не наступила (сегодня {day(now)}): проверьте дату"
            ),
        )
    return [notes[row] for row in assessed.index]


# --- public rules ------------------------------------------------------------------------------


def school_classes(
    rules: ConsentRules, staff: pd.DataFrame | None = None, consent: pd.DataFrame | None = None
) -> set[str]:
    """The school's classes: the settings' list, else the staff tab's (plus the consent tab's).

    For the unknown-class check pass no consent frame: a typo there would vouch for itself.
    """
    if rules.classes:
        return set(rules.classes)
    found: set[str] = set()
    for frame, name in ((staff, "class_led"), (consent, "class_name")):
        if frame is not None:
            found |= {c for c in _text_column(frame, name) if isinstance(c, str) and c}
    return found


def consent_rows(
    consent: pd.DataFrame, *, today: dt.date, rules: ConsentRules, known_classes: set[str]
) -> pd.DataFrame:
    """The derived «Состояние» and «Проверка» of every consent row (index as the input).

    `known_classes` empty switches the unknown-class check off (nothing to compare with).
    """
    assessed = _assess(consent, today, rules)
    notes = _notes(assessed, today, rules, known_classes)
    return pd.DataFrame(
        {
            "state": assessed["state"].astype(object),
            "check": pd.Series(["; ".join(n) for n in notes], index=consent.index, dtype=object),
        },
        index=consent.index,
    )


def _class_teachers(staff: pd.DataFrame | None) -> dict[str, str]:
    """Class key -> the names of its class teachers (joined when a class has two)."""
    if staff is None or staff.empty:
        return {}
    names = _text_column(staff, "full_name")
    classes = _text_column(staff, "class_led")
    teachers: dict[str, list[str]] = {}
    for name, class_name in zip(names, classes, strict=True):
        if isinstance(name, str) and name.strip() and isinstance(class_name, str):
            teachers.setdefault(_class_key(class_name), []).append(name.strip())
    return {key: ", ".join(names) for key, names in teachers.items()}


def coverage(
    consent: pd.DataFrame,
    *,
    today: dt.date,
    rules: ConsentRules,
    staff: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per class (index «class_name», sorted 1А, 1Б, 2А, ... 11Б): the campaign's counts.

    A pupil listed twice counts once. The state counts (ready, waiting, waiting_long, refused,
    revoked, not_issued) add up to pupils. A class with no rows counts as 0 % ready. `behind`
    is true only after the class's deadline (today > deadline) with ready_share < target.
    `pd_refused` counts the refusals of the personal-data consent apart (they are in `refused`
    too); pupils who left are not counted at all, only shown in `left`.
    """
    assessed = _assess(consent, today, rules)
    everyone = _one_per_pupil(assessed)
    pupils = everyone[everyone["state"] != STATE_LEFT] if len(everyone) else everyone
    # One label per class: the school's own list spells it first, then the first row that names it.
    spelled: dict[str, str] = {_class_key(c): c for c in school_classes(rules, staff, None)}
    for class_key, class_name in zip(pupils["class_key"], pupils["class_name"], strict=True):
        spelled.setdefault(class_key, class_name)
    order = _sorted_classes(set(spelled.values()))

    key = pupils["class_key"]
    state = pupils["state"]
    counts = pd.DataFrame(
        {
            "pupils": 1,
            "submitted": pupils["submitted"],
            "signed": pupils["signed"],
            "ready": state.eq(STATE_READY),
            "logins": pupils["login"],
            "waiting": state.eq(STATE_WAITING),
            "waiting_long": state.eq(STATE_WAITING_LONG),
            "refused": state.eq(STATE_REFUSED),
            "revoked": state.eq(STATE_REVOKED),
            "not_issued": state.eq(STATE_NOT_ISSUED),
            "pd_refused": pupils["pd_refused"],
        },
        index=pupils.index,
    ).astype(int)
    by_key = counts.groupby(key).sum()
    keys = [_class_key(c) for c in order]
    table = by_key.reindex(keys, fill_value=0).astype(int)
    gone = everyone[everyone["state"] == STATE_LEFT] if len(everyone) else everyone
    left = gone["class_key"].value_counts() if len(gone) else pd.Series(dtype=int)
    table["left"] = [int(left.get(k, 0)) for k in keys]
    table.index = pd.Index(order, name="class_name", dtype=object)

    pupils_n = table["pupils"].to_numpy()
    share = np.divide(
        table["ready"].to_numpy(), pupils_n, out=np.zeros(len(table)), where=pupils_n > 0
    )
    table["ready_share"] = share
    table["target"] = [rules.target_for(c) for c in order]
    table["deadline"] = pd.Series([rules.deadline_for(c) for c in order], index=table.index)
    table["deadline"] = table["deadline"].astype(object)
    past = [d is not None and today > d for d in table["deadline"]]
    table["behind"] = (table["ready_share"] < table["target"]) & pd.Series(past, index=table.index)
    teachers = _class_teachers(staff)
    table["class_teacher"] = pd.Series(
        [teachers.get(k) for k in keys], index=table.index, dtype=object
    )
    return table[COVERAGE_COLUMNS]


def staff_readiness(
    staff: pd.DataFrame, cov: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Who still lacks the user manual (2.10) or training (2.1), and whose class is behind.

    "no_manual"/"no_training": full_name, position, class_led (index = sheet row);
    "behind_classes": full_name, class_name, ready_share, target, deadline for every class of
    `cov` that is behind (full_name None when no one leads the class).
    """
    named = staff[_text_column(staff, "full_name").map(lambda v: isinstance(v, str) and bool(v))]
    people = pd.DataFrame(
        {name: _text_column(named, name) for name in ("full_name", "position", "class_led")},
        index=named.index,
    )
    result = {
        "no_manual": people[_date_column(named, "manual_given_on").isna()].copy(),
        "no_training": people[_date_column(named, "trained_on").isna()].copy(),
    }
    behind_columns = ["full_name", "class_name", "ready_share", "target", "deadline"]
    rows: list[dict] = []
    if cov is not None and not cov.empty:
        teachers: dict[str, list[str]] = {}
        for name, class_name in zip(people["full_name"], people["class_led"], strict=True):
            if isinstance(class_name, str):
                teachers.setdefault(_class_key(class_name), []).append(name)
        for class_name, line in cov[cov["behind"].astype(bool)].iterrows():
            for name in teachers.get(_class_key(class_name), [None]):
                rows.append(
                    {
                        "full_name": name,
                        "class_name": class_name,
                        "ready_share": float(line["ready_share"]),
                        "target": float(line["target"]),
                        "deadline": line["deadline"],
                    }
                )
    result["behind_classes"] = pd.DataFrame(rows, columns=behind_columns, dtype=object).astype(
        {"ready_share": float, "target": float}
    )
    return result


def _todo(r: dict, today: dt.date) -> str:
    """What the class teacher does about one pupil of the chase list, in Russian."""
    todo = []
    if r["state"] == STATE_REVOKED:
        if pd.notna(r["access_until"]):
            line = f"отключить доступ до {day(r['access_until'])}"
            if pd.Timestamp(today) > r["access_until"]:
                line += " — срок прошёл"
            todo.append(line)
        else:
            todo.append("отключить доступ к электронному дневнику")
    elif r["state"] == STATE_NOT_ISSUED:
        todo.append("выдать заявление и согласие")
    elif r["state"] in (STATE_WAITING, STATE_WAITING_LONG):
        todo.append("напомнить родителю")
    if isinstance(r["parent"], str) and r["parent"].strip() and r["relation"] in (None, REL_OTHER):
        todo.append("попросить документ законного представителя")
    return "; ".join(todo)


def deletion_list(consent: pd.DataFrame, *, today: dt.date, rules: ConsentRules) -> pd.DataFrame:
    """Rows of pupils who left whose retention period is over: to be deleted from the sheet.

    Columns class_name, pupil, left_on, delete_after (dates); index = sheet row.
    """
    assessed = _assess(consent, today, rules)
    due = assessed[
        assessed["state"].eq(STATE_LEFT) & (assessed["delete_after"] <= pd.Timestamp(today))
    ]
    out = due[DELETION_COLUMNS].copy()
    for name in ("left_on", "delete_after"):
        out[name] = pd.Series([d.date() for d in due[name]], index=due.index, dtype=object)
    return out


def chase_list(
    consent: pd.DataFrame, class_name: str, *, today: dt.date, rules: ConsentRules
) -> pd.DataFrame:
    """The class teacher's list: pupils of one class not yet «Готово», longest waiting first.

    A refusal is final and a pupil who left is gone: neither is on the list. A revocation is
    on it while «Логин выдан» is filled, with «отключить доступ до ДД.ММ.ГГГГ».
    Columns pupil, parent, state, days_waiting (None when not waiting), todo (what to do, in
    Russian), check; index = sheet row.
    """
    assessed = _assess(consent, today, rules)
    pupils = _one_per_pupil(assessed)
    pupils = pupils[(pupils["class_key"] == _class_key(class_name))]
    state = pupils["state"]
    revoked_access = state.eq(STATE_REVOKED) & pupils["login"]
    pupils = pupils[
        ~state.isin([STATE_READY, STATE_REFUSED, STATE_LEFT, STATE_REVOKED]) | revoked_access
    ]
    checks = consent_rows(consent, today=today, rules=rules, known_classes=set())["check"]
    out = pd.DataFrame(
        {
            "pupil": pupils["pupil"],
            "parent": pupils["parent"],
            "state": pupils["state"],
            "days_waiting": pupils["days_waiting"],
            "todo": [_todo(r, today) for r in pupils.to_dict("records")],
            "check": checks.reindex(pupils.index).fillna("").astype(object),
            "_rank": pupils["state"].map(_STATE_RANK),
            "_name": pupils["pupil_key"],
        },
        index=pupils.index,
    )
    out = out.sort_values(
        ["days_waiting", "_rank", "_name"], ascending=[False, True, True], na_position="last"
    )
    out = out[CHASE_COLUMNS]
    out["days_waiting"] = pd.Series(
        [None if pd.isna(d) else int(d) for d in out["days_waiting"]], index=out.index, dtype=object
    )
    return out
