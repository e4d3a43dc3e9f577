"""The command line in Russian: click's own words (usage, sections, errors of a bad option) and a
command group that prints its list of commands when called alone.

click marks every message it prints with gettext (`_`, `ngettext`); `install()` points those names
in click's modules at the catalogue below, so only click's wording changes, not its behaviour.
"""

from __future__ import annotations

import re
from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

# click's message → Russian. Placeholders keep click's names; `!r` quotes become «».
MESSAGES: dict[str, str] = {
    "Usage:": "Использование:",
    "Options": "Параметры",
    "Commands": "Команды",
    "Positional arguments": "Аргументы",
    "Show this message and exit.": "Показать эту справку и выйти.",
    "Show the version and exit.": "Показать версию и выйти.",
    "%(prog)s, version %(version)s": "%(prog)s, версия %(version)s",
    "Error: {message}": "Ошибка: {message}",
    "Try '{command} {option}' for help.": "Справка: {command} {option}",
    "No such option {name!r}.": "нет параметра «{name}».",
    "No such command {name!r}.": "нет команды «{name}».",
    "Missing command.": "не указана команда.",
    "Missing argument": "не указан аргумент",
    "Missing option": "не указан параметр",
    "Missing parameter": "не указан параметр",
    "Missing parameter: {param_name}": "не указан параметр {param_name}",
    "Missing {param_type}": "не указан {param_type}",
    "Invalid value: {message}": "недопустимое значение: {message}",
    "Invalid value for {param_hint}: {message}": "{param_hint}: {message}",
    "Option {name!r} does not take a value.": "параметр «{name}» пишется без значения.",
    "Argument {name!r} takes {nargs} values.": "аргументу «{name}» нужно значений: {nargs}.",
    "Invalid start character for option ({option})": "параметр должен начинаться с «-» ({option})",
    "{value!r} is not a valid {number_type}.": "«{value}» — не число.",
    "{value} is not in the range {range}.": "{value} вне допустимого диапазона {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "«{value}» — ожидается да или нет: {states}"
    ),
    "file": "файл",
    "directory": "папка",
    "path": "путь",
    "{name} {filename!r} does not exist.": "{name} «{filename}» не найден.",
    "{name} {filename!r} is a file.": "{name} «{filename}» — это файл, а нужна папка.",
    "{name} {filename!r} is a directory.": "{name} «{filename}» — это папка, а нужен файл.",
    "{name} {filename!r} is not readable.": "{name} «{filename}» нельзя прочитать.",
    "{name} {filename!r} is not writable.": "в {name} «{filename}» нельзя записать.",
    "Could not open file {filename!r}: {message}": (
        "не удалось открыть файл «{filename}»: {message}"
    ),
    "Choose from:\n\t{choices}": "Допустимо:\n\t{choices}",
    "default: {default}": "по умолчанию: {default}",
    "env var: {var}": "переменная окружения: {var}",
    "Aborted!": "Прервано.",
    "unknown error": "неизвестная ошибка",
}

# Messages with a plural: (singular, plural) → Russian for one and for many.
PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "лишний аргумент: {args}",
        "лишние аргументы: {args}",
    ),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): (
        "Может быть, {possibility}?",
        "(Может быть, одно из: {possibilities}?)",
    ),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "после «{name}» нужно значение.",
        "после «{name}» нужно значений: {nargs}.",
    ),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "«{value}» — допустимо только {choice}.",
        "«{value}» — допустимо одно из: {choices}.",
    ),
}

# Metavars click derives from a parameter's type, in Russian.
METAVARS = {"TEXT": "ТЕКСТ", "INTEGER": "ЧИСЛО", "FLOAT": "ЧИСЛО", "FILENAME": "ФАЙЛ"}

_MODULES = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.termui,
    click.types,
)


_QUOTED = re.compile(r"'([^']*)'")


class _Message(str):
    """A translated message whose values quoted by click ('--dir') come out in «»."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        kwargs = {
            k: _QUOTED.sub(r"«\1»", v) if isinstance(v, str) else v for k, v in kwargs.items()
        }
        return str.format(self, *args, **kwargs)


def gettext(message: str) -> str:
    """click's message in Russian (unchanged when the catalogue lacks it)."""
    return _Message(MESSAGES.get(message, message))


def ngettext(singular: str, plural: str, n: int) -> str:
    """click's message with a count, in Russian."""
    one, many = PLURALS.get((singular, plural), (singular, plural))
    return _Message(one if n == 1 else many)


def install() -> None:
    """Make click speak Russian (idempotent; affects only click's own messages)."""
    for module in _MODULES:
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


def russify(command: click.Command) -> click.Command:
    """Russian usage line and metavars for a command (and its subcommands)."""
    command.options_metavar = "[ПАРАМЕТРЫ]"
    for param in command.params:
        if isinstance(param, click.Option) and param.metavar is None and not param.is_flag:
            guess = param.type.get_metavar(param=param, ctx=click.Context(command))
            name = guess or param.type.name.upper()
            param.metavar = METAVARS.get(name, name)
    return command


# The help's width does not depend on the terminal, so the text is the same everywhere (and tests
# can compare it word for word).
CONTEXT_SETTINGS: dict[str, Any] = {"terminal_width": 100, "max_content_width": 100}


class RussianGroup(click.Group):
    """A command group in Russian; called with no command, it lists the commands and exits 0."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invoke_without_command", True)
        kwargs.setdefault("subcommand_metavar", "[КОМАНДА] [ПАРАМЕТРЫ]...")
        kwargs.setdefault("context_settings", dict(CONTEXT_SETTINGS))
        callback = kwargs.get("callback")

        def list_commands_when_alone(*a: Any, **kw: Any) -> Any:
            ctx = click.get_current_context()
            if ctx.invoked_subcommand is None:
                click.echo(ctx.get_help())
                ctx.exit(0)
            return callback(*a, **kw) if callback else None

        kwargs["callback"] = list_commands_when_alone
        super().__init__(*args, **kwargs)
        russify(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Add a command, in Russian."""
        super().add_command(russify(cmd), name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole first sentence, wrapped rather than cut off."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            text = cmd.short_help or (cmd.help or "").split("\n\n")[0]
            rows.append((name, " ".join(text.split())))
        if rows:
            with formatter.section(gettext("Commands")):
                formatter.write_dl(rows)
