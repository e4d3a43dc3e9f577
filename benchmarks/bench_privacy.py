"""Keeping names out of texts: the cost of scrubbing N request descriptions.

    .venv/bin/python benchmarks/bench_privacy.py [N ...]

The demo school (its «Согласия», «Обращения» and «Сотрудники») gives the people; the texts are
the demo's descriptions, every other one with a pupil's or parent's name put in, declined
(«помогите Гусеву Степану»). Printed, for each N:
  floor    splitting the same texts into words with the scrubber's own word pattern: the least
           any word-by-word matcher must do
  masks    mask_all (passwords, e-mails): what every text already went through
  cold     safe_text on every text, the word cache empty (the first report of a process)
  warm     the same again (the words are cached: later reports, the notebook)
and each as a ratio to the floor. Building the analyser and the name index is timed apart:
it happens once per process and once per report.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import sys
import time
from zoneinfo import ZoneInfo

import pandas as pd

from journaldesk.jobs.demo_data import demo_rows
from journaldesk.rules import privacy
from journaldesk.rules.privacy import NameIndex, mask_all, morph, people_from_tabs, safe_text

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Simferopol"))
# Endings of the dative and the genitive, by hand: enough to make the texts decline names.
FRAMES = (
    "помогите {} войти в дневник",
    "у мамы {} нет логина",
    "звонили насчёт {}, ждут ответа",
)


def _dative(name: str) -> str:
    surname, *rest = name.split()
    if surname.endswith(("ов", "ев", "ин")):
        surname += "у"
    elif surname.endswith(("ова", "ева", "ина")):
        surname = surname[:-1] + "ой"
    return " ".join([surname, *rest[:1]])


def texts(n: int) -> tuple[list[str], list[privacy.Person]]:
    rows = demo_rows(NOW)
    frames = {key: pd.DataFrame(rows[key]) for key in ("consent", "requests", "staff")}
    people = people_from_tabs(frames["consent"], frames["requests"], frames["staff"])
    base = [str(r["description"]) for r in rows["requests"] if r.get("description")]
    names = [str(p) for p in frames["consent"]["pupil"].dropna()]
    rng = random.Random(n)
    out = []
    for i in range(n):
        text = base[i % len(base)]
        if i % 2:
            text = f"{rng.choice(FRAMES).format(_dative(rng.choice(names)))}. {text}"
        out.append(text)
    return out, people


def timed(fn, corpus: list[str]) -> float:
    """Seconds to apply `fn` to every text of the corpus."""
    t0 = time.perf_counter()
    for text in corpus:
        fn(text)
    return time.perf_counter() - t0


def main(sizes: list[int]) -> None:
    t0 = time.perf_counter()
    morph()
    print(f"analyser built once: {(time.perf_counter() - t0) * 1000:.0f} ms")
    for n in sizes:
        corpus, people = texts(n)
        privacy._analyse.cache_clear()
        t1 = time.perf_counter()
        index = NameIndex(people)
        built = time.perf_counter() - t1
        scrub = functools.partial(safe_text, names=index)
        floor = timed(privacy._WORD.findall, corpus)
        masks = timed(mask_all, corpus)
        cold = timed(scrub, corpus)
        warm = timed(scrub, corpus)
        withheld = sum(safe_text(t, index) is None for t in corpus)
        print(f"\n{n:,} descriptions, {len(index):,} people on the sheet")
        print(f"  name index:     {built * 1000:8.1f} ms (once per report)")
        print(f"  floor (words):  {floor * 1000:8.1f} ms  1.0x")
        for label, value in (("masks", masks), ("cold", cold), ("warm", warm)):
            print(f"  {label + ':':15} {value * 1000:8.1f} ms  {value / floor:.1f}x the floor")
        print(f"  per text, warm: {warm / n * 1e6:8.1f} µs; withheld: {withheld} of {n}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
