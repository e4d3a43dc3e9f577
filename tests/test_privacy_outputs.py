"""No pupil's, parent's or applicant's name, in any grammatical form, in anything that leaves the
sheet: the weekly report (Markdown, HTML), the e-mail (both parts), the reminder, the notebook."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from journaldesk.jobs import notebook as nh
from journaldesk.jobs.report import render, run_summary
from journaldesk.runner.digest import digest_items, digest_text
from tests.helpers import at, make_workbook, request

NOW = at("01.12.2026 15:10")  # a Tuesday; the report is of the week 23.11–29.11.2026

CONSENT = [
    {
        "class_name": "5А",
        "pupil": "Гусев Степан",
        "parent": "Гусева Евгения Ивановна",
        "relation": "Мать",
        "application": "Выдано",
        "pd_consent": "Нет",
        "issued_on": dt.date(2026, 11, 2),
    },
    {
        "class_name": "2Б",
        "pupil": "Петрова-Водкина Алёна",
        "parent": "Семёнова Роза Ильинична",
        "relation": "Мать",
        "application": "Подано",
        "pd_consent": "Подписано",
        "issued_on": dt.date(2026, 11, 2),
        "submitted_on": dt.date(2026, 11, 5),
    },
    # A class typed with a name in it: its «Проверка» note quotes the cell.
    {"class_name": "7 Кузьмин", "pupil": "Кузьмин Лев", "parent": "Кузьмина Ольга"},
]
STAFF = [{"full_name": "Иванова Мария Петровна", "position": "Учитель", "class_led": "5А"}]


def described(description: str, day: int, **fields: object) -> dict[str, object]:
    row = request(
        description=description,
        received_at=dt.datetime(2026, 11, day, 14, 10),
        role="Родитель",
        class_name="5А",
        requester="Гусева Евгения Ивановна",
    )
    row.update(fields)
    return row


REQUESTS = [
    described("помогите Гусеву Степану войти в дневник", 23),
    described("у мамы Гусевой Евгении нет логина, пароль: Qwerty123", 24),
    described("Алёне Петровой-Водкиной из 2Б не выдали логин", 24, class_name="2Б"),
    described("Льву Кузьмину не приходят оценки", 25, requester="Кузьмина Ольга"),
    described("Сидорову Ивану Петровичу перезвонить", 25, requester="Сидоров Иван Петрович"),
    described(
        "Записать Семёнову Розу на консультацию",
        26,
        topic="Текущие отметки",
        requester="Семёнова Роза Ильинична",
    ),
]

# Every form a leak could take, written by hand (nominative … prepositional), ё read as е.
FORMS = frozenset(
    """
гусев гусева гусеву гусевым гусеве гусевой гусевых
степан степана степану степаном степане
евгения евгении евгению евгенией
ивановна ивановны ивановне ивановну ивановной
петрова-водкина петровой-водкиной петрову-водкину водкина водкиной водкину
алена алены алене алену аленой
семенова семеновой семенову
роза розы розе розу розой ильинична ильиничны ильиничне ильиничну
кузьмин кузьмина кузьмину кузьминым кузьмине кузьминой
лев льва льву львом льве ольга ольги ольге ольгу ольгой
сидоров сидорова сидорову сидоровым сидорове
""".split()  # noqa: SIM905 (one line per name reads better than a list)
)


def leaked(text: str) -> list[str]:
    words = re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text.casefold().replace("ё", "е"))
    return sorted({w for w in words if w in FORMS})


class Capture:
    """A notify.Sender that keeps what it was given."""

    def __init__(self) -> None:
        self.recipients = ["director@school.test"]
        self.sent: list[tuple[str, str, str | None]] = []

    def send(self, subject, text, html=None, attachments=()) -> None:
        self.sent.append((subject, text, html))


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("names")
    return make_workbook(tmp, {"requests": REQUESTS, "consent": CONSENT, "staff": STAFF})


def test_report_and_email_hold_no_name_in_any_form(sheet) -> None:
    store, settings = sheet
    sender = Capture()
    result = run_summary(store, settings, now=NOW, send=True, sender=sender)
    assert result.sent and len(result.figures.overdue_list) >= 4
    markdown = result.paths["markdown"].read_text(encoding="utf-8")
    html = result.paths["html"].read_text(encoding="utf-8")
    [(subject, text, body)] = sender.sent
    for output in (markdown, html, subject, text, body or ""):
        assert leaked(output) == []
        assert "Qwerty123" not in output
    # The quotes are there, with neutral marks: the report still says what the request is about.
    quotes = " ".join(item.quote for item in result.figures.overdue_list)
    assert "[ученик 5А]" in quotes and "[ученик 2Б]" in quotes and "[заявитель]" in quotes
    assert "[ученик 5А]" in markdown and "[ученик 5А]" in html


def test_the_reminder_holds_no_name(sheet) -> None:
    _, settings = sheet
    view = nh.read_view(settings, now=NOW)
    items = digest_items(view.plan.requests)
    assert items
    session = (dt.datetime(2026, 12, 1, 15, 0), dt.datetime(2026, 12, 1, 17, 0))
    subject, text = digest_text(items, session, settings.school)
    assert leaked(subject + "\n" + text) == []


def test_notebook_tables_hold_no_name(sheet) -> None:
    _, settings = sheet
    view = nh.read_view(settings, now=NOW)
    shown: list[str] = []
    for table in nh.request_tables(view).values():
        shown.append(table.to_csv())
    agenda = nh.agenda_table(view, dt.date(2026, 11, 23), dt.date(2026, 12, 11))
    assert isinstance(agenda, pd.DataFrame) and agenda["№"].notna().any()
    shown.append(agenda.to_csv())
    problems = nh.problems_table(view)
    assert len(problems) > 0
    shown.append(problems.to_csv())
    shown.append(nh.consent_table(view).to_csv())
    figures = nh.weekly_figures(view)
    shown.append(nh.figures_table(figures).to_csv())
    shown.append(render("summary.md.j2", figures))
    for text in shown:
        assert leaked(text) == [], text


def test_with_show_names_the_notebook_shows_who_booked(sheet) -> None:
    _, settings = sheet
    view = nh.read_view(settings.model_copy(update={"show_names": True}), now=NOW)
    agenda = nh.agenda_table(view, dt.date(2026, 11, 23), dt.date(2026, 12, 11))
    assert "Семёнова Роза Ильинична" in agenda.to_csv()


def test_the_report_withholds_a_text_naming_someone_unknown(tmp_path: Path) -> None:
    store, settings = make_workbook(
        tmp_path,
        {
            "requests": [described("Звонила бабушка Ангелина Фёдоровна, не может войти", 23)],
            "consent": CONSENT[:1],
        },
    )
    result = run_summary(store, settings, now=NOW, write_history=False)
    [item] = result.figures.overdue_list
    assert "Ангелина" not in item.quote and "описание скрыто" in item.quote
    assert item.number == 1 and item.topic == "Техническая неисправность"


def test_doctor_on_google_says_in_one_line_where_the_personal_data_is(
    tmp_path: Path, sheets_server, service_account_info
) -> None:
    from tests.test_cli_google import _config, _run

    sid = sheets_server.create_spreadsheet()
    config = str(_config(tmp_path, sheets_server, sid))
    _run(service_account_info, "init", "--config", config)
    doctor = _run(service_account_info, "doctor", "--config", config)
    lines = [ln for ln in doctor.output.splitlines() if "Персональные данные" in ln]
    assert len(lines) == 1, doctor.output
    assert "за пределами России" in lines[0] and "152-ФЗ, ст. 18 ч. 5" in lines[0]
    assert "backend: workbook" in lines[0] and "README" in lines[0]


def test_doctor_on_the_workbook_says_nothing_of_it(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from journaldesk.cli.main import main

    make_workbook(tmp_path)
    config = tmp_path / "settings.yaml"
    config.write_text("workbook:\n  path: journal.xlsx\nlog_file: logs/j.log\n", encoding="utf-8")
    doctor = CliRunner().invoke(main, ["doctor", "--config", str(config)])
    assert "Таблица открыта" in doctor.output, doctor.output
    assert "Персональные данные" not in doctor.output
