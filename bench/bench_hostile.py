"""Worst-case ``validate`` on the hostile-document corpus (issue 10 items 2-3).

Builds one small repository per hostile case (alias bomb, self-referencing alias, deep
nesting, a document just over the size limit, a catastrophic ``pattern``, a 200 KB
legitimate document) and times ``gitassist validate`` on it, in-process (``main()``) and as a
whole process, median of R runs. Each case must end with its expected exit code.

Usage::

    python bench/bench_hostile.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gitassist import limits  # noqa: E402
from tests.strategies import alias_bomb  # noqa: E402

VENV_BIN = Path(sys.executable).parent
AID = "6f1c1c3e-0000-4000-8000-000000000001"
HEAD = f"assistant_id: {AID}\ngraph_id: agent\nname: Bot\n"
SCHEMA = {
    "type": "object",
    "properties": {"model_name": {"type": "string"}, "system_prompt": {"type": "string"}},
}
REDOS = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}


def cases() -> dict[str, tuple[dict[str, str], int]]:
    bomb = "".join("  " + line + "\n" for line in alias_bomb(8).splitlines())
    prompt = "You are a careful assistant. " * 7000
    meta = "".join(f"  key_{i}: {{owner: team-{i}, n: {i}}}\n" for i in range(400))
    return {
        "alias bomb (9^9 nodes, 0.6 KB)": ({"bomb.yaml": HEAD + "metadata:\n" + bomb}, 3),
        "self-referencing alias": ({"self.yaml": HEAD + "context: &a [*a]\n"}, 3),
        "nesting 1,000 deep": (
            {"deep.yaml": HEAD + "metadata: {x: " + "[" * 999 + "]" * 999 + "}\n"},
            3,
        ),
        "document just over 1 MB": (
            {"big.yaml": HEAD + "description: '" + "x" * limits.MAX_DOCUMENT_BYTES + "'\n"},
            3,
        ),
        "pattern ^(a+)+$ vs 40 a + !": (
            {
                "redos.yaml": HEAD + "context: {code: '" + "a" * 40 + "!'}\n",
                "#schema": json.dumps(REDOS),
            },
            3,
        ),
        "legitimate: 200 KB prompt, 400 keys": (
            {
                "ok.yaml": HEAD
                + f"context: {{model_name: echo, system_prompt: '{prompt}'}}\nmetadata:\n"
                + meta
            },
            0,
        ),
    }


def make_repo(base: Path, files: dict[str, str]) -> Path:
    base.mkdir()
    schema = files.pop("#schema", json.dumps(SCHEMA))
    (base / "assistants").mkdir()
    (base / "schemas").mkdir()
    (base / "langgraph.json").write_text(json.dumps({"graphs": {"agent": "./graph.py:graph"}}))
    (base / "schemas/agent.context.json").write_text(schema)
    for name, text in files.items():
        (base / "assistants" / name).write_text(text)
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@e"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=base, check=True)
    subprocess.run([*git, "add", "-A"], cwd=base, check=True)
    subprocess.run([*git, "commit", "-qm", "hostile"], cwd=base, check=True)
    return base


def in_process(repo: Path) -> int:
    from gitassist.cli.main import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(["validate", "-C", str(repo)])
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


def median(fn, repeats: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    samples, code = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        code = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (files, expected)) in enumerate(cases().items()):
            repo = make_repo(Path(tmp) / f"r{i}", dict(files))
            t_in, code = median(lambda repo=repo: in_process(repo), args.repeats)
            t_proc, code_p = median(
                lambda repo=repo: (
                    subprocess.run(
                        [str(VENV_BIN / "gitassist"), "validate", "-C", str(repo)],
                        capture_output=True,
                        check=False,
                    ).returncode
                ),
                args.repeats,
            )
            assert code == expected == code_p, (name, code, code_p, expected)
            rows.append({"case": name, "exit": code, "in_process_s": t_in, "process_s": t_proc})
            print(f"| {name} | {code} | {t_in * 1000:.1f} ms | {t_proc * 1000:.0f} ms |")
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
