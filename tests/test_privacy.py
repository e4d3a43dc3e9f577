"""Passwords pasted into a lost-login request and e-mail addresses never leave the sheet."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journaldesk.rules.privacy import MASK, mask_all, mask_emails, mask_secrets


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
