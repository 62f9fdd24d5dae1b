"""Hostile review of the in-place splice of an update (gitassist/splice.py): the file after
``update`` parses to exactly the intended document and every other byte is kept."""

from __future__ import annotations

from typing import Any

import pytest

A = "0c6f1c55-0d5a-4f5e-9a55-6e4d0b7b3c11"


def _update(make_repo: Any, text: str, **change: Any) -> tuple[str, dict[str, Any]]:
    from gitassist.apply import apply

    repo = make_repo({"assistants/bot.yaml": text})
    apply(repo.store())
    result = repo.client().assistants.update(A, **change)
    return (repo.path / "assistants/bot.yaml").read_bytes().decode("utf-8"), result


DOC = f"assistant_id: {A}\ngraph_id: agent\nname: Bot  # the name\ncontext:\n  model_name: echo\n"


P = "  system_prompt: x  # p\n"


def _ctx(prompt: str) -> dict[str, Any]:
    return {"context": {"model_name": "echo", "system_prompt": prompt}}


@pytest.mark.parametrize(
    ("text", "change", "old", "new"),
    [
        ("\ufeff" + DOC, {"name": "Other"}, "Bot", "Other"),  # a UTF-8 byte-order mark
        ("\ufeff" + DOC.replace("\n", "\r\n"), {"name": "Other"}, "Bot", "Other"),
        (DOC.replace("\n", "\r\n"), {"name": "Other"}, "Bot", "Other"),
        (DOC.replace("name: Bot", "name:\tBot"), {"name": "Other"}, "Bot", "Other"),
        (DOC.replace("echo", "echo   "), {"context": {"model_name": "openai"}}, "echo", "openai"),
        ("---\n" + DOC + "...\n", {"name": "Other"}, "Bot", "Other"),
        (DOC.replace("name: Bot", '"name": Bot'), {"name": "X"}, "Bot", "X"),
        (DOC + "metadata:\n  name: Bot\n", {"metadata": {"name": "X"}}, "name: Bot\n", "name: X\n"),
        (
            DOC + "metadata: {n: 1, s: '1'}\n",
            {"metadata": {"n": "1", "s": 1}},
            "1, s: '1'",
            '"1", s: 1',
        ),
        (DOC + "  system_prompt: 'it''s'  # q\n", _ctx("a: b #c"), "'it''s'", "'a: b #c'"),
        (DOC + '  system_prompt: "x\\ty"\n', _ctx("z"), '"x\\ty"', '"z"'),
        *(
            (DOC + P, _ctx(v), ": x ", f": {q} ")
            for v, q in [
                ("yes", '"yes"'),
                ("", '""'),
                (" x", '" x"'),
                ("x ", '"x "'),
                ("0o17", '"0o17"'),
                ("null", '"null"'),
                ("1e3", '"1e3"'),
                ("-x", '"-x"'),
                ("#", '"#"'),
                (":", '":"'),
                ("😀 é", '"😀 é"'),
                ("x", "x"),
            ]
        ),
    ],
)
def test_a_scalar_update_changes_only_that_scalar(make_repo, text, change, old, new):
    out, result = _update(make_repo, text, **change)
    assert out == text.replace(old, new, 1)
    for key, value in change.items():
        assert result[key] == value
