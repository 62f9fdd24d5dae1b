"""Concurrent ``set_latest`` calls from threads of one client are each a legitimate move: one
process's writes serialize on the repository's thread lock (the state is read under it), so
none of them loses a compare-and-swap to its own process (two processes still race:
tests/test_bad_input.py). Counted, not timed."""

from __future__ import annotations

import itertools
import threading

from tests.conftest import doc_yaml

AID = "6f1c1c3e-0000-4000-8000-0000000000a1"
THREADS = 8
ROUNDS = 4


def _three_versions(make_repo, cli):
    repo = make_repo({"assistants/bot.yaml": doc_yaml(AID)})
    cli("apply", "-C", str(repo.path))
    for model in ("openai", "anthropic"):
        repo.commit({"assistants/bot.yaml": doc_yaml(AID, context={"model_name": model})})
        cli("apply", "-C", str(repo.path))
    return repo


def test_threads_of_one_client_never_conflict(make_repo, cli):
    repo = _three_versions(make_repo, cli)
    client = repo.client()
    errors: list[BaseException] = []
    done: list[int] = []
    start = threading.Barrier(THREADS)

    def mover(n: int) -> None:
        start.wait()
        for i in range(ROUNDS):
            version = (n + i) % 3 + 1
            try:
                assert client.assistants.set_latest(AID, version)["version"] == version
                done.append(version)
            except BaseException as exc:  # a 409 from our own process is the bug
                errors.append(exc)

    workers = [threading.Thread(target=mover, args=(n,)) for n in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors[:3]
    assert len(done) == THREADS * ROUNDS
    # no update was lost: newest first, each move starts from the version the one before set
    from gitassist.versions import latest_history

    moves = latest_history(repo.store(), AID, None)
    assert len(moves) > 3  # the three applied versions and our moves
    for newer, older in itertools.pairwise(moves):
        assert newer.previous == older.version, (newer, older)
    assert moves[0].version in done
