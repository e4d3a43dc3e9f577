"""Bounded retries for calls to an outside service: exponential backoff with jitter, capped by
the number of attempts and by the total time, on top of tenacity.

What is worth retrying is decided here (429, 408, 5xx, lost connections, timeouts, replies that
are not JSON); what a failure means to a user is decided by the caller, except for the last
word after the retries are spent: an `OutsideFailure` with a Russian message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
import tenacity
import urllib3
from google.auth.exceptions import TransportError as _AuthTransportError
from gspread.exceptions import APIError

from journaldesk.errors import OutsideFailure
from journaldesk.sheet.textfmt import decimal

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429})


def _no_sleep(seconds: float) -> None:
    """A sleep that returns at once (tests)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: at most `max_attempts` tries and `max_seconds` in all, waiting a random
    time up to min(cap, base * 2**n) seconds between tries (full jitter) or exactly that."""

    max_attempts: int = 5
    max_seconds: float = 60.0
    base: float = 0.5
    cap: float = 16.0
    jitter: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    # The clock the time budget is measured on (tests pair a fake clock with a fake sleep).
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def no_sleep(cls, **overrides: Any) -> RetryPolicy:
        """The same policy without any waiting (for tests)."""
        return cls(sleep=_no_sleep, **overrides)

    def wait_strategy(self) -> tenacity.wait.wait_base:
        """Tenacity's wait for this policy."""
        if self.jitter:
            return tenacity.wait_random_exponential(multiplier=self.base, max=self.cap)
        return tenacity.wait_exponential(multiplier=self.base, max=self.cap)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind an exception, when there is one."""
    if isinstance(exc, APIError):
        return exc.response.status_code
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def is_transient(exc: BaseException) -> bool:
    """True for failures that may pass if tried again."""
    if isinstance(exc, APIError):
        status = exc.response.status_code
        return status in RETRY_STATUSES or status >= 500
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, _AuthTransportError)):
        return True
    # A reply that is not JSON (an HTML error page from a proxy, a truncated body).
    return isinstance(exc, (requests.exceptions.JSONDecodeError, json.JSONDecodeError))


def _never_sent(exc: BaseException) -> bool:
    """True when the connection was never made, so the request cannot have reached the server
    (refused, no route, a name that does not resolve, a connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if isinstance(item, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
            return True
        if isinstance(item, BaseException):
            todo += [*item.args, item.__cause__, item.__context__, getattr(item, "reason", None)]
    return False


def is_transient_unsent(exc: BaseException) -> bool:
    """`is_transient`, for a call that must not take effect twice (rows appended): only the
    failures after which the request surely did not take effect. An error status qualifies
    (Google applies a batch whole or not at all), as does a connection never made; a reply
    lost after the request went out (a reset, a read timeout, a page that is not JSON) may
    hide a change that landed, and trying again would make it twice."""
    if isinstance(exc, APIError):
        return is_transient(exc)
    if isinstance(exc, _AuthTransportError):
        return True  # the token request, before the call itself
    return isinstance(exc, requests.ConnectionError) and _never_sent(exc)


def describe_failure(exc: BaseException) -> str:
    """A short Russian account of what went wrong, without any request details or secrets."""
    status = status_of(exc)
    if isinstance(exc, APIError) and status is not None:
        if status == 429:
            return "превышен лимит запросов Google (код 429)"
        if status == 408:
            return "Google не дождался запроса (код 408)"
        return f"сервер Google ответил ошибкой (код {status})"
    if isinstance(exc, requests.Timeout):
        return "сервер Google не ответил вовремя"
    if isinstance(exc, (requests.ConnectionError, _AuthTransportError)):
        return "нет соединения с сервером Google"
    if isinstance(exc, (requests.exceptions.JSONDecodeError, json.JSONDecodeError)):
        return "сервер ответил не тем, что ожидалось (не JSON)"
    return "неизвестная ошибка связи"


def call_with_retry(
    fn: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy | None = None,
    retry_if: Callable[[BaseException], bool] = is_transient,
) -> T:
    """Call `fn` until it succeeds, retrying transient failures within `policy`.

    `what` says in Russian what was being done ("чтение таблицы"). A transient failure that
    outlasts the policy (or that `retry_if` does not retry) raises OutsideFailure; any other
    exception passes through at once.
    """
    policy = policy or RetryPolicy()
    attempts = 0

    def counted() -> T:
        nonlocal attempts
        attempts += 1
        return fn()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        # «повтор через 0.0 с» reads as a fault: say «сразу», and use a decimal comma.
        when = "сразу" if wait < 0.05 else f"через {decimal(wait)} с"
        log.warning(
            "%s: %s; попытка %d из %d, повтор %s",
            what,
            describe_failure(exc) if exc else "ошибка",
            state.attempt_number,
            policy.max_attempts,
            when,
        )

    started = policy.clock()

    def out_of_time(state: tenacity.RetryCallState) -> bool:
        # Stop before a wait that would end past the budget, not after it.
        return policy.clock() - started + state.upcoming_sleep >= policy.max_seconds

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts) | tenacity.stop_any(out_of_time),
        wait=policy.wait_strategy(),
        retry=tenacity.retry_if_exception(retry_if),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(counted)
    except Exception as exc:
        if not retry_if(exc) and not is_transient(exc):
            raise
        raise OutsideFailure(
            f"Не удалось выполнить «{what}»: {describe_failure(exc)}. "
            f"Попыток: {attempts}. Повторите позже; если ошибка не проходит, "
            "проверьте подключение к интернету."
        ) from exc


def retried(
    what: str, policy: RetryPolicy | None = None
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator form of `call_with_retry`."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return call_with_retry(lambda: fn(*args, **kwargs), what=what, policy=policy)

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate
