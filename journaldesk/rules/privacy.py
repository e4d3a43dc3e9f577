"""Masking of what must not travel beyond the sheet: pasted passwords and e-mail addresses.

People describing a lost login often paste the password itself («логин ivanov пароль 12345»).
Every text the jobs show outside the sheet (summaries, e-mails, logs) goes through `mask_all`.
The rules lean towards masking: a hidden word costs little, a leaked password costs a lot.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "mask_all", "mask_emails", "mask_secrets"]

MASK = "••••••"

_KEYWORD = r"\b(?:парол[ьяюеи]\w*|password|passwd|pass|pwd)\b"
# An explicit separator (':', '=', a dash) or plain spaces.
_SEPARATOR = r"\s*[:=]\s*|\s+[-–—]+\s*|\s*[-–—]+\s+|\s+"

_KEYWORD_RE = re.compile(_KEYWORD, re.IGNORECASE)
# What may follow the keyword: «пароль Qwerty123», and with a qualifier of one to three words,
# «пароль от дневника Qwerty123», «пароль для входа в ЭЖ: Qwerty123». Tried shortest first.
_TAILS = [
    re.compile(rf"(?P<qual>)(?P<sep>{_SEPARATOR})(?P<secret>\S+)"),
    *(
        re.compile(
            rf"(?P<qual>\s+(?:от|для)(?:\s+[^\s:=]+){{{words}}})"
            rf"(?P<sep>{_SEPARATOR})(?P<secret>\S+)",
            re.IGNORECASE,
        )
        for words in (1, 2, 3)
    ),
]
# «логин и пароль: ivanov Qwerty123», «логин, пароль — ivanov, Qwerty123»
_COMBINED = re.compile(
    rf"(?P<kw>\bлогин\s*(?:и|/|,)\s*{_KEYWORD})(?P<sep>{_SEPARATOR})"
    r"(?P<first>[^\s,;/]+)(?P<between>\s*[,;/]\s*|\s+)(?P<second>\S+)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![\w.+-])(?P<first>[\w+-])[\w.+-]*@(?P<domain>[\w-]+(?:\.[\w-]+)+)")

_TRAILING = ".,;)»\"'"  # sentence punctuation; '!' and '?' are often part of a password
_CYRILLIC_WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)?", re.IGNORECASE)
# Words that follow «пароль:» in a complaint rather than a password.
_RU_NOT_SECRETS = ("не", "нет", "забыл", "утерян", "потерян", "сброс", "восстанов", "неверн")
_EN_NOT_SECRETS = frozenset(
    ("is", "was", "for", "of", "to", "from", "the", "not", "reset", "forgot", "expired", "lost")
)


def _split_trailing(token: str) -> tuple[str, str]:
    """A token and the sentence punctuation after it (kept visible, so the text still reads)."""
    body = token.rstrip(_TRAILING)
    if not body:
        return token, ""
    return body, token[len(body) :]


def _looks_secret(token: str, explicit: bool) -> bool:
    """Whether the word after «пароль» is the password itself, not the rest of a sentence."""
    lowered = token.casefold()
    if lowered in _EN_NOT_SECRETS:
        return False
    # «дневника:» is the end of a qualifier («пароль от дневника: …»), not a password.
    if _CYRILLIC_WORD.fullmatch(token.rstrip(":")):
        # A plain Russian word: a password only after an explicit «:» or «=», and not one of
        # the words people write there about the password («пароль: не помню»).
        return explicit and not lowered.startswith(_RU_NOT_SECRETS)
    return True


def _explicit(separator: str) -> bool:
    return separator.strip() != ""


def _mask_after_keywords(text: str) -> str:
    parts: list[str] = []
    done = 0
    for keyword in _KEYWORD_RE.finditer(text):
        if keyword.start() < done:
            continue
        for tail in _TAILS:
            match = tail.match(text, keyword.end())
            if match is None:
                continue
            secret, trail = _split_trailing(match["secret"])
            if _looks_secret(secret, _explicit(match["sep"])):
                parts.append(text[done : keyword.start()])
                parts.append(f"{keyword[0]}{match['qual']}: {MASK}{trail}")
                done = match.end()
                break
    parts.append(text[done:])
    return "".join(parts)


def _replace_combined(match: re.Match[str]) -> str:
    second, trail = _split_trailing(match["second"])
    if not _looks_secret(second, _explicit(match["sep"])):
        return match[0]
    return f"{match['kw']}: {MASK}{match['between']}{MASK}{trail}"


def mask_secrets(text: str) -> str:
    """Hide passwords people pasted: «пароль: Qwerty123» -> «пароль: ••••••» (and the like)."""
    if not isinstance(text, str) or not text:
        return text
    return _mask_after_keywords(_COMBINED.sub(_replace_combined, text))


def mask_emails(text: str) -> str:
    """Shorten e-mail addresses to their first letter and domain: i***@school.ru."""
    if not isinstance(text, str) or "@" not in text:
        return text
    return _EMAIL.sub(lambda m: f"{m['first']}***@{m['domain']}", text)


def mask_all(text: str) -> str:
    """Every mask this module knows, for text leaving the sheet."""
    return mask_emails(mask_secrets(text))
