"""The user errors that used to end in exit 70 (issue "Nothing lost and no internal errors",
the list "User errors that end in exit 70 today"), as one table: each row is a repository
state, the command line, the exit code, the error class and the shape of the message. Every
row also checks that nothing was printed as an internal error and, for a failure, that refs,
reflogs, index entries and work-tree bytes are as they were."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from gitassist.errors import ExitCode
from tests.conftest import doc_yaml
from tests.strategies import assert_not_a_bug, invoke_main, repo_state, state_diff
from tests.test_remote import ASSISTANT, FORGERIES

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.conftest import Repo

BIG = "9" * 5000
BASE_DOC = doc_yaml(ASSISTANT, name="Bot")


@dataclass(frozen=True)
class Row:
    """``state``: ``"bot"`` (Bot applied, versions 1 and 2), ``"doc"`` (``document`` committed
    as assistants/bot.yaml, nothing applied) or a key of tests/test_remote.py's FORGERIES
    (planted with plain git on the "bot" state). ``args`` get ``-C REPO`` (``--repo`` for
    run). ``error`` is the JSON error code (``--json``), ``"usage"`` for click's own usage
    errors, ``"problem:CODE"`` for a validate problem (with a line and a column), None for
    success. ``message`` is a regular expression the first error line matches."""

    id: str
    args: tuple[str, ...]
    code: int
    error: str | None
    message: str
    state: str = "bot"
    document: bytes = b""


def doc_with(extra: str | bytes) -> bytes:
    tail = extra.encode() if isinstance(extra, str) else extra
    return BASE_DOC.encode() + tail


def doc_row(id: str, extra: str | bytes, message: str) -> Row:
    return Row(
        id,
        ("validate", "--json"),
        ExitCode.INVALID,
        "problem:",
        message,
        state="doc",
        document=doc_with(extra),
    )


SET = ("update", "Bot", "--set")
ROWS = [
    # numbers and dates
    doc_row("5000-digit-integer-in-a-document", f"metadata:\n  n: {BIG}\n", r"integer .*digits"),
    Row("5000-digit-integer-in-set", (*SET, f"n={BIG}"), 2, "usage", r"--set"),
    doc_row("date-2024-13-45", "metadata:\n  d: 2024-13-45\n", r"not a valid date"),
    doc_row("date-2024-02-30-25:61:61", "metadata:\n  d: 2024-02-30 25:61:61\n", "not a valid"),
    Row("date-in-set", (*SET, "system_prompt=2024-13-45"), 2, "usage", r"date"),
    # versions in non-ASCII digits
    Row("Bot@superscript-2", ("get", "Bot@²"), 4, "not_found", r"positive number"),
    Row("Bot@arabic-indic-1", ("get", "Bot@١"), 4, "not_found", r"positive number"),
    Row("show-Bot@arabic-indic-1", ("show", "Bot@١"), 4, "not_found", r"positive number"),
    # a name too long for a file name: a bounded file name, exit 0
    Row(
        "300-character-name",
        ("create", "agent", "--name", "N" * 300, "--set", "model_name=echo"),
        0,
        None,
        r"created N+",
    ),
    # run --input that is not an object
    Row("run-input-null", ("run", "Bot", "--input", "null"), 2, "usage", r"JSON object"),
    # strict types, strict documents
    doc_row(
        "recursion_limit-true", "config:\n  recursion_limit: true\n", r"recursion_limit.*integer"
    ),
    doc_row("invalid-utf8", b"description: caf\xe9\n", r"invalid UTF-8 at byte \d+"),
    doc_row("integer-key", "metadata:\n  1: a\n", r"keys must be strings"),
    doc_row("binary-tag", "metadata:\n  b: !!binary aGk=\n", r"!!binary"),
    doc_row("inf", "metadata:\n  b: .inf\n", r"\.inf is not a JSON number"),
    doc_row("nan", "metadata:\n  b: .nan\n", r"\.nan is not a JSON number"),
    doc_row("1e999", "metadata:\n  b: 1e999\n", r"1e999 is not a JSON number"),
    doc_row("complex-key", "metadata:\n  ? [a, b]\n  : 1\n", r"^(?!.*\btag).*keys must be"),
    Row(
        "set-temperature-NaN",
        (*SET, "temperature=NaN"),
        2,
        "usage",
        r"NaN is not a JSON number",
    ),
    Row(
        "create-metadata-1e999",
        ("create", "agent", "--set", "model_name=echo", "--metadata", '{"a": 1e999}'),
        2,
        "usage",
        r"--metadata.*1e999",
    ),
]

# the forged refs of item 3, read by list / get / versions / log (see tests/test_remote.py for
# the same refs arriving by fetch)
_TARGET = {"version-without-document": "@3", "version-999-is-version-2": "@999"}
_FAILING = {
    "not-a-uuid": set(),
    "pointer-without-json": {"get", "versions", "log"},
    "version-abc": {"get", "versions", "log"},
    "version-without-document": {"get", "versions"},
    "version-999-is-version-2": {"get"},
}
for _shape, (_forge, _reason) in FORGERIES.items():
    _skipped = _shape in ("not-a-uuid", "pointer-without-json", "version-abc")
    _listed = r"skipped '?refs/assistants/" if _skipped else r"Bot"
    ROWS.append(Row(f"{_shape}-list", ("list",), 0, None, _listed, state=_shape))
    for _command in ("get", "versions", "log"):
        _target = ASSISTANT + (_TARGET.get(_shape, "") if _command == "get" else "")
        _bad = _command in _FAILING[_shape]
        ROWS.append(
            Row(
                f"{_shape}-{_command}",
                (_command, _target),
                ExitCode.REPOSITORY if _bad else 0,
                "bad_ref" if _bad else None,
                rf"^refs/assistants/\S+: .*{re.escape(_reason)}" if _bad else "",
                state=_shape,
            )
        )


def _param(row: Row) -> Any:
    return pytest.param(row, id=row.id)


@pytest.fixture
def states(make_repo: Callable[..., Repo]) -> Callable[[Row], Path]:
    def build(row: Row) -> Path:
        if row.state == "doc":
            repo = make_repo()
            (repo.path / "assistants").mkdir()
            (repo.path / "assistants/bot.yaml").write_bytes(row.document)
            repo.git("add", "-A")
            repo.git("commit", "-q", "-m", "document")
            return repo.path
        repo = make_repo({"assistants/bot.yaml": BASE_DOC})
        assert invoke_main("apply", "-C", str(repo.path)).code == 0
        repo.commit({"assistants/bot.yaml": doc_yaml(ASSISTANT, context={"model_name": "openai"})})
        assert invoke_main("apply", "-C", str(repo.path)).code == 0
        if row.state != "bot":
            FORGERIES[row.state][0](repo.path)
        return repo.path

    return build


def _first_error(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("error: ", "Error: "))]
    return (errors or lines or [""])[0].removeprefix("error: ").removeprefix("Error: ")


@pytest.mark.parametrize("row", [_param(row) for row in ROWS])
def test_exit70_table(row: Row, states: Callable[[Row], Path]) -> None:
    path = states(row)
    repo_opt = "--repo" if row.args[0] == "run" else "-C"
    args = [*row.args, repo_opt, str(path)]
    before = repo_state(path)
    outcome = invoke_main(*args)
    assert_not_a_bug(outcome)
    assert outcome.code == row.code, outcome.explain()
    if outcome.code not in (0, 1):
        after = repo_state(path)
        assert after == before, state_diff(before, after)

    if row.error is None:
        assert re.search(row.message, outcome.output), outcome.explain()
        return
    if row.error == "usage":  # click's own: "Error: Invalid value for --x: ..."
        assert re.search(row.message, _first_error(outcome.stderr)), outcome.explain()
        assert "Usage:" in outcome.stderr
        return
    if row.error.startswith("problem:"):  # validate --json: one problem with line:column
        data = json.loads(outcome.stdout)
        [problem] = data["problems"]
        assert problem["file"] == "assistants/bot.yaml"
        assert isinstance(problem["line"], int) and isinstance(problem["column"], int), problem
        assert re.search(row.message, problem["message"]), problem
        # the human form: one line, file:line:col first
        human = invoke_main("validate", "-C", str(path))
        first = _first_error(human.output)
        where = f"assistants/bot.yaml:{problem['line']}:{problem['column']}: error: "
        assert first.startswith(where), human.explain()
        return
    # a GitassistError: one error line (and a hint), and the same as JSON with its code
    lines = [line for line in outcome.stderr.splitlines() if not line.startswith("hint: ")]
    assert len(lines) == 1, outcome.explain()
    assert re.search(row.message, _first_error(outcome.stderr)), outcome.explain()
    as_json = invoke_main(*args, "--json")
    assert as_json.code == row.code
    data = json.loads(as_json.stderr)
    assert data["error"] == row.error, data
    assert re.search(row.message, data["message"]) or re.search(
        row.message, f"{data.get('file', '')}: {data['message']}"
    ), data
