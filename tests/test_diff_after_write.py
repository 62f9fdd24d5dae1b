"""``gitassist diff`` right after a write on the tracked branch: ``create``/``update`` record
as they commit, so the change is shown as the version it was recorded as, not the next one."""

from __future__ import annotations

import json
import subprocess


def _change(cli, path: str, *revs: str) -> dict:
    data = json.loads(cli("diff", *revs, "--format", "json", "-C", path).output)
    [change] = data["assistants"]
    return change


def test_diff_after_create_and_update_shows_the_recorded_version(tmp_path, cli):
    path = str(tmp_path / "r")
    cli("init", path)
    cli("create", "agent", "--name", "Bot", "-C", path)
    text = cli("diff", "HEAD~1", "-C", path).output
    assert "recorded as version 1" in text and "becomes version 2" not in text, text
    change = _change(cli, path, "HEAD~1")
    assert (change["version"], change["recorded"]) == (1, True)
    cli("update", "Bot", "--description", "two", "-C", path)
    change = _change(cli, path, "HEAD~1")
    assert (change["version"], change["recorded"]) == (2, True)
    assert "recorded as version 2" in cli("diff", "HEAD~1", "-C", path).output
    markdown = cli("diff", "HEAD~1", "--format", "markdown", "-C", path).output
    assert "recorded as version 2" in markdown


def test_an_unrecorded_change_still_becomes_the_next_version(tmp_path, cli):
    path = str(tmp_path / "r")
    cli("init", path)
    cli("create", "agent", "--name", "Bot", "-C", path)
    subprocess.run(["git", "-C", path, "switch", "-q", "-c", "feature"], check=True)
    bot = tmp_path / "r" / "assistants" / "bot.yaml"
    bot.write_text(bot.read_text(encoding="utf-8") + "description: feature\n", encoding="utf-8")
    subprocess.run(["git", "-C", path, "commit", "-qam", "feature"], check=True)
    change = _change(cli, path, "main", "HEAD")
    assert (change["version"], change["recorded"]) == (2, False)
    assert "becomes version 2" in cli("diff", "main", "HEAD", "-C", path).output
