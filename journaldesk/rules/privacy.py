"""Masking of what must not travel beyond the sheet: pasted passwords and e-mail addresses.

People describing a lost login often paste the password itself («логин ivanov пароль 12345»).
Every text the jobs show outside the sheet (summaries, e-mails, logs) goes through `mask_all`.
The rules lean towards masking: a hidden word costs little, a leaked password costs a lot.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "MASK",
    "NAME_MASK",
    "PASSWORD_NOTE",
    "TEXT_WITHHELD",
    "NameIndex",
    "Person",
    "has_secret",
    "mask_all",
    "mask_emails",
    "mask_secrets",
    "name_index",
    "password_notes",
    "people_from_tabs",
    "quote",
    "safe_text",
]

MASK = "••••••"

_PASSWORD = r"\b(?:парол[ьяюеи]\w*|password|passwd|pass|pwd)\b"
# Logins too: a login is half of the way in, and it often spells the pupil's name (gusev_s).
_KEYWORD = r"\b(?:парол[ьяюеи]\w*|password|passwd|pass|pwd|логин\w*|login|пин-?код\w*|pin)\b"
# An explicit separator (':', '=', a dash) or plain spaces.
_SEPARATOR = r"\s*[:=]\s*|\s+[-–—]+\s*|\s*[-–—]+\s+|\s+"

_KEYWORD_RE = re.compile(_KEYWORD, re.IGNORECASE)
_PASSWORD_RE = re.compile(_PASSWORD, re.IGNORECASE)
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
    # Any one to three words before an explicit «:» or «=»: «логин ученика 5А: ivanov_p».
    # Only a token with a digit, a Latin letter or a sign counts here (see _looks_secret).
    re.compile(r"(?P<qual>(?:\s+[^\s:=]+){1,3}?)(?P<sep>\s*[:=]\s*)(?P<secret>\S+)"),
]
_LOOSE_TAIL = len(_TAILS) - 1
# «логин и пароль: ivanov Qwerty123», «логин, пароль — ivanov, Qwerty123»
_COMBINED = re.compile(
    rf"(?P<kw>\bлогин\s*(?:и|/|,)\s*{_PASSWORD})(?P<sep>{_SEPARATOR})"
    r"(?P<first>[^\s,;/]+)(?P<between>\s*[,;/]\s*|\s+)(?P<second>\S+)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![\w.+-])(?P<first>[\w+-])[\w.+-]*@(?P<domain>[\w-]+(?:\.[\w-]+)+)")

_TRAILING = ".,;)»\"'"  # sentence punctuation; '!' and '?' are often part of a password
_CYRILLIC_WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)?", re.IGNORECASE)
# Words that follow «пароль:» in a complaint rather than a password.
_RU_NOT_SECRETS = (
    "не",
    "нет",
    "забыл",
    "утерян",
    "потерян",
    "сброс",
    "восстанов",
    "неверн",
    "удал",  # «пароль — удалите его»: our own note must survive the masking
)
_EN_NOT_SECRETS = frozenset(
    ("is", "was", "for", "of", "to", "from", "the", "not", "reset", "forgot", "expired", "lost")
)


def _split_trailing(token: str) -> tuple[str, str]:
    """A token and the sentence punctuation after it (kept visible, so the text still reads)."""
    body = token.rstrip(_TRAILING)
    if not body:
        return token, ""
    return body, token[len(body) :]


# A class («5А», «11 б») and a date («12.11.2026») are never taken for a password on their own.
_CLASS_NAME = re.compile(r"(?:[1-9]|1[01])[а-яё]", re.IGNORECASE)
_LATIN_CLASS_NAME = re.compile(r"(?:[1-9]|1[01])[a-z]", re.IGNORECASE)
_DATE = re.compile(r"\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?")


def _looks_secret(token: str, explicit: bool, loose: bool = False) -> bool:
    """Whether the word after «пароль» is the password itself, not the rest of a sentence."""
    lowered = token.casefold()
    if lowered in _EN_NOT_SECRETS or _CLASS_NAME.fullmatch(token):
        return False
    if _LATIN_CLASS_NAME.fullmatch(token) and not explicit:
        return False  # «5A» typed with a Latin letter; after «:» it may be a password
    if _DATE.fullmatch(token):
        # «сменила пароль 12.11.2026» is when; «пароль: 12.11.2026» may be the password.
        return explicit and not loose
    if loose and _CYRILLIC_WORD.fullmatch(token.rstrip(":")):
        return False
    # «дневника:» is the end of a qualifier («пароль от дневника: …»), not a password.
    if _CYRILLIC_WORD.fullmatch(token.rstrip(":")):
        # A plain Russian word: a password only after an explicit «:» or «=», and not one of
        # the words people write there about the password («пароль: не помню»).
        return explicit and not lowered.startswith(_RU_NOT_SECRETS)
    return True


def _explicit(separator: str) -> bool:
    return separator.strip() != ""


def _mask_after_keywords(text: str, keywords: re.Pattern[str] = _KEYWORD_RE) -> str:
    parts: list[str] = []
    done = 0
    for keyword in keywords.finditer(text):
        if keyword.start() < done:
            continue
        for n, tail in enumerate(_TAILS):
            match = tail.match(text, keyword.end())
            if match is None:
                continue
            secret, trail = _split_trailing(match["secret"])
            if _looks_secret(secret, _explicit(match["sep"]), loose=n == _LOOSE_TAIL):
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


# The note «Проверка» gets when a description holds a password: the job never rewrites the staff
# cell, so a person has to delete it (the sheet is shared with every teacher).
PASSWORD_NOTE = "в описании пароль — удалите его из таблицы"


def has_secret(text: object) -> bool:
    """Whether a text holds a pasted password (what `mask_secrets` would hide after «пароль»)."""
    if not isinstance(text, str) or not _PASSWORD_RE.search(text):
        return False  # most descriptions: one quick scan, the sync runs this on every row
    # Passwords only: a login alone is masked in reports but is no reason to clean the sheet.
    return _COMBINED.sub(_replace_combined, text) != text or (
        _mask_after_keywords(text, _PASSWORD_RE) != text
    )


def password_notes(descriptions: pd.Series) -> dict[int, list[str]]:
    """Per sheet row (the series' index), the «Проверка» note of a description holding a password.

    A separate, small function so the sync adds it next to the request rules' own notes.
    """
    texts = descriptions.to_numpy(dtype=object)
    # Most descriptions name no password at all: a plain search for the keywords' stems in the
    # case-folded text (what the pattern's IGNORECASE can match folds to them) rules those out,
    # and only the rest get the full look.
    return {
        int(row): [PASSWORD_NOTE]
        for row, text in zip(descriptions.index, texts, strict=True)
        if isinstance(text, str) and _may_name_password(text) and has_secret(text)
    }


def _may_name_password(text: str) -> bool:
    """Whether the text holds a stem of _PASSWORD (IGNORECASE matches only what folds to it)."""
    folded = text.casefold()
    return "парол" in folded or "pass" in folded or "pwd" in folded


# --- names: pupils, parents and applicants never leave the sheet -------------------------------
#
# Names are matched by lemma: pymorphy3 (with its Russian dictionaries) turns «Гусеву»,
# «Гусевой», «Гусевых» into the lemma «гусев», «Степану» into «степан», «Евгеньевны» into
# «евгеньевич». Every token of every person's name (both parts of a double surname, ё read as е)
# is indexed by its name lemmas; every word of a text is looked up by its own.
#
# A name that is also a common word (Роза, Лев, Вера, Надежда; surnames Волков, Белых, Мороз)
# is hidden when it is written with a capital letter, or stands next to another word of a name
# («вера гусева»); written in lower case on its own it is read as the common word («розы на
# подоконнике», «вера в успех»). pymorphy3 says which words can be common words: a reading
# that is not a name, surname, patronymic or place name with a probability of 0.2 or more.
#
# A text that still holds a capitalised word pymorphy3 reads as a name or surname of nobody
# known (a relative not on the sheet, a misspelt name) cannot be trusted: `safe_text` gives
# None, and a report shows the request's №, topic and class instead of its description.

PUPIL, PARENT, APPLICANT, STAFF = "pupil", "parent", "applicant", "staff"
NAME_MASK = "[имя скрыто]"
TEXT_WITHHELD = "(описание скрыто: в нём может быть имя)"
_MARKS = {PARENT: "[родитель]", APPLICANT: "[заявитель]"}
_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})
_PROPER_TAGS = _NAME_TAGS | {"Geox", "Orgn", "Trad"}
_COMMON_SHARE = 0.2  # a common-word reading at least this likely makes a name ambiguous
_UNKNOWN_NAME_SHARE = 0.5  # a capitalised word this likely a name makes a text untrusted
# A word: letters (Cyrillic or Latin) and inner hyphens, not glued to a digit («2А» is a class).
_WORD = re.compile(r"(?<![\w-])[^\W\d_]+(?:-[^\W\d_]+)*(?![\w])")
# Staff roles of «Обращения»: a requester in one of them who is also in «Сотрудники» is staff.
_STAFF_ROLES = frozenset({"Учитель", "Классный руководитель", "Администрация"})


@dataclass(frozen=True)
class Person:
    """One person whose name may appear in a text: kind (pupil, parent, applicant, staff)."""

    name: str
    kind: str
    class_name: str | None = None


@dataclass(frozen=True)
class _Word:
    name_forms: frozenset[str]  # the word itself and its lemmas as a name, surname, patronymic
    all_forms: frozenset[str]  # ... and every other lemma
    common: bool  # also reads as a common word
    name_like: float  # how likely pymorphy3 finds it a name, surname or patronymic


@functools.cache
def morph() -> Any:
    """The one Russian morphological analyser of the process (slow to build: built once)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


@functools.lru_cache(maxsize=100_000)
def _analyse(word: str) -> _Word:
    """The readings of one lower-case word (cached: a school's texts repeat their words)."""
    name_forms = {word}
    all_forms = {word}
    common = 0.0
    name_like = 0.0
    for parse in morph().parse(word):
        grammemes = parse.tag.grammemes
        lemma = _fold(parse.normal_form)
        all_forms.add(lemma)
        if grammemes & _NAME_TAGS:
            name_forms.add(lemma)
            name_like += parse.score
        if not grammemes & _PROPER_TAGS:
            common += parse.score
    return _Word(frozenset(name_forms), frozenset(all_forms), common >= _COMMON_SHARE, name_like)


def _parts(word: str) -> list[str]:
    """A word and, for a double surname, each of its parts."""
    folded = _fold(word)
    parts = [p for p in folded.split("-") if len(p) >= 2]
    return [folded, *parts] if len(parts) > 1 else [folded]


def _name_keys(token: str) -> set[str]:
    """The lemmas a token of a person's name is found by."""
    keys: set[str] = set()
    for part in _parts(token):
        info = _analyse(part)
        # A surname the dictionary only knows as a common word (Кот, Мороз): all its lemmas.
        keys |= info.name_forms if len(info.name_forms) > 1 else info.all_forms
    return keys


class NameIndex:
    """Every known person's name tokens by lemma, to find and hide them in free text."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.people: list[Person] = []
        self._by_key: dict[str, set[int]] = {}
        self._seen: dict[str, tuple[set[int], bool]] = {}  # a text's word -> _lookup()
        # Without the morphology library nothing can be matched: every text is withheld.
        try:
            morph()
        except ImportError:
            self.usable = False
            return
        self.usable = True
        for person in people:
            if not isinstance(person.name, str):
                continue
            tokens = [m[0] for m in _WORD.finditer(person.name) if len(m[0]) >= 2]
            if not tokens:
                continue
            pid = len(self.people)
            self.people.append(person)
            for token in tokens:
                for key in _name_keys(token):
                    self._by_key.setdefault(key, set()).add(pid)

    def __len__(self) -> int:
        return len(self.people)

    def _candidates(self, word: str) -> tuple[set[int], bool]:
        """Who a word of a text may name, and whether it surely is a name (not a common word)."""
        seen = self._seen.get(word)
        if seen is None:
            seen = self._seen[word] = self._lookup(word)
        return seen

    def _lookup(self, word: str) -> tuple[set[int], bool]:
        found: set[int] = set()
        capital = word[:1].isupper()
        strong = capital
        for part in _parts(word):
            info = _analyse(part)
            forms = info.all_forms if capital else info.name_forms
            hits = set().union(*(self._by_key.get(f, ()) for f in forms))
            if hits:
                found |= hits
                strong = strong or not info.common
        return found, strong

    def _mark(self, ids: set[int]) -> str | None:
        """The neutral mark for a run of name words (None: only staff, left as written)."""
        people = [self.people[i] for i in ids]
        protected = [p for p in people if p.kind != STAFF]
        if not protected:
            return None
        kinds = {p.kind for p in protected}
        if kinds == {PUPIL}:
            classes = {p.class_name for p in protected}
            only = next(iter(classes)) if len(classes) == 1 else None
            return f"[ученик {only}]" if only else "[ученик]"
        if len(kinds) == 1:
            return _MARKS[next(iter(kinds))]
        return NAME_MASK

    def scrub(self, text: str) -> str:
        """The text with every known pupil's, parent's and applicant's name replaced by a mark."""
        if not isinstance(text, str) or not text or not self.people:
            return text
        words = [(m.start(), m.end(), *self._candidates(m[0])) for m in _WORD.finditer(text)]
        out: list[str] = []
        done = 0
        i = 0
        while i < len(words):
            if not words[i][2]:
                i += 1
                continue
            # A run: name words with only spaces between them («Гусевой Евгении Петровны»).
            j = i
            while (
                j + 1 < len(words)
                and words[j + 1][2]
                and not text[words[j][1] : words[j + 1][0]].strip()
            ):
                j += 1
            run = words[i : j + 1]
            sets = [w[2] for w in run]
            shared = set.intersection(*sets)
            # Common words on their own stay («вера в успех»); two words of one person's
            # name together are that person («вера белых»).
            if any(w[3] for w in run) or (len(run) > 1 and shared):
                ids = shared or set.union(*sets)
                mark = self._mark(ids)
                if mark is not None:
                    out.append(text[done : run[0][0]])
                    out.append(mark)
                    done = run[-1][1]
            i = j + 1
        out.append(text[done:])
        return "".join(out)

    def unknown_names(self, text: str) -> list[str]:
        """Capitalised words that read as a name or surname of nobody on the sheet."""
        found = []
        for match in _WORD.finditer(text):
            word = match[0]
            if len(word) < 3 or not word[:1].isupper() or not _CYRILLIC_START.match(word):
                continue
            if word.isupper() and len(word) <= 4:
                continue  # an abbreviation: ЭЖ, АРМ, КТП, ОГЭ
            name_like = any(_analyse(p).name_like >= _UNKNOWN_NAME_SHARE for p in _parts(word))
            if name_like and not self._candidates(word)[0]:
                found.append(word)
        return found


_CYRILLIC_START = re.compile(r"[А-ЯЁ]")


def people_from_tabs(
    consent: pd.DataFrame | None = None,
    requests: pd.DataFrame | None = None,
    staff: pd.DataFrame | None = None,
) -> list[Person]:
    """Everyone named on the sheet: pupils and parents of «Согласия», applicants of «Обращения»,
    staff of «Сотрудники» (whose names may stay). A requester in a staff role who is in
    «Сотрудники» is staff; every other requester is an applicant."""
    people: list[Person] = []

    def text(value: object) -> str | None:
        return value.strip() if isinstance(value, str) and value.strip() else None

    staff_names: set[str] = set()
    if staff is not None and "full_name" in staff:
        for name in staff["full_name"]:
            if text(name):
                people.append(Person(text(name), STAFF))
                staff_names.add(" ".join(_fold(text(name)).split()))
    if consent is not None:
        for row in consent.to_dict("records"):
            class_name = text(row.get("class_name"))
            for field_name, kind in (("pupil", PUPIL), ("parent", PARENT)):
                if text(row.get(field_name)):
                    people.append(Person(text(row.get(field_name)), kind, class_name))
    listed = {" ".join(_fold(p.name).split()) for p in people if p.kind != STAFF}
    if requests is not None:
        for row in requests.to_dict("records"):
            name = text(row.get("requester"))
            if not name:
                continue
            folded = " ".join(_fold(name).split())
            if row.get("role") in _STAFF_ROLES and folded in staff_names:
                continue  # already indexed as staff
            if folded in listed:
                continue  # a parent or pupil of «Согласия»: marked as such
            people.append(Person(name, APPLICANT, text(row.get("class_name"))))
    return people


def name_index(
    consent: pd.DataFrame | None = None,
    requests: pd.DataFrame | None = None,
    staff: pd.DataFrame | None = None,
) -> NameIndex:
    """The name index of a sheet's parsed frames (see `people_from_tabs`)."""
    return NameIndex(people_from_tabs(consent, requests, staff))


def safe_text(text: object, names: NameIndex | None) -> str | None:
    """A person's free text fit to leave the sheet: secrets and e-mails masked, known names
    replaced by marks; None when a name of someone unknown may still be in it.

    `names` None means names may be shown (the school's `show_names` setting): only masks apply.
    """
    if not isinstance(text, str):
        return None if text is None else safe_text(str(text), names)
    masked = mask_all(" ".join(text.split()))
    if names is None:
        return masked
    if not names.usable:
        return None
    scrubbed = names.scrub(masked)
    if names.unknown_names(scrubbed):
        return None
    return scrubbed


def quote(text: object, names: NameIndex | None, limit: int = 90) -> str:
    """A short, safe quote of a request's description («» when empty, a placeholder when its
    text cannot be trusted to hold no name)."""
    if text is None or (isinstance(text, float) and text != text) or str(text).strip() == "":
        return ""
    safe = safe_text(text, names)
    if safe is None:
        return TEXT_WITHHELD
    if len(safe) > limit:
        cut = safe[:limit].rsplit(" ", 1)[0]
        safe = (cut or safe[:limit]) + "…"
    return safe
