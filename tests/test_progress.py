"""Progress for long work: core functions count their work through a ``progress`` callback;
the CLI draws click's progress bar on stderr only when it is a terminal (a real pty here) and
the output is not JSON, and prints nothing of it to pipes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import uuid

import pytest

from gitassist.apply import apply
from gitassist.validation import validate
from tests.conftest import doc_yaml
from tests.lgserver import start_server

FILES = 60  # above the CLI's threshold for drawing a bar (MIN_TOTAL)


def many(make_repo, n: int = FILES):
    files = {
        f"assistants/bot{i:03}.yaml": doc_yaml(str(uuid.uuid4()), name=f"Bot {i}") for i in range(n)
    }
    return make_repo(files)


class Calls(list):
    def __call__(self, label: str, done: int, total: int) -> None:
        self.append((label, done, total))


def test_validate_counts_every_file(make_repo):
    repo = many(make_repo)
    calls = Calls()
    report = validate(repo.store(), progress=calls)
    assert report.documents == FILES
    assert calls == [("validate", i, FILES) for i in range(1, FILES + 1)]


def test_apply_counts_every_commit_walked(make_repo):
    repo = make_repo()
    for i in range(5):
        repo.commit({f"assistants/b{i}.yaml": doc_yaml(str(uuid.uuid4()), name=f"B{i}")})
    calls = Calls()
    outcome = apply(repo.store(), progress=calls)
    walked = outcome.plan.commits_walked
    assert walked == 6
    assert calls == [("plan", i, walked) for i in range(1, walked + 1)]
    again = Calls()
    apply(repo.store(), progress=again)
    assert again == []  # nothing to walk


def run_in_pty(cwd, *args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitassist", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError("hang guard: no output for 120 s")
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=120)
    return code, stdout, b"".join(chunks).decode(errors="replace")


def test_cli_draws_progress_on_a_terminal_only(make_repo):
    repo = many(make_repo)
    code, stdout, terminal = run_in_pty(repo.path, "validate")
    assert code == 0
    assert f"{FILES} document(s) valid" in stdout
    assert "validate" in terminal
    assert f"{FILES}/{FILES}" in terminal  # the count
    assert "/s" in terminal  # the rate

    code, stdout, terminal = run_in_pty(repo.path, "validate", "--json")
    assert code == 0
    assert terminal == ""  # machines get nothing

    piped = subprocess.run(
        [sys.executable, "-m", "gitassist", "validate"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0
    assert piped.stderr == ""

    code, stdout, terminal = run_in_pty(repo.path, "apply")
    assert code == 0
    assert "Applied" in stdout
    assert terminal == ""  # one commit to walk: below the threshold, no bar


@pytest.mark.server
def test_sync_counts_every_assistant_compared_and_written(example_repo, tmp_path):
    """Against a real `langgraph dev`: one call per assistant compared, then per assistant
    written, each counting up to its total."""
    from gitassist.server import connect
    from gitassist.sync import sync

    (example_repo.path / ".gitignore").write_text(".langgraph_api/\n__pycache__/\n.gitassist/\n")
    client = example_repo.client()
    for i in range(3):
        client.assistants.create("agent", context={"model_name": "echo"}, name=f"Bot {i}")
    example_repo.git("add", "-A")
    example_repo.git("commit", "-qm", "ignore server state")
    with start_server(example_repo.path, log_path=tmp_path / "server.log") as server:
        calls = Calls()
        with connect(server.url) as remote:
            report = sync(example_repo.store(), remote, progress=calls)
    compared = [c for c in calls if c[0] == "compare"]
    written = [c for c in calls if c[0] == "sync"]
    assert compared == [("compare", i, 3) for i in range(1, 4)]
    assert written == [("sync", i, len(report.items)) for i in range(1, len(report.items) + 1)]
    assert report.counts().get("created") == 3


ENVIRONMENTS = """environments:
  staging: {follows: latest}
  production: {promote_from: staging}
"""


def test_release_planning_counts_every_assistant(make_repo):
    from gitassist.promote import plan_release

    repo = make_repo(
        {
            "gitassist.yaml": ENVIRONMENTS,
            **{
                f"assistants/bot{i:03}.yaml": doc_yaml(str(uuid.uuid4()), name=f"Bot {i}")
                for i in range(FILES)
            },
        }
    )
    apply(repo.store())  # staging follows latest: every assistant is in staging now
    calls = Calls()
    release = plan_release(repo.store(), "staging", "production", progress=calls)
    assert len(release.moves) == FILES
    assert calls == [("promote", i, FILES) for i in range(1, FILES + 1)]
