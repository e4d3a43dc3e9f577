"""The sheet contract, loaded from config/schema.yaml: tabs, headers, field names, types, owners."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

from journaldesk.resources import default_file

ColumnType = Literal["text", "int", "number", "date", "datetime", "time", "enum", "class", "email"]
Owner = Literal["staff", "auto", "derived"]
_TYPES = set(ColumnType.__args__)
_OWNERS = set(Owner.__args__)


@dataclass(frozen=True)
class Column:
    """One column: its code name, Russian header, type, owner and allowed values."""

    field: str
    header: str
    type: ColumnType
    owner: Owner
    values: tuple[str, ...] = ()
    required: bool = False

    @property
    def writable_by_jobs(self) -> bool:
        """Whether a job may ever write this column (auto: only into an empty cell)."""
        return self.owner != "staff"


@dataclass(frozen=True)
class Tab:
    """One tab of the sheet: its title and its columns in sheet order."""

    key: str
    title: str
    columns: tuple[Column, ...]
    identity: tuple[str, ...] = ()
    fallback_identity: tuple[str, ...] = ()
    append_only: bool = False
    optional: bool = False  # the sync runs without it; the jobs that use it ask for `init`
    _by_field: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_field.update({c.field: c for c in self.columns})

    def col(self, field_name: str) -> Column:
        """The column with this field name."""
        return self._by_field[field_name]

    def header(self, field_name: str) -> str:
        """The Russian header of a field."""
        return self._by_field[field_name].header

    @property
    def headers(self) -> list[str]:
        """Every header in sheet order."""
        return [c.header for c in self.columns]

    @property
    def fields(self) -> list[str]:
        """Every field name in sheet order."""
        return [c.field for c in self.columns]

    def owned_by(self, *owners: Owner) -> list[Column]:
        """The columns with one of these owners."""
        return [c for c in self.columns if c.owner in owners]


@dataclass(frozen=True)
class TopicRule:
    """A help topic's defaults: regulation section, deadline, whether it needs a consultation."""

    topic: str
    section: str
    sla_hours: float | None = None
    sla_sessions: int | None = None
    consultation: bool = False


@dataclass(frozen=True)
class Schema:
    """Every tab of the sheet contract, by code key (requests, schedule, ...)."""

    tabs: dict[str, Tab]
    enums: dict[str, tuple[str, ...]]
    topic_rules: dict[str, TopicRule] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Tab:
        return self.tabs[key]

    def by_title(self, title: str) -> Tab | None:
        """The tab with this Russian title, if the schema has one."""
        return next((t for t in self.tabs.values() if t.title == title), None)


def parse_schema(data: dict) -> Schema:
    """Build a Schema from the YAML mapping, checking it is consistent."""
    enums = {name: tuple(vals) for name, vals in data["enums"].items()}
    tabs: dict[str, Tab] = {}
    for key, spec in data["tabs"].items():
        cols = []
        for c in spec["columns"]:
            if c["type"] not in _TYPES or c["owner"] not in _OWNERS:
                raise ValueError(f"schema: tab {key}, field {c['field']}: bad type or owner")
            values: tuple[str, ...] = ()
            if c["type"] == "enum":
                values = enums[c["values"]]
            cols.append(
                Column(
                    field=c["field"],
                    header=str(c["header"]),
                    type=c["type"],
                    owner=c["owner"],
                    values=values,
                    required=bool(c.get("required", False)),
                )
            )
        headers = [c.header for c in cols]
        if len(set(headers)) != len(headers) or len({c.field for c in cols}) != len(cols):
            raise ValueError(f"schema: tab {key} repeats a header or a field")
        tab = Tab(
            key=key,
            title=spec["title"],
            columns=tuple(cols),
            identity=tuple(spec.get("identity", ())),
            fallback_identity=tuple(spec.get("fallback_identity", ())),
            append_only=bool(spec.get("append_only", False)),
            optional=bool(spec.get("optional", False)),
        )
        for f in tab.identity + tab.fallback_identity:
            tab.col(f)
        tabs[key] = tab
    rules = {
        topic: TopicRule(
            topic=topic,
            section=str(r["section"]),
            sla_hours=r.get("sla_hours"),
            sla_sessions=r.get("sla_sessions"),
            consultation=bool(r.get("consultation", False)),
        )
        for topic, r in data.get("topic_rules", {}).items()
    }
    if rules and set(rules) != set(enums["topic"]):
        raise ValueError("schema: topic_rules must name exactly the topics of enums.topic")
    return Schema(tabs=tabs, enums=enums, topic_rules=rules)


@cache
def load_schema(path: Path | None = None) -> Schema:
    """Load and check config/schema.yaml (cached: the schema never changes while a job runs)."""
    text = (path or default_file("schema.yaml")).read_text(encoding="utf-8")
    return parse_schema(yaml.safe_load(text))
