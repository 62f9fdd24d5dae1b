"""Staging and production as two real ``langgraph dev`` servers: apply -> staging follows ->
promote one -> promote --all -> sync each -> each server checked through the official SDK."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any

import pytest
from conftest import EXAMPLE, Repo, git

try:
    from lgserver import start_server
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.lgserver import start_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.server, pytest.mark.slow]
langgraph_sdk = pytest.importorskip("langgraph_sdk")


def _served(base: Path, name: str) -> Path:
    path = base / name
    shutil.copytree(EXAMPLE, path, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api"))
    return path


def _on_server(sdk: Any) -> dict[str, dict[str, Any]]:
    page = sdk.assistants.search(limit=100)
    return {a["name"]: a for a in page if a["metadata"].get("created_by") != "system"}


def test_two_servers_staging_and_production(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    staging = start_server(_served(tmp_path, "staging"), log_path=tmp_path / "staging.log")
    try:
        production = start_server(_served(tmp_path, "prod"), log_path=tmp_path / "prod.log")
        try:
            _walkthrough(tmp_path, cli, staging.url, production.url)
        finally:
            production.stop()
    finally:
        staging.stop()


def _walkthrough(tmp_path: Path, cli: Any, staging_url: str, production_url: str) -> None:
    path = _served(tmp_path, "repo")
    (path / ".gitignore").write_text(".langgraph_api/\n__pycache__/\n.gitassist/\n")
    (path / "gitassist.yaml").write_text(
        "environments:\n"
        f"  staging: {{follows: latest, deployment: '{staging_url}'}}\n"
        "  production:\n"
        "    promote_from: staging\n"
        "    protected: true\n"
        f"    deployment: {{url: '{production_url}'}}\n"
    )
    git(path, "init", "-q", "-b", "main")
    repo = Repo(path)
    repo.commit({}, "example with two environments")

    def run(*args: str, code: int = 0) -> Any:
        return cli(*args, "-C", str(path), code=code)

    ids = {}
    for name in ("Alpha", "Beta"):
        created = json.loads(
            run("create", "agent", "--name", name, "--set", "model_name=echo", "--json").stdout
        )
        ids[name] = created["assistant_id"]
    run("promote", "Alpha", "--to", "production", "--reason", "first", "--force")
    synced = json.loads(run("sync", "staging", "--json").stdout)
    assert synced["environment"] == "staging"
    prod = json.loads(run("sync", "production", "--json").stdout)
    skipped = {a["name"]: a["reason"] for a in prod["assistants"] if a["action"] == "skip"}
    assert skipped == {"Beta": "not promoted to production"}

    stage_sdk = langgraph_sdk.get_sync_client(url=staging_url, api_key=None)
    prod_sdk = langgraph_sdk.get_sync_client(url=production_url, api_key=None)
    assert set(_on_server(stage_sdk)) == {"Alpha", "Beta"}
    assert set(_on_server(prod_sdk)) == {"Alpha"}

    run("update", "Alpha", "--set", "system_prompt=second")
    run("sync", "staging")
    assert _on_server(stage_sdk)["Alpha"]["context"]["system_prompt"] == "second"
    run("sync", "production")
    assert "system_prompt" not in _on_server(prod_sdk)["Alpha"]["context"]

    run("promote", "--all", "--from", "staging", "--to", "production", "--reason", "r1", "--force")
    run("sync", "production")
    on_prod, on_stage = _on_server(prod_sdk), _on_server(stage_sdk)
    assert set(on_prod) == {"Alpha", "Beta"}
    for name in ("Alpha", "Beta"):
        # same ids and version stamps on both deployments
        assert on_prod[name]["assistant_id"] == on_stage[name]["assistant_id"] == ids[name]
        assert (
            on_prod[name]["metadata"]["gitassist_version"]
            == on_stage[name]["metadata"]["gitassist_version"]
        )
    assert on_prod["Alpha"]["context"]["system_prompt"] == "second"
    drift = json.loads(run("drift", "production", "--json").stdout)
    assert drift["drift"] is False and drift["in_sync"] == 2
