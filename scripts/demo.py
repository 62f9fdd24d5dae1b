"""The end-to-end demo on the bundled example: a newcomer's first ten minutes, in one run.

Copies example-repo/ to a temporary directory, makes it a git repository and walks the
lifecycle with the real CLI: init, create, update, validate, versions, show, run, set-latest
back, run again (each version's context reaches the graph, offline model), then a pull
request: a change on a branch, its semantic diff, merge, plan, apply (twice: idempotent), and
a run of the new version. No server, no API key.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example-repo"


def sh(*args: str, cwd: Path, check: bool = True) -> str:
    """Run a command as a user would type it, echoing it and its output."""
    print(f"\n$ {shlex.join(args)}", flush=True)
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    text = (proc.stdout + proc.stderr).rstrip()
    if text:
        print(text, flush=True)
    if check and proc.returncode != 0:
        sys.exit(f"demo failed: `{shlex.join(args)}` exited {proc.returncode}")
    return proc.stdout


def expect(text: str, needle: str) -> None:
    """The demo proves what it shows: stop if the graph did not get the expected context."""
    if needle not in text:
        sys.exit(f"demo failed: expected {needle!r} in the output above")


ASK = '{"messages": [{"role": "user", "content": "where is my order?"}]}'


def main() -> None:
    gitassist = str(Path(sys.executable).with_name("gitassist"))
    work = Path(tempfile.mkdtemp(prefix="gitassist-demo-")) / "assistants-repo"
    shutil.copytree(
        EXAMPLE, work, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api", "assistants")
    )
    env_note = "offline echo model" if not os.environ.get("OPENAI_API_KEY") else "OpenAI"
    print(f"# gitassist demo in {work} ({env_note})")
    sh("git", "init", "-q", "-b", "main", cwd=work)
    sh("git", "add", "-A", cwd=work)
    sh(
        "git",
        "-c",
        "user.name=Demo",
        "-c",
        "user.email=demo@example.com",
        "commit",
        "-q",
        "-m",
        "Example project",
        cwd=work,
    )
    os.environ.setdefault("GIT_AUTHOR_NAME", "Demo User")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "demo@example.com")
    os.environ.setdefault("GIT_COMMITTER_NAME", "Demo User")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "demo@example.com")

    sh(gitassist, "init", cwd=work)
    sh(
        gitassist,
        "create",
        "agent",
        "--name",
        "Support bot",
        "--set",
        "model_name=echo",
        "--set",
        "system_prompt=You are a friendly support agent.",
        cwd=work,
    )
    sh(
        gitassist,
        "update",
        "support-bot",
        "--set",
        "system_prompt=You are terse. Answer in five words.",
        cwd=work,
    )
    sh(gitassist, "validate", cwd=work)
    sh(gitassist, "versions", "support-bot", cwd=work)
    sh(gitassist, "show", "support-bot@1", cwd=work)
    out = sh(gitassist, "run", "support-bot", "--input", ASK, cwd=work)
    expect(out, "(system: You are terse. Answer in five words.)")
    sh(gitassist, "set-latest", "support-bot", "1", "--reason", "v2 too terse", cwd=work)
    sh(gitassist, "get", "support-bot", cwd=work)
    out = sh(gitassist, "run", "support-bot", "--input", ASK, cwd=work)
    expect(out, "(system: You are a friendly support agent.)")
    sh(gitassist, "log", "support-bot", cwd=work)

    print("\n# A pull request: change the prompt on a branch, review, merge, apply")
    sh("git", "switch", "-q", "-c", "warmer-prompt", cwd=work)
    sh(
        gitassist,
        "update",
        "support-bot",
        "--set",
        "system_prompt=You are warm and precise.",
        "-m",
        "Warmer support prompt",
        cwd=work,
    )
    sh(gitassist, "diff", cwd=work)
    sh("git", "switch", "-q", "main", cwd=work)
    sh("git", "merge", "-q", "--no-ff", "warmer-prompt", "-m", "Merge warmer-prompt", cwd=work)
    sh(gitassist, "plan", cwd=work)
    sh(gitassist, "apply", cwd=work)
    sh(gitassist, "apply", cwd=work)  # idempotent: nothing to do
    out = sh(gitassist, "run", "support-bot", "--input", ASK, cwd=work)
    expect(out, "(system: You are warm and precise.)")
    sh(gitassist, "list", cwd=work)
    # environments (example-repo/gitassist.yaml): staging followed latest; production is
    # protected and takes only versions staging has held (docs/environments.md)
    sh(gitassist, "status", cwd=work)
    sh(gitassist, "promote", "--all", "--to", "production", "--dry-run", cwd=work)
    sh(gitassist, "promote", "--all", "--from", "staging", "--to", "production",
       "--reason", "first release", "--force", cwd=work)  # fmt: skip
    out = sh(gitassist, "get", "support-bot@production", cwd=work)
    expect(out, "You are warm and precise.")
    sh(gitassist, "log", "support-bot", "--env", "production", cwd=work)
    print(f"\n# done: the repository is at {work}")


if __name__ == "__main__":
    main()
