"""Section I: reading lesson exports, the rules of a filled-in journal, the «Заполнение ЭЖ» tab,
the teachers' e-mails and the summary's section."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from journaldesk.cli.main import main
from journaldesk.errors import UserError
from journaldesk.jobs.journal_import import import_lessons, read_export
from journaldesk.rules.journal_fill import (
    FillRules,
    check_lessons,
    closed_days,
    journal_week,
    name_key,
)
from journaldesk.settings import LESSON_HEADERS, parse_settings
from journaldesk.sheet.frames import parse_tab
from tests.helpers import SCHEMA, make_workbook, tab_rows

TZ = ZoneInfo("Europe/Simferopol")
NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=TZ)
ALIASES = parse_settings({}, Path(".")).journal.aliases()
HEADERS = ["Дата", "Класс", "Предмет", "Учитель", "Тема урока", "Домашнее задание",
           "Вид контроля", "Отметки", "Посещаемость"]  # fmt: skip
TAB = SCHEMA["journal_fill"]


def lesson(**over: object) -> dict[str, object]:
    """A lesson that is complete by every rule."""
    row: dict[str, object] = {
        "date": dt.date(2026, 11, 16),
        "class_name": "5А",
        "subject": "Математика",
        "teacher": "Осипова Наталья Владимировна",
        "topic": "Дроби",
        "homework": "№ 12",
        "assessment": "Самостоятельная работа",
        "marks": "3",
        "attendance": "отмечена",
    }
    row.update(over)
    return row


def check(*lessons: dict[str, object], closed: set[dt.date] | None = None, **rules: object):
    rule = FillRules.of(
        rules.get("subjects", ["Физическая культура"]),  # type: ignore[arg-type]
        rules.get("grades", [1]),  # type: ignore[arg-type]
        int(rules.get("late", 0)),  # type: ignore[arg-type]
    )
    return check_lessons(pd.DataFrame(list(lessons)), rule, closed or set())


# --- the rules ----------------------------------------------------------------------------------


def test_a_complete_lesson_lacks_nothing() -> None:
    out = check(lesson())
    assert out.loc[0, "complete"]
    assert not out.loc[0, ["no_topic", "no_homework", "no_assessment", "no_attendance"]].any()


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_lesson_without_a_topic(blank: object) -> None:
    out = check(lesson(topic=blank))
    assert out.loc[0, "no_topic"] and not out.loc[0, "complete"]


def test_homework_is_not_asked_in_exempt_subjects_and_grades() -> None:
    out = check(
        lesson(homework=None),
        lesson(homework=None, subject="физическая  культура"),
        lesson(homework=None, class_name="1Б"),
        lesson(homework=None, class_name="10А"),
    )
    assert list(out["no_homework"]) == [True, False, False, True]


def test_marks_without_a_type_of_assessment() -> None:
    out = check(
        lesson(assessment=None),
        lesson(assessment=None, marks=None),
        lesson(assessment=None, marks="0"),
        lesson(assessment=None, marks="5, 4"),
    )
    assert list(out["no_assessment"]) == [True, False, False, True]


def test_attendance_not_marked() -> None:
    out = check(lesson(attendance=None), lesson(attendance="не отмечена"), lesson(attendance="0"))
    assert list(out["no_attendance"]) == [True, True, False]


def test_entered_late_only_when_the_export_has_the_moment() -> None:
    out = check(
        lesson(entered_at=dt.datetime(2026, 11, 16, 23, 59)),
        lesson(entered_at=dt.datetime(2026, 11, 17, 0, 0)),
        lesson(entered_at=None),
    )
    assert list(out["late"]) == [False, True, False]
    assert out["complete"].all(), "lateness is counted apart, the lesson is filled"
    allowed = check(lesson(entered_at=dt.datetime(2026, 11, 17, 12, 0)), late=1)
    assert not allowed.loc[0, "late"]
    assert not check(lesson()).loc[0, "late"]


def test_lessons_on_closed_days_are_marked_not_counted() -> None:
    calendar = pd.DataFrame(
        {
            "date_from": [dt.date(2026, 11, 4), dt.date(2026, 11, 10)],
            "date_to": [None, dt.date(2026, 11, 11)],
            "kind": ["Праздник", "Нет консультаций"],
        }
    )
    closed = closed_days(calendar)
    assert closed == {dt.date(2026, 11, 4)}
    out = check(lesson(date=dt.date(2026, 11, 4), topic=None), lesson(), closed=closed)
    assert list(out["closed_day"]) == [True, False]


def test_name_keys_match_short_and_full_names() -> None:
    full = name_key("Осипова Наталья Владимировна")
    assert full == name_key("Осипова Н.В.") == name_key("Н. В. Осипова") == name_key("осипова н в")
    assert full != name_key("Осипова Анна Владимировна")


# --- reading exports ----------------------------------------------------------------------------


def write_csv(path: Path, rows: list[list[object]], encoding: str, delimiter: str = ";") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ";"), ("utf-8-sig", ","), ("cp1251", ";"), ("cp1251", "\t")],
)
def test_csv_in_either_encoding(tmp_path: Path, encoding: str, delimiter: str) -> None:
    rows = [HEADERS, ["16.11.2026", "5А", "Математика", "Осипова Н.В.", "Дроби", "", "", "", "да"]]
    path = write_csv(tmp_path / "export.csv", rows, encoding, delimiter)
    export = read_export(path, ALIASES)
    got = export.lessons.iloc[0]
    assert got["date"] == dt.date(2026, 11, 16)
    assert got["teacher"] == "Осипова Н.В." and got["topic"] == "Дроби"
    assert got["homework"] is None


def test_any_column_order_aliases_and_a_title_row(tmp_path: Path) -> None:
    rows = [
        ["Выгрузка уроков за период 16.11.2026–22.11.2026"],
        [],
        ["ДЗ", "Преподаватель", "Тема", "Дисциплина", "Группа", "Дата урока", "Оценки"],
        ["с. 10", "Осипова Н.В.", "Дроби", "Математика", "5А", dt.datetime(2026, 11, 16), 2],
    ]
    export = read_export(write_xlsx(tmp_path / "export.xlsx", rows), ALIASES)
    got = export.lessons.iloc[0].to_dict()
    assert got["date"] == dt.date(2026, 11, 16)
    assert (got["class_name"], got["subject"], got["homework"], got["marks"]) == (
        "5А", "Математика", "с. 10", "2",
    )  # fmt: skip
    assert export.columns == ["marks"]


def test_a_schools_own_header_from_the_settings(tmp_path: Path) -> None:
    rows = [[*HEADERS[:4], "Тема по КТП", *HEADERS[5:]], ["16.11.2026", "5А", "Мат", "Т", "Д"]]
    path = write_csv(tmp_path / "e.csv", rows, "utf-8")
    with pytest.raises(UserError):
        read_export(path, ALIASES)
    own = parse_settings({"journal": {"headers": {"topic": ["Тема по КТП"]}}}, tmp_path)
    assert read_export(path, own.journal.aliases()).lessons.iloc[0]["topic"] == "Д"


def test_a_missing_column_is_one_line_naming_it_and_the_headers_found(tmp_path: Path) -> None:
    rows = [
        ["Дата", "Класс", "Предмет", "Учитель", "Тема урока"],
        ["16.11.2026", "5А", "М", "Т", "x"],
    ]
    path = write_csv(tmp_path / "e.csv", rows, "cp1251")
    with pytest.raises(UserError) as err:
        read_export(path, ALIASES)
    others = ", ".join(f"«{h}»" for h in LESSON_HEADERS["homework"][1:])
    assert str(err.value) == (
        f"Файл «e.csv»: нет столбца «Домашнее задание» (или {others}). Заголовки в файле: "
        "«Дата», «Класс», «Предмет», «Учитель», «Тема урока». Если столбец называется иначе, "
        "добавьте название в journal.headers настроек."
    )
    assert "\n" not in str(err.value)


def test_rows_without_a_date_are_skipped_and_named(tmp_path: Path) -> None:
    rows = [HEADERS, ["вчера", "5А", "М", "Т", "x", "y"], ["17.11.2026", "5А", "М", "Т", "x", "y"]]
    export = read_export(write_csv(tmp_path / "e.csv", rows, "utf-8"), ALIASES)
    assert len(export.lessons) == 1
    assert export.skipped == ["строка 2: «Дата» «вчера» — не дата (нужна ДД.ММ.ГГГГ)"]


# --- the tab ------------------------------------------------------------------------------------


def export_rows(lessons: list[dict[str, object]]) -> list[list[object]]:
    fields = ["date", "class_name", "subject", "teacher", "topic", "homework", "assessment",
              "marks", "attendance"]  # fmt: skip
    out: list[list[object]] = [HEADERS]
    for item in lessons:
        values = [item.get(f) for f in fields]
        values[0] = values[0].strftime("%d.%m.%Y")  # type: ignore[union-attr]
        out.append(["" if v is None else v for v in values])
    return out


def tab_frame(store) -> pd.DataFrame:
    snap = store.read()
    return parse_tab(snap.tabs[TAB.title], TAB, sheet_tz="Europe/Simferopol").frame


def test_reimporting_a_week_replaces_its_rows(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, seed=False)
    week1 = [lesson(), lesson(teacher="Павленко С.М.", topic=None), lesson(topic=None)]
    first = write_csv(tmp_path / "w1.csv", export_rows(week1), "utf-8")
    result = import_lessons(store, settings, [first], now=NOW)
    assert (result.added, result.replaced) == (2, 0)
    frame = tab_frame(store)
    assert sorted(frame["teacher"]) == ["Осипова Наталья Владимировна", "Павленко С.М."]
    osipova = frame[frame["teacher"].str.startswith("Осипова")].iloc[0]
    assert (osipova["lessons"], osipova["complete"], osipova["no_topic"]) == (2, 1, 1)
    assert osipova["filled_share"] == 50.0

    # The same week again, fixed and with one teacher gone: replaced, never duplicated.
    again = write_csv(tmp_path / "w1b.csv", export_rows([lesson(), lesson()]), "cp1251")
    result = import_lessons(store, settings, [again], now=NOW)
    assert (result.added, result.replaced, result.emptied) == (0, 1, 1)
    frame = tab_frame(store)
    assert list(frame["teacher"]) == ["Осипова Наталья Владимировна"]
    assert (frame.iloc[0]["lessons"], frame.iloc[0]["filled_share"]) == (2, 100.0)

    # Another week is added beside it.
    other = write_csv(
        tmp_path / "w2.csv", export_rows([lesson(date=dt.date(2026, 11, 23))]), "utf-8"
    )
    import_lessons(store, settings, [other], now=NOW)
    frame = tab_frame(store)
    assert sorted(frame["week_start"]) == [dt.date(2026, 11, 16), dt.date(2026, 11, 23)]
    titles = [r[1] for r in tab_rows(store, "log")[1:]]
    assert titles.count("Загрузка выгрузки ЭЖ") == 3


def test_the_tab_holds_no_pupil_data() -> None:
    assert [c.field for c in TAB.columns if c.type == "text"] == ["teacher"]


def test_cli_reports_and_exit_code_for_a_missing_column(tmp_path: Path) -> None:
    make_workbook(tmp_path, seed=False)
    config = tmp_path / "settings.yaml"
    config.write_text("workbook:\n  path: journal.xlsx\nlog_file: logs/j.log\n", encoding="utf-8")
    good = write_csv(tmp_path / "ok.csv", export_rows([lesson(), lesson(topic=None)]), "utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["journal", str(good), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Заполнено полностью: 50 % (1 из 2)" in result.output.replace("50,0", "50")
    bad = write_csv(tmp_path / "bad.csv", [["Дата", "Класс"], ["16.11.2026", "5А"]], "utf-8")
    result = runner.invoke(main, ["journal", str(bad), "--config", str(config)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "«Предмет»" in result.output


# --- the summary's section ----------------------------------------------------------------------


def test_summary_section_figures() -> None:
    rows = pd.DataFrame(
        [
            # week, teacher, lessons, complete
            (dt.date(2026, 11, 9), "А", 10, 10),
            (dt.date(2026, 11, 9), "Б", 10, 5),
            (dt.date(2026, 11, 16), "А", 20, 19),
            (dt.date(2026, 11, 16), "Б", 10, 6),
            (dt.date(2026, 11, 16), "В", 4, 4),
        ],
        columns=["week_start", "teacher", "lessons", "complete"],
    )
    for gap in ("no_topic", "no_homework", "no_assessment", "no_attendance", "late"):
        rows[gap] = 0
    rows["closed_day_lessons"] = 0
    week = journal_week(rows, dt.date(2026, 11, 16), threshold=0.9)
    assert week is not None
    # Independently: this week 29 of 34 complete; last week 15 of 20.
    assert week.share == pytest.approx(29 / 34)
    assert week.change == pytest.approx(29 / 34 - 15 / 20)
    assert [(t.teacher, t.share) for t in week.behind] == [("Б", 0.6)]
    assert week.trend == [(dt.date(2026, 11, 9), 0.75), (dt.date(2026, 11, 16), 29 / 34)]
    assert journal_week(rows.iloc[0:0], dt.date(2026, 11, 16), threshold=0.9) is None


@pytest.mark.parametrize("template", ["summary.md.j2", "summary.html.j2", "email.txt.j2"])
def test_the_summary_templates_show_the_section(template: str) -> None:
    from journaldesk.jobs.report import render
    from journaldesk.rules.summary import WeekFigures

    rows = pd.DataFrame(
        [(dt.date(2026, 11, 16), "Осипова Н.В.", 20, 19), (dt.date(2026, 11, 16), "Б", 10, 6)],
        columns=["week_start", "teacher", "lessons", "complete"],
    )
    for gap in ("no_topic", "no_homework", "no_assessment", "no_attendance", "late"):
        rows[gap] = 1
    rows["closed_day_lessons"] = 0
    start = dt.date(2026, 11, 16)
    figures = WeekFigures(
        week_start=start,
        week_end=start + dt.timedelta(days=7),
        built_at=dt.datetime(2026, 11, 23, 7, 0),
        complete=True,
        school="Школа",
        journal=journal_week(rows, start, threshold=0.9),
    )
    text = render(template, figures).replace("<b>", "").replace("</b>", "").replace("**", "")
    assert "Заполнено полностью: 83,3 %" in text  # 25 of 30
    assert "None" not in text
    if template != "email.txt.j2":
        assert "Б" in text and "60 %" in text and "Осипова" not in text
        assert "тема урока — 2" in text
    empty = dataclasses.replace(
        figures, journal=journal_week(rows, dt.date(2026, 11, 23), threshold=0.9)
    )
    assert "не загружена" in render(template, empty)


# --- e-mail to teachers -------------------------------------------------------------------------


@pytest.fixture
def smtp_inbox():
    from tests.helpers import local_smtp
    from tests.test_notify import Inbox

    inbox = Inbox()
    with local_smtp(inbox) as port:
        yield inbox, port


def test_each_teacher_gets_only_their_own_lessons(tmp_path: Path, smtp_inbox) -> None:
    inbox, port = smtp_inbox
    staff = [
        {"full_name": "Осипова Наталья Владимировна", "email": "osipova@school.test"},
        {"full_name": "Павленко Светлана Михайловна", "email": "pavlenko@school.test"},
        {"full_name": "Фролова Анна Геннадьевна", "email": "frolova@school.test"},
    ]
    store, _ = make_workbook(tmp_path, {"staff": staff}, seed=False)
    settings = parse_settings(
        {
            "workbook": {"path": "journal.xlsx"},
            "log_file": "logs/j.log",
            "mail": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "sender": "robot@school.test",
            },
            "journal": {"email_teachers": True},
        },
        tmp_path,
    )
    lessons = [
        lesson(teacher="Осипова Н.В.", topic=None, class_name="5Б"),
        lesson(teacher="Осипова Н.В.", attendance=None, date=dt.date(2026, 11, 17)),
        lesson(teacher="Павленко С.М.", subject="Русский язык", homework=None),
        lesson(teacher="Фролова А.Г."),  # nothing missing: no e-mail
        lesson(teacher="Бойко В.С.", topic=None),  # not in «Сотрудники»
    ]
    path = write_csv(tmp_path / "w.csv", export_rows(lessons), "utf-8")
    result = import_lessons(store, settings, [path], now=NOW)
    assert sorted(result.mailed) == ["Осипова Н.В.", "Павленко С.М."]
    assert result.no_address == ["Бойко В.С."]
    by_address = {rcpt[0]: msg for _, rcpt, msg in inbox.messages}
    assert sorted(by_address) == ["osipova@school.test", "pavlenko@school.test"]
    osipova = by_address["osipova@school.test"].get_content()
    assert "16.11.2026  5Б  Математика: тема урока" in osipova
    assert "17.11.2026  5А  Математика: посещаемость" in osipova
    assert "Русский язык" not in osipova and "Павленко" not in osipova
    pavlenko = by_address["pavlenko@school.test"].get_content()
    assert "16.11.2026  5А  Русский язык: домашнее задание" in pavlenko
    assert "Математика" not in pavlenko and "Осипова" not in pavlenko


def test_no_mail_unless_the_setting_allows(tmp_path: Path, smtp_inbox) -> None:
    inbox, port = smtp_inbox
    store, _ = make_workbook(
        tmp_path, {"staff": [{"full_name": "Осипова Н.В.", "email": "o@school.test"}]}, seed=False
    )
    settings = parse_settings(
        {
            "workbook": {"path": "journal.xlsx"},
            "log_file": "logs/j.log",
            "mail": {"host": "127.0.0.1", "port": port, "security": "none", "sender": "r@s.test"},
        },
        tmp_path,
    )
    path = write_csv(tmp_path / "w.csv", export_rows([lesson(topic=None)]), "utf-8")
    assert import_lessons(store, settings, [path], now=NOW).mailed == []
    assert inbox.messages == []


# --- the demo's export --------------------------------------------------------------------------


def test_the_demo_export_is_a_school_timetable_with_a_substitution() -> None:
    from journaldesk.jobs.demo_data import CLASSES, demo_rows
    from journaldesk.jobs.demo_journal import HEADER, lesson_rows, short_name

    now = dt.datetime(2026, 12, 2, 10, 0, tzinfo=TZ)
    staff = demo_rows(now)["staff"]
    holiday = dt.date(2026, 11, 4)
    rows = lesson_rows(staff, {holiday}, today=now.date())
    assert rows == lesson_rows(staff, {holiday}, today=now.date()), "deterministic"
    assert rows[0] == HEADER
    frame = pd.DataFrame(rows[1:], columns=HEADER)
    assert set(frame["Класс"]) == set(CLASSES)
    assert set(frame["Учитель"]) <= {short_name(str(s["full_name"])) for s in staff}
    dates = pd.to_datetime(frame["Дата"], format="%d.%m.%Y").dt.date
    assert (dates < now.date()).all()
    assert (dates == holiday).sum() == 1, "one lesson dated on a holiday by mistake"
    # The substitution: on one day Фролова teaches 5–9 mathematics, Осипова's lessons.
    maths = frame[(frame["Предмет"] == "Математика") & frame["Класс"].isin(["5А", "5Б", "9А"])]
    by_day = maths.groupby(dates[maths.index])["Учитель"].agg(set)
    assert sum(teachers == {"Фролова А. Г."} for teachers in by_day) == 1
    # A few teachers behind, most not.
    complete = (frame["Тема урока"] != "") & (frame["Посещаемость"] != "")
    shares = complete.groupby(frame["Учитель"]).mean()
    assert 2 <= (shares < 0.8).sum() <= 4 and (shares > 0.9).sum() >= 10


# --- the runner's inbox -------------------------------------------------------------------------


def test_the_runner_imports_new_files_dropped_into_the_inbox_once(tmp_path: Path) -> None:
    import os

    from journaldesk.runner.scheduler import Runner
    from journaldesk.runner.timetable import JOURNAL, REMINDER, SUMMARY, SYNC

    make_workbook(tmp_path, seed=False)
    settings = parse_settings(
        {
            "workbook": {"path": "journal.xlsx"},
            "log_file": "logs/j.log",
            "journal": {"inbox": "inbox"},
        },
        tmp_path,
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stub = {job: (lambda now: "—") for job in (SYNC, REMINDER, SUMMARY)}
    runner = Runner(settings, jobs=stub, state_path=tmp_path / "state.json")
    an_hour_ago = NOW.timestamp() - 3600

    def drop(name: str, rows: list[list[object]], encoding: str = "utf-8") -> Path:
        path = write_csv(inbox / name, rows, encoding)
        os.utime(path, (an_hour_ago, an_hour_ago))
        return path

    def journal_runs() -> list:
        return [r for r in runner.run_due(NOW) if r.job == JOURNAL]

    assert journal_runs() == []
    drop("~$lock.csv", export_rows([lesson()]))
    drop("5А.csv", export_rows([lesson(), lesson(topic=None)]))
    drop("5Б.csv", export_rows([lesson(class_name="5Б")]), "cp1251")
    fresh = write_csv(inbox / "copying.csv", export_rows([lesson(class_name="6А")]), "utf-8")
    os.utime(fresh, (NOW.timestamp() - 5, NOW.timestamp() - 5))
    [run] = journal_runs()
    assert run.ok and "5А.csv, 5Б.csv" in run.message
    frame = tab_frame(runner.store_factory(settings))
    assert list(frame["lessons"]) == [3] and list(frame["complete"]) == [2]
    assert journal_runs() == [], "a file is taken once"

    # A bad file is named, once; a changed file is taken again.
    drop("bad.csv", [["Дата", "Класс"], ["16.11.2026", "5А"]])
    [run] = [r for r in runner.run_due(NOW + dt.timedelta(hours=1)) if r.job == JOURNAL]
    assert not run.ok and "bad.csv" in run.message and "«Предмет»" in run.message
    later = NOW + dt.timedelta(hours=2)
    assert [r for r in runner.run_due(later) if r.job == JOURNAL] == []
    # 5А exported again, fixed: the week is rebuilt from every file in the folder.
    drop("5А.csv", export_rows([lesson(), lesson()]))
    [run] = [r for r in runner.run_due(later) if r.job == JOURNAL]
    assert run.ok, run.message
    frame = tab_frame(runner.store_factory(settings))
    assert list(frame["lessons"]) == [4] and list(frame["complete"]) == [4]


# --- the notebook -------------------------------------------------------------------------------


def test_the_notebook_table_is_the_latest_week_least_filled_first(tmp_path: Path) -> None:
    from journaldesk.jobs import notebook as nh

    store, settings = make_workbook(tmp_path, seed=False)
    view = nh.read_view(settings, now=NOW)
    assert "пока пуст" in nh.journal_table(view)
    lessons = [
        lesson(date=dt.date(2026, 11, 9), topic=None),
        lesson(),
        lesson(teacher="Павленко С.М.", topic=None),
        lesson(teacher="Павленко С.М."),
        lesson(teacher="Павленко С.М."),
    ]
    path = write_csv(tmp_path / "w.csv", export_rows(lessons), "utf-8")
    import_lessons(store, settings, [path], now=NOW)
    table = nh.journal_table(nh.read_view(settings, now=NOW))
    assert list(table.columns[:3]) == [TAB.header("teacher"), "Уроков", "Заполнено полностью"]
    assert TAB.header("week_start") not in table.columns
    assert list(table[TAB.header("teacher")]) == ["Павленко С.М.", "Осипова Наталья Владимировна"]
    assert list(table[TAB.header("filled_share")]) == [pytest.approx(66.7), 100.0]
    fig = nh.journal_chart(table, settings.journal.threshold)
    colours = [tuple(round(c, 3) for c in bar.get_facecolor()[:3]) for bar in fig.axes[0].patches]
    assert colours[0] != colours[1], "the teacher below the threshold stands out"


def test_a_lesson_in_two_files_is_counted_once(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, seed=False)
    a = write_csv(tmp_path / "a.csv", export_rows([lesson(), lesson(topic=None)]), "utf-8")
    b = write_csv(tmp_path / "b.csv", export_rows([lesson(), lesson(class_name="5Б")]), "cp1251")
    result = import_lessons(store, settings, [a, b], now=NOW)
    assert result.lessons == 3 and result.complete == 2
