"""One rule for configuration, one home for committed schemas, one langgraph.json parser.

Commands on commits read that commit's own langgraph.json, gitassist.yaml and schemas; a
malformed committed schema is a user error (exit 3) naming the file in every command.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import doc_yaml

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.conftest import Repo

SCHEMA = "schemas/agent.context.json"
BROKEN = '{"type": "object", "properties": {'  # not JSON


def _one_line_error(proc: Any) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines, proc.stderr
    assert "bug in gitassist" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.fixture
def broken_schema(make_repo: Callable[..., Repo]) -> tuple[Repo, str]:
    """A repository with one recorded assistant, then a malformed committed schema."""
    repo = make_repo()
    created = repo.client().assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    repo.commit({SCHEMA: BROKEN}, "break the schema")
    return repo, created["assistant_id"]


@pytest.mark.parametrize(
    "args",
    [
        ("validate",),
        ("validate", "--rev", "HEAD"),
        ("apply",),
        ("update", "Bot", "--set", "system_prompt=hi"),
        ("run", "Bot", "--input", '{"question": "q"}'),
    ],
    ids=lambda a: "-".join(a[:2]),
)
def test_a_malformed_committed_schema_is_exit_3_naming_the_file(
    broken_schema: tuple[Repo, str], run_cli: Any, args: tuple[str, ...]
) -> None:
    repo, _ = broken_schema
    before = repo.refs()
    proc = run_cli(*args, "--repo", str(repo.path))
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr)
    if args[0] != "validate":  # validate reports problems (one per file) on stdout
        line = _one_line_error(proc)
        assert SCHEMA in line, line
    else:
        assert SCHEMA in proc.stdout + proc.stderr
    assert repo.refs() == before
    assert repo.git("status", "--porcelain") == ""


def test_apply_reads_the_committed_gitassist_yaml_not_an_untracked_one(
    make_repo: Callable[..., Repo], run_cli: Any
) -> None:
    """An untracked gitassist.yaml allowing unknown context keys must not let apply record
    a document that `validate --rev HEAD` (the commit's own configuration) rejects."""
    repo = make_repo()
    assistant_id = str(uuid.uuid4())
    repo.commit(
        {"assistants/bot.yaml": doc_yaml(assistant_id, context={"model_name": "echo", "nope": 1})}
    )
    (repo.path / "gitassist.yaml").write_text("unknown_context_keys: allow\n", encoding="utf-8")
    checked = run_cli("validate", "--rev", "HEAD", "--repo", str(repo.path))
    assert checked.returncode == 3, checked.stdout + checked.stderr
    here = run_cli("validate", "--repo", str(repo.path))  # the working tree's own rule
    assert here.returncode == 0, here.stdout + here.stderr
    before = repo.refs()
    applied = run_cli("apply", "--repo", str(repo.path))
    assert applied.returncode == 3, applied.stdout + applied.stderr
    assert "nope" in applied.stdout + applied.stderr
    assert repo.refs() == before


def test_a_committed_gitassist_yaml_applies_to_that_commit(
    make_repo: Callable[..., Repo], run_cli: Any
) -> None:
    """The same option, committed, is that commit's rule: apply records and validate agrees."""
    repo = make_repo()
    assistant_id = str(uuid.uuid4())
    repo.commit(
        {
            "gitassist.yaml": "unknown_context_keys: allow\n",
            "assistants/bot.yaml": doc_yaml(
                assistant_id, context={"model_name": "echo", "nope": 1}
            ),
        }
    )
    assert run_cli("validate", "--rev", "HEAD", "--repo", str(repo.path)).returncode == 0
    applied = run_cli("apply", "--repo", str(repo.path))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"refs/assistants/{assistant_id}/latest" in repo.refs()


# --------------------------------------------------------------------------- langgraph.json


@pytest.mark.parametrize("deps", ["./src", 7, [".", 3], {"a": "."}])
def test_dependencies_not_a_list_of_strings_is_one_config_error(deps: Any) -> None:
    from gitassist.errors import ConfigError
    from gitassist.project import load_project

    text = json.dumps({"dependencies": deps, "graphs": {"agent": "./graph.py:graph"}})
    with pytest.raises(ConfigError, match="dependencies"):
        load_project(text, None)


def test_dependencies_string_fails_every_command_alike(
    make_repo: Callable[..., Repo], run_cli: Any
) -> None:
    repo = make_repo(
        {
            "langgraph.json": json.dumps(
                {"dependencies": "./src", "graphs": {"agent": "./graph.py:graph"}}
            )
        }
    )
    for args in (("validate",), ("run", "agent", "--input", '{"question": "q"}'), ("list",)):
        proc = run_cli(*args, "--repo", str(repo.path))
        assert proc.returncode == 3, (args, proc.stdout, proc.stderr)
        assert "dependencies" in _one_line_error(proc)


# --------------------------------------------------------------------------- one update


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count name resolutions and latest-pointer reads (outside the planner's own walk)."""
    import gitassist.assistants as writes
    import gitassist.naming as names
    import gitassist.resolve as reads
    import gitassist.write_commit as commits
    from gitassist import versions

    counts = {"find_id": 0, "read_latest": 0}
    real_find, real_latest = names.find_id, versions.read_latest

    def find_id(*args: Any, **kwargs: Any) -> Any:
        counts["find_id"] += 1
        return real_find(*args, **kwargs)

    def read_latest(*args: Any, **kwargs: Any) -> Any:
        counts["read_latest"] += 1
        return real_latest(*args, **kwargs)

    monkeypatch.setattr(names, "find_id", find_id)
    for module in (reads, writes, commits, versions):
        monkeypatch.setattr(module, "read_latest", read_latest)
    return counts


def test_one_update_resolves_the_name_once_and_reads_latest_once_before_writing(
    make_repo: Callable[..., Repo], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo()
    repo.client().assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    counts = _count_reads(monkeypatch)
    cli("update", "Bot", "--set", "system_prompt=hi", "--repo", str(repo.path))
    assert counts == {"find_id": 1, "read_latest": 2}  # once before the write, once after
    shown = json.loads(cli("get", "Bot", "--json", "--repo", str(repo.path)).output)
    assert shown["context"] == {"model_name": "echo", "system_prompt": "hi"}
    assert shown["version"] == 2


def test_update_after_a_rollback_starts_from_the_active_version(
    make_repo: Callable[..., Repo], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--set edits the active version's context (the core applies it, not the CLI); setting
    back what the newest version holds moves latest there without a commit."""
    repo = make_repo()
    made = repo.client().assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    c = ("--repo", str(repo.path))
    cli("update", "Bot", "--set", "system_prompt=two", *c)
    cli("set-latest", made["assistant_id"], "1", *c)
    head = repo.git("rev-parse", "HEAD")
    counts = _count_reads(monkeypatch)
    cli("update", "Bot", "--set", "system_prompt=two", *c)
    assert counts["find_id"] == 1
    assert repo.git("rev-parse", "HEAD") == head  # no commit: the newest version already is it
    shown = json.loads(cli("get", "Bot", "--json", *c).output)
    assert shown["version"] == 2


def test_set_on_a_key_that_is_not_a_mapping_is_a_usage_error(
    make_repo: Callable[..., Repo], run_cli: Any
) -> None:
    repo = make_repo()
    repo.client().assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    before = repo.refs()
    proc = run_cli("update", "Bot", "--set", "model_name.x=1", "--repo", str(repo.path))
    assert proc.returncode == 2, proc.stderr
    assert "model_name" in _one_line_error(proc)
    assert repo.refs() == before


# --------------------------------------------------------------------------- properties

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@given(deps=JSON)
@settings(max_examples=100, deadline=None)
def test_dependencies_is_a_list_of_strings_or_one_config_error(deps: Any) -> None:
    from gitassist.errors import ConfigError
    from gitassist.project import load_project

    text = json.dumps({"dependencies": deps, "graphs": {}})
    try:
        project = load_project(text, None)
    except ConfigError as exc:
        assert "dependencies" in exc.message
        assert not (isinstance(deps, list) and all(isinstance(d, str) for d in deps))
    else:
        assert isinstance(deps, list) and project.dependencies == tuple(deps)


KEYS = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3).map(".".join)


@given(base=st.dictionaries(st.sampled_from(["a", "b", "x"]), JSON), key=KEYS, value=JSON)
@settings(max_examples=100, deadline=None)
def test_edit_context_sets_the_dotted_key_or_is_a_usage_error(
    base: dict[str, Any], key: str, value: Any
) -> None:
    from gitassist.edits import edit_context
    from gitassist.errors import UsageError

    before = json.dumps(base, sort_keys=True)
    try:
        edited = edit_context(base, [(key, value)])
    except UsageError:
        return
    finally:
        assert json.dumps(base, sort_keys=True) == before  # the base is never changed
    node: Any = edited
    for part in key.split("."):
        node = node[part]
    assert node == value
    parts = key.split(".")
    node = edit_context(edited, [], [key])
    for part in parts[:-1]:
        node = node[part]
    assert parts[-1] not in node


def test_get_schemas_hands_out_a_copy_of_the_cached_schema(make_repo: Callable[..., Repo]) -> None:
    """Schemas are cached by blob id across calls: a caller changing what it got must not
    change what validation uses next."""
    repo = make_repo()
    client = repo.client()
    made = client.assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    first = client.assistants.get_schemas(made["assistant_id"])["context_schema"]
    first["properties"].clear()
    again = client.assistants.get_schemas(made["assistant_id"])["context_schema"]
    assert again["properties"]
    assert run_validate(repo) == 0


def run_validate(repo: Repo) -> int:
    from gitassist.validation import validate

    return len(validate(repo.store()).errors)
