"""Settings: load config/settings.yaml, validate it, explain a bad setting in one Russian line."""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from journaldesk.errors import SettingsError
from journaldesk.sheet.schema import TopicRule, load_schema

DEFAULT_SETTINGS_PATH = Path("config/settings.yaml")
ENV_CONFIG = "JOURNALDESK_CONFIG"


class _Section(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid")


class WorkbookSettings(_Section):
    path: Path = Path("journaldesk.xlsx")


class GoogleSettings(_Section):
    spreadsheet: str = ""
    credentials: str | None = None
    api_url: str = "https://sheets.googleapis.com"
    timeout: float = Field(default=30.0, gt=0)


class Administrator(_Section):
    name: str = "Администратор ЭЖ"
    email: str = ""


class TopicOverride(_Section):
    sla_hours: float | None = Field(default=None, gt=0)
    sla_sessions: int | None = Field(default=None, ge=1)
    assignee: str | None = None
    consultation: bool | None = None


class DeadlineSettings(_Section):
    at_risk_share: float = Field(default=0.75, gt=0, lt=1)


class BookingSettings(_Section):
    slot_minutes: int = Field(default=20, ge=5, le=240)
    capacity: int = Field(default=1, ge=1, le=20)
    buffer_minutes: int = Field(default=0, ge=0, le=60)
    min_notice_hours: float = Field(default=2, ge=0)
    daily_cap: int | None = Field(default=None, ge=1)
    room: str = ""


class ConsentSettings(_Section):
    wait_days: int = Field(default=14, ge=1)
    target_share: float = Field(default=0.9, gt=0, le=1)
    deadline: dt.date | None = None
    per_class: dict[str, dict[str, Any]] = Field(default_factory=dict)


class MailSettings(_Section):
    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str = ""
    password_env: str = "JOURNALDESK_SMTP_PASSWORD"
    sender: str = ""
    recipients: list[str] = Field(default_factory=list)
    timeout: float = Field(default=30.0, gt=0)


class RunnerSettings(_Section):
    sync_every_minutes: int = Field(default=15, ge=1, le=24 * 60)
    day_start: dt.time = dt.time(7, 30)
    day_end: dt.time = dt.time(19, 0)
    workdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5])
    reminder_minutes_before: int = Field(default=30, ge=0, le=240)
    summary_weekday: int = Field(default=0, ge=0, le=6)
    summary_time: dt.time = dt.time(7, 0)


class Settings(_Section):
    """Validated settings. Paths are resolved against the settings file's folder."""

    backend: Literal["workbook", "google"] = "workbook"
    workbook: WorkbookSettings = Field(default_factory=WorkbookSettings)
    google: GoogleSettings = Field(default_factory=GoogleSettings)
    timezone: str = "Europe/Simferopol"
    school: str = "МБОУ «Владиславовская ОШ»"
    administrator: Administrator = Field(default_factory=Administrator)
    topics: dict[str, TopicOverride] = Field(default_factory=dict)
    deadlines: DeadlineSettings = Field(default_factory=DeadlineSettings)
    booking: BookingSettings = Field(default_factory=BookingSettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    show_names: bool = False
    log_file: Path = Path("logs/journaldesk.log")
    reports_dir: Path = Path("reports")
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"tz:{value}") from None
        return value

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, value: dict[str, TopicOverride]) -> dict[str, TopicOverride]:
        known = set(load_schema().enums["topic"])
        for topic in value:
            if topic not in known:
                raise ValueError(f"topic:{topic}")
        return value

    @model_validator(mode="after")
    def _google_needs_sheet(self) -> Settings:
        if self.backend == "google" and not self.google.spreadsheet.strip():
            raise ValueError("google-sheet")
        return self

    def path(self, p: Path) -> Path:
        """A path from the settings, resolved against the settings file's folder."""
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def workbook_path(self) -> Path:
        """The local workbook's full path."""
        return self.path(self.workbook.path)

    def topic_rule(self, topic: str) -> TopicRule:
        """The effective rule of a topic: the schema's defaults with this school's overrides."""
        base = load_schema().topic_rules[topic]
        over = self.topics.get(topic)
        if over is None:
            return base
        hours, sessions = base.sla_hours, base.sla_sessions
        if over.sla_hours is not None:
            hours, sessions = over.sla_hours, None
        if over.sla_sessions is not None:
            hours, sessions = None, over.sla_sessions
        return TopicRule(
            topic=topic,
            section=base.section,
            sla_hours=hours,
            sla_sessions=sessions,
            consultation=base.consultation if over.consultation is None else over.consultation,
        )

    def assignee(self, topic: str) -> str:
        """Who answers a topic by default: the topic's own assignee, else the administrator."""
        over = self.topics.get(topic)
        return (over.assignee if over and over.assignee else None) or self.administrator.name


_TYPE_NAMES = {
    "bool": "да или нет (true/false)",
    "int": "целое число",
    "float": "число",
    "str": "текст",
    "date": "дата ГГГГ-ММ-ДД",
    "time": "время ЧЧ:ММ",
    "dict": "вложенный раздел",
    "list": "список",
    "model": "вложенный раздел",
}


def _explain(err: dict[str, Any]) -> str:
    """One Russian line for a pydantic error: the key and what is allowed."""
    key = ".".join(str(p) for p in err["loc"]) or "(весь файл)"
    kind = err["type"]
    ctx = err.get("ctx") or {}
    msg = str(ctx.get("error", err.get("msg", "")))
    if kind == "literal_error":
        allowed = ", ".join(f"«{v}»" for v in re.findall(r"'([^']*)'", str(ctx.get("expected"))))
        return f"{key}: недопустимое значение, допустимо: {allowed}"
    if kind == "extra_forbidden":
        return f"{key}: неизвестный параметр (проверьте написание)"
    if kind == "missing":
        return f"{key}: параметр обязателен"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()), "")
        words = {
            "greater_than": "больше",
            "greater_than_equal": "не меньше",
            "less_than": "меньше",
            "less_than_equal": "не больше",
        }
        return f"{key}: должно быть {words[kind]} {bound}"
    if kind == "value_error" and msg.startswith("tz:"):
        return f"{key}: неизвестный часовой пояс «{msg[3:]}», например Europe/Simferopol"
    if kind == "value_error" and msg.startswith("topic:"):
        topics = ", ".join(load_schema().enums["topic"])
        return f"{key}: неизвестная тема «{msg[6:]}»; темы: {topics}"
    if kind == "value_error" and msg.startswith("google-sheet"):
        return "google.spreadsheet: для backend: google укажите ключ или адрес таблицы"
    for name, words in _TYPE_NAMES.items():
        if kind.startswith(name):
            return f"{key}: ожидается {words}"
    return f"{key}: недопустимое значение ({err.get('msg', '')})"


def parse_settings(data: dict[str, Any] | None, base_dir: Path) -> Settings:
    """Validate a settings mapping; raise SettingsError (one Russian line) on the first problem."""
    try:
        return Settings.model_validate({**(data or {}), "base_dir": base_dir})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise SettingsError(f"Ошибка в настройках: {_explain(first)}") from None


def settings_path(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Path:
    """Which settings file to use: the argument, else $JOURNALDESK_CONFIG, else the default."""
    env = os.environ if environ is None else environ
    return Path(path or env.get(ENV_CONFIG) or DEFAULT_SETTINGS_PATH)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate the settings file (see config/settings.example.yaml)."""
    p = settings_path(path)
    if not p.exists():
        raise SettingsError(
            f"Файл настроек «{p}» не найден. Скопируйте config/settings.example.yaml в "
            f"config/settings.yaml или укажите путь: --config ПУТЬ."
        )
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", строка {mark.line + 1}" if mark else ""
        raise SettingsError(f"Файл настроек «{p}» не читается как YAML{where}.") from None
    except UnicodeDecodeError:
        raise SettingsError(f"Файл настроек «{p}» должен быть в кодировке UTF-8.") from None
    if data is not None and not isinstance(data, dict):
        raise SettingsError(f"Файл настроек «{p}»: ожидается набор параметров «ключ: значение».")
    return parse_settings(data, p.resolve().parent)
