"""gitassist validate: every problem kind, with file, line, column, JSON path and revision."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from conftest import doc_yaml

A = "11111111-1111-4111-8111-111111111111"
B = "22222222-2222-4222-8222-222222222222"

NESTED_SCHEMA = {
    "$defs": {
        "Limits": {
            "properties": {"max_tokens": {"type": "integer"}},
            "type": "object",
        }
    },
    "properties": {
        "model_name": {"enum": ["echo", "openai", "anthropic"], "type": "string"},
        "limits": {"$ref": "#/$defs/Limits"},
    },
    "required": ["model_name"],
    "type": "object",
}


def problems_of(cli: Any, path: Any, *args: str, code: int = 3) -> list[dict[str, Any]]:
    result = cli("validate", "-C", str(path), "--format", "json", *args, code=code)
    data = json.loads(result.stdout)
    assert data["valid"] is (code == 0 and data["errors"] == 0)
    return list(data["problems"])


def only(problems: list[dict[str, Any]], code: str) -> dict[str, Any]:
    found = [p for p in problems if p["code"] == code]
    assert len(found) == 1, problems
    return found[0]


def test_valid_repository(make_repo: Any, cli: Any) -> None:
    repo = make_repo({"assistants/a.yaml": doc_yaml(A)})
    result = cli("validate", "-C", str(repo.path))
    assert "1 document(s) valid" in result.output


def test_malformed_yaml_points_at_line_and_column(make_repo: Any, cli: Any) -> None:
    text = f"assistant_id: {A}\ngraph_id: agent\ncontext:\n  model_name: [echo\n"
    repo = make_repo({"assistants/a.yaml": text})
    problem = only(problems_of(cli, repo.path), "invalid_yaml")
    assert problem["file"] == "assistants/a.yaml"
    assert problem["line"] is not None and problem["line"] >= 4
    assert problem["column"] is not None


def test_document_format_problems(make_repo: Any, cli: Any) -> None:
    text = "assistant_id: not-a-uuid\ngraph_id: agent\ncolour: red\n"
    repo = make_repo({"assistants/a.yaml": text})
    problems = problems_of(cli, repo.path)
    extra = next(p for p in problems if "colour" in p["message"])
    assert (extra["line"], extra["column"], extra["json_path"]) == (3, 1, "$.colour")
    assert any("UUID" in p["message"] and p["json_path"] == "$.assistant_id" for p in problems)


def test_unknown_graph_id_with_suggestion(make_repo: Any, cli: Any) -> None:
    repo = make_repo({"assistants/a.yaml": doc_yaml(A, graph_id="agnet")})
    problem = only(problems_of(cli, repo.path), "unknown_graph")
    assert "did you mean `agent`" in problem["message"]
    assert (problem["line"], problem["column"], problem["json_path"]) == (2, 11, "$.graph_id")


def test_duplicate_assistant_id_names_both_files(make_repo: Any, cli: Any) -> None:
    repo = make_repo(
        {"assistants/a.yaml": doc_yaml(A, name="One"), "assistants/b.yaml": doc_yaml(A, name="Two")}
    )
    problems = [p for p in problems_of(cli, repo.path) if p["code"] == "duplicate_id"]
    assert {p["file"] for p in problems} == {"assistants/a.yaml", "assistants/b.yaml"}
    by_file = {p["file"]: p["message"] for p in problems}
    assert "assistants/b.yaml" in by_file["assistants/a.yaml"]
    assert "assistants/a.yaml" in by_file["assistants/b.yaml"]


def test_unknown_context_key_did_you_mean(make_repo: Any, cli: Any) -> None:
    text = textwrap.dedent(f"""\
        assistant_id: {A}
        graph_id: agent
        context:
          model_name: echo
          sytem_prompt: hello
        """)
    repo = make_repo({"assistants/a.yaml": text})
    problem = only(problems_of(cli, repo.path), "unknown_key")
    assert "did you mean `system_prompt`?" in problem["message"]
    assert (problem["line"], problem["column"]) == (5, 3)
    assert problem["json_path"] == "$.context.sytem_prompt"


def test_unknown_keys_allowed_by_policy(make_repo: Any, cli: Any) -> None:
    repo = make_repo(
        {
            "gitassist.yaml": "unknown_context_keys: allow\n",
            "assistants/a.yaml": doc_yaml(A, context={"model_name": "echo", "extra": 1}),
        }
    )
    assert problems_of(cli, repo.path, code=0) == []


def test_schema_errors_every_one_reported(make_repo: Any, cli: Any) -> None:
    text = textwrap.dedent(f"""\
        assistant_id: {A}
        graph_id: agent
        context:
          model_name: gpt5
          system_prompt: 42
        """)
    repo = make_repo(
        {
            "assistants/a.yaml": text,
            "assistants/b.yaml": doc_yaml(B, context={"system_prompt": "x"}),
        }
    )
    problems = problems_of(cli, repo.path)
    enum = only(problems, "schema.enum")
    assert '"gpt5" is not allowed; allowed values: "echo", "openai", "anthropic"' in enum["message"]
    assert (enum["line"], enum["column"], enum["json_path"]) == (4, 15, "$.context.model_name")
    kind = only(problems, "schema.type")
    assert "expected string, got 42" in kind["message"]
    required = only(problems, "required")
    assert required["file"] == "assistants/b.yaml"
    assert "missing required key `model_name`" in required["message"]
    assert required["json_path"] == "$.context.model_name"


def test_nested_unknown_key_through_ref(make_repo: Any, cli: Any) -> None:
    repo = make_repo(
        {
            "schemas/agent.context.json": json.dumps(NESTED_SCHEMA),
            "assistants/a.yaml": doc_yaml(
                A, context={"model_name": "echo", "limits": {"max_tokns": 5}}
            ),
        }
    )
    problem = only(problems_of(cli, repo.path), "unknown_key")
    assert problem["json_path"] == "$.context.limits.max_tokns"
    assert "did you mean `max_tokens`?" in problem["message"]


def test_secret_is_flagged_not_echoed(make_repo: Any, cli: Any) -> None:
    secret = "sk-" + "a1B2" * 10
    schema = {
        "properties": {"model_name": {"type": "string"}, "api_key": {"type": "integer"}},
        "type": "object",
    }
    repo = make_repo(
        {
            "schemas/agent.context.json": json.dumps(schema),
            "assistants/a.yaml": doc_yaml(A, context={"model_name": "echo", "api_key": secret}),
        }
    )
    result = cli("validate", "-C", str(repo.path), "--format", "json", code=3)
    assert secret not in result.output
    problems = json.loads(result.stdout)["problems"]
    warning = only(problems, "secret")
    assert warning["severity"] == "warning" and warning["json_path"] == "$.context.api_key"
    assert "environment" in warning["message"]


def test_secret_warning_fails_only_with_strict(make_repo: Any, cli: Any) -> None:
    repo = make_repo(
        {
            "assistants/a.yaml": doc_yaml(
                A, context={"model_name": "echo", "system_prompt": "ghp_" + "x" * 36}
            )
        }
    )
    cli("validate", "-C", str(repo.path))
    cli("validate", "-C", str(repo.path), "--strict", code=3)


def test_github_annotations(make_repo: Any, cli: Any) -> None:
    repo = make_repo({"assistants/a.yaml": doc_yaml(A, context={"model_name": "gpt5"})})
    result = cli("validate", "-C", str(repo.path), "--format", "github", code=3)
    line = next(x for x in result.stdout.splitlines() if x.startswith("::error"))
    assert line.startswith("::error file=assistants/a.yaml,line=4,col=")
    assert "title=gitassist schema.enum::" in line
    assert "allowed values" in line


def test_rev_reads_history_and_names_the_revision(make_repo: Any, cli: Any) -> None:
    repo = make_repo({"assistants/a.yaml": doc_yaml(A, context={"model_name": "gpt5"})})
    repo.commit({"assistants/a.yaml": doc_yaml(A)}, "fix")
    cli("validate", "-C", str(repo.path))
    problem = only(problems_of(cli, repo.path, "--rev", "HEAD~1"), "schema.enum")
    assert problem["rev"] == "HEAD~1"
    human = cli("validate", "-C", str(repo.path), "--rev", "HEAD~1", code=3).output
    assert "HEAD~1:assistants/a.yaml:4:" in human


def test_working_tree_is_validated_before_commit(make_repo: Any, cli: Any) -> None:
    repo = make_repo({"assistants/a.yaml": doc_yaml(A)})
    repo.write({"assistants/a.yaml": doc_yaml(A, context={"model_name": "nope"})})
    problems_of(cli, repo.path)


def test_paths_only_those_files_but_ids_against_all(make_repo: Any, cli: Any) -> None:
    repo = make_repo(
        {
            "assistants/a.yaml": doc_yaml(A, context={"model_name": "bad"}),
            "assistants/b.yaml": doc_yaml(B),
            "assistants/c.yaml": doc_yaml(B, name="Copy"),
        }
    )
    problems = problems_of(cli, repo.path, str(repo.path / "assistants/c.yaml"))
    assert [(p["file"], p["code"]) for p in problems] == [("assistants/c.yaml", "duplicate_id")]
    assert "assistants/b.yaml" in problems[0]["message"]


def test_invalid_schema_file_is_an_error(make_repo: Any, cli: Any) -> None:
    repo = make_repo({"schemas/agent.context.json": "{not json", "assistants/a.yaml": doc_yaml(A)})
    problem = only(problems_of(cli, repo.path), "invalid_schema")
    assert problem["file"] == "schemas/agent.context.json"
    assert problem["line"] == 1


def test_exit_code_and_stderr_in_a_real_process(make_repo: Any, run_cli: Any) -> None:
    repo = make_repo({"assistants/a.yaml": doc_yaml(A, graph_id="nope")})
    proc = run_cli("validate", cwd=repo.path)
    assert proc.returncode == 3
    assert "assistants/a.yaml:2:11: error: unknown graph_id `nope`" in proc.stdout
    assert "1 error(s)" in proc.stderr


def test_validation_never_imports_graph_code(make_repo: Any) -> None:
    repo = make_repo(
        {
            "assistants/a.yaml": doc_yaml(A, context={"model_name": "bad"}),
            "graph.py": "raise SystemExit('graph code ran')\n",
        }
    )
    script = textwrap.dedent(f"""
        import sys
        from gitassist.cli.main import cli
        code = cli.main(["validate", "-C", {str(repo.path)!r}], standalone_mode=False)
    """)
    check = "\nimport sys; assert 'langgraph' not in sys.modules, 'langgraph imported'"
    wrapped = (
        "try:\n" + textwrap.indent(script, "    ") + "\nexcept SystemExit as e:\n"
        "    assert e.code == 3, e.code\n" + check + "\nprint('clean')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapped], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "clean" in proc.stdout


def test_round_trip_parse_only_for_documents_with_problems(
    make_repo: Any, monkeypatch: Any
) -> None:
    from gitassist import documents, validation

    files = {
        f"assistants/a{i:04d}.yaml": doc_yaml(f"00000000-0000-4000-8000-{i:012d}", name=f"Bot {i}")
        for i in range(500)
    }
    files["assistants/bad.yaml"] = doc_yaml(A, context={"model_name": "bad", "x": 1})
    repo = make_repo(files)
    calls = []
    real = documents.load_roundtrip
    monkeypatch.setattr(documents, "load_roundtrip", lambda t: calls.append(1) or real(t))
    report = validation.validate(repo.store())
    assert report.documents == 501 and len(report.errors) == 2
    assert len(calls) == 1  # one round-trip parse, for the one bad document
