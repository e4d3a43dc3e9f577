"""The summary for people: templates, charts, the «Сводка» history row, files, e-mail, CLI.

The demo workbook is built once for the module (tmp), then summarised.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import types
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from click.testing import CliRunner

from journaldesk.cli import summary as cli_summary
from journaldesk.errors import UserError
from journaldesk.jobs.demo import SETTINGS_NAME, build_demo
from journaldesk.jobs.report import (
    SummaryResult,
    charts,
    environment,
    history_writes,
    percent,
    points,
    render,
    run_summary,
    summary_line,
)
from journaldesk.jobs.sync import parse_snapshot, plan_sheet
from journaldesk.resources import template_file
from journaldesk.rules.summary import OverdueItem, WeekFigures, week_figures
from journaldesk.settings import Settings, load_settings
from journaldesk.sheet.frames import ParsedTab, parse_tab
from journaldesk.sheet.schema import load_schema
from journaldesk.store import open_store
from journaldesk.store.base import Snapshot, TabData
from tests.helpers import local_smtp

SCHEMA = load_schema()
TZ = ZoneInfo("Europe/Simferopol")
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=TZ)  # a Wednesday
WEEK = dt.date(2026, 11, 23)
TEMPLATES = ("summary.md.j2", "summary.html.j2", "email.txt.j2")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ALL_CHARTS = {"requests": "a.png", "sla": "b.png", "consent": "c.png"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo")
    build_demo(target, now=NOW)
    return target


@pytest.fixture(scope="module")
def settings(demo: Path) -> Settings:
    return load_settings(demo / SETTINGS_NAME)


@pytest.fixture(scope="module")
def full(demo: Path, settings: Settings) -> WeekFigures:
    parsed = parse_snapshot(open_store(settings).read(), SCHEMA, settings.timezone)
    plan = plan_sheet(parsed, settings, now=NOW, sheet_tz=settings.timezone)
    return week_figures(parsed, plan, settings, now=NOW)


def empty_week() -> WeekFigures:
    return WeekFigures(
        week_start=WEEK,
        week_end=WEEK + dt.timedelta(days=7),
        built_at=dt.datetime(2026, 11, 30, 7, 0),
        complete=True,
        school="Школа",
    )


def tab_rows(snap: Snapshot, key: str) -> list[list]:
    return snap.tabs[SCHEMA[key].title].rows


def _plain(text: str) -> str:
    return text.replace("*", "").replace("<b>", "").replace("</b>", "")


def test_the_summary_line_names_the_week_the_counts_the_folder_and_the_mail(tmp_path) -> None:
    figures = dataclasses.replace(empty_week(), received=7, resolved=5)
    result = SummaryResult(figures=figures, folder=tmp_path, sent=True)
    assert summary_line(result) == (
        f"неделя с 23.11.2026: поступило 7, решено 5; файлы в {tmp_path}; отправлена на почту"
    )
    # Not sent, no folder (a stand-in with only figures): the week and the counts alone.
    assert summary_line(types.SimpleNamespace(figures=figures)) == (
        "неделя с 23.11.2026: поступило 7, решено 5"
    )
    # A runner's summary job may return something else (a test's stand-in): still one line.
    assert summary_line(None) == "сформирована"


# --- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("with_charts", [False, True])
def test_every_template_renders_a_full_and_an_empty_week(
    template: str, with_charts: bool, full: WeekFigures
) -> None:
    pictures = ALL_CHARTS if with_charts else {}
    full_text = render(template, full, pictures)
    empty_text = render(template, empty_week(), pictures)
    assert "23.11.2026–29.11.2026" in full_text and "23.11.2026–29.11.2026" in empty_text
    assert "None" not in full_text and "None" not in empty_text
    assert full.received > 0 and f"Поступило: {full.received}" in _plain(full_text)
    if template != "email.txt.j2":
        assert "За неделю обращений не было." in empty_text
        assert ("a.png" in full_text) is with_charts


def test_the_templates_are_strict_and_html_is_escaped() -> None:
    env = environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ f.no_such_figure }}").render(f=empty_week())
    assert all(template_file(name).is_file() for name in TEMPLATES)
    week = dataclasses.replace(
        empty_week(),
        overdue_now=1,
        overdue_list=[
            OverdueItem(5, "Тема", "5А", None, 60.0, "<script>alert(1)</script> | ещё", None)
        ],
    )
    html = render("summary.html.j2", week)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = render("summary.md.j2", week)
    assert "<script>alert(1)</script> \\| ещё" in markdown  # a pipe cannot break the table


@pytest.mark.parametrize(
    ("n", "words"),
    [(1, "1 обращение"), (2, "2 обращения"), (5, "5 обращений"), (21, "21 обращение")],
)
def test_counts_take_russian_plural_forms(n: int, words: str) -> None:
    week = dataclasses.replace(empty_week(), received=n)
    assert f"Поступило: **{words}**" in render("summary.md.j2", week)
    assert f"Поступило: {words}" in render("email.txt.j2", week)


def test_numbers_read_the_russian_way() -> None:
    assert percent(0.875) == "87,5 %"
    assert percent(0.9) == "90 %"
    assert percent(None) == "—"
    assert points(0.038) == "+3,8 п. п."
    assert points(-0.01) == "−1 п. п."
    assert points(0.0) == "без изменений"


def test_dates_in_the_report_are_dd_mm_yyyy(full: WeekFigures) -> None:
    text = render("summary.md.j2", full)
    assert "сформировано 02.12.2026 10:00" in text
    assert "(на 29.11.2026)" in text
    assert "2026-11" not in text


def test_charts_of_an_empty_week_are_png_too() -> None:
    # (the charts of a full week are checked on the files of the run below)
    pictures = charts(empty_week())
    assert set(pictures) == {"requests", "sla", "consent"}
    assert all(png.startswith(PNG_MAGIC) for png in pictures.values())


def _summary_tab(rows: list[list]) -> ParsedTab:
    tab = SCHEMA["summary"]
    return parse_tab(TabData(tab.title, [tab.headers, *rows]), tab)


def test_history_row_goes_over_the_weeks_row_and_empties_a_repeat() -> None:
    other, week = dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 23)
    parsed = _summary_tab([[other, 1], [week, 2], ["23.11.2026", 3]])
    fresh = [["Неделя с"], [other], [week], ["23.11.2026"]]
    row = {"week_start": WEEK, "received": 9}
    writes, target, replaced = history_writes(parsed, fresh, row, sheet_tz="Europe/Simferopol")
    assert (target, replaced) == (3, True)
    cols = len(SCHEMA["summary"].columns)
    assert {w.row for w in writes[:cols]} == {3} and writes[1].value == 9
    assert {w.row for w in writes[cols:]} == {4} and {w.value for w in writes[cols:]} == {None}
    # a row moved by a person is followed: the re-read column says where the week is now
    writes, target, _ = history_writes(
        parsed, [["Неделя с"], [week], [other]], row, sheet_tz="Europe/Simferopol"
    )
    assert target == 2
    # a new week goes after the last filled row
    _, target, replaced = history_writes(
        parsed, fresh, {**row, "week_start": dt.date(2026, 11, 30)}, sheet_tz="Europe/Simferopol"
    )
    assert (target, replaced) == (5, False)


# --- the run: history, files, e-mail ------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    with local_smtp(inbox) as port:
        yield inbox, port


def _week_rows(snap: Snapshot, week: dt.date) -> list[list]:
    rows = tab_rows(snap, "summary")[1:]
    col = SCHEMA["summary"].headers.index(SCHEMA["summary"].header("week_start"))
    found = []
    for row in rows:
        value = row[col] if col < len(row) else None
        if isinstance(value, dt.datetime):
            value = value.date()
        if value == week:
            found.append(row)
    return found


def test_run_twice_replaces_the_week_row_and_mails_without_names(
    demo: Path, settings: Settings, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    store = open_store(settings)
    before = store.read()
    with_mail = settings.model_copy(
        update={
            "mail": settings.mail.model_copy(
                update={
                    "host": "127.0.0.1",
                    "port": port,
                    "security": "none",
                    "sender": "ezh-robot@school.test",
                    "recipients": ["director@school.test"],
                }
            )
        }
    )
    first = run_summary(store, with_mail, now=NOW, send=True)
    second = run_summary(store, settings, now=NOW, send=True)  # mail off: nothing sent
    after = store.read()

    # one row for the week, written in place the second time
    assert first.figures.week_start == WEEK
    assert not first.replaced and second.replaced
    assert first.history_row == second.history_row
    rows = _week_rows(after, WEEK)
    assert len(rows) == 1
    assert len([r for r in tab_rows(after, "summary")[1:] if any(v is not None for v in r)]) == 1
    assert rows[0][1] == second.figures.received
    # two Журнал rows more; every other tab exactly as it was
    log_title = SCHEMA["log"].title
    assert len(after.tabs[log_title].rows) == len(before.tabs[log_title].rows) + 2
    assert "Сводка за неделю" in after.tabs[log_title].rows[-1]
    for title, data in before.tabs.items():
        if title not in (SCHEMA["summary"].title, log_title):
            assert after.tabs[title].rows == data.rows, title

    # files
    folder = demo / "reports" / "2026-11-23"
    assert second.folder == folder
    html = (folder / "summary.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 3
    markdown = (folder / "summary.md").read_text(encoding="utf-8")
    for name in ("requests_by_topic.png", "sla_trend.png", "consent_by_class.png"):
        assert f"]({name})" in markdown
        assert (folder / name).read_bytes().startswith(PNG_MAGIC)

    # the e-mail: both parts, no pupil's or parent's name, no pasted password
    assert first.sent and not second.sent
    [msg] = inbox.messages
    text = msg.get_body(("plain",)).get_content()
    body = msg.get_body(("html",)).get_content()
    assert "Сводка службы помощи по ЭЖ за неделю 23.11.2026–29.11.2026" in text
    assert "<table>" in body
    consent = parse_snapshot(after, SCHEMA, settings.timezone)["consent"].frame
    names = {str(n) for n in consent["pupil"].dropna()} | {
        str(n) for n in consent["parent"].dropna()
    }
    assert len(names) > 100
    leaked = [n for n in names if n in text or n in body or n in markdown or n in html]
    assert leaked == []
    assert "Qwerty123" not in body and "Vlad2026!" not in body


def test_a_future_week_is_refused(settings: Settings) -> None:
    with pytest.raises(UserError, match=r"^Неделя с 04\.01\.2027 ещё не началась"):
        run_summary(open_store(settings), settings, now=NOW, week_start=dt.date(2027, 1, 4))


# --- the command ---------------------------------------------------------------------------------


def test_cli_rebuilds_a_past_week(
    demo: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_summary, "now_in", lambda _settings: NOW)
    result = CliRunner().invoke(
        cli_summary.summary, ["--config", str(demo / SETTINGS_NAME), "--week", "2026-11-16"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Сводка за неделю 16.11.2026–22.11.2026 готова."
    assert lines[2] == (
        f"  Файлы: {demo / 'reports' / '2026-11-16'} (summary.md, summary.html и 3 графика)."
    )
    assert lines[3].startswith("  Строка на листе «Сводка» добавлена (строка ")
    assert len(_week_rows(open_store(settings).read(), dt.date(2026, 11, 16))) == 1


def test_cli_send_without_mail_settings_is_exit_2(demo: Path) -> None:
    result = CliRunner().invoke(
        cli_summary.summary, ["--config", str(demo / SETTINGS_NAME), "--send"]
    )
    assert result.exit_code == 2
    assert result.output.startswith("Ошибка: Почта не настроена: заполните раздел mail")


def test_cli_bad_week_is_exit_2(demo: Path) -> None:
    result = CliRunner().invoke(
        cli_summary.summary, ["--config", str(demo / SETTINGS_NAME), "--week", "вчера"]
    )
    assert result.exit_code == 2
    assert "«вчера» — не дата" in result.output


def test_demo_form_answers_all_became_requests_once(demo: Path, settings: Settings) -> None:
    from journaldesk.jobs.demo_data import form_answers

    answers = form_answers(NOW)
    parsed = parse_snapshot(open_store(settings).read(), SCHEMA, settings.timezone)
    frame = parsed["requests"].frame
    from_form = frame[frame["channel"] == "Форма"]
    assert len(answers) >= 24
    assert sorted(from_form["requester"]) == sorted(a[1] for a in answers)
    # The bad answers are requests too, with their problem in «Проверка» (class, topic).
    bad = from_form[from_form["class_name"].isna() | from_form["topic"].isna()]
    assert len(bad) >= 2
