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
    path: Path = Field(
        default=Path("journaldesk.xlsx"),
        description="Книга Excel (.xlsx) школы, путь от папки файла настроек",
        examples=["../journaldesk.xlsx"],
    )


class GoogleSettings(_Section):
    spreadsheet: str = Field(
        default="",
        description="Ключ таблицы Google или её полный адрес (для backend: google)",
        examples=["https://docs.google.com/spreadsheets/d/КЛЮЧ/edit"],
    )
    credentials: str | None = Field(
        default=None,
        description="Файл ключа сервисного аккаунта (JSON); вместо него — переменная "
        "JOURNALDESK_CREDENTIALS или JOURNALDESK_CREDENTIALS_JSON",
        examples=["C:/journaldesk/key.json"],
    )
    api_url: str = Field(
        default="https://sheets.googleapis.com",
        description="Адрес Google Sheets API (менять не нужно)",
    )
    timeout: float = Field(default=30.0, gt=0, description="Сколько секунд ждать ответа Google")


class Administrator(_Section):
    name: str = Field(
        default="Администратор ЭЖ",
        description="Администратор ЭЖ: отвечает, если у темы нет своего ответственного",
        examples=["Иванова М. П."],
    )
    email: str = Field(
        default="", description="Эл. почта администратора ЭЖ", examples=["ezh-admin@school.ru"]
    )


class TopicOverride(_Section):
    sla_hours: float | None = Field(
        default=None, gt=0, description="Срок ответа в рабочих часах", examples=["1"]
    )
    sla_sessions: int | None = Field(
        default=None,
        ge=1,
        description="Срок: до конца N-й консультации после той, в которую пришло обращение",
        examples=["1"],
    )
    assignee: str | None = Field(
        default=None,
        description="Кто отвечает на обращения темы (иначе — администратор)",
        examples=["Заместитель директора по УВР"],
    )
    consultation: bool | None = Field(
        default=None, description="Записывать ли обращения темы на консультацию", examples=["true"]
    )


class DeadlineSettings(_Section):
    at_risk_share: float = Field(
        default=0.75,
        gt=0,
        lt=1,
        description="Доля израсходованного времени, с которой обращение «Под угрозой»",
        examples=["0.8"],
    )
    vendor_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="Через сколько рабочих дней обращение, переданное в поддержку ЭлЖур, "
        "попадает в сводку как долгое ожидание",
        examples=["10"],
    )


class BookingSettings(_Section):
    slot_minutes: int = Field(
        default=20,
        ge=5,
        le=240,
        description="Длительность одной записи на консультацию, минут",
        examples=["15"],
    )
    capacity: int = Field(
        default=1, ge=1, le=20, description="Сколько обращений в одну запись", examples=["2"]
    )
    buffer_minutes: int = Field(
        default=0, ge=0, le=60, description="Перерыв между записями, минут", examples=["5"]
    )
    min_notice_hours: float = Field(
        default=2,
        ge=0,
        description="Запись не раньше чем через столько часов после обращения",
        examples=["4"],
    )
    daily_cap: int | None = Field(
        default=None,
        ge=1,
        description="Не больше стольких записей в день консультаций (пусто — без предела)",
        examples=["6"],
    )
    reserve_share: float = Field(
        default=0.25,
        ge=0,
        lt=1,
        description="Доля мест каждой консультации, которую автоматическая запись оставляет "
        "свободной: для коротких обращений и выставления отметок (п. 2.9)",
        examples=["0.3"],
    )
    room: str = Field(
        default="",
        description="Кабинет консультаций, если в «Графике» он не указан",
        examples=["12"],
    )


REGIONS = ("Республика Крым", "Севастополь", "нет")


class SchoolSettings(_Section):
    name: str = Field(
        default="МБОУ «Владиславовская ОШ»",
        description="Название школы в сводках и письмах",
        examples=["МБОУ «СОШ № 1»"],
    )
    region: str = Field(
        default=REGIONS[0],
        description="Регион: его выходные init добавит в «Календарь» (Крым и Севастополь — "
        "18 марта); «нет» — только общероссийские праздники",
        examples=["нет"],
    )
    vacation_consultations: bool = Field(
        default=False,
        description="Проводятся ли консультации в школьные каникулы (false — дни «Каникулы» "
        "закрыты, сроки в них не идут)",
        examples=["true"],
    )

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in REGIONS:
            raise ValueError(f"region:{value}")
        return value


class ConsentSettings(_Section):
    wait_days: int = Field(
        default=14,
        ge=1,
        description="Заявление на руках дольше стольких дней — «Ждём дольше срока»",
        examples=["10"],
    )
    target_share: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Цель: доля учеников с поданным заявлением и подписанным согласием",
        examples=["0.95"],
    )
    deadline: dt.date | None = Field(
        default=None,
        description="К какой дате собрать заявления и согласия (ГГГГ-ММ-ДД)",
        examples=["2026-12-25"],
    )
    per_class: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Свои цель (target) и срок (deadline) для отдельных классов",
        examples=['{"1А": {"target": 0.8, "deadline": 2027-01-31}}'],
    )
    access_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="За сколько рабочих дней после отзыва согласия отключить родителю доступ "
        "к электронному дневнику",
        examples=["5"],
    )
    retention_days: int = Field(
        default=30,
        ge=0,
        description="Сколько дней после выбытия ученика хранить его строку на листе «Согласия»; "
        "потом строка попадает в список на удаление",
        examples=["90"],
    )
    left_classes: dict[str, dt.date] = Field(
        default_factory=dict,
        description="Классы, которые выбыли целиком (выпуск), и дата выбытия",
        examples=['{"11А": 2026-06-30}'],
    )


class MailSettings(_Section):
    host: str = Field(
        default="", description="Сервер SMTP; пусто — почта выключена", examples=["smtp.yandex.ru"]
    )
    port: int = Field(
        default=587, ge=1, le=65535, description="Порт сервера SMTP", examples=["465"]
    )
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="Защита соединения: starttls, ssl или none",
        examples=["ssl"],
    )
    user: str = Field(
        default="", description="Имя для входа на сервер SMTP", examples=["ezh-admin@school.ru"]
    )
    password_env: str = Field(
        default="JOURNALDESK_SMTP_PASSWORD",
        description="Переменная окружения, в которой пароль почты (сам пароль в файл не пишется)",
    )
    sender: str = Field(
        default="", description="Адрес отправителя писем", examples=["ezh-admin@school.ru"]
    )
    recipients: list[str] = Field(
        default_factory=list,
        description="Кому отправлять недельную сводку",
        examples=['["zam@school.ru", "director@school.ru"]'],
    )
    timeout: float = Field(default=30.0, gt=0, description="Сколько секунд ждать сервер почты")


class RunnerSettings(_Section):
    sync_every_minutes: int = Field(
        default=15,
        ge=1,
        le=24 * 60,
        description="Синхронизация каждые столько минут",
        examples=["10"],
    )
    day_start: dt.time = Field(
        default=dt.time(7, 30), description="Синхронизации с этого времени", examples=["08:00"]
    )
    day_end: dt.time = Field(
        default=dt.time(19, 0), description="…и до этого времени", examples=["17:00"]
    )
    workdays: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5],
        description="Дни недели синхронизаций: 0 — понедельник, 6 — воскресенье",
        examples=["[0, 1, 2, 3, 4]"],
    )
    reminder_minutes_before: int = Field(
        default=30,
        ge=0,
        le=240,
        description="Напоминание администратору за столько минут до консультации",
        examples=["60"],
    )
    summary_weekday: int = Field(
        default=0,
        ge=0,
        le=6,
        description="День недели сводки: 0 — понедельник, 6 — воскресенье",
        examples=["4"],
    )
    summary_time: dt.time = Field(
        default=dt.time(7, 0), description="Время недельной сводки", examples=["08:30"]
    )


# The lesson export's columns (section I of the regulation) and the headers each is known by in
# the journal's exports; `journal.headers` in the settings adds more. Compared ignoring case,
# spaces and ё/е. The first four and the topic and homework are required.
LESSON_HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("Дата", "Дата урока", "Дата проведения", "Дата занятия"),
    "class_name": ("Класс", "Класс/группа", "Группа", "Класс (группа)"),
    "subject": ("Предмет", "Учебный предмет", "Дисциплина"),
    "teacher": ("Учитель", "Преподаватель", "ФИО учителя", "Педагог", "Учитель (ФИО)"),
    "topic": ("Тема урока", "Тема", "Тема занятия"),
    "homework": ("Домашнее задание", "ДЗ", "Д/з", "Задание на дом"),
    "assessment": ("Вид контроля", "Тип оценки", "Форма контроля", "Тип контроля"),
    "marks": ("Отметки", "Оценки", "Выставлено отметок", "Количество отметок"),
    "attendance": ("Посещаемость", "Пропуски", "Отсутствующие", "Посещаемость отмечена"),
    "entered_at": ("Дата заполнения", "Время ввода", "Заполнено", "Дата внесения"),
    "lesson_no": ("№ урока", "Номер урока", "Урок №"),
}
REQUIRED_LESSON_FIELDS = ("date", "class_name", "subject", "teacher", "topic", "homework")


class JournalSettings(_Section):
    """Section I: reading the journal's lesson export and judging how it is filled in."""

    headers: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Свои названия столбцов выгрузки уроков (добавляются к обычным); поля: "
        + ", ".join(LESSON_HEADERS),
        examples=['{"topic": ["Тема по КТП"]}'],
    )
    no_homework_subjects: list[str] = Field(
        default_factory=lambda: ["Физическая культура", "Физкультура"],
        description="Предметы, по которым домашнее задание не задают",
        examples=["[Физическая культура, Музыка]"],
    )
    no_homework_grades: list[int] = Field(
        default_factory=lambda: [1],
        description="Параллели (классы), в которых домашнее задание не задают",
        examples=["[1, 2]"],
    )
    late_after_days: int = Field(
        default=0,
        ge=0,
        le=30,
        description="Урок внесён позже дня урока плюс столько дней — «с опозданием»",
        examples=["1"],
    )
    threshold: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Учителя с долей полностью заполненных уроков ниже этой — в недельной сводке",
        examples=["0.8"],
    )
    email_teachers: bool = Field(
        default=False,
        description="Писать ли каждому учителю с пропусками список его незаполненных уроков",
        examples=["true"],
    )
    inbox: Path | None = Field(
        default=None,
        description="Папка, из которой `journaldesk run` сам загружает новые выгрузки уроков",
        examples=["../выгрузки"],
    )

    @field_validator("headers")
    @classmethod
    def _known_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name in value:
            if name not in LESSON_HEADERS:
                raise ValueError(f"lesson-field:{name}")
        return value

    def aliases(self) -> dict[str, tuple[str, ...]]:
        """Every header each lesson field is known by: the defaults, then this school's own."""
        return {
            name: tuple(dict.fromkeys([*defaults, *self.headers.get(name, [])]))
            for name, defaults in LESSON_HEADERS.items()
        }


# Form questions -> «Обращения» fields: the headers a Google or Яндекс form gives by default.
INTAKE_FIELDS = (
    "received_at",
    "requester",
    "role",
    "class_name",
    "topic",
    "description",
    "contact",
    "email",
)
INTAKE_HEADERS: dict[str, str] = {
    "Отметка времени": "received_at",
    "Timestamp": "received_at",
    "Время создания": "received_at",
    "ФИО": "requester",
    "Кто вы": "role",
    "Класс": "class_name",
    "Тема": "topic",
    "Опишите вопрос": "description",
    "Как с вами связаться": "contact",
    # Google Forms' «Собирать адреса электронной почты» adds this column by itself.
    "Адрес электронной почты": "email",
    "Email Address": "email",
    "Электронная почта": "email",
}


class IntakeSettings(_Section):
    """Section 2.11: answers of a Google/Яндекс form that become requests by themselves."""

    tab: str = Field(
        default="Ответы на форму (1)",
        description="Лист с ответами формы (пусто — приём из формы выключен)",
        examples=["Ответы на форму (1)"],
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Свои вопросы формы и поле обращения для каждого (добавляются к обычным); "
        "поля: " + ", ".join(INTAKE_FIELDS),
        examples=['{"Ваш вопрос": description}'],
    )
    letters: bool = Field(
        default=True,
        description="Отвечать ли письмом «Ваше обращение № … принято» тем, кто оставил в форме "
        "адрес эл. почты (нужна настроенная почта, раздел mail)",
        examples=["false"],
    )

    @field_validator("headers")
    @classmethod
    def _known_intake_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value.values():
            if name not in INTAKE_FIELDS:
                raise ValueError(f"intake-field:{name}")
        return value

    def mapping(self) -> dict[str, str]:
        """Every form question (case and spaces ignored) -> its request field."""
        both = {**INTAKE_HEADERS, **self.headers}
        return {" ".join(k.split()).casefold().rstrip("?:"): v for k, v in both.items()}


class Settings(_Section):
    """Validated settings. Paths are resolved against the settings file's folder."""

    backend: Literal["workbook", "google"] = Field(
        default="workbook",
        description="Где таблица: workbook — файл .xlsx на этом компьютере, google — таблица "
        "Google",
        examples=["google"],
    )
    workbook: WorkbookSettings = Field(default_factory=WorkbookSettings)
    google: GoogleSettings = Field(default_factory=GoogleSettings)
    timezone: str = Field(
        default="Europe/Simferopol",
        description="Часовой пояс школы: сроки, часы консультаций, даты в таблице и в журнале",
        examples=["Europe/Moscow"],
    )
    school: SchoolSettings = Field(default_factory=SchoolSettings)
    administrator: Administrator = Field(default_factory=Administrator)
    topics: dict[str, TopicOverride] = Field(
        default_factory=dict,
        description="Свои сроки и ответственные по темам; тема — как в списке «Тема»",
    )
    deadlines: DeadlineSettings = Field(default_factory=DeadlineSettings)
    booking: BookingSettings = Field(default_factory=BookingSettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    intake: IntakeSettings = Field(
        default_factory=IntakeSettings,
        description="Приём обращений из формы Google или Яндекс (раздел 2.11 регламента)",
    )
    journal: JournalSettings = Field(
        default_factory=JournalSettings,
        description="Заполнение ЭЖ по выгрузке уроков (раздел I регламента)",
    )
    show_names: bool = Field(
        default=False,
        description="Показывать ли имена в сводках и письмах (по умолчанию нет: 152-ФЗ)",
    )
    log_file: Path = Field(
        default=Path("logs/journaldesk.log"),
        description="Журнал работы программы (файл), путь от папки файла настроек",
        examples=["../logs/journaldesk.log"],
    )
    reports_dir: Path = Field(
        default=Path("reports"), description="Папка для недельных сводок", examples=["../reports"]
    )
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("school", mode="before")
    @classmethod
    def _school_name_alone(cls, value: Any) -> Any:
        # Older settings files hold only the school's name: `school: МБОУ …`.
        return {"name": value} if isinstance(value, str) else value

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
        # Normalised, so a message shows …/journaldesk.xlsx, not …/config/../journaldesk.xlsx.
        return Path(os.path.normpath(p if p.is_absolute() else self.base_dir / p))

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
    if kind == "value_error" and msg.startswith("lesson-field:"):
        fields = ", ".join(LESSON_HEADERS)
        return f"{key}: неизвестный столбец выгрузки «{msg[13:]}»; столбцы: {fields}"
    if kind == "value_error" and msg.startswith("intake-field:"):
        fields = ", ".join(INTAKE_FIELDS)
        return f"{key}: неизвестное поле обращения «{msg[13:]}»; поля: {fields}"
    if kind == "value_error" and msg.startswith("region:"):
        return f"{key}: неизвестный регион «{msg[7:]}»; допустимо: " + ", ".join(
            f"«{r}»" for r in REGIONS
        )
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
