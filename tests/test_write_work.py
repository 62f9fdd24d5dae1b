"""The work one write does, counted (issue 13 target 3): the new document parsed once and
validated once, no tree diff for the one path it changed, one journal write for its one ref
transaction, no listing of the assistants directory, the same object reads at 10 assistants
as at 60, and the user's text edited in place (no ruamel round trip) for a scalar change."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import uuid
from typing import Any

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import doc_yaml

CONTEXT = {"model_name": "openai", "system_prompt": "be brief"}


def _bots(make_repo: Any, n: int) -> tuple[Any, list[str]]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    files = {f"assistants/bot{i:03d}.yaml": doc_yaml(a, name=f"Bot {i}") for i, a in enumerate(ids)}
    repo = make_repo(files)
    from gitassist.apply import apply

    apply(repo.store())
    return repo, ids


class Counter:
    """Wrap ``owner.attr`` and count calls (optionally only those ``keep`` accepts)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, attr: str, keep: Any = None):
        self.calls: list[tuple[Any, ...]] = []
        real = getattr(owner, attr)

        def counted(*args: Any, **kwargs: Any) -> Any:
            if keep is None or keep(*args, **kwargs):
                self.calls.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, attr, counted)

    def __len__(self) -> int:
        return len(self.calls)


def test_an_update_parses_and_validates_its_new_document_once(make_repo, monkeypatch):
    import gitassist.document_checks as checks
    from gitassist import documents

    repo, ids = _bots(make_repo, 3)
    client = repo.client()
    client.assistants.get(ids[1])  # the old document is parsed before we count
    parses = Counter(monkeypatch, documents, "load_yaml_data", lambda text, *_: "be brief" in text)
    validations = Counter(monkeypatch, checks, "assistant_problems")
    result = client.assistants.update(ids[1], context=CONTEXT)
    assert result["version"] == 2 and result["context"] == CONTEXT
    assert len(parses) == 1  # main: 3 (check_write, the planner's walk, its validation)
    assert len(validations) == 1  # main: 2


def test_an_update_parses_the_file_it_starts_from_once(make_repo, monkeypatch):
    from gitassist import documents

    repo, ids = _bots(make_repo, 3)
    client = repo.client()
    client.assistants.update(ids[0], context=CONTEXT)  # warm: project, schemas
    old = (repo.path / "assistants/bot001.yaml").read_text()
    parses = Counter(monkeypatch, documents, "load_yaml_data", lambda text, *_: text == old)
    result = client.assistants.update(ids[1], context={"model_name": "openai"})
    assert result["version"] == 2 and result["context"] == {"model_name": "openai"}
    assert len(parses) == 1  # 2 before: the store's parse, then the splice's own
    on_file = (repo.path / "assistants/bot001.yaml").read_text()
    assert on_file == old.replace('"echo"', '"openai"')  # spliced in place


def test_an_update_of_a_file_that_does_not_validate_is_refused_as_before(make_repo):
    from gitassist.errors import GitassistError

    repo, ids = _bots(make_repo, 2)
    path = repo.path / "assistants/bot001.yaml"
    path.write_text(doc_yaml(ids[1], name="Bot 1", graph_id=""))
    repo.git("commit", "-qam", "break it")
    before = repo.refs()
    with pytest.raises(GitassistError, match=r"has no file on main"):  # not indexed
        repo.client().assistants.update(ids[1], context=CONTEXT)
    assert repo.refs() == before


def test_a_create_parses_and_validates_its_document_once(make_repo, monkeypatch):
    import gitassist.document_checks as checks
    from gitassist import documents

    repo, _ = _bots(make_repo, 2)
    parses = Counter(monkeypatch, documents, "load_yaml_data", lambda text, *_: "Fresh" in text)
    validations = Counter(monkeypatch, checks, "assistant_problems")
    created = repo.client().assistants.create("agent", context=CONTEXT, name="Fresh")
    assert created["version"] == 1
    assert len(parses) == 1
    assert len(validations) == 1


def test_a_write_diffs_no_tree_and_lists_no_directory(make_repo, monkeypatch):
    from gitassist import index, plan

    repo, ids = _bots(make_repo, 4)
    client = repo.client()

    def real_diff(store: Any, old: Any, new: Any, *rest: Any) -> bool:
        return old is None or new is None or old.id != new.id  # equal trees: no diff runs

    diffs = Counter(monkeypatch, index, "changed_entries", real_diff)
    diffs_in_plan = Counter(monkeypatch, plan, "changed_entries", real_diff)
    globs = Counter(monkeypatch, pathlib.Path, "rglob")
    scans = Counter(monkeypatch, os, "scandir", lambda path=".": "assistants" in str(path))
    listings = Counter(monkeypatch, os, "listdir", lambda path=".": "assistants" in str(path))
    client.assistants.update(ids[0], context=CONTEXT)
    client.assistants.create("agent", context=CONTEXT, name="Fresh")
    assert len(diffs) + len(diffs_in_plan) == 0  # main: one per write
    assert len(globs) + len(scans) + len(listings) == 0  # main: rglob of assistants/ per write


def test_a_write_is_one_ref_transaction_with_one_journal_write(make_repo, monkeypatch):
    from gitassist import ref_lock, refs

    repo, ids = _bots(make_repo, 2)
    client = repo.client()
    client.assistants.get(ids[0])
    journal: list[str] = []

    def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith("journal") and "a" in mode:
            journal.append(str(file))
        return open(file, mode, *args, **kwargs)

    monkeypatch.setattr(ref_lock, "open", counting_open, raising=False)
    transactions = Counter(monkeypatch, refs.RefDB, "update")
    before = repo.refs()
    client.assistants.update(ids[0], context=CONTEXT)
    after = repo.refs()
    moved = {name for name in after if after[name] != before.get(name)}
    assert moved == {
        "refs/heads/main",
        f"refs/assistants/{ids[0]}/versions/2",
        f"refs/assistants/{ids[0]}/latest",
        "refs/gitassist/applied",
    }
    assert len(transactions) == 1  # main: 2 (the branch, then the record)
    assert len(journal) == 1  # main: one per lock file, 4
    assert not (repo.path / ".git/gitassist/journal").exists()


def _object_reads(make_repo: Any, monkeypatch: pytest.MonkeyPatch, n: int) -> int:
    repo, ids = _bots(make_repo, n)
    client = repo.client()
    client.assistants.update(ids[0], context=CONTEXT)  # warm: project, schemas, index shard
    client.assistants.get(ids[-1])
    with monkeypatch.context() as patch:
        reads = Counter(patch, pygit2.Repository, "get")
        client.assistants.update(ids[-1], context=CONTEXT)
    return len(reads)


def test_an_update_reads_as_many_objects_at_60_assistants_as_at_10(make_repo, monkeypatch):
    small = _object_reads(make_repo, monkeypatch, 10)
    large = _object_reads(make_repo, monkeypatch, 60)
    assert small == large
    assert large <= 13  # 40 before target 3; 15 before the written tag and pointer were kept


def _reads_of(monkeypatch: pytest.MonkeyPatch, write: Any) -> list[str]:
    """The ids of the objects ``write()`` reads (``pygit2.Repository.get``)."""
    reads: list[str] = []
    real = pygit2.Repository.get

    def counted(self: pygit2.Repository, oid: Any, *rest: Any) -> Any:
        reads.append(str(oid))
        return real(self, oid, *rest)

    with monkeypatch.context() as patch:
        patch.setattr(pygit2.Repository, "get", counted)
        write()
    return reads


@pytest.mark.parametrize("kind", ["update", "create"])
def test_a_write_reads_back_neither_the_tag_nor_the_pointer_it_wrote(make_repo, monkeypatch, kind):
    from gitassist.versions import read_latest, read_version

    repo, ids = _bots(make_repo, 3)
    client = repo.client()
    client.assistants.update(ids[0], context=CONTEXT)  # warm
    result: dict[str, Any] = {}
    if kind == "update":
        client.assistants.get(ids[1])
        reads = _reads_of(
            monkeypatch, lambda: result.update(client.assistants.update(ids[1], context=CONTEXT))
        )
    else:
        reads = _reads_of(
            monkeypatch,
            lambda: result.update(client.assistants.create("agent", context=CONTEXT, name="New")),
        )
    aid, number = result["assistant_id"], result["version"]
    fresh = repo.store()  # nothing kept: reads every object back from git
    tag = fresh.refdb.read(f"refs/assistants/{aid}/versions/{number}")
    pointer = fresh.refdb.read(f"refs/assistants/{aid}/latest")
    assert tag not in reads and pointer not in reads  # the write knew what it wrote
    # ... and what it kept is exactly what reading them back gives
    kept = client.assistants._store  # the store the write kept them on
    assert read_version(kept, aid, number) == read_version(fresh, aid, number)
    assert read_latest(kept, aid) == read_latest(fresh, aid)
    again = repo.client().assistants.get(aid)
    assert {k: again[k] for k in ("version", "context", "updated_at", "created_at")} == {
        k: result[k] for k in ("version", "context", "updated_at", "created_at")
    }


def test_a_scalar_update_edits_the_text_in_place(make_repo, monkeypatch):
    from gitassist import documents

    aid = str(uuid.uuid4())
    text = (
        "# owned by team A\n"
        f"assistant_id: {aid}   # never change\n"
        "graph_id: agent\n"
        "name: 'Support'\n"
        "context:\n"
        "  model_name: echo      # cheap for now\n\n"
        '  system_prompt: "Be kind."\n'
        "metadata: {team: a,  tier: 1}\n"
    )
    repo = make_repo({"assistants/support.yaml": text})
    round_trips = Counter(monkeypatch, documents, "render_update")
    client = repo.client()
    client.assistants.update(aid, context={"model_name": "openai", "system_prompt": "Be brief."})
    client.assistants.update(aid, metadata={"tier": 2}, name="Help desk")
    new = (repo.path / "assistants/support.yaml").read_text()
    assert new == text.replace("echo", "openai").replace("Be kind.", "Be brief.").replace(
        "tier: 1", "tier: 2"
    ).replace("'Support'", "'Help desk'")
    assert len(round_trips) == 0
    # a new key is not a scalar edit: the round trip writes it, keeping the comments
    client.assistants.update(aid, description="Answers questions")
    assert len(round_trips) == 1
    new = (repo.path / "assistants/support.yaml").read_text()
    assert "# cheap for now" in new and "description: Answers questions" in new
    versions = client.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [4, 3, 2, 1]


KILL_BEFORE_RENAME = """
import os, sys
from gitassist import get_sync_client
real = os.replace
def replace(src, dst):
    if str(src).endswith(".gitassist-tmp"):
        os._exit(9)  # killed with the temporary file written, before it replaces the file
    real(src, dst)
os.replace = replace
get_sync_client(repo=sys.argv[1]).assistants.update(sys.argv[2], context={"model_name": "openai"})
"""


def test_a_killed_writes_temp_file_is_removed_by_the_next_write(make_repo, tmp_path):
    repo, ids = _bots(make_repo, 2)
    script = tmp_path / "kill.py"
    script.write_text(KILL_BEFORE_RENAME)
    proc = subprocess.run([sys.executable, str(script), str(repo.path), ids[0]], check=False)
    assert proc.returncode == 9
    strays = list((repo.path / "assistants").glob(".*.gitassist-tmp"))
    assert len(strays) == 1
    repo.client().assistants.update(ids[1], context=CONTEXT)  # another assistant's file
    assert not strays[0].exists()  # the journal named it: the next writer removed it
    assert not list((repo.path / ".git").rglob("*.lock"))
    assert repo.git("status", "--porcelain") == ""


# --------------------------------------------------------------------------- the splice

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn")),
        max_size=12,
    ),
    st.sampled_from(["a: b", "x #y", "true", "No", "1.5", "-", "it's", "é", "~", "[x]"]),
)
_STYLES = st.sampled_from(["block", "flow"])


def _render_doc(values: list[Any], style: str) -> str:
    items = [f"k{i}: {json.dumps(v, ensure_ascii=False)}" for i, v in enumerate(values)]
    if style == "flow":
        body = "context: {" + ", ".join(items) + "}  # flow\n"
    else:
        body = "context:\n" + "".join(f"  {item}   # c{i}\n" for i, item in enumerate(items))
    return f"# head\nassistant_id: x\n{body}metadata:\n  - a\n  - 'b'\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_SCALARS, _SCALARS), min_size=1, max_size=4), _STYLES)
def test_a_splice_reads_back_as_the_new_data_and_keeps_every_other_line(pairs, style):
    from gitassist import yaml12
    from gitassist.splice import splice

    text = _render_doc([a for a, _ in pairs], style)
    old = yaml12.load(text)
    new = {**old, "context": {f"k{i}": b for i, (_, b) in enumerate(pairs)}}
    out = splice(text, old, new)
    if out is None:  # not a scalar edit it takes on (e.g. a newline): the round trip's job
        assert any(isinstance(b, str) and not b.isprintable() for _, b in pairs)
        return
    assert json.dumps(yaml12.load(out), sort_keys=True) == json.dumps(new, sort_keys=True)
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(("k", "context"))]
    assert [
        line for line in out.splitlines() if not line.lstrip().startswith(("k", "context"))
    ] == kept
    if style == "block":
        assert all(f"# c{i}" in out for i in range(len(pairs)))


def test_the_dirty_check_asks_git_only_when_head_index_and_file_differ(make_repo, monkeypatch):
    from gitassist.errors import GitassistError

    repo, ids = _bots(make_repo, 2)
    client = repo.client()
    statuses = Counter(monkeypatch, pygit2.Repository, "status_file")
    client.assistants.update(ids[0], context=CONTEXT)
    assert len(statuses) == 0  # HEAD, index and file agree byte for byte
    path = repo.path / "assistants/bot001.yaml"
    original = path.read_bytes()
    edits = [
        lambda: path.write_bytes(original + b"# mine\n"),  # unstaged
        lambda: (path.write_bytes(original + b"# staged\n"), repo.git("add", str(path))),
        lambda: path.chmod(0o755),  # a mode change only
        path.unlink,  # deleted in the work tree
    ]
    for edit in edits:
        edit()
        with pytest.raises(GitassistError, match="uncommitted changes"):
            client.assistants.update(ids[1], context=CONTEXT)
        repo.git("reset", "-q", "--hard")
    assert len(statuses) == len(edits)  # each doubt went to git's own status
    assert client.assistants.update(ids[1], context=CONTEXT)["version"] == 2


_WORDS = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9 _./()-]{0,10}[A-Za-z0-9_./)]", fullmatch=True),
    st.sampled_from(["true", "No", "null", "a: b", "x #y", "1.5", "-", "it's", "y", "é", "~"]),
    st.uuids().map(str),
)
_LEAVES = st.one_of(
    _WORDS,
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3)),
    st.none(),
)
_KEYS = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True), _WORDS)
_VALUES = st.recursive(
    st.one_of(_LEAVES, st.lists(_LEAVES, max_size=3)),
    lambda inner: st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _VALUES, max_size=4), _WORDS)
def test_a_new_document_written_without_ruamel_is_what_ruamel_writes(context, name):
    from gitassist.documents import AssistantDocument, document_fields, render_new
    from gitassist.splice import render_plain

    doc = AssistantDocument(
        assistant_id=str(uuid.uuid4()), graph_id="agent", name=name, context=context
    )
    fast = render_plain(document_fields(doc))
    if fast is not None:
        assert fast == render_new(doc)


def test_the_next_write_does_not_read_back_the_apply_record_the_last_one_wrote(
    make_repo, monkeypatch
):
    repo, ids = _bots(make_repo, 3)
    client = repo.client()
    client.assistants.update(ids[0], context=CONTEXT)
    written = repo.refs()["refs/gitassist/applied"]
    client.assistants.get(ids[1])
    reads = _reads_of(monkeypatch, lambda: client.assistants.update(ids[1], context=CONTEXT))
    assert written not in reads  # kept when written, used once the ref named it
    assert repo.refs()["refs/gitassist/applied"] != written
    # a record written by someone else (here: another client) is read, as before
    other = repo.client()
    other.assistants.update(ids[2], context=CONTEXT)
    foreign = repo.refs()["refs/gitassist/applied"]
    reads = _reads_of(
        monkeypatch, lambda: client.assistants.update(ids[0], context={"model_name": "echo"})
    )
    assert foreign in reads
    assert client.assistants.get(ids[2])["version"] == 2


def test_a_write_reads_no_schema_it_has_parsed_and_a_changed_one_applies(make_repo, monkeypatch):
    from gitassist.errors import ValidationFailed

    repo, ids = _bots(make_repo, 3)
    client = repo.client()
    client.assistants.update(ids[0], context=CONTEXT)  # the schema is parsed once here
    schema = repo.git("rev-parse", "HEAD:schemas/agent.context.json").strip()
    reads = _reads_of(monkeypatch, lambda: client.assistants.update(ids[1], context=CONTEXT))
    assert schema not in reads  # main: the schema blob read (and decoded) by every write
    path = repo.path / "schemas/agent.context.json"
    data = json.loads(path.read_text())
    data["properties"]["model_name"]["enum"] = ["echo"]  # openai is no longer allowed
    path.write_text(json.dumps(data, indent=2))
    repo.git("commit", "-qam", "narrow the schema")
    narrowed = {"model_name": "echo", "system_prompt": "ok"}
    assert client.assistants.update(ids[2], context=narrowed)["version"] == 2
    with pytest.raises(ValidationFailed, match="openai"):
        client.assistants.update(ids[2], context=CONTEXT)


def test_a_kept_apply_record_whose_tree_is_missing_is_refused_not_read_as_empty(make_repo):
    from gitassist.applied import index_at, keep_applied, read_applied
    from gitassist.errors import RepositoryError

    repo, _ = _bots(make_repo, 2)
    store = repo.store()
    record = read_applied(store)
    assert record.pointer is not None and record.commit is not None
    keep_applied(store, record.pointer, record.commit, record.absent, "0" * 39 + "1")
    with pytest.raises(RepositoryError, match="missing"):
        index_at(store, store.head_commit().tree)
