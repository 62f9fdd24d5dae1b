"""The layering contracts in pyproject.toml hold, and the check really fails on a violation:
a copy of the package with one planted import (inside a function, as this code imports) breaks
exactly the contract it should."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PLANT = "\n\ndef _planted() -> None:\n    import {module}  # noqa\n"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of ROOT/pyproject.toml on the package under ROOT."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "HOME": str(root)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "gitassist", tmp_path / "gitassist", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(root: Path, into: str, module: str) -> None:
    path = root / "gitassist" / into
    path.write_text(path.read_text(encoding="utf-8") + PLANT.format(module=module))


def test_the_contracts_hold() -> None:
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_contracts_are_strict() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    linter = config["importlinter"]
    assert linter["exclude_type_checking_imports"] is True
    for contract in linter["contracts"]:
        assert not contract.get("ignore_imports"), contract["id"]
        assert not contract.get("allow_indirect_imports"), contract["id"]


def test_a_clean_copy_passes(copy: Path) -> None:
    done = lint(copy)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("into", "module", "contract"),
    [
        ("review.py", "gitassist.graphs", "Storage and review never reach graph-loading code"),
        ("store.py", "gitassist.cli.render", "No core module reaches gitassist.cli"),
        ("documents.py", "gitassist.versions", "Documents import no storage"),
        ("plan.py", "gitassist.sync", "Recording knows no server"),
        ("refs.py", "gitassist.assistants", "Storage sits below the lifecycle"),
        ("runner.py", "gitassist.client_base", "No core module reaches the client"),
        (
            "client_assistants.py",
            "gitassist.client_threads",
            "The client's method groups are independent, on shared helpers",
        ),
    ],
)
def test_a_planted_function_local_import_breaks_its_contract(
    copy: Path, into: str, module: str, contract: str
) -> None:
    plant(copy, into, module)
    done = lint(copy)
    assert done.returncode != 0, done.stdout
    assert f"{contract} BROKEN" in done.stdout, done.stdout


def test_an_import_only_for_type_checking_is_allowed(copy: Path) -> None:
    path = copy / "gitassist" / "review.py"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "\n\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import gitassist.graphs\n"
    )
    done = lint(copy)
    assert done.returncode == 0, done.stdout + done.stderr
