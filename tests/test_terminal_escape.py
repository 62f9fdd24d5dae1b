"""A pull request's document cannot drive the reviewer's terminal: every human renderer shows
control characters, bidi overrides and newlines in names, descriptions, paths and values as
escapes (gitassist/cli/terminal.py); --json output stays JSON that parses to the exact values."""

from __future__ import annotations

import json
import os
import pty
import subprocess

import pytest

from tests.conftest import GITASSIST, doc_yaml

AID = "6f1c1c3e-0000-4000-8000-0000000000e1"
EVIL = "Bot\x1b[2J\x1b]0;pwned\x07\u202eevil\x9b31m\nerror: forged line\r"
FORGED = "\nerror: forged line"


def _evil_doc(**extra: object) -> str:
    return doc_yaml(AID, name=EVIL, description=EVIL, metadata={"owner": EVIL, EVIL: "k"}, **extra)


def _assert_clean(text: str) -> None:
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    bad += [c for c in text if c in "\u202e\u2066\u200f\u2028"]
    assert not bad, f"raw control characters reach the terminal: {bad!r} in {text!r}"
    assert FORGED not in text, text  # a newline in a value does not forge a line
    assert "\\x1b[2J" in text or "\\u202e" in text or "\\x9b" in text, text


@pytest.fixture
def evil_repo(make_repo, cli):
    repo = make_repo({"assistants/bot.yaml": _evil_doc()})
    cli("apply", "-C", str(repo.path))
    return repo


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("get", AID),
        ("versions", AID),
        ("log", AID),
        ("status",),
        ("set-latest", AID, "1"),
    ],
)
def test_read_commands_escape_what_a_document_holds(evil_repo, cli, args):
    result = cli(*args, "-C", str(evil_repo.path))
    if args[0] in ("list", "get", "set-latest"):
        assert "\\x1b[2J" in result.output
    bad = [c for c in result.output if c in "\x1b\u202e\x9b\x07\r"]
    assert not bad, result.output
    assert FORGED not in result.output


def test_diff_plan_and_update_escape_names_paths_and_values(evil_repo, cli):
    evil_repo.commit(
        {"assistants/bot.yaml": _evil_doc(context={"model_name": "echo", "system_prompt": EVIL})}
    )
    for args in (("diff", "HEAD~1"), ("plan",), ("versions", "diff", AID, "1", "1")):
        _assert_clean(cli(*args, "-C", str(evil_repo.path), code=None).output)
    result = cli("update", AID, "--description", "calm", "-C", str(evil_repo.path))
    _assert_clean(result.output)


def test_validate_and_errors_escape_messages(make_repo, cli):
    repo = make_repo({"assistants/bot.yaml": _evil_doc(context={"model_name": 5, EVIL: 1})})
    result = cli("validate", "-C", str(repo.path), code=3)
    assert "unknown" in result.output or "additional" in result.output.lower(), result.output
    bad = [c for c in result.output if c in "\x1b\u202e\x9b\x07"]
    assert not bad, result.output
    assert FORGED not in result.output
    missing = cli("get", "no-such-" + EVIL, "-C", str(repo.path), code=4)
    assert "\x1b" not in missing.stderr and FORGED not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) <= 2  # error + hint, nothing forged


def test_json_output_keeps_the_exact_values(evil_repo, cli):
    data = json.loads(cli("get", AID, "--json", "-C", str(evil_repo.path)).output)
    assert data["name"] == EVIL
    assert data["metadata"]["owner"] == EVIL
    listed = cli("list", "--json", "-C", str(evil_repo.path)).output
    assert "\u202e" not in listed and "\x9b" not in listed  # written as \u escapes
    assert json.loads(listed)[0]["description"] == EVIL


def _on_a_tty(*args: str, cwd: str) -> str:
    """Run the installed gitassist with stdout on a pseudo-terminal; what it printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(GITASSIST), *args], cwd=cwd, stdout=follower, stderr=follower, env=os.environ
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_show_is_exact_when_redirected_and_escaped_on_a_terminal(tmp_path, make_repo, cli):
    text = doc_yaml(AID) + "description: left\u202eright\n"
    repo = make_repo({"assistants/bot.yaml": text})
    assert cli("show", AID, "-C", str(repo.path)).output == text  # `show X > file` is exact
    shown = _on_a_tty("show", AID, cwd=str(repo.path))
    assert "\u202e" not in shown and "\\u202e" in shown, shown
