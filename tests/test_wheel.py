"""The installed wheel works on its own: built offline, installed into a fresh venv, demo runs.

The fresh venv sees the project venv's site-packages through a .pth line (so no dependency is
downloaded) but not its editable install of journaldesk (a .pth line adds a folder; it does not
run the .pth files inside it), so the package, its schema, calendar and templates all come from
the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "requirements.txt", "journaldesk", "config", "templates")


def run(*args: object, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_installed_in_a_fresh_venv_runs_the_demo(tmp_path):
    # A copy of the sources, so the build leaves nothing in the project folder.
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        from_ = ROOT / name
        if from_.is_dir():
            shutil.copytree(from_, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(from_, src / name)
    run(sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation",
        "--no-index", "-q", "-w", tmp_path / "dist", cwd=tmp_path)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("journaldesk-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=tmp_path).strip())  # fmt: skip
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "-q", wheel, cwd=tmp_path)  # fmt: skip

    env = {"PATH": os.defpath, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    where = run(python, "-c", "import journaldesk; print(journaldesk.__file__)",
                cwd=tmp_path, env=env)  # fmt: skip
    assert Path(where.strip()).is_relative_to(site), "journaldesk came from outside the wheel"

    empty = tmp_path / "school"
    empty.mkdir()
    out = run(bindir / "journaldesk", "demo", cwd=empty, env=env)
    assert (empty / "demo" / "journaldesk.xlsx").stat().st_size > 10_000
    assert (empty / "demo" / "settings.yaml").exists()
    assert "обращ" in out.lower()
