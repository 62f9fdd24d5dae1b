"""Property-based: random histories of edits, renames, deletions, re-creations, rollbacks and
format-only commits keep versions contiguous and faithful, and apply-then-plan empty."""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitassist.apply import apply
from gitassist.documents import parse_document
from gitassist.store import Store
from gitassist.versions import max_version, read_latest, read_version
from tests.conftest import CONTEXT_SCHEMA, GRAPH_PY

IDS = [str(uuid.UUID(int=i + 1)) for i in range(3)]

op = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 2), st.integers(0, 3)),
    st.tuples(st.just("format"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("rename"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("delete"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("apply"), st.booleans(), st.just(0)),
    st.tuples(st.just("rollback"), st.integers(0, 2), st.integers(1, 6)),
)


def render(aid: str, prompt: int, style: int) -> str:
    if style % 2:
        return (
            f"# style {style}\n{{assistant_id: '{aid}', graph_id: agent, name: Bot,\n"
            f" context: {{model_name: echo, system_prompt: 'p{prompt}'}}}}\n"
        )
    return (
        f"assistant_id: {aid}\ngraph_id: agent\nname: Bot\ncontext:\n  model_name: echo\n"
        f"  system_prompt: p{prompt}\n"
    )


@dataclass
class Model:
    content: dict[int, int | None] = field(default_factory=lambda: dict.fromkeys(range(3)))
    path: dict[int, str] = field(default_factory=dict)
    style: dict[int, int] = field(default_factory=dict)
    versions: dict[int, list[int]] = field(default_factory=lambda: {i: [] for i in range(3)})
    latest: dict[int, int] = field(default_factory=dict)
    deleted: dict[int, bool] = field(default_factory=lambda: dict.fromkeys(range(3), False))
    pending: list[dict[int, tuple[int | None, int | None]]] = field(default_factory=list)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def model_apply(m: Model, prune: bool) -> None:
    new: set[int] = set()
    for change in m.pending:
        for i, (old, cur) in change.items():
            if cur is None:
                continue
            if old is not None:
                if old != cur:
                    m.versions[i].append(cur)
                    new.add(i)
            elif not (m.versions[i] and m.versions[i][-1] == cur and not m.deleted[i]):
                m.versions[i].append(cur)
                m.deleted[i] = False
                new.add(i)
    for i in new:
        m.latest[i] = len(m.versions[i])
    if prune:
        for i in range(3):
            if m.content[i] is None and m.versions[i] and not m.deleted[i]:
                m.deleted[i] = True
    m.pending.clear()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(op, min_size=1, max_size=14))
def test_random_histories(ops):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        git(root, "init", "-q", "-b", "main")
        (root / "langgraph.json").write_text(json.dumps({"graphs": {"agent": "./g.py:graph"}}))
        (root / "g.py").write_text(GRAPH_PY)
        (root / "schemas").mkdir()
        (root / "schemas/agent.context.json").write_text(json.dumps(CONTEXT_SCHEMA))
        (root / "assistants").mkdir()
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "init")
        m = Model()
        for kind, a, b in ops:
            if kind == "apply":
                apply(Store(root), prune=bool(a), allow_delete_all=True)
                model_apply(m, bool(a))
                check(root, m)
                continue
            if kind == "rollback":
                if m.versions[a] and not m.deleted[a] and b <= len(m.versions[a]):
                    from gitassist import assistants as ops_

                    ops_.set_latest(Store(root), IDS[a], b)
                    m.latest[a] = b
                continue
            old = m.content[a]
            if kind == "edit":
                m.content[a] = b
                m.path.setdefault(a, f"assistants/a{a}.yaml")
            elif kind == "delete":
                if old is None:
                    continue
                m.content[a] = None
            elif old is None:
                continue
            elif kind == "format":
                m.style[a] = m.style.get(a, 0) + 1
            elif kind == "rename":
                (root / m.path[a]).rename(root / (m.path[a][:-5] + "x.yaml"))
                m.path[a] = m.path[a][:-5] + "x.yaml"
            path = root / m.path[a]
            if m.content[a] is None:
                path.unlink()
            else:
                path.write_text(render(IDS[a], m.content[a], m.style.get(a, 0)))
            git(root, "add", "-A")
            git(root, "commit", "-q", "--allow-empty", "-m", kind)
            m.pending.append({a: (old, m.content[a])})
        apply(Store(root), prune=True, allow_delete_all=True)
        model_apply(m, True)
        check(root, m)


def check(root: Path, m: Model) -> None:
    store = Store(root)
    for i, aid in enumerate(IDS):
        top = max_version(store, aid)
        assert top == len(m.versions[i])  # contiguous 1..top, no extra versions
        for n in range(1, top + 1):
            record = read_version(store, aid, n)
            assert record is not None
            doc = parse_document(store.blob_text(record.blob), record.path)
            assert doc.context["system_prompt"] == f"p{m.versions[i][n - 1]}"
            # the version's content is the document at its commit
            commit = store.get_commit(record.commit)
            assert store.read_path(commit.tree, record.path) == store.blob_text(record.blob)
        state = read_latest(store, aid)
        if top:
            assert state is not None
            assert state.version == m.latest[i]
            assert state.deleted == m.deleted[i]
    from gitassist.apply import plan_for

    plan = plan_for(store)
    assert not plan.versions and not plan.moves
