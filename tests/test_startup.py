"""Start-up stays cheap: ``import gitassist``, ``gitassist --help`` and ``--version`` load neither
pygit2 nor pydantic, and the CLI imports a command's module only when that command is used."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from typing import Any

import click
import pytest

import gitassist
from gitassist.cli.main import LAZY_COMMANDS, cli
from tests.conftest import ROOT

HEAVY = ("pygit2", "pydantic", "langgraph", "jsonschema", "ruamel")


def loaded_after(code: str) -> list[str]:
    """Top-level modules (and gitassist submodules) a fresh interpreter holds after CODE."""
    script = (
        "import sys, json\n"
        f"{code}\n"
        "print(json.dumps(sorted({m if m.startswith('gitassist') else m.split('.')[0]"
        " for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.splitlines()[-1]))


def run_main(*args: str) -> str:
    return (
        "from gitassist.cli.main import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit as e:\n"
        "    assert e.code in (0, None), e.code\n"
    )


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["-h"]])
def test_help_and_version_load_no_heavy_library(args: list[str]) -> None:
    loaded = loaded_after(run_main(*args))
    assert not [m for m in loaded if m in HEAVY], loaded
    # no command module either: the listing comes from the lazy table
    commands = {f"gitassist.cli.{module}" for module, _ in LAZY_COMMANDS.values()}
    assert not commands & set(loaded)


def test_a_commands_help_loads_only_its_module() -> None:
    loaded = loaded_after(run_main("versions", "--help"))
    commands = {m for m in loaded if m.startswith("gitassist.cli.")}
    assert "gitassist.cli.versions_cmds" in commands
    assert not commands & {
        f"gitassist.cli.{m}" for m in ("lifecycle", "read_cmds", "deploy", "running")
    }
    assert not [m for m in loaded if m in HEAVY]


def test_import_gitassist_is_light() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import gitassist"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    imported = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", done.stderr, re.M)
    assert "gitassist" in imported  # the check reads the real -X importtime output
    assert not [m for m in imported if m.split(".")[0] in HEAVY], imported


def test_public_names_resolve_lazily_to_their_definitions() -> None:
    from gitassist import client, documents, errors, store

    assert gitassist.Store is store.Store
    assert gitassist.get_client is client.get_client
    assert gitassist.RunConfig is documents.RunConfig
    assert gitassist.NotFound is errors.NotFound
    assert gitassist.__version__ == "0.1.0"
    namespace: dict[str, Any] = {}
    exec("from gitassist import *", namespace)
    assert set(gitassist.__all__) <= set(namespace)
    assert set(gitassist.__all__) <= set(dir(gitassist))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = gitassist.nope  # type: ignore[attr-defined]


def test_version_matches_the_package_metadata(cli: Any) -> None:
    assert gitassist.__version__ in cli("--version").output


def test_lazy_table_matches_the_command_modules() -> None:
    """Every command a module lists is in the table, under that module, with the first sentence
    of its own help, so `gitassist --help` shows exactly what the loaded commands would."""
    modules = {module for module, _ in LAZY_COMMANDS.values()}
    for module_name in modules:
        module = importlib.import_module(f"gitassist.cli.{module_name}")
        for command in module.COMMANDS:
            assert command.name in LAZY_COMMANDS, f"{command.name} missing from LAZY_COMMANDS"
            owner, summary = LAZY_COMMANDS[command.name]
            assert owner == module_name, command.name
            stand_in = click.Command(command.name, help=summary)
            for limit in (20, 45, 60, 80, 120, 400):
                assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (
                    command.name,
                    limit,
                )
    for name in LAZY_COMMANDS:
        assert cli.get_command(click.Context(cli), name) is not None, name


def test_versions_diff_is_reached_from_the_top_level(make_repo: Any, cli: Any) -> None:
    from tests.conftest import doc_yaml

    aid = "00000000-0000-4000-8000-0000000000aa"
    repo = make_repo({"assistants/bot.yaml": doc_yaml(aid, context={"model_name": "echo"})})
    cli("apply", "-C", str(repo.path))
    repo.commit({"assistants/bot.yaml": doc_yaml(aid, context={"model_name": "openai"})})
    cli("apply", "-C", str(repo.path))
    data = json.loads(
        cli("versions", "diff", "Bot", "1", "2", "-C", str(repo.path), "--json").stdout
    )
    assert data["from"] == 1 and data["to"] == 2
