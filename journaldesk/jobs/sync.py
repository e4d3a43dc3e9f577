"""One sync: read the sheet, apply the rules, write back only what differs, in one batch.

    read -> parse -> rules -> diff -> narrow re-read (find moved rows) -> one write -> log

The invariants of design.md are enforced here, in one place: a staff cell is never in the diff,
an auto-filled cell only while it is empty (checked again just before writing), and every write
is aimed at the row that still holds the same request, found by its identity, never by position.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from journaldesk.jobs.replies import Mailer, ReplyRun, default_mailer, due_replies, send_replies
from journaldesk.rules.intake import Imports, imported_keys, plan_imports, read_answers
from journaldesk.rules.plan import (
    JOB_SYNC,
    Pending,
    SheetPlan,
    diff_tab,
    identity_fields,
    plain,
    plan_sheet,
    same_value,
)
from journaldesk.rules.privacy import mask_all
from journaldesk.rules.reply import Reply
from journaldesk.rules.requests import high_water_mark, local_now
from journaldesk.settings import Settings
from journaldesk.sheet.cells import parse_cell
from journaldesk.sheet.frames import ParsedTab, parse_snapshot
from journaldesk.sheet.schema import Schema, load_schema
from journaldesk.sheet.textfmt import blank_mask, decimal, is_blank
from journaldesk.sheet.vocab import AT_RISK, OPEN_DUE_STATES, OVERDUE, RUN_OK, RUN_WITH_NOTES
from journaldesk.store.base import (
    NUMBER_FORMATS,
    CellValue,
    CellWrite,
    Located,
    RowsGone,
    Snapshot,
    Store,
)

# Re-exported: the sync's plan is what the report, the runner and the notebook read too.
__all__ = [
    "JOB_SYNC",
    "Pending",
    "Reading",
    "SheetPlan",
    "SyncReport",
    "diff_tab",
    "identity_fields",
    "parse_snapshot",
    "plain",
    "plan_sheet",
    "read_and_plan",
    "same_value",
    "sync",
]

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What one sync did, for the Журнал row, the local log and the CLI."""

    started: dt.datetime
    rows: int = 0
    cells: int = 0
    new_numbers: int = 0
    problems: int = 0
    new_problems: int = 0
    moved: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    wrote: bool = False
    open: int = 0
    at_risk: int = 0
    overdue: int = 0
    imported: int = 0  # form answers that became requests
    letters: int = 0  # letters sent to people who asked through the form
    notes: list[str] = field(default_factory=list)

    def summary_ru(self) -> str:
        """One Russian line for the console and the log."""
        return (
            f"прочитано обращений: {self.rows}; изменено ячеек: {self.cells}; "
            f"новых №: {self.new_numbers}; из формы: {self.imported}; "
            f"строк с замечаниями: {self.problems}; "
            f"отложено до следующего запуска: {self.moved}; вызовов API: {self.api_calls}; "
            f"{decimal(self.seconds)} с"
            + (f"; писем заявителям: {self.letters}" if self.letters else "")
        )

    def outcome_ru(self) -> str:
        """The console line of a sync: what was written and the headline figures."""
        head = "Изменений нет." if not self.wrote else f"Записано ячеек: {self.cells}."
        return (
            f"{head} Обращений: {self.rows}, открытых: {self.open}, под угрозой: "
            f"{self.at_risk}, просрочено: {self.overdue}, строк с замечаниями: "
            f"{self.problems}, новых №: {self.new_numbers}."
            + (f" Отложено до следующего запуска: {self.moved}." if self.moved else "")
            + (f" Писем заявителям отправлено: {self.letters}." if self.letters else "")
        )


# --- finding rows again just before writing -----------------------------------------------------


def _key(value: object) -> str:
    """A cell as an identity key: trimmed text, whole floats as ints, empty as ''."""
    if value is None:
        return ""
    if value.__class__ is str:
        return value.replace("\xa0", " ").strip()  # blank text gives ''
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\xa0", " ").strip()


def _row_keys(columns: list, rows: int | None = None) -> list[tuple[str, ...]]:
    """The identity key of every row, from the columns of its identity cells (column by column:
    text and whole numbers, by far the most common cells, are keyed without a call)."""
    keyed = [
        [
            v.replace("\xa0", " ").strip()
            if (cls := v.__class__) is str
            else str(v)
            if cls is int
            else _key(v)
            for v in column
        ]
        for column in columns
    ]
    if not keyed:
        return [()] * (rows or 0)
    return list(zip(*keyed, strict=True))


def _in_place(
    before: list[tuple[str, ...]], after: list[tuple[str, ...]], positions: list[int]
) -> bool:
    """Whether every row keyed in `before` is still where it was (before[i] at positions[i])
    and `after` keys no other row: then remap_rows would map each row to its own place (the
    usual case, found without building its maps)."""
    if positions and not 0 <= positions[0] <= positions[-1] < len(after):
        return False
    if [after[at] for at in positions] != before:
        return False
    return sum(map(any, after)) == sum(map(any, before))


def remap_rows(before: list[tuple[str, ...]], after: list[tuple[str, ...]]) -> dict[int, int]:
    """Map positions in `before` to positions in `after` by identity key.

    Rows with a unique key are found wherever they moved. Rows sharing a key (e.g. the same
    request typed twice) are paired in order only when both sides hold the same number of them;
    otherwise they are left for the next run. Rows whose key is all empty are never matched.
    """
    where_before: dict[tuple[str, ...], list[int]] = {}
    where_after: dict[tuple[str, ...], list[int]] = {}
    for i, k in enumerate(before):
        if any(k):
            where_before.setdefault(k, []).append(i)
    for i, k in enumerate(after):
        if any(k):
            where_after.setdefault(k, []).append(i)
    mapping: dict[int, int] = {}
    for k, olds in where_before.items():
        news = where_after.get(k, [])
        if len(news) == len(olds):
            mapping.update(zip(olds, news, strict=True))
    return mapping


@dataclass
class Aimed:
    """Writes aimed at rows as they are now, and what to check when the write has landed."""

    writes: list[CellWrite]
    skipped: int
    # tag -> (tab title, identity fields' columns, the identity the row held when located)
    expected: dict[str, tuple[str, list[int], tuple[str, ...]]] = field(default_factory=dict)
    # tab title -> the located rows (identity and auto columns) and their columns, for repairs
    located: dict[str, tuple[list[int], int, list[list[object]]]] = field(default_factory=dict)


def aim(
    store: Store,
    pending: list[Pending],
    parsed: dict[str, ParsedTab],
    schema: Schema,
    *,
    grow: dict[str, int] | None = None,
    append: Mapping[str, list[list[CellValue]]] | None = None,
) -> Aimed:
    """Turn pending cells into writes aimed at the rows that hold their requests *now*.

    One re-read of the identity and auto-filled columns of every tab with pending cells, with
    each row's tag from the same moment (one call). Rows are matched by content: a row that
    moved is followed, one that vanished or became ambiguous is skipped, an auto fill whose
    cell a person filled meanwhile is dropped. Rows that have no tag yet are tagged in one more
    call, which answers with the sheet as it left it, and are matched again by content there.
    Each write then carries its row's tag, so it lands on that row wherever it is by then.
    """
    by_tab: dict[str, list[Pending]] = {}
    for p in pending:
        by_tab.setdefault(p.tab, []).append(p)
    layout: dict[str, tuple[list[str], list[str], list[int]]] = {}
    for key, items in by_tab.items():
        p_tab = parsed[key]
        ids = identity_fields(p_tab.tab)
        fills = sorted({p.field for p in items if p.only_if_empty})
        layout[key] = (ids, fills, [p_tab.col_index[f] for f in ids + fills])
    spec = {parsed[key].tab.title: cols for key, (_, _, cols) in layout.items()}
    located = (
        store.locate(spec, grow=grow, append=append) if append else store.locate(spec, grow=grow)
    )

    def match(found: dict[str, Located]) -> dict[str, dict[int, int]]:
        """tab key -> {row position in the read: row position now}."""
        out = {}
        for key in by_tab:
            p_tab = parsed[key]
            ids = layout[key][0]
            before = _row_keys([p_tab.raw[f].to_numpy(dtype=object) for f in ids])
            rows = found[p_tab.tab.title].rows[1:]
            width = [len(row) for row in rows]
            after = _row_keys(
                [
                    [row[i] if i < n else None for row, n in zip(rows, width, strict=True)]
                    for i in range(len(ids))
                ],
                len(rows),
            )
            positions = [r - 2 for r in p_tab.raw.index]
            if _in_place(before, after, positions):
                out[key] = {i: at for i, at in enumerate(positions) if any(before[i])}
            else:
                out[key] = remap_rows(before, after)
        return out

    mapping = match(located)
    untagged: dict[str, list[int]] = {}
    for key, items in by_tab.items():
        title = parsed[key].tab.title
        tags = located[title].tags
        if tags is None:
            continue
        row_pos = {r: i for i, r in enumerate(parsed[key].raw.index)}
        for p in items:
            pos = mapping[key].get(row_pos[p.row])
            if pos is not None and tags[pos + 1] is None:
                untagged.setdefault(title, []).append(pos + 2)
    if untagged:
        located = store.tag_rows(untagged, spec)
        mapping = match(located)

    aimed = Aimed([], 0)
    for key, items in by_tab.items():
        p_tab = parsed[key]
        tab = p_tab.tab
        ids, fills, cols = layout[key]
        found = located[tab.title]
        aimed.located[tab.title] = (cols, len(ids), found.rows[1:])
        row_pos = {r: i for i, r in enumerate(p_tab.raw.index)}
        for p in items:
            pos = mapping[key].get(row_pos[p.row])
            if pos is None:
                aimed.skipped += 1
                continue
            tag = found.tags[pos + 1] if found.tags is not None else None
            if found.tags is not None and tag is None:
                aimed.skipped += 1  # its tag landed elsewhere: tagged again next run
                continue
            row = _pad(found.rows[pos + 1], len(cols))
            if p.only_if_empty and not is_blank(row[len(ids) + fills.index(p.field)]):
                aimed.skipped += 1
                continue
            if tag is not None:
                identity = tuple(_key(v) for v in row[: len(ids)])
                aimed.expected[tag] = (tab.title, cols[: len(ids)], identity)
            aimed.writes.append(
                CellWrite(
                    tab.title,
                    pos + 2,  # found.rows[0] is the header row, sheet rows are 1-based
                    p_tab.col_index[p.field],
                    p.value,
                    NUMBER_FORMATS.get(tab.col(p.field).type),
                    tag,
                )
            )
    return aimed


def misplaced_fills(aimed: Aimed, landed: dict[str, list[object]]) -> list[CellWrite]:
    """After the write: auto fills that landed on a row holding another request (a sort moved
    the contents but not the tags, in the instant before the write), and the writes that put
    back what that request's cells held when located. Derived cells there are left: the next
    sync recomputes them. Staff cells are never in a write, so never need this."""
    repairs = []
    by_tag: dict[str, list[CellWrite]] = {}
    for w in aimed.writes:
        if w.tag is not None:
            by_tag.setdefault(w.tag, []).append(w)
    for tag, values in landed.items():
        title, id_cols, expected = aimed.expected.get(tag, ("", [], ()))
        if not title:
            continue
        # The identity cells this write filled (a new request's №) are not compared.
        written = {w.col for w in by_tag.get(tag, [])}
        keep = [i for i, c in enumerate(id_cols) if c not in written]
        now = tuple(_key(values[c - 1] if c - 1 < len(values) else None) for c in id_cols)
        if [now[i] for i in keep] == [expected[i] for i in keep]:
            continue
        cols, n_ids, rows = aimed.located[title]
        held = [
            r for r in rows if [_key(_pad(r, len(cols))[i]) for i in keep] == [now[i] for i in keep]
        ]
        for w in by_tag.get(tag, []):
            if w.col not in cols[n_ids:]:
                continue
            if len(held) != 1:
                log.warning(
                    "Лист «%s»: после записи в строке оказалось другое обращение, и прежнее "
                    "значение столбца %s не установить; проверьте строку %s",
                    title,
                    w.col,
                    w.row,
                )
                continue
            before = _pad(held[0], len(cols))[cols.index(w.col)]
            repairs.append(CellWrite(title, w.row, w.col, before, w.number_format, tag))
    return repairs


def land(
    store: Store,
    aimed: Aimed,
    cells: list[CellWrite],
    *,
    append: Mapping[str, list[list[CellValue]]] | None = None,
) -> bool:
    """Write the aimed cells, `cells` (rows appended to the log tabs) and the rows of `append`
    (added where each tab ends when the write lands) in one call, then put back any auto fill
    that landed on another request (see misplaced_fills; one call more, only then). False when
    a tagged row was deleted, or the workbook saved by another program, since it was located:
    nothing was written."""
    try:
        cells = aimed.writes + cells
        landed = (store.write(cells, append=append) if append else store.write(cells)) or {}
    except RowsGone:
        return False
    repairs = misplaced_fills(aimed, landed)
    if repairs:
        aimed.skipped += len(repairs)
        with contextlib.suppress(RowsGone):
            store.write(repairs)
    return True


def _pad(row: list, n: int) -> list:
    return list(row) + [None] * (n - len(row))


def append_cells(
    parsed: ParsedTab, rows: list[dict[str, object]], *, after: int = 0
) -> list[CellWrite]:
    """Cells that append rows at the end of an append-only tab (`after` rows already added
    there since it was read)."""
    tab = parsed.tab
    out = []
    for i, values in enumerate(rows):
        sheet_row = parsed.last_row + after + 1 + i
        for field_name, value in values.items():
            column = tab.col(field_name)
            out.append(
                CellWrite(
                    tab.title,
                    sheet_row,
                    parsed.col_index[field_name],
                    plain(value),
                    NUMBER_FORMATS.get(column.type),
                )
            )
    return out


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Reading:
    """One read of the sheet, parsed and planned: what every job that looks at the sheet needs."""

    snapshot: Snapshot
    sheet_tz: str
    parsed: dict[str, ParsedTab]
    plan: SheetPlan


def plan_snapshot(
    snap: Snapshot, settings: Settings, *, now: dt.datetime, schema: Schema | None = None
) -> Reading:
    """Parse a snapshot already read and plan it (raises StructureError before any rule runs)."""
    schema = schema or load_schema()
    sheet_tz = snap.time_zone or settings.timezone
    parsed = parse_snapshot(snap, schema, sheet_tz)
    plan = plan_sheet(parsed, settings, now=now, sheet_tz=sheet_tz)
    return Reading(snapshot=snap, sheet_tz=sheet_tz, parsed=parsed, plan=plan)


def read_and_plan(
    store: Store, settings: Settings, *, now: dt.datetime, schema: Schema | None = None
) -> Reading:
    """Read → parse → plan: the one entry point for the sync, the report, the runner and the CLI."""
    return plan_snapshot(store.read(), settings, now=now, schema=schema)


def unchecked_notes(parsed: dict[str, ParsedTab]) -> list[str]:
    """Cell problems of tabs without a «Проверка» column (График, Сотрудники...): with no cell
    to show them in, they go to the run's notes, so they are logged instead of lost."""
    out = []
    for p_tab in parsed.values():
        if "check" in p_tab.tab.fields:
            continue
        for row, items in p_tab.problems.items():
            text = "; ".join(dict.fromkeys(items))
            out.append(mask_all(f"Лист «{p_tab.tab.title}», строка {row}: {text}"))
    return out


def sync(
    store: Store,
    settings: Settings,
    *,
    now: dt.datetime,
    schema: Schema | None = None,
    clock: Callable[[], float] = time.perf_counter,
    mailer: Mailer | None = None,
) -> SyncReport:
    """Run one sync against a store. Raises UserError/OutsideFailure; writes nothing on error.
    `mailer` (address -> Sender) replaces the mail settings for the letters to form answers."""
    schema = schema or load_schema()
    t0 = clock()
    report = SyncReport(started=now)
    with store.lock():
        calls0 = store.api_calls
        reading = read_and_plan(store, settings, now=now, schema=schema)
        letters = Letters(settings, mailer or default_mailer(settings), now)
        answers = plan_answers(reading, settings, schema, now=now)
        report = _write_plan(
            store, reading, schema, report, calls0, t0, clock, now, letters, answers
        )
    # The command or the runner logs the run's one line; this detail is for debugging.
    log.debug("Синхронизация: %s", report.summary_ru())
    return report


@dataclass
class Letters:
    """The letters to form answers one sync sends (see jobs.replies); off without a mailer."""

    settings: Settings
    mailer: Mailer | None
    now: dt.datetime

    def due(self, reading: Reading, schema: Schema) -> list[Reply]:
        """The letters due by the plan (none when mail is off)."""
        if self.mailer is None:
            return []
        return due_replies(reading.plan, reading.parsed, self.settings, schema, self.now)

    def send(self, due: list[Reply], reading: Reading) -> ReplyRun:
        """Send them; the rows that record them go into the sync's one write."""
        if not due or self.mailer is None:
            return ReplyRun()
        return send_replies(
            due,
            reading.parsed["log"].frame,
            self.settings,
            at=local_now(self.now, reading.sheet_tz),
            job=JOB_SYNC,
            mailer=self.mailer,
        )


def plan_answers(
    reading: Reading, settings: Settings, schema: Schema, *, now: dt.datetime
) -> Imports:
    """The form answers not yet imported, as new «Обращения» rows numbered above every № the
    sheet and «Изменения» ever held and every № this run gives, each with the «Изменения» row
    that records which answer became which №. They go into the sync's one write (see
    `_write_plan`); the intake tab is never written."""
    title = settings.intake.tab.strip()
    intake = reading.snapshot.tabs.get(title) if title else None
    if intake is None or title in {t.title for t in schema.tabs.values()}:
        return Imports()
    parsed = reading.parsed
    stamp_col = schema["requests"].col("received_at")
    answers = read_answers(
        intake.rows,
        settings.intake.mapping(),
        lambda raw: parse_cell(raw, stamp_col, sheet_tz=reading.sheet_tz).value,
    )
    if not answers:
        return Imports()
    changes = parsed["changes"].frame
    imported = imported_keys(zip(changes["field"], changes["new"], strict=True))
    mark = high_water_mark(parsed["requests"].frame["number"], changes["number"])
    mark = max([mark, *reading.plan.requests.new_numbers.values()])
    return plan_imports(
        answers,
        imported,
        first_number=mark + 1,
        at=local_now(now, reading.sheet_tz),
        job=JOB_SYNC,
    )


def _import_rows(parsed: dict[str, ParsedTab], imports: Imports) -> dict[str, list[list]]:
    """The rows the imports add: {tab title: whole rows}, requests and their records together."""
    if not imports.requests:
        return {}
    return {
        parsed["requests"].tab.title: [_row_cells(parsed["requests"], r) for r in imports.requests],
        parsed["changes"].tab.title: [_row_cells(parsed["changes"], h) for h in imports.history],
    }


def _row_cells(parsed: ParsedTab, values: dict[str, object]) -> list[CellValue]:
    """One whole row of a tab from {field: value}, by the tab's columns as read."""
    width = max(parsed.col_index.values())
    row: list[CellValue] = [None] * width
    for name, value in values.items():
        row[parsed.col_index[name] - 1] = plain(value)
    return row


def _write_plan(
    store: Store,
    reading: Reading,
    schema: Schema,
    report: SyncReport,
    calls0: int,
    t0: float,
    clock: Callable[[], float],
    now: dt.datetime,
    letters: Letters,
    answers: Imports,
) -> SyncReport:
    """Write what the plan wants: the aimed cells, the history and the Журнал row, in one call.
    The letters to form answers go just before it, and their records ride in it (at least once:
    a write that fails sends them again next time; they never cost a call of their own).

    The form answers' new rows (with the «Изменения» rows recording them, all or nothing) are
    added at the end of their tabs where the sheet ends when they land, never at a row number
    computed earlier, and cost no call of their own: in the write itself, or, where that write
    goes by tag in a call that cannot add rows (Google), in the re-read's batch update just
    before it. The «Журнал» row counts them."""
    sheet_tz, parsed, plan = reading.sheet_tz, reading.parsed, reading.plan
    added = _import_rows(parsed, answers)
    _count(report, plan, parsed)
    for key, rows in plan.unfound.items():
        report.notes.append(
            f"Лист «{schema[key].title}», строки {', '.join(map(str, rows))}: не заполнен "
            f"ни один из столбцов "
            f"{', '.join(schema[key].header(f) for f in identity_fields(schema[key]))} — "
            f"строки пропущены, пока их не заполнят"
        )
    report.notes += unchecked_notes(parsed)
    for text in report.notes:
        log.warning(text)
    due = letters.due(reading, schema)
    replies = None
    if not plan.pending and not plan.history:
        # Letters alone: sent first, so a failure that only repeats costs no call at all.
        replies = letters.send(due, reading)
        if not replies.history and not replies.journal and not added:
            return _no_write(report, store.api_calls - calls0, clock() - t0, "без изменений")

    # Rows added by the re-read's call (a store that writes by tag) come before this run's
    # own «Изменения» rows, which go by position after them.
    early = added if plan.pending and store.appends_with_locate else {}
    ahead = len(answers.history) if early else 0
    # The log tabs grow by this run's rows: room is made in the re-read call.
    logs = {
        parsed["changes"].tab.title: parsed["changes"].last_row
        + ahead
        + len(plan.history)
        + len(due),
        parsed["log"].tab.title: parsed["log"].last_row + 2,
    }
    aimed = aim(store, plan.pending, parsed, schema, grow=logs, append=early)
    # Landed with the re-read (all or nothing): the import is done whatever follows.
    report.imported = len(answers.requests) if added else 0
    writes, report.moved = aimed.writes, aimed.skipped
    number_col = (schema["requests"].title, parsed["requests"].col_index["number"])
    given = {w.value for w in writes if (w.title, w.col) == number_col}
    # A new row that moved before its № was written gets a new № next time: keep its
    # history out, or the history would hold a request that never existed.
    unwritten = set(plan.requests.new_numbers.values()) - given
    history = [h for h in plan.history if h["number"] not in unwritten]
    if replies is None:
        replies = letters.send(due, reading)
    report.letters, report.notes = len(replies.sent), report.notes + replies.notes
    if not writes and not history and not replies.journal and not added:
        return _no_write(
            report, store.api_calls - calls0, clock() - t0, "всё отложено до следующего запуска"
        )
    history_cells = append_cells(parsed["changes"], history + replies.history, after=ahead)
    report.cells = len(writes)
    report.new_numbers = len(given) + report.imported
    report.seconds = clock() - t0
    # The write itself is the last call: count it in the row that goes with it.
    report.api_calls = store.api_calls - calls0 + 1
    # The sync's own row when it changed something; the letters' row when they did.
    runs = [journal_row(report, local_now(now, sheet_tz))] if writes or history or added else []
    journal = append_cells(parsed["log"], runs + replies.journal)
    late = {} if early else added
    if not land(store, aimed, history_cells + journal, append=late):
        report.moved = len(writes)
        report.cells, report.new_numbers = 0, len(answers.requests) if early else 0
        if not early:
            report.imported = 0  # they were in the write that did not land
            return _no_write(
                report,
                store.api_calls - calls0,
                clock() - t0,
                "строку удалили или книгу сохранили во время записи, всё отложено до "
                "следующего запуска",
            )
        # The answers landed with the re-read: «Журнал» says so (one call, only then).
        report.api_calls = store.api_calls - calls0 + 1
        row = journal_row(report, local_now(now, sheet_tz))
        store.append_many({parsed["log"].tab.title: [_row_cells(parsed["log"], row)]})
        report.api_calls = store.api_calls - calls0
        report.wrote = True
        return report
    if report.imported:
        log.info("Из формы добавлено обращений: %d", report.imported)
    report.wrote = True
    report.moved = aimed.skipped
    report.api_calls = store.api_calls - calls0
    return report


def _no_write(report: SyncReport, calls: int, seconds: float, why: str) -> SyncReport:
    """Finish a run that writes nothing: no quota spent, no noise in the sheet; the log has it."""
    report.api_calls, report.seconds = calls, seconds
    log.debug("Синхронизация (%s): %s", why, report.summary_ru())
    return report


def _count(report: SyncReport, plan: SheetPlan, parsed: dict[str, ParsedTab]) -> None:
    """Fill the report's headline figures from the plan."""
    state = plan.requests.derived["due_state"]
    report.rows = len(parsed["requests"].frame)
    report.open = int(state.isin(OPEN_DUE_STATES).sum())
    report.at_risk = int((state == AT_RISK).sum())
    report.overdue = int((state == OVERDUE).sum())
    report.problems = int(sum((~blank_mask(c)).sum() for c in plan.checks.values()))
    report.new_problems = sum(1 for p in plan.pending if p.field == "check" and p.value)


def journal_row(report: SyncReport, at: dt.datetime) -> dict[str, object]:
    """The Журнал row of a run."""
    message = report.summary_ru()
    if report.moved:
        message += "; часть строк сдвинули во время записи — допишем при следующем запуске"
    return {
        "at": at,
        "job": JOB_SYNC,
        "result": RUN_WITH_NOTES if report.problems else RUN_OK,
        "rows": report.rows,
        "cells": report.cells,
        "new_numbers": report.new_numbers,
        "problems": report.problems,
        "api_calls": report.api_calls,
        "seconds": round(report.seconds, 2),
        "message": message,
    }
