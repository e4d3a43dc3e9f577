"""Section IV: a lost login is reissued only to the right person, checked against the sheet."""

from __future__ import annotations

import pandas as pd
import pytest

from journaldesk.rules.login_check import login_notes, same_person, short_name

LOGIN = "Утерян логин или пароль"
CONSENT = pd.DataFrame(
    {
        "class_name": ["5А", "5А", "7Б"],
        "pupil": ["Гусев Степан Ильич", "Орлова Анна", "Гусев Пётр"],
        "parent": ["Гусева Евгения Петровна", "Орлов Игорь Сергеевич", "Гусева Евгения Петровна"],
        "application": ["Подано", "Подано", "Выдано"],
        "pd_consent": ["Подписано", "Нет", "Нет"],
    },
    index=[2, 3, 4],
)
STAFF = pd.DataFrame({"full_name": ["Смирнова Ольга Викторовна"]}, index=[2])


def notes_for(**request: object) -> list[str]:
    fields = {"topic": LOGIN, "status": "Новое", "class_name": None, "role": None}
    fields.update(request)
    requests = pd.DataFrame([fields], index=[7])
    return login_notes(requests, CONSENT, STAFF).get(7, [])


def test_a_parent_with_application_and_consent_passes() -> None:
    assert notes_for(role="Родитель", requester="Гусева Евгения Петровна", class_name="5А") == []
    # Typed the other way round, with «ё», or with initials: the same person.
    assert notes_for(role="Родитель", requester="гусева е. п.", class_name="5а") == []


def test_a_parent_without_signed_consent_is_told_what_is_missing_with_initials() -> None:
    assert notes_for(role="Родитель", requester="Орлов Игорь", class_name="5А") == [
        "нет подписанного согласия для 5А, Орлова А.: логин не выдавать"
    ]
    # Her other child, in 7Б, has neither document.
    assert notes_for(role="Родитель", requester="Гусева Евгения", class_name="7Б") == [
        "нет поданного заявления и нет подписанного согласия для 7Б, Гусев П.: логин не выдавать"
    ]


def test_a_parent_named_in_the_wrong_class_is_not_trusted() -> None:
    assert notes_for(role="Родитель", requester="Орлов Игорь", class_name="7Б") == [
        "Заявитель «Орлов Игорь» не найден среди родителей 7Б на листе «Согласия»: логин не "
        "выдавать, пока личность не проверена"
    ]


def test_a_parent_without_a_class_is_asked_for_it() -> None:
    assert notes_for(role="Родитель", requester="Орлов Игорь") == [
        "Для выдачи логина укажите класс ребёнка: без него заявителя не проверить"
    ]


def test_a_teacher_is_checked_against_the_staff_tab() -> None:
    assert notes_for(role="Учитель", requester="Смирнова Ольга Викторовна") == []
    assert notes_for(role="Учитель", requester="Петров Иван") == [
        "Заявитель «Петров Иван» не найден на листе «Сотрудники»: логин не выдавать, пока "
        "личность не проверена"
    ]


def test_marked_resolved_without_passing_says_so() -> None:
    (note,) = notes_for(role="Родитель", requester="Орлов Игорь", class_name="5А", status="Решено")
    assert note.startswith("отмечено «Решено», но проверка перед выдачей логина не пройдена: ")


def test_other_topics_are_not_checked() -> None:
    assert notes_for(topic="Текущие отметки", role="Родитель", requester="Кто-то Неизвестный") == []


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Гусева Евгения Петровна", "ГУСЕВА евгения", True),
        ("Гусева Е.П.", "Гусева Евгения Петровна", True),
        ("Гусева Е.", "Гусева Анна", False),
        ("Гусева", "Гусева Евгения", False),  # a lone surname vouches for nobody
        ("Сёмина Алёна", "Семина Алена", True),
        ("Гусева Евгения", "Гусев Евгений", False),
    ],
)
def test_same_person(a: str, b: str, same: bool) -> None:
    assert same_person(a, b) is same


def test_short_name_keeps_surname_and_one_initial() -> None:
    assert short_name("Гусев Степан Ильич") == "Гусев С."
