"""``update`` with assistants spread over subfolders versus one flat folder.

Builds two repositories of N assistants (one commit each, then ``apply``): ``flat`` keeps
every file in ``assistants/``; ``nested`` spreads them over ``assistants/<team>/<region>/``
(FOLDERS teams x 4 regions). Then R updates through ``get_sync_client(repo=...)``, each on a
different assistant named by its path-qualified stem (nested; then again by its bare stem,
which is looked up in every folder) or stem (flat), and reports the best wall-clock time of
one update (the least disturbed on a busy machine) and how many documents each update parsed
(the work that grows with the repository; it should be the same in both layouts).

Usage::

    python bench/bench_nested.py [-n 1000] [--folders 10] [--repeats 30]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GRAPH = "def graph():\n    pass\n"


def build(path: Path, n: int, folders: int, nested: bool, stems: bool = False) -> list[str]:
    """A repository of ``n`` assistants; returns the name of each (what update is given)."""
    path.mkdir(parents=True)
    files = {
        "langgraph.json": json.dumps({"graphs": {"agent": "./graph.py:graph"}}),
        "graph.py": GRAPH,
        ".gitignore": ".gitassist/\n",
    }
    names = []
    rng = random.Random(n)  # ids spread over the index shards, as real uuid4s are
    for i in range(n):
        folder = f"team{i % folders}/r{(i // folders) % 4}/" if nested else ""
        aid = uuid.UUID(int=rng.getrandbits(128), version=4)
        files[f"assistants/{folder}bot{i}.yaml"] = (
            f"assistant_id: {aid}\ngraph_id: agent\nname: Bot {i}\ncontext:\n  model_name: echo\n"
        )
        names.append(f"bot{i}" if stems else f"{folder}bot{i}")
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    env = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(["git", *env, "commit", "-qm", "init"], cwd=path, check=True)
    from gitassist.apply import apply
    from gitassist.store import Store

    apply(Store(path))
    return names


def measure(path: Path, names: list[str], repeats: int) -> tuple[float, float]:
    """Best (least disturbed) seconds per update and mean documents parsed per update."""
    import gitassist.store as store_mod
    from gitassist import get_sync_client

    parsed = [0]
    real = store_mod.check_document

    def counting(*args: object, **kwargs: object) -> object:
        parsed[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    store_mod.check_document = counting  # type: ignore[assignment]
    try:
        client = get_sync_client(repo=path)
        picks = random.Random(7).sample(names, repeats + 1)
        client.assistants.update(picks[0], name="warm-up")
        parsed[0] = 0
        times = []
        for i, name in enumerate(picks[1:]):
            start = time.perf_counter()
            client.assistants.update(name, name=f"Renamed {i}")
            times.append(time.perf_counter() - start)
        return min(times), parsed[0] / repeats
    finally:
        store_mod.check_document = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--folders", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-nested-"))
    try:
        for layout in ("flat", "nested", "nested, by bare stem"):
            where = work / layout.replace(", ", "-").replace(" ", "-")
            names = build(where, args.n, args.folders, layout != "flat", "stem" in layout)
            median, parsed = measure(where, names, args.repeats)
            print(
                f"{layout:20}  {args.n} assistants  update best of R {median * 1000:7.1f} ms  "
                f"documents parsed per update {parsed:.1f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
