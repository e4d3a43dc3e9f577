"""The Google Sheets store: gspread + google-auth with a service account.

Every call goes through gspread's own HTTP client (`fetch_sheet_metadata`, `values_batch_get`,
`values_batch_update`, `batch_update`) on an authorised session, wrapped in our bounded retry
(journaldesk.store.retry). Building a store does no network I/O; the first call fetches a token.

API budget: read() is one metadata read (which also gives each row's tag) plus one values batch
read of every tab; locate() one read of rows with their tags; tag_rows() one batch update that
tags rows and answers with the rows as it left them; write() one batch write; append_rows() one
batch update. Whatever the row count.

Rows are found by developer metadata: each data row of a tab the sync writes to carries one
row-located metadata entry (key TAG_KEY, a random value). Google moves it with its row when rows
are inserted, deleted or moved, and deletes it with its row; writes go through
values:batchUpdateByDataFilter aimed at the tag, so they land on the row that holds it when the
write lands. See docs/design-notes.md.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import secrets
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import gspread
from filelock import FileLock
from filelock import Timeout as LockTimeout
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.service_account import Credentials
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_DRIVE_URL, SPREADSHEETS_API_V4_BASE_URL

from journaldesk.errors import OutsideFailure, SettingsError, SheetNotShared, StoreUnavailable
from journaldesk.sheet.grid import a1_start, column_letter, quote_title
from journaldesk.store.base import (
    CellValue,
    CellWrite,
    InitPlan,
    Located,
    RawValue,
    RowsGone,
    Snapshot,
    TabData,
    TabLook,
    width_pixels,
)
from journaldesk.store.retry import (
    RetryPolicy,
    call_with_retry,
    describe_failure,
    is_transient,
    is_transient_unsent,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Least privilege: the spreadsheets the account is shared on, and no Drive access at all.
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
GOOGLE_API_URL = "https://sheets.googleapis.com"
CREDENTIALS_PATH_ENV = "JOURNALDESK_CREDENTIALS"
CREDENTIALS_JSON_ENV = "JOURNALDESK_CREDENTIALS_JSON"
SERIAL_EPOCH = dt.datetime(1899, 12, 30)
SERIAL_EPOCH_DATE = SERIAL_EPOCH.date()

_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{20,}$")
_URL_KEY_RE = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_REQUIRED_KEY_FIELDS = ("client_email", "private_key", "token_uri")

HIGHLIGHT_COLORS = {
    "red": {"red": 0.96, "green": 0.8, "blue": 0.8},
    "amber": {"red": 1.0, "green": 0.9, "blue": 0.6},
    "green": {"red": 0.85, "green": 0.94, "blue": 0.83},
}
# The body of a column the jobs fill: a quiet grey, darker grey text.
PROGRAM_BACKGROUND = {"red": 0.949, "green": 0.949, "blue": 0.949}
PROGRAM_TEXT = {"red": 0.35, "green": 0.35, "blue": 0.35}
PROTECTED_DESCRIPTION = "Заполняется программой: ручные правки будут перезаписаны"
NEW_TAB_ROWS = 1000
NEW_TAB_MIN_COLUMNS = 26
# Rows added beyond what a write needs when a tab's grid must grow.
GROW_HEADROOM_ROWS = 500
# Rows beyond those last read that a re-read looks at: requests typed or pasted meanwhile.
VIEW_SPARE_ROWS = 200
# The developer metadata key of a row tag; the value is the row's own random token.
TAG_KEY = "journaldesk.row"
_TAG_FIELDS = "developerMetadata(metadataKey,metadataValue)"


# ------------------------------------------------------------------------------- settings


def load_service_account(path: str | None, environ: Mapping[str, str]) -> dict:
    """The service-account key: from `path` (settings), else $JOURNALDESK_CREDENTIALS (a path),
    else $JOURNALDESK_CREDENTIALS_JSON (the key itself). Messages never show key material."""
    source: str
    if path:
        text = _read_key_file(Path(path))
        source = f"файл ключа {path}"
    elif environ.get(CREDENTIALS_PATH_ENV):
        key_path = environ[CREDENTIALS_PATH_ENV]
        text = _read_key_file(Path(key_path))
        source = f"файл ключа {key_path} (из переменной {CREDENTIALS_PATH_ENV})"
    elif environ.get(CREDENTIALS_JSON_ENV):
        text = environ[CREDENTIALS_JSON_ENV]
        source = f"переменная окружения {CREDENTIALS_JSON_ENV}"
    else:
        raise SettingsError(
            "Не указан ключ сервисного аккаунта Google. Укажите путь к файлу ключа в настройке "
            f"google.credentials или в переменной окружения {CREDENTIALS_PATH_ENV}, либо "
            f"положите содержимое ключа в переменную окружения {CREDENTIALS_JSON_ENV}."
        )
    try:
        info = json.loads(text)
    except ValueError:
        # `from None`: the decoder's exception keeps the whole text, i.e. the key.
        raise SettingsError(
            f"{_capitalise(source)}: это не JSON. Нужен JSON-ключ сервисного аккаунта, "
            "скачанный в Google Cloud Console (Сервисные аккаунты → Ключи → Добавить ключ → JSON)."
        ) from None
    if (
        not isinstance(info, dict)
        or info.get("type") != "service_account"
        or not all(isinstance(info.get(k), str) and info.get(k) for k in _REQUIRED_KEY_FIELDS)
    ):
        raise SettingsError(
            f"{_capitalise(source)}: это не ключ сервисного аккаунта Google "
            '(нужен JSON-ключ с "type": "service_account", client_email и private_key).'
        )
    return info


def _read_key_file(path: Path) -> str:
    if not path.is_file():
        raise SettingsError(f"Файл ключа сервисного аккаунта не найден: {path}")
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise SettingsError(
            f"Файл ключа сервисного аккаунта не читается: {path}. Проверьте права доступа к "
            "файлу и что это JSON-ключ."
        ) from None


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def spreadsheet_key(key_or_url: str) -> str:
    """The spreadsheet key from a bare key or a docs.google.com URL."""
    text = (key_or_url or "").strip()
    match = _URL_KEY_RE.search(text)
    if match:
        return match.group(1)
    if _KEY_RE.match(text):
        return text
    raise SettingsError(
        f"Не удалось понять, какая это таблица Google: «{text}». Укажите в настройке "
        "google.spreadsheet ключ таблицы или её полный адрес "
        "(https://docs.google.com/spreadsheets/d/…/edit)."
    )


# ------------------------------------------------------------------------------- transport


class RoutedSession(AuthorizedSession):
    """An authorised session that sends requests for sheets.googleapis.com to `api_url`.

    gspread builds its URLs from constants; rewriting the scheme and host here keeps every
    other part of gspread's path and query building as it is. The token request goes to the
    key's own token_uri through google-auth's separate session and is not rewritten.
    """

    def __init__(self, credentials: Credentials, api_url: str, on_call: Callable[[], None]) -> None:
        super().__init__(credentials)
        self._api_url = api_url.rstrip("/")
        self._on_call = on_call

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Route, count and send one API request."""
        if url.startswith(GOOGLE_API_URL):
            url = self._api_url + url[len(GOOGLE_API_URL) :]
        self._on_call()
        return super().request(method, url, *args, **kwargs)


# ------------------------------------------------------------------------------- values


def to_serial(value: dt.datetime | dt.date | dt.time) -> float | int:
    """A date, datetime or time as a spreadsheet serial (days since 1899-12-30; fraction = time).

    Naive values are taken as the sheet's local wall time.
    """
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - SERIAL_EPOCH
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
        return round(serial, 10)
    if isinstance(value, dt.date):
        return (value - SERIAL_EPOCH_DATE).days
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return round(seconds / 86400, 10)


def to_json_value(value: Any, zone: ZoneInfo | None = None) -> Any:
    """A cell value as plain JSON for a RAW write: "" clears, dates become serials.

    NaN, NaT and None clear the cell; numpy scalars become Python numbers.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if _is_nat(value):
            return ""
        if value.tzinfo is not None and zone is not None:
            value = value.astimezone(zone)
        return to_serial(value)
    if isinstance(value, (dt.date, dt.time)):
        return to_serial(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return "" if not math.isfinite(value) else float(value)
    item = getattr(value, "item", None)
    if callable(item):  # numpy / pandas scalars
        return to_json_value(item(), zone)
    if _is_nat(value):
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if not math.isfinite(number) else number


def _is_nat(value: Any) -> bool:
    return type(value).__name__ == "NaTType"


def _clean(value: RawValue) -> RawValue:
    # A Google cell cannot hold an empty string: "" in a reply is a blank cell.
    return None if value == "" else value


def _cell_data(value: Any) -> dict[str, Any]:
    """A JSON cell value as CellData for updateCells: typed, so text is never a formula."""
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def merge_ranges(cells: dict[tuple[int, int], Any]) -> list[tuple[int, int, int, int, list]]:
    """Group cells {(row, col): value} into rectangles (r1, c1, r2, c2, rows of values):
    contiguous cells of a row form a run; runs with the same columns on consecutive rows merge."""
    by_row: dict[int, list[int]] = {}
    for row, col in cells:
        by_row.setdefault(row, []).append(col)
    runs: list[tuple[int, int, int]] = []  # (c1, c2, row)
    for row, cols in by_row.items():
        cols.sort()
        start = prev = cols[0]
        for col in cols[1:]:
            if col != prev + 1:
                runs.append((start, prev, row))
                start = col
            prev = col
        runs.append((start, prev, row))
    runs.sort()
    blocks: list[tuple[int, int, int, int, list]] = []
    for c1, c2, row in runs:
        values = [cells[(row, c)] for c in range(c1, c2 + 1)]
        if blocks:
            b_r1, b_c1, b_r2, b_c2, b_rows = blocks[-1]
            if (b_c1, b_c2) == (c1, c2) and b_r2 + 1 == row:
                b_rows.append(values)
                blocks[-1] = (b_r1, b_c1, row, b_c2, b_rows)
                continue
        blocks.append((row, c1, row, c2, [values]))
    return blocks


def google_number_format(fmt: str) -> dict[str, str]:
    """A format such as "DD.MM.YYYY HH:MM" as a Sheets numberFormat {type, pattern}."""
    pattern = fmt.lower()
    has_date = any(token in pattern for token in ("yy", "dd"))
    has_time = any(token in pattern for token in ("hh", "ss"))
    if has_date and has_time:
        kind = "DATE_TIME"
    elif has_date:
        kind = "DATE"
    elif has_time:
        kind = "TIME"
    else:
        kind = "NUMBER"
        pattern = fmt
    return {"type": kind, "pattern": pattern}


def format_from_google(number_format: Mapping[str, Any]) -> str | None:
    """The inverse of google_number_format: "dd.mm.yyyy hh:mm" -> "DD.MM.YYYY HH:MM"."""
    pattern = number_format.get("pattern")
    kind = number_format.get("type")
    if kind in ("DATE", "TIME", "DATE_TIME") and pattern:
        return str(pattern).upper()
    if kind == "TEXT":
        return "@"
    return str(pattern) if pattern else None


def look_requests(sheet_id: int, look: TabLook) -> list[dict[str, Any]]:
    """The batchUpdate requests that give a tab its look: bold wrapped header with a basic
    filter, column widths, wrapped text, grey program columns. (Print setup is not in the
    Sheets API: Google prints with the options chosen in its print dialog.)"""

    def body(col: int) -> dict[str, int]:
        return {
            "sheetId": sheet_id,
            "startRowIndex": 1,
            "startColumnIndex": col - 1,
            "endColumnIndex": col,
        }

    requests: list[dict[str, Any]] = [
        {
            "repeatCell": {
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": 0,
                    "endRowIndex": 1,
                    "startColumnIndex": 0,
                    "endColumnIndex": look.columns,
                },
                "cell": {
                    "userEnteredFormat": {
                        "textFormat": {"bold": True},
                        "wrapStrategy": "WRAP",
                        "verticalAlignment": "MIDDLE",
                    }
                },
                "fields": "userEnteredFormat(textFormat.bold,wrapStrategy,verticalAlignment)",
            }
        },
        {
            "setBasicFilter": {
                "filter": {
                    "range": {
                        "sheetId": sheet_id,
                        "startRowIndex": 0,
                        "startColumnIndex": 0,
                        "endColumnIndex": look.columns,
                    }
                }
            }
        },
    ]
    for col, width in sorted(look.widths.items()):
        requests.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": col - 1,
                        "endIndex": col,
                    },
                    "properties": {"pixelSize": width_pixels(width)},
                    "fields": "pixelSize",
                }
            }
        )
    for col in look.wrap:
        requests.append(
            {
                "repeatCell": {
                    "range": body(col),
                    "cell": {
                        "userEnteredFormat": {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
                    },
                    "fields": "userEnteredFormat(wrapStrategy,verticalAlignment)",
                }
            }
        )
    for col in look.program:
        requests.append(
            {
                "repeatCell": {
                    "range": body(col),
                    "cell": {
                        "userEnteredFormat": {
                            "backgroundColor": PROGRAM_BACKGROUND,
                            "textFormat": {"foregroundColor": PROGRAM_TEXT},
                        }
                    },
                    "fields": "userEnteredFormat(backgroundColor,textFormat.foregroundColor)",
                }
            }
        )
    return requests


def _text_rule(rule: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(value, colour name) of a «text is exactly» colour rule; (None, None) for another rule.
    The colour name is the one of HIGHLIGHT_COLORS the background matches, else None."""
    boolean = rule.get("booleanRule", {})
    condition = boolean.get("condition", {})
    values = condition.get("values", [])
    if condition.get("type") != "TEXT_EQ" or len(values) != 1:
        return None, None
    background = boolean.get("format", {}).get("backgroundColor")
    colour = next(
        (
            name
            for name, rgb in HIGHLIGHT_COLORS.items()
            if background
            and all(abs(float(background.get(k, 0)) - v) < 0.01 for k, v in rgb.items())
        ),
        None,
    )
    return str(values[0].get("userEnteredValue", "")), colour


def _grid_cols(grid_range: Mapping[str, Any], column_count: int) -> range:
    start = int(grid_range.get("startColumnIndex", 0))
    end = int(grid_range.get("endColumnIndex", column_count))
    return range(start + 1, end + 1)


def _row_tags(blocks: list[dict]) -> list[str | None]:
    """The tag of each sheet row (index 0 = row 1) from GridData blocks' rowMetadata."""
    tags: list[str | None] = []
    for block in blocks:
        start = int(block.get("startRow", 0))
        for i, props in enumerate(block.get("rowMetadata", [])):
            while len(tags) <= start + i:
                tags.append(None)
            for item in props.get("developerMetadata", []):
                if item.get("metadataKey") == TAG_KEY and tags[start + i] is None:
                    tags[start + i] = str(item.get("metadataValue", ""))
    return tags


def _effective(cell: Mapping[str, Any]) -> RawValue:
    """A CellData's value as an UNFORMATTED_VALUE read gives it (an error as its text)."""
    value = cell.get("effectiveValue")
    if not value:
        return None
    if "errorValue" in value:
        return cell.get("formattedValue") or "#ERROR!"
    return _clean(next(iter(value.values()), None))


def _grid_rows(blocks: list[dict]) -> list[list[RawValue]]:
    """Sheet rows (index 0 = row 1) of GridData blocks, each from column A."""
    rows: list[list[RawValue]] = []
    for block in blocks:
        start_row = int(block.get("startRow", 0))
        start_col = int(block.get("startColumn", 0))
        for i, row in enumerate(block.get("rowData", [])):
            while len(rows) <= start_row + i:
                rows.append([])
            values = [_effective(c) for c in row.get("values", [])]
            target = rows[start_row + i]
            target.extend([None] * (start_col + len(values) - len(target)))
            target[start_col : start_col + len(values)] = values
    return rows


def new_tag() -> str:
    """A fresh row tag: random, so two runs never hand out the same one."""
    return secrets.token_hex(8)


def tag_filter(tag: str) -> dict[str, Any]:
    """The DataFilter that selects the row holding this tag, wherever it is now."""
    return {
        "developerMetadataLookup": {
            "locationType": "ROW",
            "metadataKey": TAG_KEY,
            "metadataValue": tag,
        }
    }


# ------------------------------------------------------------------------------- the store


class GoogleStore:
    """A Google Sheet read and written through gspread with a service account."""

    # A write by tag is a values call, which cannot add rows: they ride in locate()'s batch.
    appends_with_locate = True

    def __init__(
        self,
        spreadsheet: str,
        *,
        service_account_info: dict,
        api_url: str = GOOGLE_API_URL,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        lock_dir: Path | None = None,
        lock_timeout: float = 0.0,
    ) -> None:
        self.key = spreadsheet_key(spreadsheet)
        self.service_account_email: str = str(service_account_info.get("client_email", ""))
        self.api_calls: int = 0
        self._retry = retry or RetryPolicy()
        self._lock_path = Path(lock_dir or tempfile.gettempdir()) / f"journaldesk-{self.key}.lock"
        self._lock_timeout = lock_timeout
        try:
            credentials = Credentials.from_service_account_info(service_account_info, scopes=SCOPES)
        except (ValueError, KeyError, TypeError):
            # The library's message may quote the key: say only what is wrong.
            raise SettingsError(
                "Ключ сервисного аккаунта Google повреждён: не удаётся прочитать private_key. "
                "Скачайте новый JSON-ключ в Google Cloud Console."
            ) from None
        session = RoutedSession(credentials, api_url, self._count_call)
        self._client = gspread.Client(auth=credentials, session=session)
        self._client.set_timeout(timeout)
        self._http = self._client.http_client
        # What the last metadata read told us, so later calls need no extra metadata read.
        self._sheet_ids: dict[str, int] = {}
        self._grid: dict[str, tuple[int, int]] = {}  # title -> (rowCount, columnCount)
        self._data_rows: dict[str, int] = {}
        # Colour rules by tab as describe() saw them: (index, columns, text, colour name).
        self._rules: dict[str, list[tuple[int, set[int], str | None, str | None]]] = {}
        self._time_zone: str | None = None

    # ---------------------------------------------------------------- plumbing

    def _count_call(self) -> None:
        self.api_calls += 1

    def location(self) -> str:
        """The spreadsheet's URL."""
        return SPREADSHEET_DRIVE_URL % self.key

    def _call(
        self,
        what: str,
        fn: Callable[[], T],
        retry_if: Callable[[BaseException], bool] = is_transient,
    ) -> T:
        """One API call with bounded retries; failures become the project's own errors."""
        try:
            return call_with_retry(fn, what=what, policy=self._retry, retry_if=retry_if)
        except APIError as exc:
            raise self._translate(exc, what) from exc
        except RefreshError:
            # The token endpoint's reply is not worth showing; the key must not be.
            raise StoreUnavailable(
                f"Google не выдал доступ по ключу сервисного аккаунта {self.service_account_email}"
                ": ключ отозван, удалён или неверен. Создайте новый JSON-ключ и укажите его в "
                "настройке google.credentials."
            ) from None

    def _translate(self, exc: APIError, what: str) -> Exception:
        status = exc.response.status_code
        if status == 403:
            return SheetNotShared(self.location(), self.service_account_email)
        if status == 404:
            return StoreUnavailable(
                f"Таблица Google не найдена: {self.location()}. Проверьте ключ или адрес "
                "таблицы в настройке google.spreadsheet."
            )
        if status == 401:
            return StoreUnavailable(
                f"Google не принял ключ сервисного аккаунта {self.service_account_email}. "
                "Проверьте, что ключ действующий, и укажите его в настройке google.credentials."
            )
        message = ""
        if isinstance(exc.error, Mapping):
            message = str(exc.error.get("message", ""))[:300]
        detail = f" Ответ Google: {message}" if message else ""
        return OutsideFailure(f"Не удалось выполнить «{what}»: {describe_failure(exc)}.{detail}")

    def _zone(self) -> ZoneInfo | None:
        if not self._time_zone:
            return None
        try:
            return ZoneInfo(self._time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return None

    def _remember(self, metadata: Mapping[str, Any]) -> list[dict]:
        sheets = list(metadata.get("sheets", []))
        self._time_zone = metadata.get("properties", {}).get("timeZone") or self._time_zone
        self._sheet_ids = {}
        self._grid = {}
        for sheet in sheets:
            props = sheet.get("properties", {})
            title = props.get("title", "")
            grid = props.get("gridProperties", {})
            self._sheet_ids[title] = int(props.get("sheetId", 0))
            self._grid[title] = (int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0)))
        return sheets

    # ---------------------------------------------------------------- reads

    def _read_metadata(self) -> None:
        """One light metadata read: the sheet's zone, and every tab's id, title and grid size."""
        metadata = self._call(
            "чтение описания таблицы",
            lambda: self._http.fetch_sheet_metadata(
                self.key,
                params={
                    "includeGridData": "false",
                    "fields": "properties(title,timeZone,locale),"
                    "sheets.properties(sheetId,title,index,gridProperties)",
                },
            ),
        )
        self._remember(metadata)

    def read(self) -> Snapshot:
        """Every tab in one pass: one metadata read and one values batch read."""
        self._read_metadata()
        titles = list(self._sheet_ids)
        reply = (
            self._call(
                "чтение таблицы",
                lambda: self._http.values_batch_get(
                    self.key,
                    [quote_title(t) for t in titles],
                    params={
                        "valueRenderOption": "UNFORMATTED_VALUE",
                        "dateTimeRenderOption": "SERIAL_NUMBER",
                        "majorDimension": "ROWS",
                    },
                ),
            )
            if titles
            else {"valueRanges": []}
        )
        tabs: dict[str, TabData] = {}
        self._data_rows = {}
        for title, value_range in zip(titles, reply.get("valueRanges", []), strict=False):
            # A Google cell cannot hold an empty string: "" in a reply is a blank cell. Most rows
            # hold none, and asking a row is one pass in C.
            rows = [
                [None if v == "" else v for v in row] if "" in row else row
                for row in value_range.get("values", [])
            ]
            first_row, first_col = a1_start(value_range.get("range", "A1"))
            if first_col > 1:
                rows = [[None] * (first_col - 1) + row if row else row for row in rows]
            if first_row > 1:
                rows = [[] for _ in range(first_row - 1)] + rows
            tabs[title] = TabData(title=title, rows=rows, sheet_id=self._sheet_ids[title])
            self._data_rows[title] = len(rows)
        return Snapshot(tabs=tabs, time_zone=self._time_zone)

    def read_columns(self, title: str, cols: list[int]) -> list[list[RawValue]]:
        """These 1-based columns of one tab, every row, header included (one batch read)."""
        return self.read_columns_many({title: cols})[title]

    def read_columns_many(self, spec: Mapping[str, list[int]]) -> dict[str, list[list[RawValue]]]:
        """Some columns of several tabs, every row, headers included: ONE values batch read."""
        wanted = [(title, c) for title, cols in spec.items() for c in cols]
        if not wanted:
            return {title: [] for title in spec}
        ranges = [f"{quote_title(t)}!{column_letter(c)}:{column_letter(c)}" for t, c in wanted]
        reply = self._call(
            "повторное чтение столбцов таблицы",
            lambda: self._http.values_batch_get(
                self.key,
                ranges,
                params={
                    "valueRenderOption": "UNFORMATTED_VALUE",
                    "dateTimeRenderOption": "SERIAL_NUMBER",
                    "majorDimension": "COLUMNS",
                },
            ),
        )
        by_tab: dict[str, list[list[RawValue]]] = {title: [] for title in spec}
        for (title, _), value_range in zip(wanted, reply.get("valueRanges", []), strict=False):
            values = value_range.get("values", [])
            column = [_clean(v) for v in values[0]] if values else []
            first_row, _ = a1_start(value_range.get("range", "A1"))
            by_tab[title].append([None] * (first_row - 1) + column)
        out = {}
        for title, columns in by_tab.items():
            height = max((len(c) for c in columns), default=0)
            out[title] = [[c[i] if i < len(c) else None for c in columns] for i in range(height)]
        return out

    # ---------------------------------------------------------------- rows with their tags

    _VIEW_FIELDS = (
        "sheets(properties(sheetId,title),data(startRow,startColumn,"
        f"rowData.values(effectiveValue,formattedValue),rowMetadata.{_TAG_FIELDS}))"
    )

    def _view_ranges(self, spec: Mapping[str, list[int]]) -> list[str]:
        # One block per tab from column A to the last column asked: its row metadata and its
        # values come from the same moment. Rows: those read plus room for rows inserted since
        # (Google answers one row metadata entry per grid row, and grids keep spare rows).
        out = []
        for title, cols in spec.items():
            if cols:
                last = self._data_rows.get(title, 0) + VIEW_SPARE_ROWS
                out.append(f"{quote_title(title)}!A1:{column_letter(max(cols))}{last}")
        return out

    def _view(self, sheets: list[dict], spec: Mapping[str, list[int]]) -> dict[str, Located]:
        out: dict[str, Located] = {}
        by_title = {s.get("properties", {}).get("title", ""): s for s in sheets}
        for title, cols in spec.items():
            sheet = by_title.get(title, {})
            blocks = sheet.get("data", [])
            rows = _grid_rows(blocks)
            tags = _row_tags(blocks)
            height = len(rows)
            while height and not any(v is not None for v in rows[height - 1]):
                height -= 1
            picked = [[r[c - 1] if c - 1 < len(r) else None for c in cols] for r in rows[:height]]
            out[title] = Located(
                picked, [tags[i] if i < len(tags) else None for i in range(height)]
            )
        return out

    def locate(
        self,
        spec: Mapping[str, list[int]],
        *,
        grow: Mapping[str, int] | None = None,
        append: Mapping[str, list[list[CellValue]]] | None = None,
    ) -> dict[str, Located]:
        """These columns of several tabs with each row's tag, from ONE read (rows and tags
        of the same moment); growing a tab for rows up to grow[title], or adding the rows of
        `append` (appendCells: the end is found when the batch lands), makes it a batch update
        that answers with the view as it left the sheet."""
        self._ensure_metadata()
        growth: list[dict] = []
        for title, last_row in (grow or {}).items():
            growth += self._growth(title, last_row, 0)
        added = self._append_requests(append or {})
        if added:
            # Not retried after a reply lost on the way back: the rows may have landed.
            return self._batch_with_view(
                growth + added, spec, "добавление строк в таблицу", is_transient_unsent
            )
        if growth:
            return self._batch_with_view(growth, spec, "подготовка записи")
        if not spec:
            return {}
        metadata = self._call(
            "повторное чтение строк таблицы",
            lambda: self._http.fetch_sheet_metadata(
                self.key, params={"ranges": self._view_ranges(spec), "fields": self._VIEW_FIELDS}
            ),
        )
        return self._view(metadata.get("sheets", []), spec)

    def tag_rows(
        self, rows: Mapping[str, list[int]], spec: Mapping[str, list[int]]
    ) -> dict[str, Located]:
        """Tag these sheet rows (developer metadata on the row) and answer with `spec` as the
        batch left the sheet: ONE spreadsheets.batchUpdate."""
        self._ensure_metadata()
        requests = [
            {
                "createDeveloperMetadata": {
                    "developerMetadata": {
                        "metadataKey": TAG_KEY,
                        "metadataValue": new_tag(),
                        "location": {
                            "dimensionRange": {
                                "sheetId": self._sheet_ids[title],
                                "dimension": "ROWS",
                                "startIndex": row - 1,
                                "endIndex": row,
                            }
                        },
                        "visibility": "DOCUMENT",
                    }
                }
            }
            for title, numbers in rows.items()
            for row in sorted(set(numbers))
        ]
        if not requests:
            return self.locate(spec)
        return self._batch_with_view(requests, spec, "пометка строк таблицы")

    def _batch_with_view(
        self,
        requests: list[dict],
        spec: Mapping[str, list[int]],
        what: str,
        retry_if: Callable[[BaseException], bool] = is_transient,
    ) -> dict[str, Located]:
        body = {
            "requests": requests,
            "includeSpreadsheetInResponse": bool(spec),
            "responseRanges": self._view_ranges(spec),
            "responseIncludeGridData": bool(spec),
        }
        url = f"{SPREADSHEETS_API_V4_BASE_URL}/{self.key}:batchUpdate"
        fields = f"replies,updatedSpreadsheet({self._VIEW_FIELDS})"
        reply = self._call(
            what,
            lambda: self._http.request("post", url, json=body, params={"fields": fields}).json(),
            retry_if,
        )
        return self._view(reply.get("updatedSpreadsheet", {}).get("sheets", []), spec)

    # ---------------------------------------------------------------- writes

    def _value_ranges(self, cells: Mapping[str, dict[tuple[int, int], Any]]) -> list[dict]:
        data = []
        for title, by_cell in cells.items():
            for r1, c1, r2, c2, rows in merge_ranges(by_cell):
                a1 = f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}"
                data.append({"range": f"{quote_title(title)}!{a1}", "values": rows})
        return data

    def write(
        self,
        cells: list[CellWrite],
        *,
        append: Mapping[str, list[list[CellValue]]] | None = None,
    ) -> dict[str, list[RawValue]]:
        """Write these cells in one batch, RAW: text stays text, never a formula.

        Cells with a tag go to the row holding that tag when the write lands
        (values:batchUpdateByDataFilter; null leaves a cell as it is), the others by position
        in the same call. Returns each tagged row's values as the write left them. The rows of
        `append` go as appendCells after the cells, in ONE spreadsheets.batchUpdate: only in a
        write without tagged cells (a values call cannot add rows; see locate()).
        """
        added = self._append_requests(append or {})
        if added and any(cell.tag is not None for cell in cells):
            raise ValueError("rows to add go with locate() when cells are written by tag")
        if not cells and not added:
            return {}
        zone = self._zone()
        by_title: dict[str, dict[tuple[int, int], Any]] = {}
        by_tag: dict[tuple[str, str], dict[int, Any]] = {}
        for cell in cells:
            if cell.row < 1 or cell.col < 1:
                raise ValueError(f"row and col are 1-based: {cell}")
            value = to_json_value(cell.value, zone)
            if cell.tag is not None:
                by_tag.setdefault((cell.title, cell.tag), {})[cell.col] = value
            else:
                by_title.setdefault(cell.title, {})[(cell.row, cell.col)] = value
        growth = self._growth_requests(by_title) if by_title else []
        if by_tag:
            if growth:  # rare: sync makes room in locate(); other callers write by position
                self._call(
                    "подготовка записи",
                    lambda: self._http.batch_update(self.key, {"requests": growth}),
                )
            return self._write_by_filter(by_tag, by_title)
        if not growth and not added:
            body = {"valueInputOption": "RAW", "data": self._value_ranges(by_title)}
            self._call("запись в таблицу", lambda: self._http.values_batch_update(self.key, body))
            return {}
        # values:batchUpdate cannot grow a tab nor add rows, so such a write goes as ONE
        # spreadsheets:batchUpdate: the rows made, the cells as typed values (a string stays a
        # string, never a formula), then the rows added at the end. One call, all or nothing;
        # not retried after a reply lost on the way back when it adds rows (they may have landed).
        requests = growth + self._update_cells(by_title) + added
        self._call(
            "запись в таблицу",
            lambda: self._http.batch_update(self.key, {"requests": requests}),
            is_transient_unsent if added else is_transient,
        )
        return {}

    def _write_by_filter(
        self,
        by_tag: Mapping[tuple[str, str], dict[int, Any]],
        by_title: Mapping[str, dict[tuple[int, int], Any]],
    ) -> dict[str, list[RawValue]]:
        """ONE values:batchUpdateByDataFilter: tagged rows by their tag, other cells by range."""
        data: list[dict[str, Any]] = []
        for (_title, tag), by_col in by_tag.items():
            row: list[Any] = [None] * max(by_col)
            for col, value in by_col.items():
                row[col - 1] = value
            data.append({"dataFilter": tag_filter(tag), "majorDimension": "ROWS", "values": [row]})
        for title, by_cell in by_title.items():
            for r1, c1, r2, c2, rows in merge_ranges(by_cell):
                grid = {
                    "sheetId": self._sheet_ids[title],
                    "startRowIndex": r1 - 1,
                    "endRowIndex": r2,
                    "startColumnIndex": c1 - 1,
                    "endColumnIndex": c2,
                }
                data.append({"dataFilter": {"gridRange": grid}, "values": rows})
        body = {
            "valueInputOption": "RAW",
            "data": data,
            "includeValuesInResponse": True,
            "responseValueRenderOption": "UNFORMATTED_VALUE",
            "responseDateTimeRenderOption": "SERIAL_NUMBER",
        }
        url = f"{SPREADSHEETS_API_V4_BASE_URL}/{self.key}/values:batchUpdateByDataFilter"
        try:
            reply = self._call(
                "запись в таблицу", lambda: self._http.request("post", url, json=body).json()
            )
        except OutsideFailure as exc:
            cause = exc.__cause__
            if (
                isinstance(cause, APIError)
                and cause.response.status_code == 400
                and "data[" in str(cause.error.get("message", ""))
            ):
                # A tagged row was deleted since it was located: Google refuses the whole batch.
                raise RowsGone(str(cause.error.get("message", ""))) from exc
            raise
        after: dict[str, list[RawValue]] = {}
        for response in reply.get("responses", []):
            lookup = response.get("dataFilter", {}).get("developerMetadataLookup")
            if not lookup:
                continue
            values = response.get("updatedData", {}).get("values", [[]])
            after[str(lookup.get("metadataValue"))] = [_clean(v) for v in values[0]]
        return after

    def append_rows(self, title: str, rows: list[list[CellValue]]) -> None:
        """Add rows after the last row holding data, as the sheet is when the write lands:
        ONE spreadsheets.batchUpdate with appendCells (typed values, never a formula; Google
        grows the grid as needed)."""
        self.append_many({title: rows})

    def _append_requests(self, rows: Mapping[str, list[list[CellValue]]]) -> list[dict]:
        """appendCells requests (typed values, never a formula) for {title: rows}."""
        rows = {title: r for title, r in rows.items() if r}
        if not rows:
            return []
        self._ensure_metadata()
        zone = self._zone()
        return [
            {
                "appendCells": {
                    "sheetId": self._sheet_ids[title],
                    "rows": [
                        {"values": [_cell_data(to_json_value(v, zone)) for v in row]}
                        for row in tab_rows
                    ],
                    "fields": "userEnteredValue",
                }
            }
            for title, tab_rows in rows.items()
        ]

    def append_many(self, rows: Mapping[str, list[list[CellValue]]]) -> None:
        """appendCells for several tabs in ONE spreadsheets.batchUpdate: all or nothing."""
        requests = self._append_requests(rows)
        if not requests:
            return
        # Not retried after a reply lost on the way back: the rows may have landed, and
        # appending them again would add them twice. The caller finds next run what landed.
        self._call(
            "добавление строк в таблицу",
            lambda: self._http.batch_update(self.key, {"requests": requests}),
            retry_if=is_transient_unsent,
        )

    def _update_cells(self, cells: Mapping[str, dict[tuple[int, int], Any]]) -> list[dict]:
        """updateCells requests (typed userEnteredValue) for the same ranges as a values write."""
        requests = []
        for title, by_cell in cells.items():
            for r1, c1, _r2, _c2, rows in merge_ranges(by_cell):
                requests.append(
                    {
                        "updateCells": {
                            "start": {
                                "sheetId": self._sheet_ids[title],
                                "rowIndex": r1 - 1,
                                "columnIndex": c1 - 1,
                            },
                            "rows": [{"values": [_cell_data(v) for v in row]} for row in rows],
                            "fields": "userEnteredValue",
                        }
                    }
                )
        return requests

    def _growth(self, title: str, last_row: int, last_col: int) -> list[dict[str, Any]]:
        """appendDimension requests that make room for (last_row, last_col), with headroom."""
        if title not in self._grid or title not in self._sheet_ids:
            return []
        rows, cols = self._grid[title]
        requests = []
        if last_row > rows:
            extra = last_row - rows + GROW_HEADROOM_ROWS
            requests.append(
                {
                    "appendDimension": {
                        "sheetId": self._sheet_ids[title],
                        "dimension": "ROWS",
                        "length": extra,
                    }
                }
            )
            rows += extra
        if last_col > cols:
            requests.append(
                {
                    "appendDimension": {
                        "sheetId": self._sheet_ids[title],
                        "dimension": "COLUMNS",
                        "length": last_col - cols,
                    }
                }
            )
            cols = last_col
        self._grid[title] = (rows, cols)
        return requests

    def _growth_requests(self, cells: Mapping[str, dict[tuple[int, int], Any]]) -> list[dict]:
        """appendDimension requests for every tab the write would run past (usually none)."""
        requests = []
        for title, by_cell in cells.items():
            last_row = max(r for r, _ in by_cell)
            last_col = max(c for _, c in by_cell)
            requests += self._growth(title, last_row, last_col)
        return requests

    # ---------------------------------------------------------------- structure

    def _ensure_metadata(self) -> None:
        if not self._sheet_ids:
            self.read()

    def describe(self) -> dict[str, Any]:
        """Tabs, frozen header, dropdowns, number formats, highlights and protected columns,
        read from one metadata call (plus a light one first if no tab titles are known yet)."""
        if not self._sheet_ids:
            self._read_metadata()
        ranges = [f"{quote_title(t)}!2:2" for t in self._sheet_ids]
        fields = (
            "properties(title,timeZone,locale),"
            "sheets(properties(sheetId,title,index,gridProperties),conditionalFormats,"
            "protectedRanges,basicFilter,data(startRow,startColumn,"
            "rowData.values(dataValidation,userEnteredFormat.numberFormat)))"
        )
        metadata = self._call(
            "чтение оформления таблицы",
            lambda: self._http.fetch_sheet_metadata(
                self.key, params={"ranges": ranges, "fields": fields}
            ),
        )
        sheets = self._remember(metadata)
        props = metadata.get("properties", {})
        result: dict[str, Any] = {
            "__sheet__": {
                "time_zone": props.get("timeZone"),
                "locale": props.get("locale"),
                "title": props.get("title"),
            }
        }
        for sheet in sheets:
            sheet_props = sheet.get("properties", {})
            title = sheet_props.get("title", "")
            grid = sheet_props.get("gridProperties", {})
            column_count = int(grid.get("columnCount", 0))
            dropdown_cols: set[int] = set()
            dropdown_values: dict[int, list[str]] = {}
            format_cols: dict[int, str] = {}
            for block in sheet.get("data", []):
                start_col = int(block.get("startColumn", 0))
                for row in block.get("rowData", [])[:1]:
                    for offset, cell in enumerate(row.get("values", [])):
                        col = start_col + offset + 1
                        condition = cell.get("dataValidation", {}).get("condition", {})
                        if condition.get("type") == "ONE_OF_LIST":
                            dropdown_cols.add(col)
                            dropdown_values[col] = [
                                str(v.get("userEnteredValue", ""))
                                for v in condition.get("values", [])
                            ]
                        number_format = cell.get("userEnteredFormat", {}).get("numberFormat")
                        fmt = format_from_google(number_format) if number_format else None
                        if fmt:
                            format_cols[col] = fmt
            highlight_cols: set[int] = set()
            highlight_values: dict[int, dict[str, str | None]] = {}
            rules: list[tuple[int, set[int], str | None, str | None]] = []
            for index, rule in enumerate(sheet.get("conditionalFormats", [])):
                cols: set[int] = set()
                for grid_range in rule.get("ranges", []):
                    cols.update(_grid_cols(grid_range, column_count))
                highlight_cols.update(cols)
                value, colour = _text_rule(rule)
                rules.append((index, cols, value, colour))
                if value is not None:
                    for col in cols:
                        highlight_values.setdefault(col, {})[value] = colour
            self._rules[title] = rules
            protected_cols: set[int] = set()
            for protected in sheet.get("protectedRanges", []):
                if "range" in protected:
                    protected_cols.update(_grid_cols(protected["range"], column_count))
            result[title] = {
                "frozen": int(grid.get("frozenRowCount", 0)) >= 1,
                "dropdown_cols": dropdown_cols,
                "dropdown_values": dropdown_values,
                "format_cols": format_cols,
                "highlight_cols": highlight_cols,
                "highlight_values": highlight_values,
                "protected_cols": protected_cols,
                "filtered": "basicFilter" in sheet,
                "max_row": int(grid.get("rowCount", 0)),
            }
        return result

    def _new_sheet_id(self, title: str, taken: set[int]) -> int:
        # Chosen here (not by Google) so later requests of the same batch can refer to it.
        candidate = zlib.crc32(title.encode("utf-8")) & 0x7FFFFFFF
        while candidate in taken or candidate == 0:
            candidate = (candidate * 31 + 7) & 0x7FFFFFFF
        taken.add(candidate)
        return candidate

    def apply_init(self, plan: InitPlan) -> None:
        """Make the sheet match the plan: one structure batch update, then one values batch
        write for headers and seed rows (seed rows go after the data already there)."""
        if plan.is_empty():
            return
        if not self._data_rows or not self._sheet_ids:
            self.read()
        sheet_ids = dict(self._sheet_ids)
        widths = {t: cols for t, (_, cols) in self._grid.items()}
        data_rows = dict(self._data_rows)
        requests = self._new_tab_requests(plan, sheet_ids, widths, data_rows)
        requests += _column_requests(plan, sheet_ids, widths)
        requests += _format_requests(plan, sheet_ids)
        requests += self._highlight_requests(plan, sheet_ids)
        requests += _protect_requests(plan, sheet_ids)
        for look in plan.looks:
            requests += look_requests(sheet_ids[look.title], look)
        cells = _init_cells(plan, data_rows, self._zone())
        for title, by_cell in cells.items():
            if by_cell and title in self._grid:
                # Columns were added above (appendDimension for the plan's columns): rows here.
                requests += self._growth(title, max(r for r, _ in by_cell), 0)
        if requests:
            self._call(
                "настройка оформления таблицы",
                lambda: self._http.batch_update(self.key, {"requests": requests}),
            )
            self._sheet_ids = sheet_ids
            for title, width in widths.items():
                rows_count = self._grid.get(title, (NEW_TAB_ROWS, 0))[0]
                self._grid[title] = (rows_count, width)
        data = self._value_ranges({t: c for t, c in cells.items() if c})
        if data:
            body = {"valueInputOption": "RAW", "data": data}
            self._call(
                "запись заголовков таблицы",
                lambda: self._http.values_batch_update(self.key, body),
            )
            self._data_rows = data_rows

    def _new_tab_requests(
        self,
        plan: InitPlan,
        sheet_ids: dict[str, int],
        widths: dict[str, int],
        data_rows: dict[str, int],
    ) -> list[dict[str, Any]]:
        """addSheet for each missing tab (ids, widths and row counts noted in the dicts)."""
        taken = set(sheet_ids.values())
        seeds = {title: len(rows) for title, rows in plan.seed_rows}
        requests: list[dict[str, Any]] = []
        for title, headers in plan.new_tabs:
            if title in sheet_ids:
                continue
            sheet_ids[title] = self._new_sheet_id(title, taken)
            widths[title] = max(NEW_TAB_MIN_COLUMNS, len(headers))
            data_rows[title] = 0
            requests.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet_ids[title],
                            "title": title,
                            "gridProperties": {
                                "rowCount": max(NEW_TAB_ROWS, seeds.get(title, 0) + 2),
                                "columnCount": widths[title],
                            },
                        }
                    }
                }
            )
        return requests

    def _highlight_requests(
        self, plan: InitPlan, sheet_ids: dict[str, int]
    ) -> list[dict[str, Any]]:
        """The state columns' colours: a colour that now means something else is deleted first
        (highest index first, so the indexes still to delete hold); wanted ones there stay."""
        requests: list[dict[str, Any]] = []
        present: dict[tuple[str, int], set[str]] = {}
        doomed: dict[str, set[int]] = {}
        for title, col, colors in plan.highlights:
            for index, cols, value, colour in self._rules.get(title, []):
                if col not in cols or value is None:
                    continue
                if colors.get(value) == colour:
                    present.setdefault((title, col), set()).add(value)
                else:
                    doomed.setdefault(title, set()).add(index)
        for title, indexes in doomed.items():
            for index in sorted(indexes, reverse=True):
                requests.append(
                    {"deleteConditionalFormatRule": {"sheetId": sheet_ids[title], "index": index}}
                )
            self._rules.pop(title, None)  # the indexes are spent: describe() again to know
        for title, col, colors in plan.highlights:
            for value, color in colors.items():
                if value in present.get((title, col), set()):
                    continue
                requests.append(
                    {
                        "addConditionalFormatRule": {
                            "rule": {
                                "ranges": [_column_range(sheet_ids[title], col)],
                                "booleanRule": {
                                    "condition": {
                                        "type": "TEXT_EQ",
                                        "values": [{"userEnteredValue": value}],
                                    },
                                    "format": {
                                        "backgroundColor": HIGHLIGHT_COLORS.get(
                                            color, HIGHLIGHT_COLORS["amber"]
                                        )
                                    },
                                },
                            },
                            "index": 0,
                        }
                    }
                )
        return requests

    # ---------------------------------------------------------------- lock

    def lock(self) -> AbstractContextManager[None]:
        """Hold this spreadsheet against a second job on this computer."""
        return self._locked()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        file_lock = FileLock(str(self._lock_path), timeout=self._lock_timeout)
        try:
            file_lock.acquire()
        except LockTimeout:
            raise StoreUnavailable(
                f"С таблицей {self.location()} уже работает другая задача на этом компьютере "
                f"(файл блокировки {self._lock_path}). Дождитесь её окончания и запустите снова."
            ) from None
        try:
            yield
        finally:
            file_lock.release()


# --- init: the requests of one structure batch update ---------------------------------------


def _column_range(sheet_id: int, col: int) -> dict[str, int]:
    """One column under its header row."""
    return {
        "sheetId": sheet_id,
        "startRowIndex": 1,
        "startColumnIndex": col - 1,
        "endColumnIndex": col,
    }


def _column_requests(
    plan: InitPlan, sheet_ids: dict[str, int], widths: dict[str, int]
) -> list[dict[str, Any]]:
    """appendDimension where the plan names a column past a tab's grid (a range may not)."""
    needed: dict[str, int] = {}
    for title, headers in [*plan.headers, *plan.new_tabs]:
        needed[title] = max(needed.get(title, 0), len(headers))
    for title, col, *_ in [*plan.dropdowns, *plan.number_formats, *plan.highlights]:
        needed[title] = max(needed.get(title, 0), col)
    for title, col in plan.protected:
        needed[title] = max(needed.get(title, 0), col)
    for look in plan.looks:
        needed[look.title] = max(needed.get(look.title, 0), look.columns)
    requests: list[dict[str, Any]] = []
    for title, width in needed.items():
        if title in sheet_ids and widths.get(title, 0) < width:
            requests.append(
                {
                    "appendDimension": {
                        "sheetId": sheet_ids[title],
                        "dimension": "COLUMNS",
                        "length": width - widths.get(title, 0),
                    }
                }
            )
            widths[title] = width
    return requests


def _format_requests(plan: InitPlan, sheet_ids: dict[str, int]) -> list[dict[str, Any]]:
    """Frozen header rows, dropdown lists and number formats."""
    requests: list[dict[str, Any]] = []
    for title in plan.frozen_header:
        requests.append(
            {
                "updateSheetProperties": {
                    "properties": {
                        "sheetId": sheet_ids[title],
                        "gridProperties": {"frozenRowCount": 1},
                    },
                    "fields": "gridProperties.frozenRowCount",
                }
            }
        )
    for title, col, values in plan.dropdowns:
        requests.append(
            {
                "setDataValidation": {
                    "range": _column_range(sheet_ids[title], col),
                    "rule": {
                        "condition": {
                            "type": "ONE_OF_LIST",
                            "values": [{"userEnteredValue": v} for v in values],
                        },
                        "strict": False,
                        "showCustomUi": True,
                    },
                }
            }
        )
    for title, col, fmt in plan.number_formats:
        requests.append(
            {
                "repeatCell": {
                    "range": _column_range(sheet_ids[title], col),
                    "cell": {"userEnteredFormat": {"numberFormat": google_number_format(fmt)}},
                    "fields": "userEnteredFormat.numberFormat",
                }
            }
        )
    return requests


def _protect_requests(plan: InitPlan, sheet_ids: dict[str, int]) -> list[dict[str, Any]]:
    """Warning-only protection of the derived columns."""
    return [
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {
                        "sheetId": sheet_ids[title],
                        "startColumnIndex": col - 1,
                        "endColumnIndex": col,
                    },
                    "description": PROTECTED_DESCRIPTION,
                    "warningOnly": True,
                }
            }
        }
        for title, col in plan.protected
    ]


def _init_cells(
    plan: InitPlan, data_rows: dict[str, int], zone: Any
) -> dict[str, dict[tuple[int, int], Any]]:
    """Header and seed cells by tab; seed rows go after the data already there."""
    cells: dict[str, dict[tuple[int, int], Any]] = {}
    for title, headers in [*plan.new_tabs, *plan.headers]:
        target = cells.setdefault(title, {})
        for col, header in enumerate(headers, start=1):
            target[(1, col)] = header
        data_rows[title] = max(data_rows.get(title, 0), 1)
    for title, rows in plan.seed_rows:
        target = cells.setdefault(title, {})
        start = max(data_rows.get(title, 0), 1) + 1
        for offset, row in enumerate(rows):
            for col, value in enumerate(row, start=1):
                if value is not None:
                    target[(start + offset, col)] = to_json_value(value, zone)
        data_rows[title] = start + len(rows) - 1
    return cells
