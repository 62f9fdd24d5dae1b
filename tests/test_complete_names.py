"""Shell completion of a TARGET offers unique display names too, from the summary index when
it is warm (after `gitassist list`): it parses no document for them (counted), never errors,
and leaves out names a shell cannot take as one word or that several assistants share."""

from __future__ import annotations

import pytest

from gitassist.cli.complete import target_candidates
from gitassist.store import Store
from tests.conftest import doc_yaml


def _aid(n: int) -> str:
    return f"6f1c1c3e-0000-4000-8000-{n:012d}"


FILES = {
    "assistants/support.yaml": doc_yaml(_aid(1), name="Support-Desk"),
    "assistants/helper.yaml": doc_yaml(_aid(2), name="helper"),  # the same as its stem
    "assistants/a.yaml": doc_yaml(_aid(3), name="Twin"),
    "assistants/b.yaml": doc_yaml(_aid(4), name="Twin"),
    "assistants/c.yaml": doc_yaml(_aid(5), name="Has Space"),
    "assistants/d.yaml": doc_yaml(_aid(6), name="x@y"),
}


@pytest.fixture
def parses(monkeypatch):
    """Count the documents parsed (every parse reads its text through Store.document_text)."""
    count = [0]
    original = Store.document_text

    def counting(self, blob):
        count[0] += 1
        return original(self, blob)

    monkeypatch.setattr(Store, "document_text", counting)
    return count


def _values(path, incomplete=""):
    return [v for v, _ in target_candidates(Store(path), incomplete)]


def test_names_come_from_the_warm_index_without_parsing(make_repo, cli, parses):
    from gitassist import summary_cache

    repo = make_repo(FILES)
    cold = _values(repo.path)
    assert parses[0] == 0  # cold: stems and graph ids only, nothing parsed
    assert "Support-Desk" not in cold and {"support", "helper", "agent"} <= set(cold)
    cli("apply", "-C", str(repo.path))
    cli("list", "-C", str(repo.path))  # warms the summary index
    assert parses[0] > 0  # the counter counts: list parsed the documents
    summary_cache._CACHES.clear()  # a new process: the index file only
    parses[0] = 0
    warm = _values(repo.path)
    assert parses[0] == 0, "completion parsed documents to find names"
    assert "Support-Desk" in warm
    assert "Twin" not in warm and "Has Space" not in warm and "x@y" not in warm
    assert warm.count("helper") == 1
    versions = _values(repo.path, "Support-Desk@")
    assert versions[:2] == ["Support-Desk@latest", "Support-Desk@1"]


def test_through_the_shell_protocol_and_never_erroring(make_repo, cli, run_cli):
    repo = make_repo(FILES)
    cli("list", "-C", str(repo.path))
    env = {
        "_GITASSIST_COMPLETE": "bash_complete",
        "COMP_WORDS": "gitassist get Sup",
        "COMP_CWORD": "2",
    }
    done = run_cli(cwd=repo.path, env=env)
    assert done.returncode == 0 and "Support-Desk" in done.stdout, done.stdout + done.stderr
    (repo.path / ".git" / "gitassist" / "cache").mkdir(parents=True, exist_ok=True)
    for cache in (repo.path / ".git" / "gitassist" / "cache").glob("*.sqlite"):
        cache.write_bytes(b"not a database")  # a broken index: no names, no error
    done = run_cli(cwd=repo.path, env={**env, "COMP_WORDS": "gitassist get "})
    assert done.returncode == 0 and "support" in done.stdout and not done.stderr
