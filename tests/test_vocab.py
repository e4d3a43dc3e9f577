"""The named dropdown values: bound to config/schema.yaml by text, and loud when they drift."""

from __future__ import annotations

import pytest

from journaldesk.sheet import vocab
from journaldesk.sheet.schema import load_schema


def test_every_list_the_code_names_is_named_whole_and_in_schema_order():
    enums = load_schema().enums
    assert tuple(enums["status"]) == vocab.STATUSES
    assert tuple(enums["due_state"]) == vocab.DUE_STATES
    assert tuple(enums["consent_state"]) == vocab.CONSENT_STATES
    assert tuple(enums["calendar_kind"]) == vocab.CALENDAR_KINDS
    assert tuple(enums["run_result"]) == vocab.RUN_RESULTS
    assert set(vocab.OPEN_DUE_STATES) == {"В срок", "Под угрозой", "Просрочено", "Приостановлено"}


def test_a_value_missing_from_the_schema_fails_naming_list_and_value():
    with pytest.raises(RuntimeError, match="`status` has no value «Решёно»"):
        vocab._value("status", "Решёно")


def test_a_list_the_code_does_not_name_whole_fails():
    with pytest.raises(RuntimeError, match="`run_result`"):
        vocab._all("run_result", vocab.RUN_OK, vocab.RUN_FAILED)
