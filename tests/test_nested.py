"""Documents in subfolders of the assistants directory (issue 11, item 14), and writes next to
an unrelated invalid document (item 8). Real repositories, through the CLI's ``main()``."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import CONTEXT_SCHEMA, GRAPH_PY, Repo, doc_yaml, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from collections.abc import Callable

    from click.testing import Result

A = "11111111-1111-4111-8111-111111111111"
B = "22222222-2222-4222-8222-222222222222"
C = "33333333-3333-4333-8333-333333333333"


def as_json(result: Result) -> object:
    return json.loads(result.stdout)


def list_ids(cli: Callable[..., Result], repo: Repo) -> dict[str, str]:
    rows = as_json(cli("list", "--repo", str(repo.path), "--json"))
    assert isinstance(rows, list)
    return {
        r["assistant_id"]: r["name"] for r in rows if r["metadata"].get("created_by") != "system"
    }


def versions(cli: Callable[..., Result], repo: Repo, target: str) -> list[int]:
    rows = as_json(cli("versions", target, "--repo", str(repo.path), "--json"))
    assert isinstance(rows, list)
    return sorted(r["version"] for r in rows)


def test_nested_folders_through_every_command(make_repo, cli):
    repo = make_repo(
        {
            "assistants/top.yaml": doc_yaml(A, "Top"),
            "assistants/team/bot.yaml": doc_yaml(B, "Team bot"),
            "assistants/ops/eu/deep.yml": doc_yaml(C, "Deep"),
        }
    )
    r = str(repo.path)
    assert "3 document(s) valid" in cli("validate", "--repo", r).stdout
    assert "version 1" in cli("plan", "--repo", r).stdout
    cli("apply", "--repo", r)
    assert list_ids(cli, repo) == {A: "Top", B: "Team bot", C: "Deep"}
    got = as_json(cli("get", "team/bot", "--repo", r, "--json"))
    assert isinstance(got, dict) and got["assistant_id"] == B
    assert as_json(cli("get", "deep", "--repo", r, "--json"))["assistant_id"] == C  # type: ignore[index]
    cli("update", "deep", "--name", "Deeper", "--repo", r)
    assert versions(cli, repo, C) == [1, 2]
    assert (repo.path / "assistants/ops/eu/deep.yml").read_text().count("Deeper") == 1
    # a change made with git in a subfolder: diff sees it, plan and apply record it
    base = repo.git("rev-parse", "HEAD")
    repo.commit({"assistants/team/bot.yaml": doc_yaml(B, "Team bot 2")})
    diff = as_json(cli("diff", base, "HEAD", "--repo", r, "--json"))
    assert isinstance(diff, dict)
    assert "assistants/team/bot.yaml" in json.dumps(diff)
    assert "Team bot 2" in json.dumps(diff)
    assert "version 2" in cli("plan", "--repo", r).stdout
    cli("apply", "--repo", r)
    assert versions(cli, repo, B) == [1, 2]


def test_a_move_between_folders_is_a_rename(make_repo, cli):
    repo = make_repo({"assistants/team/bot.yaml": doc_yaml(B, "Bot")})
    cli("apply", "--repo", str(repo.path))
    (repo.path / "assistants/ops").mkdir()
    repo.git("mv", "assistants/team/bot.yaml", "assistants/ops/bot.yaml")
    repo.git("commit", "-qm", "move")
    plan = cli("plan", "--repo", str(repo.path)).stdout
    assert "renamed from assistants/team/bot.yaml" in plan
    cli("apply", "--repo", str(repo.path))
    assert versions(cli, repo, B) == [1]
    got = as_json(cli("get", "ops/bot", "--repo", str(repo.path), "--json"))
    assert isinstance(got, dict) and got["assistant_id"] == B
    cli("update", "ops/bot", "--name", "Moved", "--repo", str(repo.path))
    assert versions(cli, repo, B) == [1, 2]


def test_a_shared_stem_is_ambiguous_and_path_qualified_names_resolve(make_repo, cli):
    repo = make_repo(
        {
            "assistants/team/bot.yaml": doc_yaml(A, "One"),
            "assistants/ops/bot.yaml": doc_yaml(B, "Two"),
        }
    )
    r = str(repo.path)
    cli("apply", "--repo", r)
    err = cli("get", "bot", "--repo", r, code=5).stderr
    assert "ops/bot" in err and "team/bot" in err
    assert err.count("error:") == 1
    assert as_json(cli("get", "team/bot", "--repo", r, "--json"))["assistant_id"] == A  # type: ignore[index]
    assert as_json(cli("get", "ops/bot", "--repo", r, "--json"))["assistant_id"] == B  # type: ignore[index]
    path = "assistants/ops/bot.yaml"
    assert as_json(cli("get", path, "--repo", r, "--json"))["assistant_id"] == B  # type: ignore[index]
    cli("update", "team/bot", "--name", "Uno", "--repo", r)
    assert versions(cli, repo, A) == [1, 2] and versions(cli, repo, B) == [1]


def test_create_dir_places_the_file_with_a_relative_schema_line(make_repo, cli):
    from gitassist.schemas import document_schema_text

    repo = make_repo({"schemas/assistant.schema.json": document_schema_text()})
    r = str(repo.path)
    out = as_json(
        cli(
            "create",
            "agent",
            "--name",
            "Sub bot",
            "--dir",
            "team/eu",
            "--set",
            "model_name=echo",
            "--repo",
            r,
            "--json",
        )
    )
    assert isinstance(out, dict)
    doc = repo.path / "assistants/team/eu/sub-bot.yaml"
    text = doc.read_text()
    ref = re.match(r"# yaml-language-server: \$schema=(\S+)\n", text)
    assert ref is not None and ref.group(1) == "../../../schemas/assistant.schema.json"
    target = (doc.parent / ref.group(1)).resolve()
    assert target == (repo.path / "schemas/assistant.schema.json").resolve() and target.is_file()
    import jsonschema
    from ruamel.yaml import YAML

    jsonschema.validate(YAML(typ="safe").load(text), json.loads(target.read_text()))
    assert versions(cli, repo, "team/eu/sub-bot") == [1]
    top = as_json(
        cli("create", "agent", "--name", "Top", "--set", "model_name=echo", "--repo", r, "--json")
    )
    assert isinstance(top, dict)
    assert (
        "$schema=../schemas/assistant.schema.json"
        in (repo.path / "assistants/top.yaml").read_text()
    )


@pytest.mark.parametrize("folder", ["../out", "/abs", "team/../x", ".hidden", "a//b"])
def test_create_dir_refuses_a_folder_outside_or_odd(make_repo, cli, folder):
    repo = make_repo()
    before = repo.refs(), repo.git("status", "--porcelain")
    err = cli("create", "agent", "--name", "X", "--dir", folder, "--repo", str(repo.path), code=2)
    assert "--dir" in err.stderr
    assert (repo.refs(), repo.git("status", "--porcelain")) == before


def test_the_python_client_creates_in_a_subfolder(make_repo):
    repo = make_repo()
    created = repo.client().assistants.create(
        "agent", context={"model_name": "echo"}, name="Py", dir="team"
    )
    assert (repo.path / "assistants/team/py.yaml").is_file()
    assert repo.client().assistants.get(created["assistant_id"])["name"] == "Py"


def test_a_non_document_under_the_directory_warns_once(make_repo, cli):
    repo = make_repo(
        {
            "assistants/team/bot.yaml": doc_yaml(A, "Bot"),
            "assistants/team/README.md": "notes\n",
        }
    )
    os.symlink("bot.yaml", repo.path / "assistants/team/link.yaml")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "link")
    r = str(repo.path)
    for command in (("validate",), ("validate", "--rev", "HEAD"), ("apply",)):
        err = cli(*command, "--repo", r).stderr
        assert err.count("not assistant documents") == 1, (command, err)
        assert "assistants/team/README.md" in err and "assistants/team/link.yaml" in err
    assert "1 document(s) valid" in cli("validate", "--repo", r).stdout
    assert list_ids(cli, repo) == {A: "Bot"}
    # git-ignored clutter in the working tree is not reported
    repo.commit({".gitignore": ".gitassist/\n.DS_Store\n", "assistants/team/README.md": None})
    (repo.path / "assistants/team/link.yaml").unlink()
    repo.git("commit", "-qam", "tidy")
    (repo.path / "assistants/team/.DS_Store").write_bytes(b"\0")
    assert "not assistant documents" not in cli("validate", "--repo", r).stderr


# --------------------------------------------------------------------------- layouts

_stem = st.text("abcxyz-", min_size=1, max_size=4).filter(lambda s: not s.startswith("-"))
_folder = st.lists(st.sampled_from(["team", "ops", "eu", "a"]), min_size=0, max_size=3)
_layout = st.lists(
    st.tuples(_folder, _stem, st.sampled_from([".yaml", ".yml"])),
    min_size=1,
    max_size=6,
    unique_by=lambda t: ("/".join(t[0]), t[1]),
)


def _new_repo(files: dict[str, str]) -> Repo:
    path = Path(tempfile.mkdtemp(prefix="nested-"))
    git(path, "init", "-q", "-b", "main")
    repo = Repo(path)
    repo.commit(
        {
            "langgraph.json": json.dumps(
                {"dependencies": ["."], "graphs": {"agent": "./graph.py:graph"}}
            ),
            "graph.py": GRAPH_PY,
            "schemas/agent.context.json": json.dumps(CONTEXT_SCHEMA),
            ".gitignore": ".gitassist/\n",
            **files,
        }
    )
    return repo


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(layout=_layout)
def test_validate_apply_and_list_agree_on_any_folder_layout(cli, layout):
    files, expected = {}, {}
    for folders, stem, suffix in layout:
        path = "/".join(["assistants", *folders, stem + suffix])
        if any(
            p.startswith(path.removesuffix(suffix) + "/")
            or path.startswith(p.rsplit(".", 1)[0] + "/")
            for p in files
        ):
            continue  # a file and a folder of one name cannot both exist
        aid = str(uuid.uuid4())
        files[path] = doc_yaml(aid, f"n-{len(files)}")
        expected[aid] = f"n-{len(files) - 1}"
    repo = _new_repo(files)
    try:
        report = as_json(cli("validate", "--repo", str(repo.path), "--json"))
        assert isinstance(report, dict) and report["documents"] == len(files)
        applied = cli("apply", "--repo", str(repo.path)).stdout
        assert f"{len(files)} version(s) recorded" in applied
        assert list_ids(cli, repo) == expected
        for path in files:  # every file is reachable by its path-qualified name
            name = path.removeprefix("assistants/")
            name = name.removesuffix(".yaml") if name.endswith(".yaml") else name
            cli("get", name, "--repo", str(repo.path))
    finally:
        shutil.rmtree(repo.path, ignore_errors=True)


# --------------------------------------------------------------------------- item 8


def test_an_unrelated_invalid_document_does_not_block_writes(make_repo, cli):
    repo = make_repo(
        {"assistants/bot.yaml": doc_yaml(A, "Bot"), "assistants/x.yaml": doc_yaml(B, "X")}
    )
    r = str(repo.path)
    cli("apply", "--repo", r)
    repo.commit({"assistants/x.yaml": doc_yaml(B, "X", graph_id="nope")}, "break x")
    applied_before = repo.refs()["refs/gitassist/applied"]
    for args in (
        ("update", "Bot", "--name", "Bot 2"),
        ("update", "Bot 2", "--name", "Bot 3"),
        ("create", "agent", "--name", "Other", "--set", "model_name=echo"),
    ):
        result = cli(*args, "--repo", r)
        assert "warning: assistants/x.yaml:" in result.stderr
        assert "unknown graph_id `nope`" in result.stderr
    cli("delete", "Other", "--repo", r)
    assert versions(cli, repo, A) == [1, 2, 3]
    assert versions(cli, repo, B) == [1]  # the invalid document was not recorded
    # apply stays all-or-nothing: nothing recorded while a document is invalid
    refs = repo.refs()
    assert refs["refs/gitassist/applied"] == applied_before
    err = cli("apply", "--repo", r, code=3).stderr
    assert "unknown graph_id `nope`" in err and "nothing was recorded" in err
    assert repo.refs() == refs
    # fixed: apply records it and recognises what the writes recorded (no second copies)
    repo.commit({"assistants/x.yaml": doc_yaml(B, "X fixed")}, "fix x")
    cli("apply", "--repo", r)
    assert versions(cli, repo, A) == [1, 2, 3]
    assert versions(cli, repo, B)[-1] >= 2
    assert as_json(cli("get", B, "--repo", r, "--json"))["name"] == "X fixed"  # type: ignore[index]
    assert "No changes" in cli("apply", "--repo", r).stdout


def test_a_write_that_duplicates_an_id_is_still_refused(make_repo, cli):
    repo = make_repo({"assistants/bot.yaml": doc_yaml(A, "Bot")})
    r = str(repo.path)
    cli("apply", "--repo", r)
    repo.commit({"assistants/x.yaml": doc_yaml(B, "X", graph_id="nope")})
    before = repo.refs(), repo.git("status", "--porcelain")
    err = cli("create", "agent", "--id", A, "--name", "Dup", "--repo", r, code=5).stderr
    assert "already exists" in err
    err = cli("update", "Bot", "--graph", "nope", "--repo", r, code=None)
    assert err.exit_code != 0
    assert (repo.refs(), repo.git("status", "--porcelain")) == before


def test_subprocess_sanity_nested_get(make_repo, run_cli):
    repo = make_repo({"assistants/team/bot.yaml": doc_yaml(A, "Bot")})
    proc = run_cli("get", "team/bot", "--json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["assistant_id"] == A
