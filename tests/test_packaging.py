"""The distribution is ours (langgraph-gitassist), its version has one source, and nothing we
write tells anyone to install the unrelated `gitassist` from the package index."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib

from tests.conftest import ROOT

# `pip install ... gitassist` / `gitassist[server]`: the bare name as an argument of an install
BARE = re.compile(
    r"(?:pip|pipx|uv)\s+(?:install|add)\b"  # an install command...
    r"[^\n#;&|]*?"  # ...up to a comment or the next command on the line...
    r"(?<![\w./@:+-])['\"]?gitassist(?:\[[^\]]*\])?['\"]?(?![\w./-])"  # ...naming gitassist
)


def bare_installs(text: str) -> list[str]:
    return [m.group(0) for m in BARE.finditer(text)]


def text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [p for p in listed if (ROOT / p).is_file()]


def test_nothing_installs_the_bare_gitassist_name():
    found = []
    for rel in text_files():
        if rel == "tests/test_packaging.py":
            continue  # the examples below
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not a text file
        found += [f"{rel}: {hit}" for hit in bare_installs(text)]
    assert found == []


def test_the_check_can_fail():
    assert bare_installs("run: pip install gitassist")
    assert bare_installs("pip install 'gitassist[server]'")
    assert bare_installs("python -m pip install -U gitassist langgraph")
    assert not bare_installs("pip install langgraph-gitassist")
    assert not bare_installs("pip install 'langgraph-gitassist[server]'")
    assert not bare_installs("pip install -e .  # installs gitassist")
    assert not bare_installs("pip uninstall --yes gitassist")


def test_distribution_name_and_one_version():
    from gitassist import _version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "langgraph-gitassist"
    assert "version" not in project and "version" in project["dynamic"]
    assert importlib.metadata.version("langgraph-gitassist") == _version.__version__
    proc = subprocess.run(
        [sys.executable, "-m", "gitassist", "--version"], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == f"gitassist, version {_version.__version__}"
