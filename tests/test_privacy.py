"""Passwords pasted into a lost-login request and e-mail addresses never leave the sheet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journaldesk.jobs.sync import sync
from journaldesk.rules.privacy import (
    MASK,
    PASSWORD_NOTE,
    mask_all,
    mask_emails,
    mask_secrets,
    password_notes,
)
from tests.helpers import at, field_values, make_workbook, request


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("пароль: Qwerty123", "пароль: ••••••"),
        ("пароль Qwerty123", "пароль: ••••••"),
        ("пароль - Qwerty123", "пароль: ••••••"),
        ("Пароль:Qwerty123", "Пароль: ••••••"),
        ("password: x", "password: ••••••"),
        ("pass=secret", "pass: ••••••"),
        ("PWD = 1", "PWD: ••••••"),
        ("логин ivanov пароль 12345", "логин ivanov пароль: ••••••"),
        ("пароль от дневника Qwerty123", "пароль от дневника: ••••••"),
        (
            "Пароль от электронного дневника: Qwerty123. Не входит.",
            "Пароль от электронного дневника: ••••••. Не входит.",
        ),
        ("пароль для входа в ЭЖ: Abc!23", "пароль для входа в ЭЖ: ••••••"),
        ("новый пароль — йцукен12, не подходит", "новый пароль: ••••••, не подходит"),
        ("ввожу пароль\nQwe123 и ошибка", "ввожу пароль: •••••• и ошибка"),
        ("логин и пароль: ivanov Qwerty123", "логин и пароль: •••••• ••••••"),
        ("логин/пароль ivanov/Qwerty123", "логин/пароль: ••••••"),
        ("пароль 111, потом пароль 222", "пароль: ••••••, потом пароль: ••••••"),
    ],
)
def test_pasted_passwords_are_masked(text, expected):
    assert mask_secrets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "забыла пароль",
        "забыла пароль, помогите",
        "пароль не подходит",
        "пароль: не помню",
        "сбросьте пароль ученику 5А",
        "пароль от госуслуг не подходит",
        "пароль ученика Иванова",
        "password reset please",
        "паспорт и паспортные данные",  # «pass» only as a whole word
        "",
    ],
)
def test_sentences_about_passwords_stay_readable(text):
    assert mask_secrets(text) == text


def test_masking_hides_the_secret_whatever_its_length():
    masked = mask_secrets("пароль: a1 и пароль: Very-Long-Password-2026!")
    assert masked == f"пароль: {MASK} и пароль: {MASK}"
    assert "Very" not in masked and "a1" not in masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("пишите на ivanova@school.ru", "пишите на i***@school.ru"),
        ("ivanova.m+ej@mail.school.ru, a@b.ru", "i***@mail.school.ru, a***@b.ru"),
        ("без адреса", "без адреса"),
        ("собака @ на клавиатуре", "собака @ на клавиатуре"),
    ],
)
def test_emails_are_shortened(text, expected):
    assert mask_emails(text) == expected


def test_mask_all_does_both():
    text = "Моя почта petrova@school.ru, логин petrova пароль Qwerty123"
    assert mask_all(text) == "Моя почта p***@school.ru, логин petrova пароль: ••••••"


@settings(max_examples=300, deadline=None)
@given(
    st.text(),
    st.text(alphabet="abcXYZ0123456789#_", min_size=1, max_size=20).filter(
        lambda s: any(c.isdigit() for c in s)
    ),
)
def test_a_password_with_a_digit_never_survives_and_masking_is_stable(prefix, secret):
    text = f"{prefix} пароль: {secret}"
    masked = mask_all(text)
    assert masked.endswith(f"пароль: {MASK}")
    assert mask_all(masked) == masked


# --- passwords pasted into the sheet: «Проверка» asks a person to delete them ---------------------

PASSWORD_NOTE_TEXT = "в описании пароль — удалите его из таблицы"


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("не могу войти, пароль: Qwerty123", True),
        ("логин ivanova пароль 5A-school", True),
        ("логин и пароль: ivanova Qwerty123", True),
        ("забыла пароль, помогите", False),
        ("пароль не подходит", False),
        ("сбросьте пароль ученику 5А", False),
        (None, False),
    ],
)
def test_a_description_with_a_password_is_flagged(text, flagged):
    notes = password_notes(pd.Series([text], index=[7], dtype=object))
    assert notes == ({7: [PASSWORD_NOTE_TEXT]} if flagged else {})


def test_the_note_itself_survives_masking():
    # The sync masks every «Проверка» text: our own note must not lose a word to it.
    assert mask_all(PASSWORD_NOTE) == PASSWORD_NOTE == PASSWORD_NOTE_TEXT
    assert mask_all(f"Дата обращения: дата в будущем; {PASSWORD_NOTE}").endswith(PASSWORD_NOTE)


def test_sync_notes_the_password_and_never_rewrites_the_description(tmp_path: Path) -> None:
    described = "Не могу войти в ЭЖ, логин petrova пароль Qwerty123!"
    store, settings = make_workbook(
        tmp_path,
        {
            "requests": [
                request(topic="Утерян логин или пароль", description=described),
                request(description="Не открывается журнал 2А"),
            ]
        },
    )
    first = sync(store, settings, now=at("01.12.2026 15:10"))
    assert first.wrote
    assert field_values(store, "requests", "description") == [
        described,
        "Не открывается журнал 2А",
    ]
    checks = field_values(store, "requests", "check")
    assert checks[0] is not None and PASSWORD_NOTE_TEXT in checks[0]
    assert "Qwerty123" not in checks[0]
    assert checks[1] is None or PASSWORD_NOTE_TEXT not in checks[1]
    # Idempotent: the note is stable, a second sync writes nothing.
    assert not sync(store, settings, now=at("01.12.2026 15:10")).wrote
