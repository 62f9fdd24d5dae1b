"""The one user-frame finder: graph loading and runs name the same line of the user's code."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import pytest

from gitassist.tracebacks import user_frame

if TYPE_CHECKING:
    from pathlib import Path


def _load(path: Path, name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_names_the_users_line_not_a_package_installed_inside_the_project(tmp_path: Path) -> None:
    lib = tmp_path / ".venv" / "lib" / "site-packages" / "helper.py"
    lib.parent.mkdir(parents=True)
    lib.write_text("def explode():\n    raise ValueError('boom')\n")
    user = tmp_path / "agent.py"
    user.write_text("def node(explode):\n    explode()  # the user's line\n")
    helper, graph = _load(lib, "ga_helper"), _load(user, "ga_agent")
    with pytest.raises(ValueError) as caught:
        graph.node(helper.explode)  # type: ignore[attr-defined]
    frame = user_frame(caught.value, [tmp_path], fallback=False)
    assert frame == (str(user), 2, "explode()  # the user's line")


def test_fallback_only_when_asked(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("def f():\n    raise KeyError('x')\n")
    module = _load(elsewhere, "ga_elsewhere")
    with pytest.raises(KeyError) as caught:
        module.f()  # type: ignore[attr-defined]
    project = tmp_path / "project"
    project.mkdir()
    assert user_frame(caught.value, [project], fallback=False) is None
    assert user_frame(caught.value, [project]) == (str(elsewhere), 2, "raise KeyError('x')")


def test_a_syntax_error_names_its_own_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\ny = (\n")
    with pytest.raises(SyntaxError) as caught:
        _load(bad, "ga_bad")
    frame = user_frame(caught.value, [tmp_path])
    assert frame is not None and frame[0] == str(bad)
