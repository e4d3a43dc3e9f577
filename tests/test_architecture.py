"""The layer law, checked: import contracts (.importlinter) and "only cli prints"."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import journaldesk

PACKAGE = Path(journaldesk.__file__).resolve().parent
CLI = PACKAGE / "cli"


def prints_outside_cli(root: Path) -> list[str]:
    """file:line of every call of the built-in print() in the package outside cli/."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if CLI in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_only_cli_prints():
    assert prints_outside_cli(PACKAGE) == [], "print() outside journaldesk/cli/: use logging"


def test_the_print_scan_finds_a_print(tmp_path):
    # The scan itself can fail: a package with a print in a rule is named, file and line.
    pkg = tmp_path / "journaldesk"
    (pkg / "rules").mkdir(parents=True)
    (pkg / "rules" / "x.py").write_text("def f():\n    return 1\n\n\nprint(f())\n")
    assert prints_outside_cli(pkg) == ["journaldesk/rules/x.py:5"]


LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed in this venv")
def test_a_broken_contract_names_the_import(tmp_path):
    # A copy of the package where a rule imports the store: lint-imports fails and names it.
    root = Path(__file__).resolve().parents[1]
    shutil.copytree(PACKAGE, tmp_path / "journaldesk", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / ".importlinter", tmp_path / ".importlinter")
    rule = tmp_path / "journaldesk" / "rules" / "worktime.py"
    rule.write_text("from journaldesk.store import base  # noqa\n" + rule.read_text())
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "journaldesk.rules.worktime -> journaldesk.store.base" in done.stdout


def enum_picks_by_position(root: Path) -> list[str]:
    """file:line of code that takes a dropdown value out of a schema list by position or by
    unpacking (`col("status").values[1]`, `enums["run_result"][0]`, `a, b = ….values`)."""

    def is_enum_list(node: ast.AST) -> bool:
        # X.col(...).values   or   X.enums[...]
        if isinstance(node, ast.Attribute) and node.attr == "values":
            return (
                isinstance(node.value, ast.Call) and getattr(node.value.func, "attr", "") == "col"
            )
        return (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "enums"
        )

    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "vocab.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            picked = isinstance(node, ast.Subscript) and is_enum_list(node.value)
            unpacked = (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Tuple)
                and is_enum_list(node.value)
            )
            if picked or unpacked:
                found.append((str(path.relative_to(root.parent)), node.lineno))
    return [f"{name}:{line}" for name, line in sorted(found)]


def test_dropdown_values_are_named_in_vocab_not_picked_by_position():
    assert enum_picks_by_position(PACKAGE) == [], "name the value in journaldesk/sheet/vocab.py"


def test_the_position_scan_finds_positional_picks(tmp_path):
    pkg = tmp_path / "journaldesk"
    pkg.mkdir()
    (pkg / "x.py").write_text(
        "a = s['requests'].col('due_state').values[1]\n"
        "b = s.enums['run_result'][0]\n"
        "c, d = s['x'].col('status').values\n"
        "e = s.enums['topic']\n"
    )
    assert enum_picks_by_position(pkg) == [
        "journaldesk/x.py:1",
        "journaldesk/x.py:2",
        "journaldesk/x.py:3",
    ]


TESTS = Path(__file__).resolve().parent


def calls_in_tests(predicate) -> list[str]:
    """file:line of every node in tests/ that the predicate picks."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            f"{path.relative_to(TESTS.parent)}:{node.lineno}"
            for node in ast.walk(tree)
            if predicate(node)
        ]
    return sorted(found)


def test_tests_never_sleep():
    # The README says so: clocks are passed in, retries take a no-sleep policy.
    def is_sleep(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "sleep"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("time", "asyncio")
        )

    assert calls_in_tests(is_sleep) == []


def test_no_property_test_caps_its_examples_below_the_long_profile():
    # An explicit max_examples=25 would override JOURNALDESK_HYPOTHESIS=long: counts go
    # through tests.helpers.examples(), which scales them.
    def literal_count(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.keyword)
            and node.arg in ("max_examples", "stateful_step_count")
            and isinstance(node.value, ast.Constant)
            and getattr(node, "lineno", 0) > 0
        )

    found = calls_in_tests(
        lambda n: (
            isinstance(n, ast.Call)
            and any(literal_count(k) for k in n.keywords)
            and getattr(n.func, "attr", "") != "register_profile"
        )
    )
    assert found == []


def test_the_long_profile_raises_the_example_counts():
    code = (
        "import hypothesis, tests.helpers as h, tests.test_worktime as w;"
        "print(h.examples(25), hypothesis.settings.default.max_examples)"
    )
    out = {}
    for depth in ("", "long"):
        env = {k: v for k, v in os.environ.items() if k != "JOURNALDESK_HYPOTHESIS"}
        if depth:
            env["JOURNALDESK_HYPOTHESIS"] = depth
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=TESTS.parent,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        out[depth] = tuple(int(x) for x in done.stdout.split())
    assert out[""] == (25, 100)
    assert out["long"] == (250, 300)
