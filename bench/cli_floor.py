"""The floor for ``gitassist get ID --json`` as a process: pygit2 + PyYAML doing the same read.

Reads ``refs/assistants/<id>/latest`` (the pointer commit), the document blob its message
names, parses it with PyYAML's C loader and prints it as JSON: the git and YAML work of
``get``, with no CLI framework, no document model and no validation.

Usage: ``python bench/cli_floor.py REPO ID``; ``bench/bench_startup.py`` runs it interleaved
with ``python -c pass`` and the gitassist commands.
"""

import json
import sys

import pygit2
import yaml

repo = pygit2.Repository(sys.argv[1])
pointer = repo.get(repo.references[f"refs/assistants/{sys.argv[2]}/latest"].target)
message = pointer.message
record = json.loads(message[message.index("{") :])
data = yaml.load(repo.get(record["blob"]).data, Loader=yaml.CSafeLoader)
data["version"] = record.get("version")
print(json.dumps(data, indent=2, default=str))
