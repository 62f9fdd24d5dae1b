"""Hostile review of the validate stat cache: after each change to the work tree or the
configuration, a warm validate reports exactly what a run without a cache reports."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from conftest import CONTEXT_SCHEMA, Repo, doc_yaml
from test_validate_cache import IDS, age, two_graph_repo

from gitassist import validate_cache, validation
from gitassist.store import Store


def _report(repo: Repo, **kw: Any) -> dict[str, Any]:
    return validation.validate(Store(repo.path), **kw).to_dict()


def _cold(repo: Repo, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> dict[str, Any]:
    """The oracle: the same validate on a fresh, empty cache file."""
    with monkeypatch.context() as m:
        m.setattr(validate_cache, "FORMAT", f"oracle-{time.time_ns()}")
        return _report(repo, **kw)


def _same_size_edit(repo: Repo) -> None:
    path = repo.path / "assistants/a0.yaml"
    st = path.stat()
    path.write_text(doc_yaml(IDS[0], name="a0", context={"model_name": "nope"}))
    assert path.stat().st_size == st.st_size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _symlink(repo: Repo) -> None:
    path = repo.path / "assistants/a0.yaml"
    path.unlink()
    path.symlink_to("a1.yaml")


def _fifo(repo: Repo) -> None:
    path = repo.path / "assistants/a0.yaml"
    path.unlink()
    os.mkfifo(path)


def _directory(repo: Repo) -> None:
    path = repo.path / "assistants/a0.yaml"
    text = path.read_text()
    path.unlink()
    path.mkdir()
    (path / "inner.yaml").write_text(text)


def _rename(repo: Repo) -> None:
    os.rename(repo.path / "assistants/a0.yaml", repo.path / "assistants/z.yaml")


def _case_rename(repo: Repo) -> None:
    os.rename(repo.path / "assistants/a0.yaml", repo.path / "assistants/A0.yaml")


def _swap(repo: Repo) -> None:
    a, b = repo.path / "assistants/a1.yaml", repo.path / "assistants/a5.yaml"
    os.rename(a, a.with_suffix(".tmp"))
    os.rename(b, a)
    os.rename(a.with_suffix(".tmp"), b)


def _schema(repo: Repo) -> None:
    schema = {**CONTEXT_SCHEMA, "properties": {"model_name": {"type": "integer"}}}
    (repo.path / "schemas/agent.context.json").write_text(json.dumps(schema))


def _graphs(repo: Repo) -> None:
    (repo.path / "langgraph.json").write_text(
        json.dumps({"dependencies": ["."], "graphs": {"agent": "./g.py:g"}})
    )


def _settings(repo: Repo) -> None:
    (repo.path / "gitassist.yaml").write_text("unknown_context_keys: allow\n")
    (repo.path / "assistants/a2.yaml").write_text(
        doc_yaml(IDS[2], name="a2", context={"model_name": "echo", "extra": 1})
    )
    age(repo, "assistants/a2.yaml")


def _future(repo: Repo) -> None:
    path = repo.path / "assistants/a0.yaml"
    then = time.time() + 3600
    os.utime(path, (then, then))


MUTATIONS = [_same_size_edit, _symlink, _fifo, _directory, _rename, _case_rename, _swap]
MUTATIONS += [_schema, _graphs, _settings, _future]


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda f: f.__name__)
def test_a_warm_validate_after_a_change_reports_what_a_cold_one_does(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, mutate: Any
) -> None:
    repo = two_graph_repo(make_repo)
    age(repo)
    _report(repo)
    _report(repo)  # the snapshot now holds every file's stat data and entry
    mutate(repo)
    for _ in range(2):
        assert _report(repo) == _cold(repo, monkeypatch)
    paths = [str(repo.path / "assistants/a1.yaml")]
    assert _report(repo, paths=paths) == _cold(repo, monkeypatch, paths=paths)


def test_two_worktrees_with_different_schemas_and_settings_share_the_file(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    other = Repo(repo.path.parent / "wt")
    repo.git("worktree", "add", "-q", str(other.path), "-b", "side")
    age(repo)
    age(other)
    _schema(other)
    (other.path / "gitassist.yaml").write_text("unknown_context_keys: allow\n")
    for _ in range(3):  # interleaved, each warm run against each tree's own cold run
        for tree in (repo, other):
            assert _report(tree) == _cold(tree, monkeypatch)
    assert _report(repo, rev="HEAD") == _cold(repo, monkeypatch, rev="HEAD")
    assert _report(other) == _cold(other, monkeypatch)


@pytest.mark.parametrize("package", ["yaml", "pydantic", "pydantic_core", "jsonschema", "re2"])
def test_upgrading_a_library_that_decides_results_invalidates_the_cache(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, package: str
) -> None:
    """pip rewrites a package's files on an upgrade: a new PyYAML may parse, a new pydantic
    word its messages, differently, so no entry of the old one may be reused."""
    import importlib.util
    from pathlib import Path

    from test_validate_cache import Counter

    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin
    file = Path(spec.origin).parent / dict(validate_cache._LIBRARIES)[package]
    repo = two_graph_repo(make_repo)
    age(repo)
    count = Counter(monkeypatch)
    validate_cache._fingerprint.cache_clear()
    count.run(repo)
    assert count.run(repo)[1] == []  # warm
    st = file.stat()
    try:
        os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # as if reinstalled
    except OSError:
        pytest.skip(f"cannot touch {file}")
    try:
        validate_cache._fingerprint.cache_clear()
        assert len(count.run(repo)[1]) == 6  # every document checked again
    finally:
        os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns))
        validate_cache._fingerprint.cache_clear()
