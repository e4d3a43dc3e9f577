"""`journaldesk journal FILE…`: load the journal's lesson exports into «Заполнение ЭЖ»."""

from __future__ import annotations

from pathlib import Path

import click

from journaldesk.cli.common import config_option, friendly, now_in, open_settings
from journaldesk.sheet.textfmt import count, day, percent


@click.command(
    "journal",
    help=(
        "Заполнение ЭЖ (раздел I регламента): загрузить выгрузку уроков из журнала (.xlsx или "
        ".csv) и записать по каждому учителю и неделе, сколько уроков без темы, домашнего "
        "задания, вида контроля и посещаемости. Повторная загрузка недели заменяет её строки."
    ),
)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@config_option
@click.option(
    "--no-mail", is_flag=True, help="Не писать учителям, даже если journal.email_teachers: true."
)
@friendly
def journal(files: tuple[Path, ...], config_path: Path | None, no_mail: bool) -> None:
    """Import the exports and print what was found."""
    from journaldesk.jobs.journal_import import import_lessons
    from journaldesk.store import open_store

    settings = open_settings(config_path)
    store = open_store(settings)
    result = import_lessons(store, settings, list(files), now=now_in(settings), mail=not no_mail)
    click.echo("\n".join(journal_lines(result)))


def journal_lines(result) -> list[str]:
    """The console lines of an import."""
    if not result.weeks:
        return [
            f"В {count(len(result.files), 'файле', 'файлах', 'файлах')} нет ни одного урока: "
            "лист «Заполнение ЭЖ» не изменён."
        ]
    share = percent(result.share)
    first, last = result.weeks[0], result.weeks[-1]
    lines = [
        f"Загружено {count(result.lessons, 'урок', 'урока', 'уроков')} из "
        f"{count(len(result.files), 'файла', 'файлов', 'файлов')}: недели "
        f"{day(first)}–{day(last)}, учителей {result.teachers}.",
        f"  Заполнено полностью: {share} ({result.complete} из {result.counted}).",
        "  Не заполнено: "
        + ", ".join(f"{label} — {n}" for label, n in result.gaps.items())
        + f"; внесено с опозданием — {result.late}.",
        f"  Лист «Заполнение ЭЖ»: строк добавлено {result.added}, заменено {result.replaced}"
        + (f", очищено {result.emptied}" if result.emptied else "")
        + ".",
    ]
    if result.closed_day_lessons:
        lines.append(
            f"  Уроков в праздники и каникулы (по листу «Календарь»): "
            f"{result.closed_day_lessons} — не учтены, проверьте даты."
        )
    if result.missing_columns:
        lines.append(
            "  В выгрузке нет столбцов: "
            + ", ".join(result.missing_columns)
            + " — эти правила не проверялись."
        )
    if result.skipped:
        shown = "; ".join(result.skipped[:5])
        more = f" и ещё {len(result.skipped) - 5}" if len(result.skipped) > 5 else ""
        lines.append(f"  Пропущены строки: {shown}{more}.")
    if result.mailed:
        lines.append(f"  Письма учителям: {len(result.mailed)}.")
    if result.no_address:
        lines.append("  Нет адреса на листе «Сотрудники»: " + ", ".join(result.no_address) + ".")
    return lines
