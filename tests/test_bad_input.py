"""Bad input gets a clear error, a documented exit code, and changes nothing."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import uuid

import pytest

from gitassist import assistants as ops
from gitassist.errors import (
    DocumentError,
    ExitCode,
    NotFound,
    RepositoryError,
    ValidationFailed,
)
from tests.conftest import doc_yaml


def snapshot(repo) -> tuple:
    return (repo.refs(), repo.git("status", "--porcelain"), repo.git("rev-parse", "HEAD"))


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("assistant_id: [1\n", "invalid YAML", 2, 1),
        ("- a\n- b\n", "must be a mapping", 1, 1),
        ("name: a\nname: b\n", "duplicate key", 2, 1),
        ("name: !!python/object:os.system x\n", "YAML tags are not allowed", 1, 7),
        ("assistant_id: not-a-uuid\ngraph_id: agent\n", "must be a UUID", 1, 1),
        (f"assistant_id: {uuid.uuid4()}\ngraph_id: agent\nextra: 1\n", "unknown field", 3, 1),
    ],
)
def test_bad_documents_point_at_file_line_column(text, message, line, column):
    from gitassist.documents import parse_document

    with pytest.raises(DocumentError) as info:
        parse_document(text, "assistants/x.yaml")
    err = info.value
    assert message in err.message
    assert err.location is not None and err.location.path == "assistants/x.yaml"
    assert (err.location.line, err.location.column) == (line, column)


def test_bad_file_blocks_apply_and_changes_nothing(make_repo, run_cli):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(aid)})
    run_cli("apply", "-C", str(repo.path))
    repo.commit({"assistants/a.yaml": "assistant_id: " + aid + "\ngraph_id: [oops\n"}, "break")
    before = snapshot(repo)
    proc = run_cli("apply", "-C", str(repo.path))
    assert proc.returncode == ExitCode.INVALID
    assert "assistants/a.yaml:3:1" in proc.stdout + proc.stderr or "a.yaml" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert snapshot(repo) == before


def test_two_files_with_the_same_id(make_repo):
    aid = str(uuid.uuid4())
    repo = make_repo(
        {"assistants/a.yaml": doc_yaml(aid, "A"), "assistants/b.yaml": doc_yaml(aid, "B")}
    )
    before = snapshot(repo)
    from gitassist.apply import apply

    with pytest.raises(ValidationFailed) as info:
        apply(repo.store())
    assert any("a.yaml" in p.message or "a.yaml" in p.file for p in info.value.issues)
    assert snapshot(repo) == before


def test_unknown_graph_id_on_create_and_in_files(make_repo):
    repo = make_repo()
    before = snapshot(repo)
    with pytest.raises(NotFound, match="unknown graph_id 'nope'"):
        ops.create(repo.store(), "nope", context={})
    assert snapshot(repo) == before
    repo.commit({"assistants/a.yaml": doc_yaml(str(uuid.uuid4()), graph_id="agnet")})
    before = snapshot(repo)
    from gitassist.apply import apply

    with pytest.raises(ValidationFailed) as info:
        apply(repo.store())
    assert "did you mean `agent`" in " ".join(p.message for p in info.value.issues)
    assert snapshot(repo) == before


def test_invalid_context_refused_on_create_and_update(make_repo):
    repo = make_repo()
    client = repo.client()
    before = snapshot(repo)
    with pytest.raises(ValidationFailed):
        client.assistants.create("agent", context={"model_name": 3}, name="X")
    with pytest.raises(ValidationFailed):
        client.assistants.create("agent", context={"modle_name": "echo"}, name="X")
    assert snapshot(repo) == before
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="X")[
        "assistant_id"
    ]
    before = snapshot(repo)
    with pytest.raises(ValidationFailed):
        client.assistants.update(aid, context={"model_name": "gpt-99"})
    assert snapshot(repo) == before


def test_set_latest_to_missing_version_and_unknown_assistant(make_repo):
    repo = make_repo()
    client = repo.client()
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="X")[
        "assistant_id"
    ]
    before = snapshot(repo)
    with pytest.raises(NotFound, match=r"has no version 7: it has versions 1\.\.1"):
        client.assistants.set_latest(aid, 7)
    with pytest.raises(NotFound, match="no assistant"):
        client.assistants.get("nobody")
    with pytest.raises(NotFound):
        client.assistants.set_latest(str(uuid.uuid4()), 1)
    assert snapshot(repo) == before


def test_not_a_git_repository(tmp_path, run_cli):
    proc = run_cli("list", "-C", str(tmp_path))
    assert proc.returncode == ExitCode.REPOSITORY
    assert "is not in a git repository" in proc.stderr
    assert "gitassist init" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_uncommitted_edits_are_never_committed(make_repo):
    repo = make_repo()
    client = repo.client()
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="X")[
        "assistant_id"
    ]
    # the user's unrelated work, staged and unstaged
    repo.write({"notes.txt": "mine", "graph.py": (repo.path / "graph.py").read_text() + "# wip\n"})
    repo.git("add", "notes.txt")
    client.assistants.update(aid, context={"model_name": "openai"})
    changed = repo.git("show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["assistants/x.yaml"]
    assert repo.git("diff", "--cached", "--name-only") == "notes.txt"
    assert repo.git("diff", "--name-only") == "graph.py"
    # an edit to the file itself: refuse
    path = repo.path / "assistants/x.yaml"
    path.write_text(path.read_text() + "# my edit\n")
    before = snapshot(repo)
    with pytest.raises(RepositoryError, match="uncommitted changes"):
        client.assistants.update(aid, context={"model_name": "anthropic"})
    assert snapshot(repo) == before
    assert path.read_text().endswith("# my edit\n")


def test_detached_head(make_repo):
    repo = make_repo()
    repo.git("checkout", "-q", "--detach")
    before = snapshot(repo)
    with pytest.raises(RepositoryError, match="detached"):
        repo.client().assistants.create("agent", context={"model_name": "echo"})
    assert snapshot(repo) == before


SET_LATEST = """
import sys
from gitassist import assistants as ops
from gitassist.errors import Conflict
from gitassist.store import Store
store = Store(sys.argv[1])
write_refs = store.refdb.update


def when_both_have_read(*args, **kwargs):
    # set_latest has read the active version and built its compare-and-swap: wait until the
    # other process has too, then write
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    sys.stdin.readline()
    return write_refs(*args, **kwargs)


store.refdb.update = when_both_have_read
try:
    ops.set_latest(store, sys.argv[2], int(sys.argv[3]), reason="race")
    print("won")
except Conflict as exc:
    print("lost:", exc)
"""


def test_concurrent_set_latest_one_wins(make_repo, tmp_path):
    repo = make_repo()
    client = repo.client()
    aid = client.assistants.create("agent", context={"model_name": "echo"}, name="X")[
        "assistant_id"
    ]
    for p in ("a", "b"):
        client.assistants.update(aid, context={"model_name": "echo", "system_prompt": p})
    script = tmp_path / "race.py"
    script.write_text(SET_LATEST)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(repo.path), aid, str(v)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for v in (1, 2)
    ]
    for p in procs:
        assert p.stdout is not None
        waited, _, _ = select.select([p.stdout], [], [], 60)  # a hang guard only
        assert waited, "set_latest never reached its ref write"
        assert p.stdout.readline() == "ready\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert sorted(o.split()[0] for o in outputs) == ["lost:", "won"]
    assert "moved since it was read" in "".join(outputs)
    # refs and reflog agree: exactly one move after the three writes
    log = (repo.path / ".git/logs/refs/assistants" / aid / "latest").read_text().splitlines()
    assert len(log) == 4
    assert log[-1].split()[0] == log[-2].split()[1]
    assert repo.git("rev-parse", f"refs/assistants/{aid}/latest") == log[-1].split()[1]
    assert repo.git("fsck", "--no-dangling") == ""


def test_cli_errors_are_one_line_with_hint_and_json(make_repo, run_cli):
    repo = make_repo()
    proc = run_cli("get", "ghost", "-C", str(repo.path))
    assert proc.returncode == ExitCode.NOT_FOUND
    assert proc.stderr.splitlines()[0] == "error: no assistant 'ghost'"
    assert proc.stderr.splitlines()[1].startswith("hint: ")
    proc = run_cli("get", "ghost", "-C", str(repo.path), "--json")
    assert json.loads(proc.stderr)["error"] == "not_found"


def test_missing_langgraph_json_is_reported(tmp_path, run_cli):
    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
    (tmp_path / "r" / "langgraph.json").write_text("{ nope")
    proc = run_cli("list", "-C", str(tmp_path / "r"))
    assert proc.returncode == ExitCode.INVALID
    assert "langgraph.json" in proc.stderr and "Traceback" not in proc.stderr


def test_unapplied_invalid_history_does_not_block_an_unrelated_write(make_repo):
    """Issue 11 item 8: the invalid document is a warning for a write, an error for apply."""
    from gitassist.apply import apply
    from gitassist.store import Store

    repo = make_repo()
    client = repo.client()
    client.assistants.create("agent", context={"model_name": "echo"}, name="A")
    text = (
        (repo.path / "assistants/a.yaml").read_text().replace("graph_id: agent", "graph_id: nosuch")
    )
    repo.commit({"assistants/a.yaml": text}, "break a")
    store = Store(repo.path)
    from gitassist.assistants import create

    create(store, "agent", context={"model_name": "echo"}, name="Fresh")
    assert (repo.path / "assistants/fresh.yaml").exists()
    assert any("assistants/a.yaml" in w and "nosuch" in w for w in store.warnings)
    before = snapshot(repo)
    with pytest.raises(ValidationFailed):
        apply(Store(repo.path))
    assert snapshot(repo) == before


def test_writes_validate_against_committed_schemas_not_local_edits(make_repo):
    repo = make_repo()
    schema = repo.path / "schemas/agent.context.json"
    schema.write_text(schema.read_text().replace('"anthropic"', '"anthropic", "gpt9"'))
    before = snapshot(repo)
    with pytest.raises(ValidationFailed):
        repo.client().assistants.create("agent", context={"model_name": "gpt9"}, name="G")
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["create", "agent", "--id", "not-a-uuid", "--set", "model_name=echo"], 3),
        (["create", "agent", "--config", '{"recursion_limit": 0}', "--set", "model_name=echo"], 3),
        (["create", "agent", "--config", '{"tags": "x"}', "--set", "model_name=echo"], 3),
        (["create", "agent", "--set", "a=1", "--set", "a.b=2"], 2),
        (["set-latest", "agent", "0"], 2),
    ],
)
def test_bad_cli_values_are_clear_errors(make_repo, run_cli, args, code):
    repo = make_repo()
    before = snapshot(repo)
    proc = run_cli(*args, "-C", str(repo.path))
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert snapshot(repo) == before


def test_run_input_must_be_a_mapping_and_nothing_runs(make_repo, run_cli):
    repo = make_repo()
    for bad in ("not json [", "[1, 2]", "hello"):
        proc = run_cli(
            "run",
            "agent",
            "--context",
            '{"model_name": "echo"}',
            "--input",
            bad,
            "-C",
            str(repo.path),
        )
        assert proc.returncode == ExitCode.USAGE, proc.stderr
        assert "run " not in proc.stdout  # no run header: nothing started


def test_json_errors_with_format_json_spelled_apart(make_repo, run_cli):
    repo = make_repo()
    proc = run_cli("diff", "nosuch", "--format", "json", "-C", str(repo.path))
    assert proc.returncode == ExitCode.NOT_FOUND
    assert json.loads(proc.stderr)["error"] == "not_found"
