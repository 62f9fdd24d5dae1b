"""Hostile review of the in-place splice of an update (gitassist/splice.py): the file after
``update`` parses to exactly the intended document and every other byte is kept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


_WORD = st.text(st.sampled_from("abcxyz é😀:#-' \"\\\t"), max_size=6)
_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    _WORD,
    st.sampled_from(["yes", "null", "1e3", "0o17", "", " x", "x ", "~", "-", "a: b", "a #b"]),
)
_STYLE = st.sampled_from(["plain", "single", "double", "flow"])


def _scalar_text(value: Any, style: str) -> str:
    import json

    if style == "single" and isinstance(value, str) and "\t" not in value:
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_VALUE, _VALUE, _STYLE), min_size=1, max_size=4),
    st.booleans(),
    st.booleans(),
)
def test_a_splice_changes_only_the_changed_scalars_bytes(items, bom, crlf):
    """With a byte-order mark, CRLF line ends, comments after values, a key's name in a
    comment and in another value, flow and block mappings: the result reads back as the new
    data, and what lies outside the changed scalars is the same text, byte for byte."""
    from gitassist import yaml12
    from gitassist.splice import splice

    lines = ["# k0: a comment naming a key", "assistant_id: k0"]
    for i, (old, _, style) in enumerate(items):
        text = _scalar_text(old, style)
        if style == "flow":
            lines.append(f"f{i}: {{k{i}: {text}, other: k{i}}}  # flow")
        else:
            lines.append(f"k{i}: {text}   # c{i}")
    eol = "\r\n" if crlf else "\n"
    text = ("\ufeff" if bom else "") + eol.join(lines) + eol
    old = yaml12.load(text)
    new = json.loads(json.dumps(old))
    for i, (_, value, style) in enumerate(items):
        if style == "flow":
            new[f"f{i}"][f"k{i}"] = value
        else:
            new[f"k{i}"] = value
    out = splice(text, old, new)
    if out is None:
        return  # the round trip's job
    assert json.dumps(yaml12.load(out), sort_keys=True) == json.dumps(new, sort_keys=True)
    assert out.startswith("\ufeff") == bom
    # outside the scalars: the same lines, and on each changed line the same key and comment
    before, after = text.split(eol), out.split(eol)
    assert len(before) == len(after)
    for a, b in zip(before, after, strict=True):
        if a != b:
            assert a.split(":", 1)[0] == b.split(":", 1)[0]
            assert a.rsplit("  #", 1)[-1] == b.rsplit("  #", 1)[-1]


@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_an_update_the_splice_cannot_do_keeps_the_files_bom_and_line_ends(make_repo, bom, eol):
    """A key added goes through ruamel's round trip, which read a CRLF file's line ends away
    (and kept a CR where a comment ended) and dropped the byte-order mark."""
    text = bom + DOC.replace("\n", eol)
    out, result = _update(make_repo, text, context={"model_name": "echo", "system_prompt": "x"})
    assert result["context"] == {"model_name": "echo", "system_prompt": "x"}
    assert out == text + f"  system_prompt: x{eol}"


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (["system_prompt='a: b'"], {"system_prompt": "a: b"}),
        (["system_prompt='#x'"], {"system_prompt": "#x"}),
        (["system_prompt='yes'"], {"system_prompt": "yes"}),
        (["system_prompt='1e3'"], {"system_prompt": "1e3"}),
        (["system_prompt= x"], {"system_prompt": "x"}),
        (["system_prompt=x", "model_name=openai"], {"system_prompt": "x", "model_name": "openai"}),
        (["system_prompt=yes"], {"system_prompt": "yes"}),  # YAML 1.2: a string
        (["system_prompt=true"], None),  # a boolean: the schema wants a string (exit 3)
        (["system_prompt=1e3"], None),
        (["system_prompt=a: b"], None),  # a mapping
    ],
)
def test_update_set_from_the_cli_on_a_crlf_file_with_a_bom(
    make_repo, cli, monkeypatch, sets, expected
):
    from gitassist import yaml12
    from gitassist.apply import apply

    text = "\ufeff" + (DOC + "  system_prompt: old  # p\n").replace("\n", "\r\n")
    repo = make_repo({"assistants/bot.yaml": text})
    apply(repo.store())
    monkeypatch.chdir(repo.path)
    args = [a for s in sets for a in ("--set", s)]
    result = cli("update", A, *args, code=None)
    if expected is None:
        assert result.exit_code == 3, result.output
        assert (repo.path / "assistants/bot.yaml").read_bytes().decode() == text
        return
    data = yaml12.load((repo.path / "assistants/bot.yaml").read_bytes().decode()[1:])
    assert result.exit_code == 0, result.output
    raw = (repo.path / "assistants/bot.yaml").read_bytes().decode()
    assert raw.startswith("\ufeff") and raw.count("\r\n") == raw.count("\n") == 6
    assert "# the name" in raw and "# p" in raw
    assert {k: data["context"][k] for k in expected} == expected
