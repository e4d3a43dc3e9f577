"""`journaldesk consent [--class 5А] [--out FILE]`: the e-diary rollout class by class.

Without --class: a table of coverage per class (pupils, applications, consents, logins, waiting,
refused, the share ready against the target and the deadline). With --class: the list a class
teacher needs to chase, with pupils' and parents' names — for that teacher's eyes only, so it goes
to the terminal or a file, never into a broadcast. The sheet is read once; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd

from journaldesk.cli.common import config_option, friendly, now_in, open_settings
from journaldesk.errors import UserError
from journaldesk.rules.consent import (
    ConsentRules,
    chase_list,
    class_sort_key,
    coverage,
    deletion_list,
    staff_readiness,
)
from journaldesk.settings import Settings
from journaldesk.sheet.cells import parse_cell
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import day
from journaldesk.sheet.vocab import STATE_REFUSED, STATE_REVOKED, STATE_WAITING
from journaldesk.store.base import Snapshot

_COVERAGE_HEADERS = {
    "pupils": "Учеников",
    "submitted": "Заявлений",
    "signed": "Согласий",
    "logins": "Логинов",
    "waiting": STATE_WAITING,
    "waiting_long": "Ждём долго",
    "refused": STATE_REFUSED,
    "pd_refused": "из них ПД",
    "revoked": STATE_REVOKED,
    "left": "Выбыли",
}


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A plain text table with aligned columns."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def coverage_lines(
    cov: pd.DataFrame,
    staff: dict[str, pd.DataFrame],
    today: dt.date,
    to_delete: pd.DataFrame | None = None,
) -> list[str]:
    """The coverage table, the staff lists and the rows to delete as Russian lines."""
    headers = ["Класс", *_COVERAGE_HEADERS.values(), "Готово", "Цель", "Срок", "Итог"]
    rows = []
    for name in sorted(cov.index, key=class_sort_key):
        r = cov.loc[name]
        deadline = r["deadline"]
        rows.append(
            [
                str(name),
                *(str(int(r[k])) for k in _COVERAGE_HEADERS),
                f"{r['ready_share']:.0%}".replace("%", " %"),
                f"{r['target']:.0%}".replace("%", " %"),
                day(deadline) if deadline is not None and not pd.isna(deadline) else "—",
                "ОТСТАЁТ" if bool(r["behind"]) else "",
            ]
        )
    lines = [f"Электронный дневник: заявления и согласия по классам на {day(today)}", ""]
    lines += _table(headers, rows)
    behind = [str(n) for n in cov.index if bool(cov.loc[n, "behind"])]
    lines.append("")
    lines.append(
        "Отстают после срока: " + ", ".join(behind) if behind else "Отстающих после срока нет."
    )
    for key, title in (
        ("no_manual", "без руководства (п. 2.10)"),
        ("no_training", "без обучения (п. 2.1)"),
    ):
        frame = staff.get(key)
        count = 0 if frame is None else len(frame)
        lines.append(f"Сотрудников {title}: {count}")
    if to_delete is not None and len(to_delete):
        # Sheet rows only: this report may be shared, names stay in the sheet.
        rows_text = ", ".join(str(r) for r in to_delete.index)
        lines.append(
            f"Выбывшие ученики, срок хранения данных истёк — удалите строки листа «Согласия»: "
            f"{rows_text}"
        )
    return lines


def chase_lines(chase: pd.DataFrame, class_name: str, today: dt.date) -> list[str]:
    """The class teacher's list: whom to remind, longest waiting first."""
    lines = [
        f"Класс {class_name}: кому напомнить на {day(today)} (только для классного руководителя)",
        "",
    ]
    if chase.empty:
        return [*lines, "Все заявления и согласия собраны."]
    rows = []
    for _, r in chase.iterrows():
        waited = "" if pd.isna(r["days_waiting"]) else str(int(r["days_waiting"]))
        rows.append(
            [
                str(r["pupil"] or ""),
                str(r["parent"] or ""),
                str(r["state"] or ""),
                waited,
                str(r["todo"] or ""),
            ]
        )
    return lines + _table(["Ученик", "Родитель", "Состояние", "Дней ждём", "Что сделать"], rows)


def consent_report(
    snap: Snapshot, settings: Settings, *, today: dt.date, class_name: str | None
) -> list[str]:
    """The report's lines from one snapshot of the sheet."""
    from journaldesk.sheet.frames import parse_tab

    schema = load_schema()
    sheet_tz = snap.time_zone or settings.timezone
    consent = parse_tab(
        snap.tabs.get(schema["consent"].title), schema["consent"], sheet_tz=sheet_tz
    )
    staff = parse_tab(snap.tabs.get(schema["staff"].title), schema["staff"], sheet_tz=sheet_tz)
    rules = ConsentRules.from_settings(settings.consent)
    if class_name is None:
        cov = coverage(consent.frame, today=today, rules=rules, staff=staff.frame)
        to_delete = deletion_list(consent.frame, today=today, rules=rules)
        return coverage_lines(cov, staff_readiness(staff.frame, cov), today, to_delete)
    # «5A» typed with a Latin A means the same class as in the sheet, as a cell would.
    typed = parse_cell(class_name, schema["consent"].col("class_name")).value or class_name
    wanted = str(typed).replace(" ", "").upper()
    known = {str(c).replace(" ", "").upper(): str(c) for c in consent.frame["class_name"].dropna()}
    if wanted not in known:
        title = schema["consent"].title
        if not known:
            raise UserError(f"Класса «{class_name}» нет: лист «{title}» пока пуст.")
        listed = ", ".join(sorted(set(known.values()), key=class_sort_key))
        raise UserError(f"Класса «{class_name}» нет на листе «{title}». Есть классы: {listed}")
    chase = chase_list(consent.frame, known[wanted], today=today, rules=rules)
    return chase_lines(chase, known[wanted], today)


@click.command(
    "consent", help="Заявления и согласия родителей по классам; с --class — кому напомнить."
)
@config_option
@click.option(
    "--class",
    "class_name",
    default=None,
    help="Класс, например 5А: список для классного руководителя.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Записать в файл (UTF-8) вместо вывода на экран.",
)
@friendly
def consent(config_path: Path | None, class_name: str | None, out: Path | None) -> None:
    """Print the coverage per class, or one class's chase list."""
    from journaldesk.store import open_store

    settings = open_settings(config_path)
    store = open_store(settings)
    lines = consent_report(
        store.read(), settings, today=now_in(settings).date(), class_name=class_name
    )
    text = "\n".join(lines) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Записано в {out}")
