"""gitassist sync / drift / adopt against a real ``langgraph dev`` server.

One server per module (its start-up is the costly part) serves a git copy of example-repo/
(the server and the repository are the same directory). Each test starts from a clean slate
(the ``deployment`` fixture): a new git history of that directory and no assistant on the
server but the graph's default one; what a test needs it creates itself, so any test runs
alone. Each one ends with the server equal to git, checked through the official SDK.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from conftest import EXAMPLE, Repo, git

try:
    from lgserver import Server, start_server
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.lgserver import Server, start_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


pytestmark = pytest.mark.server
langgraph_sdk = pytest.importorskip("langgraph_sdk")

DEFAULT_AGENT = "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
PINNED_ENV = {
    "GIT_AUTHOR_NAME": "Ada Author",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Author",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Deployment:
    repo: Repo
    server: Server
    sdk: Any

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    base = tmp_path_factory.mktemp("sync")
    with pytest.MonkeyPatch.context() as mp:
        home = base / "home"
        home.mkdir()
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        for key, value in PINNED_ENV.items():
            mp.setenv(key, value)
        path = base / "repo"
        shutil.copytree(
            EXAMPLE, path, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api")
        )
        # the server keeps its state under .langgraph_api/ in the directory it serves
        (path / ".gitignore").write_text(".langgraph_api/\n__pycache__/\n.gitassist/\n")
        repo = new_history(path)
        server = start_server(path, log_path=base / "server.log")
        try:
            sdk = langgraph_sdk.get_sync_client(url=server.url, api_key=None)
            yield Deployment(repo, server, sdk)
        finally:
            server.stop()
    assert not server.is_running()


def new_history(path: Path) -> Repo:
    """PATH as a repository of one commit of its files, with no assistant and no gitassist ref."""
    for state in (".git", "assistants", ".gitassist"):
        shutil.rmtree(path / state, ignore_errors=True)
    git(path, "init", "-q", "-b", "main")
    repo = Repo(path)
    repo.commit({}, "example")
    return repo


@pytest.fixture
def deployment(served: Deployment) -> Deployment:
    """The module's server and directory as a clean slate: a new git history and, on the
    server, only the graph's default assistant."""
    for assistant in list_server(served).values():
        if assistant["metadata"].get("created_by") != "system":
            served.sdk.assistants.delete(assistant["assistant_id"])
    served.repo = new_history(served.repo.path)
    assert list(list_server(served)) == [DEFAULT_AGENT]
    return served


# --------------------------------------------------------------------------- helpers


def run_sync(dep: Deployment, **kwargs: Any) -> Any:
    from gitassist.server import connect
    from gitassist.sync import sync

    with connect(dep.url) as remote:
        return sync(dep.repo.store(), remote, **kwargs)


def by_id(report: Any) -> dict[str, Any]:
    return {item.assistant_id: item for item in report.items}


def list_server(dep: Deployment) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = dep.sdk.assistants.search(limit=100, offset=offset)
        out.update({a["assistant_id"]: a for a in page})
        if len(page) < 100:
            return out
        offset += 100


def git_latest(dep: Deployment) -> dict[str, dict[str, Any]]:
    """Git's latest version of every live assistant, as the gitassist client shows it."""
    from gitassist.resolve import recorded_ids
    from gitassist.versions import read_latest

    store = dep.repo.store()
    client = dep.repo.client()
    out = {}
    for assistant_id in recorded_ids(store):
        state = read_latest(store, assistant_id)
        if state is not None and not state.deleted:
            out[assistant_id] = client.assistants.get(assistant_id)
    return out


def assert_server_equals_git(dep: Deployment) -> None:
    """Through the official SDK: every git assistant's active server version is git's latest."""
    server = list_server(dep)
    for assistant_id, want in git_latest(dep).items():
        assert assistant_id in server, f"{want['name']} is missing on the server"
        have = dep.sdk.assistants.get(assistant_id)  # a get, not only the search row
        where = f"{want['name']} ({assistant_id})"
        assert have["graph_id"] == want["graph_id"], where
        assert have["context"] == want["context"], where
        assert have["name"] == want["name"], where
        assert (have["description"] or None) == (want["description"] or None), where
        config = dict(have["config"])
        assert config.pop("configurable", {}) in ({}, want["context"]), where
        assert config.get("tags", []) == want["config"].get("tags", []), where
        assert config.get("recursion_limit") == want["config"].get("recursion_limit"), where
        metadata = {
            k: v
            for k, v in have["metadata"].items()
            if v is not None and not k.startswith("gitassist_")
        }
        assert metadata == want["metadata"], where
        if "gitassist_version" in have["metadata"]:
            assert have["metadata"]["gitassist_assistant_id"] == assistant_id


def server_version_count(dep: Deployment, assistant_id: str) -> int:
    return len(dep.sdk.assistants.get_versions(assistant_id, limit=1000))


def run_reply(dep: Deployment, assistant_id: str, text: str = "hello") -> str:
    """The docs' flow: a thread, then runs.stream with stream_mode="updates"."""
    thread = dep.sdk.threads.create()
    replies = []
    for event in dep.sdk.runs.stream(
        thread["thread_id"],
        assistant_id,
        input={"messages": [{"role": "user", "content": text}]},
        stream_mode="updates",
    ):
        if event.event == "updates":
            for update in event.data.values():
                replies.extend(m["content"] for m in update.get("messages", []))
    assert replies, "the run produced no messages"
    return str(replies[-1])


@pytest.fixture
def deploy_cli(deployment: Deployment, cli: Callable[..., Any]) -> Callable[..., Any]:
    """Run a deploy command in-process through main() on the deployment's repository; parse
    --json output."""

    def invoke(*args: str, code: int = 0) -> Any:
        result = cli(*args, "--repo", str(deployment.repo.path), code=code)
        return json.loads(result.stdout) if "--json" in args else result.stdout

    return invoke


def support_and_sales(dep: Deployment, versions: int = 1) -> tuple[str, str]:
    """Support (with config and metadata) and Sales, created in git and synced; with
    versions=2 Support is then updated and synced again (the server holds both versions)."""
    client = dep.repo.client()
    support = client.assistants.create(
        "agent",
        context={"model_name": "echo", "system_prompt": "You are Support v1."},
        config={"tags": ["support"], "recursion_limit": 7},
        metadata={"team": "support"},
        name="Support",
        description="Answers customers",
    )
    sales = client.assistants.create(
        "agent", context={"model_name": "echo", "system_prompt": "You sell."}, name="Sales"
    )
    assert not run_sync(dep).failed
    if versions == 2:
        client.assistants.update(
            support["assistant_id"],
            context={"model_name": "echo", "system_prompt": "You are Support v2."},
        )
        assert run_sync(dep).writes == 1
    return support["assistant_id"], sales["assistant_id"]


# --------------------------------------------------------------------------- the tests


def test_first_sync_creates_git_assistants_with_the_same_ids(deployment: Deployment) -> None:
    client = deployment.repo.client()
    support = client.assistants.create(
        "agent",
        context={"model_name": "echo", "system_prompt": "You are Support v1."},
        config={"tags": ["support"], "recursion_limit": 7},
        metadata={"team": "support"},
        name="Support",
        description="Answers customers",
    )
    sales = client.assistants.create(
        "agent", context={"model_name": "echo", "system_prompt": "You sell."}, name="Sales"
    )
    report = run_sync(deployment)
    items = by_id(report)
    assert items[support["assistant_id"]].result == "created"
    assert items[sales["assistant_id"]].result == "created"
    assert DEFAULT_AGENT not in items  # the graph's default assistant is not git's to manage
    assert not report.failed
    assert_server_equals_git(deployment)
    stamped = deployment.sdk.assistants.get(support["assistant_id"])["metadata"]
    assert stamped["gitassist_version"] == 1
    from gitassist.resolve import resolve

    assert (
        stamped["gitassist_commit"]
        == resolve(deployment.repo.store(), support["assistant_id"]).commit
    )
    assert deployment.sdk.assistants.get(DEFAULT_AGENT)["metadata"] == {"created_by": "system"}


def test_second_sync_does_nothing(deployment: Deployment, deploy_cli: Callable[..., Any]) -> None:
    support_and_sales(deployment)
    data = deploy_cli("sync", deployment.url, "--json")
    assert data["writes"] == 0
    assert data["requests"] == 1  # one page of the listing, nothing else
    assert {a["result"] for a in data["assistants"]} == {"unchanged"}
    assert_server_equals_git(deployment)


def test_update_in_git_updates_only_that_assistant(deployment: Deployment) -> None:
    support_id, sales_id = support_and_sales(deployment)
    client = deployment.repo.client()
    sales_versions = server_version_count(deployment, sales_id)
    client.assistants.update(
        support_id,
        context={"model_name": "echo", "system_prompt": "You are Support v2."},
    )
    dry = run_sync(deployment, dry_run=True)
    assert dry.writes == 0
    planned = by_id(dry)[support_id]
    assert (planned.action, planned.result) == ("update", "planned")
    assert [d.path for d in planned.diff] == ["context.system_prompt"]
    report = run_sync(deployment)
    items = by_id(report)
    assert items[support_id].result == "updated"
    assert items[sales_id].result == "unchanged"
    assert report.writes == 1
    assert server_version_count(deployment, sales_id) == sales_versions
    assert_server_equals_git(deployment)
    assert "You are Support v2." in run_reply(deployment, support_id)


def test_rollback_in_git_repoints_and_corrects_the_context(deployment: Deployment) -> None:
    support_id, _ = support_and_sales(deployment, versions=2)
    client = deployment.repo.client()
    before = server_version_count(deployment, support_id)
    client.assistants.set_latest(support_id, 1)
    report = run_sync(deployment)
    item = by_id(report)[support_id]
    assert item.action == "re-point"
    assert item.result == "re-pointed"
    # the server's set_latest restored metadata and config but not the context: corrected
    assert "context.system_prompt" in item.corrected
    active = deployment.sdk.assistants.get(support_id)
    assert active["context"]["system_prompt"] == "You are Support v1."
    assert active["metadata"]["gitassist_version"] == 1
    assert server_version_count(deployment, support_id) == before + 1  # the correction
    assert_server_equals_git(deployment)
    assert "(system: You are Support v1.)" in run_reply(deployment, support_id)
    again = run_sync(deployment)
    assert again.writes == 0

    # roll forward to version 2 in git: the server's version stamped 2 is re-used
    client.assistants.set_latest(support_id, 2)
    forward = by_id(run_sync(deployment))[support_id]
    assert forward.result == "re-pointed"
    # its config.configurable (restored) disagrees with its context (not restored)
    assert set(forward.corrected) == {"context.system_prompt", "config.configurable"}
    assert_server_equals_git(deployment)
    assert "(system: You are Support v2.)" in run_reply(deployment, support_id)


def test_renamed_file_changes_nothing_on_the_server(deployment: Deployment) -> None:
    from gitassist.apply import apply

    _, sales_id = support_and_sales(deployment)
    repo = deployment.repo
    sales = repo.client().assistants.get(sales_id)
    [old] = [p for p in (repo.path / "assistants").iterdir() if p.stem == "sales"]
    repo.git("mv", f"assistants/{old.name}", "assistants/sales-team.yaml")
    repo.git("commit", "-q", "-m", "Rename the sales file")
    apply(repo.store())
    assert repo.client().assistants.get(sales["assistant_id"])["version"] == sales["version"]
    report = run_sync(deployment)
    assert report.writes == 0
    assert by_id(report)[sales["assistant_id"]].result == "unchanged"
    assert_server_equals_git(deployment)


def test_deleted_assistant_is_kept_without_prune_and_deleted_with_it(
    deployment: Deployment, deploy_cli: Callable[..., Any]
) -> None:
    client = deployment.repo.client()
    temp = client.assistants.create("agent", context={"model_name": "echo"}, name="Temp")
    hand = deployment.sdk.assistants.create(
        "agent", context={"system_prompt": "by hand"}, name="Hand-made"
    )
    run_sync(deployment)
    client.assistants.delete(temp["assistant_id"])

    kept = by_id(run_sync(deployment))
    assert kept[temp["assistant_id"]].result == "skipped"
    assert "--prune" in kept[temp["assistant_id"]].reason
    assert deployment.sdk.assistants.get(temp["assistant_id"])  # still there
    drift = deploy_cli("drift", deployment.url, "--json", "--exit-code", code=1)
    kinds = {a["assistant_id"]: a["kind"] for a in drift["assistants"]}
    assert kinds[temp["assistant_id"]] == "deleted_in_git"
    assert kinds[hand["assistant_id"]] == "unmanaged"

    pruned = deploy_cli("sync", deployment.url, "--prune", "--json")
    results = {a["assistant_id"]: a["result"] for a in pruned["assistants"]}
    assert results[temp["assistant_id"]] == "deleted"
    assert results[hand["assistant_id"]] == "skipped"  # no gitassist stamp: never deleted
    server = list_server(deployment)
    assert temp["assistant_id"] not in server
    assert hand["assistant_id"] in server
    assert DEFAULT_AGENT in server
    assert_server_equals_git(deployment)
    deployment.sdk.assistants.delete(hand["assistant_id"])


def test_drift_made_through_the_sdk_is_reported_and_fixed(
    deployment: Deployment, deploy_cli: Callable[..., Any]
) -> None:
    support_id, sales_id = support_and_sales(deployment, versions=2)
    client = deployment.repo.client()
    assert "No drift" in deploy_cli("drift", deployment.url, "--exit-code")

    # an edit "in Studio": the server merges metadata, so the stamps stay on it
    deployment.sdk.assistants.update(
        support_id, context={"model_name": "echo", "system_prompt": "Edited in Studio"}
    )
    deployment.sdk.assistants.delete(sales_id)
    # an assistant git knows, created by hand on the server before sync ever wrote it
    fresh = client.assistants.create(
        "agent", context={"model_name": "echo", "system_prompt": "git"}, name="Fresh"
    )
    deployment.sdk.assistants.create(
        "agent",
        context={"model_name": "echo", "system_prompt": "hand"},
        name="Fresh",
        assistant_id=fresh["assistant_id"],
    )

    data = deploy_cli("drift", deployment.url, "--json", "--exit-code", code=1)
    found = {a["assistant_id"]: a for a in data["assistants"]}
    assert found[support_id]["kind"] == "edited"
    # a context-only update on the server also wipes config.tags/recursion_limit
    assert found[support_id]["diff"] == [
        {"path": "config.recursion_limit", "git": 7, "server": None},
        {"path": "config.tags", "git": ["support"], "server": None},
        {
            "path": "context.system_prompt",
            "git": "You are Support v2.",
            "server": "Edited in Studio",
        },
    ]
    assert found[sales_id]["kind"] == "missing"
    assert found[fresh["assistant_id"]]["kind"] == "unstamped"
    text = deploy_cli("drift", deployment.url, code=0)
    assert "edited: Support" in text
    assert 'context.system_prompt: git "You are Support v2.", server "Edited in Studio"' in text

    report = by_id(run_sync(deployment))
    # the server still holds the version sync wrote for git's version 2: re-point to it
    assert report[support_id].result == "re-pointed"
    assert "context.system_prompt" in report[support_id].corrected
    assert report[sales_id].result == "created"
    assert report[fresh["assistant_id"]].result == "updated"
    assert_server_equals_git(deployment)
    assert deploy_cli("drift", deployment.url, "--json", "--exit-code")["drift"] is False


def test_adopt_writes_a_hand_made_assistant_into_git(
    deployment: Deployment, deploy_cli: Callable[..., Any]
) -> None:
    hand = deployment.sdk.assistants.create(
        "agent",
        context={"model_name": "echo", "system_prompt": "Made in Studio", "temperature": 0.3},
        config={"tags": ["studio"]},
        metadata={"owner": "ops"},
        name="Studio Bot",
        description="Started life on the server",
    )
    data = deploy_cli("adopt", deployment.url, "--json")
    [item] = [a for a in data["assistants"] if a["assistant_id"] == hand["assistant_id"]]
    assert item["result"] == "adopted"
    assert item["path"] == "assistants/studio-bot.yaml"
    assert data["recorded"] is True
    repo = deployment.repo
    assert repo.git("log", "-1", "--format=%s").startswith("Adopt 1 assistant(s)")
    assert repo.git("status", "--porcelain") == ""
    text = (repo.path / item["path"]).read_text()
    assert "gitassist_" not in text and "configurable" not in text
    mine = repo.client().assistants.get(hand["assistant_id"])
    assert mine["context"] == hand["context"]
    assert mine["config"] == {"tags": ["studio"], "configurable": hand["context"]}  # mirrored
    assert mine["metadata"] == {"owner": "ops"}
    assert mine["description"] == "Started life on the server"
    assert mine["version"] == 1
    # the server already holds exactly that content: nothing to write
    report = run_sync(deployment)
    assert report.writes == 0
    assert by_id(report)[hand["assistant_id"]].result == "unchanged"
    assert_server_equals_git(deployment)
    assert deploy_cli("adopt", deployment.url, "--json")["commit"] is None  # nothing left


def test_paging_beyond_ten_assistants(deployment: Deployment) -> None:
    client = deployment.repo.client()
    made = [
        client.assistants.create(
            "agent",
            context={"model_name": "echo", "system_prompt": f"bulk {i}"},
            name=f"Bulk {i:02d}",
        )["assistant_id"]
        for i in range(25)
    ]
    report = run_sync(deployment, page_size=10)
    items = by_id(report)
    assert all(items[i].result == "created" for i in made)
    server = list_server(deployment)
    assert set(made) <= set(server)
    assert len(server) > 25
    assert len(deployment.sdk.assistants.search()) == 10  # the server pages 10 by default
    assert_server_equals_git(deployment)
    again = run_sync(deployment, page_size=10)
    pages = len(server) // 10 + 1
    assert (again.writes, again.requests) == (0, pages)
    assert all(items[i].result == "unchanged" for i in made for items in [by_id(again)])


def test_docs_flow_runs_with_git_latest_context(deployment: Deployment) -> None:
    client = deployment.repo.client()
    bot = client.assistants.create(
        "agent", context={"model_name": "echo", "system_prompt": "Prompt one."}, name="Docs Bot"
    )
    bot_id = bot["assistant_id"]
    run_sync(deployment)
    client.assistants.update(bot_id, context={"model_name": "echo", "system_prompt": "Prompt two."})
    run_sync(deployment)
    assert "(system: Prompt two.)" in run_reply(deployment, bot_id)
    client.assistants.set_latest(bot_id, 1)
    item = by_id(run_sync(deployment))[bot_id]
    assert item.result == "re-pointed"
    assert "context.system_prompt" in item.corrected
    reply = run_reply(deployment, bot_id, "what is your prompt?")
    assert reply == "[echo] (system: Prompt one.) you said: what is your prompt?"


def test_drift_reports_git_changes_not_synced_yet(
    deployment: Deployment, deploy_cli: Callable[..., Any]
) -> None:
    client = deployment.repo.client()
    # Docs Bot at version 2 of 2 in git and on the server, then rolled back to 1 and synced
    bot_id = client.assistants.create(
        "agent", context={"model_name": "echo", "system_prompt": "Prompt one."}, name="Docs Bot"
    )["assistant_id"]
    run_sync(deployment)
    client.assistants.update(bot_id, context={"model_name": "echo", "system_prompt": "Prompt two."})
    run_sync(deployment)
    client.assistants.set_latest(bot_id, 1)
    assert by_id(run_sync(deployment))[bot_id].result == "re-pointed"

    client.assistants.update(bot_id, name="Docs Bot", description="now described")
    data = deploy_cli("drift", deployment.url, "--json")
    [item] = [a for a in data["assistants"] if a["assistant_id"] == bot_id]
    assert item["kind"] == "outdated"
    assert item["stamp"] == 1
    # as on a LangGraph server, an update builds on the active (rolled-back) version 1
    assert item["diff"] == [{"path": "description", "git": "now described", "server": None}]
    run_sync(deployment)
    # and back: git drops the description, which the SDK alone cannot clear on the server
    client.assistants.update(bot_id, context={"model_name": "echo", "system_prompt": "Three."})
    store = deployment.repo.store()
    from gitassist.assistants import update

    update(store, bot_id, description="")
    assert client.assistants.get(bot_id)["description"] in (None, "")
    run_sync(deployment)
    assert (deployment.sdk.assistants.get(bot_id)["description"] or None) is None
    assert_server_equals_git(deployment)
    assert run_sync(deployment).writes == 0


def test_plan_lines_for_a_deployment(deployment: Deployment) -> None:
    from gitassist.cli.deploy import deployment_plan_lines

    client = deployment.repo.client()
    client.assistants.create("agent", context={"model_name": "echo"}, name="Planned")
    lines = deployment_plan_lines(deployment.repo.store(), deployment.url)
    assert lines[0] == f"Deployment {deployment.url} (dry run)"
    assert any(line.startswith("  would create: Planned") for line in lines)
    assert deployment.sdk.assistants.search(name="Planned") == []
    run_sync(deployment)
    lines = deployment_plan_lines(deployment.repo.store(), deployment.url)
    assert lines[-1].endswith("1 request(s), 0 write(s)")


def test_named_deployment_and_api_key(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from gitassist.errors import ConfigError
    from gitassist.server import api_key_for, parse_headers, resolve_target
    from gitassist.store import Store

    repo = tmp_path / "named"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "gitassist.yaml").write_text(
        f"deployments:\n  staging:\n    url: {deployment.url}/\n    api_key_env: STAGING_KEY\n"
    )
    store = Store(repo)
    target = resolve_target(store, "staging")
    assert (target.url, target.name) == (deployment.url, "staging")
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    monkeypatch.setenv("LANGGRAPH_API_KEY", "generic")
    assert api_key_for(target) == "generic"
    monkeypatch.setenv("STAGING_KEY", "secret")
    assert api_key_for(target) == "secret"
    assert parse_headers(["x-api-key: k", "X-Tenant:a:b"]) == {"x-api-key": "k", "X-Tenant": "a:b"}
    with pytest.raises(ConfigError):
        resolve_target(store, "production")
    with pytest.raises(ConfigError):
        parse_headers(["no-colon"])


@pytest.mark.slow  # about 15 s
def test_transient_errors_are_retried_and_writes_not_repeated(deployment: Deployment) -> None:
    import httpx

    from gitassist.server import connect

    remote = connect(deployment.url)
    remote.sleep = lambda _s: None
    calls: list[str] = []

    def flaky() -> str:
        calls.append("x")
        if len(calls) < 3:
            raise httpx.ConnectError("refused")
        return "ok"

    assert remote.call(flaky) == "ok"
    assert len(calls) == 3

    def landed_then_timed_out() -> str:
        calls.append("write")
        raise httpx.ReadTimeout("slow")

    calls.clear()
    assert remote.call(landed_then_timed_out, done=lambda: True) is None
    assert calls == ["write"]  # the write landed: no second attempt

    def not_found() -> None:
        request = httpx.Request("GET", deployment.url)
        raise httpx.HTTPStatusError(
            "404", request=request, response=httpx.Response(404, request=request)
        )

    with pytest.raises(httpx.HTTPStatusError):
        remote.call(not_found)
    remote.close()

    dead = connect("http://127.0.0.1:9", retries=1)
    dead.sleep = lambda _s: None
    from gitassist.errors import RemoteError
    from gitassist.sync import sync

    with pytest.raises(RemoteError):
        sync(deployment.repo.store(), dead)
    dead.close()
