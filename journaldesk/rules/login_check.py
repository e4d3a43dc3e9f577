"""Section IV: a lost login is reissued only to the right person.

A parent's «Утерян логин или пароль» request is checked against «Согласия»: the applicant must be
the parent or legal representative of a pupil of the class given, with the e-diary application
submitted and the personal-data consent signed. A pupil's request is checked the same way by the
pupil's own row; a teacher's (or the administration's) against «Сотрудники». What is missing goes
into «Проверка», naming a pupil by surname and initial only; a request marked «Решено» while the
check fails says so, so nobody reissues a login on a request that did not pass.

Names are compared the way staff type them: case, «ё»/«е», extra spaces and the order of the
words do not matter, and initials («Гусева Е. П.») match the full name they abbreviate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from journaldesk.sheet.textfmt import is_blank
from journaldesk.sheet.vocab import (
    APP_SUBMITTED,
    PD_SIGNED,
    RESOLVED,
    ROLE_ADMINISTRATION,
    ROLE_CLASS_TEACHER,
    ROLE_PARENT,
    ROLE_PUPIL,
    ROLE_TEACHER,
    TOPIC_LOST_LOGIN,
)

STAFF_ROLES = (ROLE_TEACHER, ROLE_CLASS_TEACHER, ROLE_ADMINISTRATION)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def name_words(name: object) -> tuple[str, ...]:
    """The words of a person's name, folded (lower case, «ё» as «е»); initials keep their letter."""
    if is_blank(name):
        return ()
    return tuple(w.casefold().replace("ё", "е") for w in _WORD.findall(str(name)))


def same_person(a: object, b: object) -> bool:
    """Whether two typed names can be the same person.

    Every full word of the shorter name must be a word of the other, and every one-letter word
    (an initial) the first letter of a word left over; at least a surname and one more word or
    initial must be there on both sides, so a lone surname never vouches for anyone."""
    wa, wb = name_words(a), name_words(b)
    if len(wa) < 2 or len(wb) < 2:
        return False
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    left = list(long_)
    whole = 0
    for word in sorted(short, key=len, reverse=True):  # full words first, then initials
        hit = next((w for w in left if _compatible(word, w)), None)
        if hit is None:
            return False
        whole += word == hit and len(word) > 1
        left.remove(hit)
    return whole > 0  # initials alone never vouch for anyone


def _compatible(x: str, y: str) -> bool:
    """The same word, or an initial and a word it abbreviates."""
    if len(x) == 1 or len(y) == 1:
        return x[0] == y[0]
    return x == y


def short_name(name: object) -> str:
    """«Гусев С.»: a pupil named in «Проверка» by surname and initial only."""
    words = [w for w in _WORD.findall(str(name or "")) if w]
    if not words:
        return "ученик без имени"
    return " ".join([words[0], *(f"{w[0]}." for w in words[1:2])])


def _missing(row: pd.Series) -> list[str]:
    missing = []
    if row["application"] != APP_SUBMITTED:
        missing.append("нет поданного заявления")
    if row["pd_consent"] != PD_SIGNED:
        missing.append("нет подписанного согласия")
    return missing


def _consent_problem(
    rows: pd.DataFrame, who: str, class_name: str, requester: object
) -> str | None:
    """What stops a login for this person of this class, or None when all is in place."""
    if rows.empty:
        return (
            f"{who} «{requester}» не найден среди {_whose(who)} {class_name} на листе «Согласия»: "
            "логин не выдавать, пока личность не проверена"
        )
    problems = []
    for _, row in rows.iterrows():
        missing = _missing(row)
        if not missing:
            return None
        problems.append(f"{' и '.join(missing)} для {class_name}, {short_name(row['pupil'])}")
    return "; ".join(dict.fromkeys(problems)) + ": логин не выдавать"


def _whose(who: str) -> str:
    return "родителей" if who == "Заявитель" else "учеников"


def _matching(frame: pd.DataFrame, column: str, name: object) -> pd.DataFrame:
    if frame.empty:
        return frame
    hits = [same_person(value, name) for value in frame[column].to_numpy(object)]
    return frame[pd.Series(hits, index=frame.index, dtype=bool)]


def login_notes(
    requests: pd.DataFrame, consent: pd.DataFrame, staff: pd.DataFrame
) -> dict[int, list[str]]:
    """«Проверка» notes for the lost-login requests that do not pass the section IV check.

    `requests` is the requests tab after the fills (RequestPlan.effective), `consent` and `staff`
    the typed «Согласия» and «Сотрудники»; all indexed by sheet row."""
    notes: dict[int, list[str]] = {}
    login = requests[requests["topic"] == TOPIC_LOST_LOGIN]
    # The same person asks again and again: each (role, name, class) is checked once.
    checked: dict[tuple[object, object, object], str | None] = {}
    for row, role, requester, class_name, status in zip(
        login.index,
        login["role"].to_numpy(object),
        login["requester"].to_numpy(object),
        login["class_name"].to_numpy(object),
        login["status"].to_numpy(object),
        strict=True,
    ):
        key = (role, requester, class_name)
        if key not in checked:
            checked[key] = _problem(role, requester, class_name, consent, staff)
        problem = checked[key]
        if problem is None:
            continue
        if status == RESOLVED:
            problem = (
                f"отмечено «{RESOLVED}», но проверка перед выдачей логина не пройдена: {problem}"
            )
        notes.setdefault(int(row), []).append(problem)
    return notes


def _problem(
    role: object, requester: object, class_name: object, consent: pd.DataFrame, staff: pd.DataFrame
) -> str | None:
    if role in STAFF_ROLES:
        if _matching(staff, "full_name", requester).empty:
            return (
                f"Заявитель «{requester}» не найден на листе «Сотрудники»: логин не выдавать, "
                "пока личность не проверена"
            )
        return None
    if role not in (ROLE_PARENT, ROLE_PUPIL):
        if is_blank(role):
            return "Для выдачи логина укажите роль заявителя (родитель, ученик, учитель)"
        return None
    if is_blank(class_name):
        return "Для выдачи логина укажите класс ребёнка: без него заявителя не проверить"
    in_class = consent[_folded(consent["class_name"]) == _fold_one(class_name)]
    if role == ROLE_PARENT:
        return _consent_problem(
            _matching(in_class, "parent", requester), "Заявитель", str(class_name), requester
        )
    return _consent_problem(
        _matching(in_class, "pupil", requester), "Ученик", str(class_name), requester
    )


def _fold_one(value: object) -> str:
    return str(value).casefold().replace(" ", "")


def _folded(values: Iterable[object]) -> pd.Series:
    series = pd.Series(list(values)) if not isinstance(values, pd.Series) else values
    return series.map(lambda v: "" if is_blank(v) else _fold_one(v))
