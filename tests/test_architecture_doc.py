"""docs/architecture.md draws every module of the package in its layer diagram."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def diagram() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    layers = text.split("## Layers", 1)[1]
    return layers.split("```", 2)[1]


def test_every_module_is_in_the_layer_diagram():
    drawn = diagram()
    missing = []
    for path in sorted((ROOT / "gitassist").rglob("*.py")):
        rel = path.relative_to(ROOT / "gitassist").with_suffix("").as_posix()
        if rel == "cli/__init__":
            continue  # the cli/ package itself heads the diagram
        if not re.search(rf"(?<![\w/]){re.escape(rel)}(?![\w/])", drawn):
            missing.append(rel)
    assert not missing, f"docs/architecture.md's layer diagram does not name: {missing}"
