"""No review command prints a planted secret, in any format; show/get still hand it back.

One real repository holds every true positive of tests/data/secrets/true_positives.txt
planted in a pull-request-like branch: in an assistant's name, a context key, a context
value, a metadata key, a multi-line system prompt, an ``assistant_id`` and a ``graph_id`` (the
last two make invalid documents, whose error messages quote them). Each review command runs
in-process through ``gitassist.cli.main.main()`` in each format; the secret must appear in
none of stdout, stderr or the crash log directory.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import CONTEXT_SCHEMA, GRAPH_PY, Repo, git

if TYPE_CHECKING:
    from collections.abc import Iterator

DATA = Path(__file__).resolve().parent / "data" / "secrets"


def true_positives() -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "true_positives.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            rule, text, secret = line.split("\t")
            rows.append((rule, text.replace("\\n", "\n"), secret))
    return rows


TOKENS = [(text, secret) for rule, text, secret in true_positives() if rule != "secret_key_value"]
SPACED = [secret for rule, _, secret in true_positives() if rule == "secret_key_value"]
SECRETS = [secret for _, _, secret in true_positives()]


def _yaml(data: dict[str, Any]) -> str:
    return "".join(f"{k}: {json.dumps(v)}\n" for k, v in data.items())


def _ids(i: int) -> str:
    return str(uuid.UUID(int=0x1000 + i, version=4))


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Repo, Path]]:
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("home")
        for key, value in {
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
        }.items():
            mp.setenv(key, value)
        path = tmp_path_factory.mktemp("planted")
        git(path, "init", "-q", "-b", "main")
        repo = Repo(path)
        base: dict[str, str | None] = {
            "langgraph.json": json.dumps(
                {"dependencies": ["."], "graphs": {"agent": "./graph.py:graph"}}
            ),
            "graph.py": GRAPH_PY,
            "schemas/agent.context.json": json.dumps(CONTEXT_SCHEMA, indent=2),
            ".gitignore": ".gitassist/\n__pycache__/\n",
        }
        for i in range(len(TOKENS) + len(SPACED)):
            base[f"assistants/a{i:02}.yaml"] = _yaml(
                {
                    "assistant_id": _ids(i),
                    "graph_id": "agent",
                    "name": f"Bot {i}",
                    "context": {"model_name": "echo", "system_prompt": "Be brief.\nBe kind.\n"},
                }
            )
        repo.commit(base, "initial")
        _run(["apply", "-C", str(path)])
        repo.git("switch", "-q", "-c", "feature")
        changes: dict[str, str | None] = {}
        for i, (text, _) in enumerate(TOKENS):
            changes[f"assistants/a{i:02}.yaml"] = _yaml(
                {
                    "assistant_id": _ids(i),
                    "graph_id": "agent",
                    "name": f"Bot {text}",
                    "description": text,
                    "context": {
                        "model_name": "echo",
                        "system_prompt": f"Be brief.\n{text}\nBe kind.\n",
                        text: 1,
                    },
                    "metadata": {text: 1, "note": text},
                }
            )
            changes[f"assistants/b{i:02}.yaml"] = _yaml(
                {"assistant_id": text, "graph_id": "agent", "name": "Bad id"}
            )
            changes[f"assistants/c{i:02}.yaml"] = _yaml(
                {"assistant_id": _ids(500 + i), "graph_id": text, "name": "Bad graph"}
            )
        for j, secret in enumerate(SPACED, start=len(TOKENS)):
            changes[f"assistants/a{j:02}.yaml"] = _yaml(
                {
                    "assistant_id": _ids(j),
                    "graph_id": "agent",
                    "name": f"Bot {j}",
                    "context": {"model_name": "echo", "db_password": secret},
                    "metadata": {"smtp_password": secret, "api": {"client_secret": secret}},
                }
            )
        repo.commit(changes, "plant secrets")
        yield repo, home / ".cache"


def _run(args: list[str]) -> int:
    from gitassist.cli.main import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


REVIEW = [
    *(["validate", "--format", f] for f in ("human", "json", "github")),
    ["validate", "--rev", "HEAD", "--format", "github"],
    *(["diff", "--format", f] for f in ("human", "json", "markdown")),
    *(["plan", "--any-branch", "--format", f] for f in ("human", "json", "markdown")),
    *(["apply", "--dry-run", "--any-branch", "--format", f] for f in ("human", "json", "markdown")),
    ["diff", "no-such-base-sk-proj-" + "Q9x" * 10],  # an error message quoting an argument
]


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.mark.parametrize("args", REVIEW, ids=[" ".join(a) for a in REVIEW])
def test_review_commands_never_print_a_planted_secret(
    planted: tuple[Repo, Path], capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    repo, cache = planted
    code = _run([*args, "-C", str(repo.path)])
    out, err = capsys.readouterr()
    assert code != 70, err
    assert out or err
    assert not _leaks(out), _leaks(out)
    assert not _leaks(err), _leaks(err)
    assert "Q9xQ9x" not in err
    for log in cache.rglob("*"):
        if log.is_file():
            assert not _leaks(log.read_text(encoding="utf-8", errors="replace"))


def test_markdown_review_keeps_every_assistant_section(
    planted: tuple[Repo, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _ = planted
    _run(["diff", "-C", str(repo.path), "--format", "markdown"])
    markdown = capsys.readouterr().out
    assert "«redacted»" in markdown
    for i in range(len(TOKENS) + len(SPACED)):
        assert f"`assistants/a{i:02}.yaml`" in markdown


def test_applied_versions_diff_and_apply_never_print_a_planted_secret(
    planted: tuple[Repo, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """After the branch is merged: apply itself, and versions diff between the two versions."""
    repo, _ = planted
    clone = tmp_path / "merged"
    shutil.copytree(repo.path, clone)
    merged = Repo(clone)
    merged.git("switch", "-q", "main")
    merged.git("merge", "-q", "--ff-only", "feature")
    for f in ("b", "c"):  # invalid documents block apply; drop them in a last commit
        for i in range(len(TOKENS)):
            (clone / f"assistants/{f}{i:02}.yaml").unlink()
    (clone / "gitassist.yaml").write_text("unknown_context_keys: allow\n", encoding="utf-8")
    merged.git("add", "-A")
    merged.git("commit", "-q", "-m", "drop invalid documents")
    outputs = []
    for args in (
        ["apply", "--format", "markdown"],
        *(["versions", "diff", _ids(i), "1", "2"] for i in (0, 5, len(TOKENS))),
        *(["versions", "diff", _ids(3), "1", "2", "--format", f] for f in ("json", "markdown")),
    ):
        code = _run([*args, "-C", str(clone)])
        out, err = capsys.readouterr()
        assert code == 0, err
        outputs.append(out + err)
    for text in outputs:
        assert not _leaks(text), _leaks(text)
    assert "version 1 -> 2" in outputs[1]

    # commands that hand a user their own data back keep the real values
    _run(["show", _ids(0), "-C", str(clone)])
    shown = capsys.readouterr().out
    assert TOKENS[0][1] in shown
    _run(["get", _ids(len(TOKENS)), "-C", str(clone), "--json"])
    got = capsys.readouterr().out
    assert SPACED[0] in got
