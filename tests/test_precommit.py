"""The pre-commit hooks (.pre-commit-hooks.yaml), run by the real pre-commit (`try-repo`) on a
repository whose assistants_dir is nested and not the default: the hook follows gitassist.yaml.

pre-commit builds the hook's own virtualenv and installs this repository into it (as it would
from the pinned rev); here pip is kept offline (no index, no dependencies: they come from this
venv through PYTHONPATH), so the test needs no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, doc_yaml

NESTED = "config/bots/assistants"


def pre_commit() -> str:
    found = shutil.which("pre-commit") or str(Path(sysconfig.get_paths()["scripts"]) / "pre-commit")
    if not Path(found).is_file():
        pytest.skip("pre-commit is not installed (it is in the dev extras)")
    return found


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(repo: Path, home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_NO_BUILD_ISOLATION": "false",  # pip reads this one inverted: no isolation
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
    }
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [pre_commit(), "try-repo", str(ROOT), hook],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_validate_hook_follows_a_nested_assistants_dir(make_repo, home):
    good = doc_yaml(str(uuid.uuid4()), name="Good")
    repo = make_repo(
        {
            "gitassist.yaml": f"assistants_dir: {NESTED}\n",
            f"{NESTED}/good.yaml": good,
        }
    )
    bad = doc_yaml(str(uuid.uuid4()), name="Bad", context={"sytem_prompt": "hi"})
    repo.write({f"{NESTED}/bad.yaml": bad})
    repo.git("add", "-A")

    failed = try_repo(repo.path, home, "gitassist-validate")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"{NESTED}/bad.yaml" in failed.stdout
    assert "sytem_prompt" in failed.stdout

    repo.write({f"{NESTED}/bad.yaml": doc_yaml(str(uuid.uuid4()), name="Fixed")})
    repo.git("add", "-A")
    passed = try_repo(repo.path, home, "gitassist-validate")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
