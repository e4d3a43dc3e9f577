"""The weekly report as a person sees it: rendered by headless Chromium at a phone's width
(390 px) and a desktop's (1200 px), the e-mail's structure, the charts' legends.

The screenshots are written to the test's temporary folder (pytest keeps the last three runs'),
or to $JOURNALDESK_ARTEFACTS when set, to be looked at; never into the project folder, so runs
in parallel do not share a file.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from journaldesk.jobs.demo import SETTINGS_NAME, build_demo
from journaldesk.jobs.notify import build_message
from journaldesk.jobs.report import (
    email_subject,
    figure_consent,
    figure_requests,
    render,
    run_summary,
)
from journaldesk.settings import load_settings
from journaldesk.store import open_store
from tests.browser import chromium_or_skip
from tests.browser import render as render_page

TZ = ZoneInfo("Europe/Simferopol")
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=TZ)  # a Wednesday
WIDTHS = (390, 1200)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    target = tmp_path_factory.mktemp("demo")
    build_demo(target, now=NOW)
    settings = load_settings(target / SETTINGS_NAME)
    return run_summary(open_store(settings), settings, now=NOW, write_history=False)


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_or_skip()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_report_fits_the_window_and_no_table_cell_is_clipped(
    report, chromium: str, width: int, tmp_path: Path
) -> None:
    page = report.paths["html"]
    artefacts = Path(os.environ.get("JOURNALDESK_ARTEFACTS") or tmp_path)
    artefacts.mkdir(parents=True, exist_ok=True)
    shot = artefacts / f"summary-{width}.png"
    seen = render_page(chromium, page, width, tmp_path, screenshot=shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert seen["innerWidth"] == width  # the window really was this wide
    # No horizontal scroll for the page.
    assert seen["scrollWidth"] <= width, seen["scrollWidth"]
    assert seen["bodyScrollWidth"] <= width
    cells = seen["cells"]
    assert len(cells) > 20, "the report's tables were shown"
    for cell in cells:
        # Inside the window (a table may scroll only inside its own box: none needs to) ...
        assert cell["left"] >= -0.5 and cell["right"] <= width + 0.5, cell
        # ... and its text inside the cell.
        assert cell["scrollWidth"] <= cell["clientWidth"] + 1, cell
    assert len(seen["images"]) == 3
    for image in seen["images"]:
        assert image["natural"] > 0, f"{image['alt']}: the chart did not load"
        assert image["left"] >= 0 and image["right"] <= width + 0.5, image
        assert image["width"] >= min(width - 40, 500), image  # scaled to the column, not tiny


def _boxes(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    legends = fig.legends
    return ax, legends, renderer


@pytest.mark.parametrize("make", [figure_requests, figure_consent])
def test_legends_sit_below_the_plot_and_cover_no_bar(report, make) -> None:
    fig = make(report.figures)
    ax, legends, renderer = _boxes(fig)
    assert len(legends) == 1
    legend = legends[0].get_window_extent(renderer)
    plot = ax.get_window_extent(renderer)
    # Below the axes and their tick labels (pixel y grows upwards).
    below = ax.get_tightbbox(renderer)
    assert legend.y1 <= below.y0 + 0.5, (legend, below)
    assert legend.y1 < plot.y0
    for bar in ax.patches:
        box = bar.get_window_extent(renderer)
        assert not legend.overlaps(box), (bar, box)


def test_the_email_carries_its_charts_inline_in_a_related_part(report) -> None:
    figures = report.figures
    html = report.paths["html"].read_text(encoding="utf-8")
    text = render("email.txt.j2", figures)
    msg = build_message(
        subject=email_subject(figures),
        text=text,
        html=html,
        sender="robot@school.test",
        recipients=["zam@school.test"],
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    plain, related = parsed.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert len(images) == 3
    body = html_part.get_content()
    assert "data:image" not in body
    for image in images:
        assert image.get_content_type() == "image/png"
        assert image.get_content_disposition() == "inline"
        assert image.get_filename() is None  # no «chart1.png» attachment in the list
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in body
        assert image.get_content().startswith(b"\x89PNG")
    assert not any(p.get_content_disposition() == "attachment" for p in parsed.walk())
    # The plain-text part stays short: a screenful, not the whole report.
    lines = plain.get_content().strip().splitlines()
    assert len(lines) <= 30 and max(len(line) for line in lines) <= 100, lines


def test_numbers_say_their_unit_and_the_wait_sits_under_its_moment() -> None:
    import dataclasses

    from journaldesk.rules.summary import OverdueItem, WeekFigures

    week = WeekFigures(
        week_start=dt.date(2026, 10, 26),
        week_end=dt.date(2026, 11, 2),
        built_at=dt.datetime(2026, 11, 3, 9, 0),
        complete=True,
        school="Школа",
    )
    item = OverdueItem(
        316, "Итоговые отметки", "3А", dt.datetime(2026, 10, 23, 16, 0), 34 * 60.0, "Почему", None
    )
    week = dataclasses.replace(
        week,
        overdue_now=1,
        overdue_list=[item],
        open_at_end=4,
        backlog_median_minutes=90.0,
        backlog_max_minutes=40 * 60.0,
        median_resolve_minutes=45.0,
    )
    for template in ("summary.html.j2", "summary.md.j2"):
        text = render(template, week)
        assert "34 раб. ч (с 23.10)" in text, template
        assert "Медиана времени решения: 45 раб. мин." in text.replace("<b>", "").replace(
            "</b>", ""
        )
        # The longest wait is the one measured at the end of the week, on that line.
        [line] = [ln for ln in text.splitlines() if "На конец недели" in ln]
        assert "(01.11.2026)" in line and "дольше всех — 40 раб. ч" in line, line
        assert text.count("дольше всех") == 1
