"""Who is acting: the committer identity (environment, git config, a fallback), an
``--author`` given as ``"Name <email>"``, and the CI run that is acting, if any."""

from __future__ import annotations

import os

import pygit2

from gitassist.refs import Identity


def identity_from_env(repo: pygit2.Repository) -> Identity:
    """Who is acting: GIT_COMMITTER_* / GIT_AUTHOR_*, git config, then a fallback."""
    name = os.environ.get("GIT_COMMITTER_NAME") or os.environ.get("GIT_AUTHOR_NAME")
    email = os.environ.get("GIT_COMMITTER_EMAIL") or os.environ.get("GIT_AUTHOR_EMAIL")
    config = repo.config
    if not name and "user.name" in config:
        name = config["user.name"]
    if not email and "user.email" in config:
        email = config["user.email"]
    if not name:
        name = os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "gitassist"
    if not email:
        email = f"{name}@users.noreply.gitassist"
    return Identity(name, email)


def parse_author(author: str | None) -> pygit2.Signature | None:
    """``"Name <email>"`` as a git signature (None: the committer's identity)."""
    if not author:
        return None
    name, sep, rest = author.partition("<")
    email = rest.rstrip().removesuffix(">").strip()
    if not sep or not name.strip() or "@" not in email or not rest.rstrip().endswith(">"):
        from gitassist.errors import ValidationFailed

        raise ValidationFailed(f"author must look like 'Name <email>', not {author!r}", [])
    return pygit2.Signature(name.strip(), email)


def ci_context() -> dict[str, str]:
    """The CI run that is acting, when the environment says so (GitHub Actions, GitLab, …)."""
    env = os.environ
    if env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo = env.get("GITHUB_REPOSITORY", "")
        return {
            "system": "github-actions",
            "run_id": env["GITHUB_RUN_ID"],
            "url": f"{server}/{repo}/actions/runs/{env['GITHUB_RUN_ID']}",
        }
    if env.get("CI_PIPELINE_ID"):
        return {
            "system": "gitlab",
            "run_id": env["CI_PIPELINE_ID"],
            "url": env.get("CI_PIPELINE_URL", ""),
        }
    return {}
