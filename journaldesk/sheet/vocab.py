"""Every dropdown value the code names, once, bound to config/schema.yaml by its text.

The Russian words live in the schema; code says RESOLVED, not «Решено», and never picks a value
by its position. Each name is checked against its schema list when this module is imported, so
renaming a value in the schema without renaming it here fails at once, naming both.
"""

from __future__ import annotations

from journaldesk.sheet.schema import load_schema

_ENUMS = load_schema().enums


def _value(enum: str, text: str) -> str:
    if text not in _ENUMS.get(enum, ()):
        raise RuntimeError(f"config/schema.yaml: the list `{enum}` has no value «{text}»")
    return text


def _all(enum: str, *names: str) -> tuple[str, ...]:
    """The whole list, in the schema's order, after checking that the code names all of it."""
    values = tuple(_ENUMS[enum])
    if set(values) != set(names):
        raise RuntimeError(
            f"config/schema.yaml: the list `{enum}` is {values}, the code knows {names}"
        )
    return values


# Статус (requests)
NEW = _value("status", "Новое")
IN_WORK = _value("status", "В работе")
WAITING = _value("status", "Ждём заявителя")
WITH_VENDOR = _value("status", "Передано в поддержку ЭлЖур")
RESOLVED = _value("status", "Решено")
REJECTED = _value("status", "Отклонено")
STATUSES = _all("status", NEW, IN_WORK, WAITING, WITH_VENDOR, RESOLVED, REJECTED)
# The statuses that stop the service's clock: the next move is someone else's.
ON_HOLD = (WAITING, WITH_VENDOR)
CLOSED_STATUSES = (RESOLVED, REJECTED)

# Состояние срока (requests, derived)
ON_TIME = _value("due_state", "В срок")
AT_RISK = _value("due_state", "Под угрозой")
OVERDUE = _value("due_state", "Просрочено")
PAUSED = _value("due_state", "Приостановлено")
RESOLVED_ON_TIME = _value("due_state", "Решено в срок")
RESOLVED_LATE = _value("due_state", "Решено с опозданием")
DUE_STATES = _all("due_state", ON_TIME, AT_RISK, OVERDUE, PAUSED, RESOLVED_ON_TIME, RESOLVED_LATE)
OPEN_DUE_STATES = (ON_TIME, AT_RISK, OVERDUE, PAUSED)  # the states of a request still open

# Тип (Календарь)
KIND_HOLIDAY = _value("calendar_kind", "Праздник")
KIND_VACATION = _value("calendar_kind", "Каникулы")
KIND_CANCELLED = _value("calendar_kind", "Нет консультаций")
KIND_EXTRA = _value("calendar_kind", "Доп. консультация")
KIND_QUARTER_END = _value("calendar_kind", "Конец четверти")
KIND_GROUP = _value("calendar_kind", "Групповое занятие")  # training for several teachers (2.1)
CALENDAR_KINDS = _all(
    "calendar_kind",
    KIND_HOLIDAY,
    KIND_VACATION,
    KIND_CANCELLED,
    KIND_EXTRA,
    KIND_QUARTER_END,
    KIND_GROUP,
)
# Rows of «Календарь» that open or close no consultation time.
MARKER_KINDS = (KIND_QUARTER_END, KIND_GROUP)

# Заявление, Согласие на обработку ПД (Согласия)
APP_NOT_ISSUED = _value("application", "Не выдано")
APP_ISSUED = _value("application", "Выдано")
APP_SUBMITTED = _value("application", "Подано")
APP_REFUSED = _value("application", "Отказ")
APP_LEFT = _value("application", "Выбыл")  # the pupil left the school
APPLICATIONS = _all("application", APP_NOT_ISSUED, APP_ISSUED, APP_SUBMITTED, APP_REFUSED, APP_LEFT)
PD_NONE = _value("pd_consent", "Нет")
PD_SIGNED = _value("pd_consent", "Подписано")
PD_REVOKED = _value("pd_consent", "Отозвано")
PD_REFUSED = _value("pd_consent", "Отказ")  # final: never reminded
PD_CONSENTS = _all("pd_consent", PD_NONE, PD_SIGNED, PD_REVOKED, PD_REFUSED)

# Кем приходится (Согласия)
REL_MOTHER = _value("relation", "Мать")
REL_FATHER = _value("relation", "Отец")
REL_GUARDIAN = _value("relation", "Опекун")
REL_TRUSTEE = _value("relation", "Попечитель")
REL_OTHER = _value("relation", "Другое")  # needs the document of a legal representative
RELATIONS = _all("relation", REL_MOTHER, REL_FATHER, REL_GUARDIAN, REL_TRUSTEE, REL_OTHER)

# Состояние (Согласия, derived)
STATE_READY = _value("consent_state", "Готово")
STATE_WAITING = _value("consent_state", "Ждём")
STATE_WAITING_LONG = _value("consent_state", "Ждём дольше срока")
STATE_REFUSED = _value("consent_state", "Отказ")
STATE_REVOKED = _value("consent_state", "Отозвано")
STATE_NOT_ISSUED = _value("consent_state", "Не выдано")
STATE_LEFT = _value("consent_state", "Выбыл")
CONSENT_STATES = _all(
    "consent_state",
    STATE_READY,
    STATE_WAITING,
    STATE_WAITING_LONG,
    STATE_REFUSED,
    STATE_REVOKED,
    STATE_NOT_ISSUED,
    STATE_LEFT,
)

# Итог (Журнал)
RUN_OK = _value("run_result", "Успешно")
RUN_WITH_NOTES = _value("run_result", "Есть замечания")
RUN_FAILED = _value("run_result", "Ошибка")
RUN_RESULTS = _all("run_result", RUN_OK, RUN_WITH_NOTES, RUN_FAILED)

# Роль (requests)
ROLE_TEACHER = _value("role", "Учитель")
ROLE_CLASS_TEACHER = _value("role", "Классный руководитель")
ROLE_PARENT = _value("role", "Родитель")
ROLE_PUPIL = _value("role", "Ученик")
ROLE_ADMINISTRATION = _value("role", "Администрация")
ROLE_OTHER = _value("role", "Другое")

# День недели (График): Monday first, as datetime.weekday() counts.
_WEEK = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье")
WEEKDAYS = _all("weekday", *_WEEK)
if _WEEK != WEEKDAYS:
    raise RuntimeError("config/schema.yaml: the list `weekday` must run from Monday to Sunday")

# Тема: the topics are data (with their deadlines in topic_rules), not names in code.
TOPICS = tuple(_ENUMS["topic"])

# The topics a rule of the service singles out (the regulation's section IV and 2.3–2.4).
TOPIC_LOST_LOGIN = _value("topic", "Утерян логин или пароль")
# Training (2.1) is given in group sessions («Групповое занятие» in «Календарь»).
TOPIC_TRAINING = _value("topic", "Обучение работе в ЭЖ")
GROUP_TOPICS = (TOPIC_TRAINING,)
TOPIC_CURRENT_MARKS = _value("topic", "Текущие отметки")
TOPIC_FINAL_MARKS = _value("topic", "Итоговые отметки")
MARKS_TOPICS = (TOPIC_CURRENT_MARKS, TOPIC_FINAL_MARKS)

# «Канал» of a request that a form answer typed in by itself (issue: the intake tab).
CHANNEL_FORM = _value("channel", "Форма")
