"""gitassist diff / versions diff: the semantic review of assistant changes on real repos."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from conftest import CONTEXT_SCHEMA, doc_yaml

A = "11111111-1111-4111-8111-111111111111"
B = "22222222-2222-4222-8222-222222222222"
C = "33333333-3333-4333-8333-333333333333"
D = "44444444-4444-4444-8444-444444444444"
PROMPT = "You are a support agent.\nAnswer in English.\nBe brief.\n"


def support(**context: Any) -> str:
    return doc_yaml(
        A, name="Support", context={"model_name": "echo", "system_prompt": PROMPT, **context}
    )


def base_repo(make_repo: Any, cli: Any) -> Any:
    """main with three assistants, applied (version 1 each), then a feature branch."""
    repo = make_repo(
        {
            "assistants/support.yaml": support(),
            "assistants/old.yaml": doc_yaml(B, name="Old"),
            "assistants/moved.yaml": doc_yaml(C, name="Moved"),
        }
    )
    cli("apply", "-C", str(repo.path))
    repo.git("switch", "-q", "-c", "feature")
    return repo


def diff_json(cli: Any, repo: Any, *args: str) -> dict[str, Any]:
    return dict(json.loads(cli("diff", "-C", str(repo.path), "--format", "json", *args).stdout))


def by_kind(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["kind"]: c for c in data["assistants"]}


def test_added_changed_deleted_renamed_against_merge_base(make_repo: Any, cli: Any) -> None:
    repo = base_repo(make_repo, cli)
    repo.commit(
        {
            "assistants/support.yaml": support(
                model_name="openai", system_prompt=PROMPT.replace("English", "French")
            ),
            "assistants/old.yaml": None,
            "assistants/moved.yaml": None,
            "assistants/renamed.yaml": doc_yaml(C, name="Moved"),
            "assistants/new.yaml": doc_yaml(D, name="New"),
        },
        "feature work",
    )
    data = diff_json(cli, repo)
    kinds = by_kind(data)
    assert sorted(kinds) == ["added", "changed", "deleted", "renamed"]
    changed = kinds["changed"]
    assert changed["version"] == 2 and changed["valid"]
    fields = {f["path"]: f for f in changed["fields"]}
    assert fields["$.context.model_name"]["old"] == "echo"
    assert fields["$.context.model_name"]["new"] == "openai"
    prompt_diff = fields["$.context.system_prompt"]["text_diff"]
    assert "-Answer in English." in prompt_diff and "+Answer in French." in prompt_diff
    assert kinds["added"]["version"] == 1 and kinds["added"]["name"] == "New"
    assert {f["path"] for f in kinds["added"]["fields"]} >= {"$.name", "$.context.model_name"}
    assert kinds["deleted"]["assistant_id"] == B and kinds["deleted"]["version"] is None
    renamed = kinds["renamed"]
    assert (renamed["old_path"], renamed["new_path"]) == (
        "assistants/moved.yaml",
        "assistants/renamed.yaml",
    )
    assert renamed["fields"] == [] and renamed["version"] is None
    human = cli("diff", "-C", str(repo.path)).output
    assert "renamed from assistants/moved.yaml (same content: no new version)" in human
    assert 'context.model_name: "echo" → "openai"' in human
    assert "becomes version 2" in human


def test_version_counts_unapplied_changes_on_the_tracked_branch(make_repo: Any, cli: Any) -> None:
    repo = base_repo(make_repo, cli)
    repo.git("switch", "-q", "main")
    repo.commit({"assistants/support.yaml": support(model_name="anthropic")}, "not applied yet")
    repo.git("switch", "-q", "-c", "feature2")
    repo.commit({"assistants/support.yaml": support(model_name="openai")}, "feature")
    assert by_kind(diff_json(cli, repo))["changed"]["version"] == 3


def test_rename_only_is_not_a_content_change(make_repo: Any, cli: Any) -> None:
    repo = base_repo(make_repo, cli)
    repo.git("mv", "assistants/support.yaml", "assistants/helpdesk.yaml")
    repo.commit({}, "rename")
    data = diff_json(cli, repo)
    assert [c["kind"] for c in data["assistants"]] == ["renamed"]
    assert data["assistants"][0]["assistant_id"] == A


def test_explicit_revisions_and_exit_code(make_repo: Any, cli: Any) -> None:
    repo = base_repo(make_repo, cli)
    cli("diff", "-C", str(repo.path), "--exit-code")
    first = repo.commit({"assistants/support.yaml": support(model_name="openai")}, "one")
    cli("diff", "-C", str(repo.path), "--exit-code", code=1)
    same = cli("diff", "-C", str(repo.path), first, first, "--exit-code")
    assert "no changes" in same.output
    data = diff_json(cli, repo, "main", first)
    assert data["head"] == first and data["changes"]


def test_secrets_are_redacted_in_every_format(make_repo: Any, cli: Any) -> None:
    key = "sk-" + "Zx9" * 12
    token = "tok3nV4lue99"
    schema = {
        **CONTEXT_SCHEMA,
        "properties": {**CONTEXT_SCHEMA["properties"], "api_token": {"type": "string"}},
    }
    repo = make_repo(
        {"schemas/agent.context.json": json.dumps(schema), "assistants/support.yaml": support()}
    )
    cli("apply", "-C", str(repo.path))
    repo.git("switch", "-q", "-c", "feature")
    repo.commit(
        {
            "assistants/support.yaml": support(
                system_prompt=PROMPT + f"Use the key {key} for lookups.\n", api_token=token
            )
        }
    )
    outputs = [
        cli("diff", "-C", str(repo.path), "--format", fmt).output
        for fmt in ("human", "json", "markdown")
    ]
    for output in outputs:
        assert key not in output and token not in output
        assert "«redacted»" in output
    assert "Use the key «redacted» for lookups." in outputs[0]


def test_schema_change_in_the_same_commit_as_the_assistant_change(make_repo: Any, cli: Any) -> None:
    repo = make_repo(
        {"assistants/support.yaml": support(), "assistants/other.yaml": doc_yaml(B, name="Other")}
    )
    cli("apply", "-C", str(repo.path))
    repo.git("switch", "-q", "-c", "feature")
    schema = json.loads(json.dumps(CONTEXT_SCHEMA))
    schema["properties"]["tone"] = {"enum": ["terse", "chatty"], "type": "string"}
    schema["required"] = ["model_name", "tone"]
    repo.commit(
        {
            "schemas/agent.context.json": json.dumps(schema, indent=2),
            "assistants/support.yaml": support(tone="terse"),
        },
        "tone is required",
    )
    data = diff_json(cli, repo)
    change = data["assistants"][0]
    assert change["name"] == "Support" and change["valid"] and change["version"] == 2
    (schema_change,) = data["schemas"]
    assert schema_change["graph_id"] == "agent" and schema_change["kind"] == "changed"
    assert schema_change["assistants"] == 2
    assert [b["name"] for b in schema_change["broken"]] == ["Other"]
    assert "missing required key `tone`" in schema_change["broken"][0]["problems"][0]["message"]
    assert '"tone"' in schema_change["text_diff"]
    assert not data["valid"]
    markdown = cli("diff", "-C", str(repo.path), "--format", "markdown").output
    assert "1 of 2 assistant(s) of graph `agent` stop validating" in markdown
    assert "- Other (`assistants/other.yaml`): missing required key `tone`" in markdown


def test_invalid_document_at_head_is_shown_with_its_problems(make_repo: Any, cli: Any) -> None:
    repo = base_repo(make_repo, cli)
    repo.commit(
        {
            "assistants/support.yaml": support(model_name="gpt5"),
            "assistants/broken.yaml": "assistant_id: [\n",
            "assistants/aaa.yaml": doc_yaml(D, name="Fine"),
        }
    )
    data = diff_json(cli, repo)
    changes = {c["new_path"]: c for c in data["assistants"]}
    bad = changes["assistants/support.yaml"]
    assert not bad["valid"] and bad["version"] is None
    assert bad["problems"][0]["line"] == 4 and bad["problems"][0]["rev"]
    assert changes["assistants/broken.yaml"]["problems"][0]["code"] == "invalid_yaml"
    markdown = cli("diff", "-C", str(repo.path), "--format", "markdown").output
    assert markdown.index("### ✏️ Support ❌") < markdown.index("### 🆕 Fine")
    assert "2 added, 1 changed; 2 invalid" in markdown


def test_markdown_stays_under_the_comment_limit(make_repo: Any, cli: Any) -> None:
    n = 3000
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]
    repo = make_repo(
        {f"assistants/a{i:04d}.yaml": doc_yaml(ids[i], name=f"Bot {i}") for i in range(n)}
    )
    repo.git("switch", "-q", "-c", "feature")
    repo.commit(
        {
            f"assistants/a{i:04d}.yaml": doc_yaml(
                ids[i], name=f"Bot {i}", context={"model_name": "openai", "system_prompt": f"P{i}"}
            )
            for i in range(n)
        },
        "change all",
    )
    markdown = cli("diff", "-C", str(repo.path), "--format", "markdown").output
    assert len(markdown) < 65_536
    assert "3000 changed" in markdown
    assert "not shown in full to stay under GitHub's 65,536-character comment limit" in markdown
    assert "### ✏️ Bot 0" in markdown
    assert len(diff_json(cli, repo)["assistants"]) == n


def test_versions_diff_compares_two_recorded_versions(make_repo: Any, cli: Any) -> None:
    from gitassist.cli.review import versions_diff

    repo = make_repo({"assistants/support.yaml": support()})
    cli("apply", "-C", str(repo.path))
    repo.commit({"assistants/support.yaml": support(model_name="openai")}, "v2")
    cli("apply", "-C", str(repo.path))
    runner = CliRunner()
    result = runner.invoke(
        versions_diff, ["Support", "1", "2", "-C", str(repo.path), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["from"] == 1 and data["to"] == 2 and data["kind"] == "changed"
    assert [f["path"] for f in data["fields"]] == ["$.context.model_name"]
    human = runner.invoke(versions_diff, ["Support", "1", "2", "-C", str(repo.path)]).output
    assert 'context.model_name: "echo" → "openai"' in human
    missing = runner.invoke(versions_diff, ["Support", "1", "9", "-C", str(repo.path)])
    assert "has no version 9" in str(missing.exception)


def test_versions_diff_through_the_versions_command(make_repo: Any, cli: Any) -> None:
    """`gitassist versions diff` reaches the review command by a plain import."""
    repo = make_repo({"assistants/support.yaml": support()})
    cli("apply", "-C", str(repo.path))
    repo.commit({"assistants/support.yaml": support(model_name="openai")}, "v2")
    cli("apply", "-C", str(repo.path))
    result = cli("versions", "diff", "Support", "1", "2", "-C", str(repo.path), "--json")
    data = json.loads(result.output)
    assert data["from"] == 1 and data["to"] == 2
    assert [f["path"] for f in data["fields"]] == ["$.context.model_name"]


def test_duplicate_id_in_a_review_names_the_other_file_and_the_line(
    make_repo: Any, cli: Any, run_cli: Any
) -> None:
    """diff, apply and validate share one duplicate-id check: same message, same location."""
    repo = base_repo(make_repo, cli)
    repo.commit({"assistants/copy.yaml": doc_yaml(B, name="Copy")}, "copy old's id")
    change = by_kind(diff_json(cli, repo))["added"]
    problem = next(p for p in change["problems"] if p["code"] == "duplicate_id")
    assert problem["message"] == f"assistant_id {B} is also used by assistants/old.yaml"
    assert (problem["json_path"], problem["line"], problem["column"]) == ("$.assistant_id", 1, 1)
    rev = problem["rev"]
    text = cli("diff", "-C", str(repo.path)).stdout
    assert (
        f"{rev}:assistants/copy.yaml:1:1: error: assistant_id {B} is also used by "
        "assistants/old.yaml [$.assistant_id]"
    ) in text
    validated = json.loads(
        cli("validate", "-C", str(repo.path), "--format", "json", code=3).stdout
    )["problems"]
    same = next(p for p in validated if p["file"] == "assistants/copy.yaml")
    assert same["message"] == problem["message"]
    assert (same["line"], same["column"]) == (1, 1)
    failed = run_cli("apply", "-C", str(repo.path), "--any-branch")
    assert failed.returncode == 3
    assert (
        f"  assistants/copy.yaml:1:1: error: assistant_id {B} is also used by "
        "assistants/old.yaml [$.assistant_id]"
    ) in failed.stderr.splitlines()
