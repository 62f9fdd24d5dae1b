"""Drive the real yaml-language-server (npm) over stdio LSP, as an editor does.

Importable helper (no pytest dependency)::

    server = find_server()            # None when node or the package is missing
    with YamlLanguageServer(server) as ls:
        diagnostics = ls.open(path, text)
        labels = [item["label"] for item in ls.completion(path, line, character)]

The server runs offline: the JSON Schema Store catalogue is switched off, so the only schemas
are the ones a document's ``# yaml-language-server: $schema=`` line names, loaded from disk.
Messages are JSON-RPC 2.0 framed with ``Content-Length`` headers; the server's own requests
(``workspace/configuration`` and registrations) are answered as a client would. Every wait is
bounded (a hang guard, not a timing assertion).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "yaml-language-server"
WAIT = 60.0  # seconds: a hang guard for one answer
SETTINGS: dict[str, Any] = {
    "yaml": {
        "validate": True,
        "completion": True,
        "hover": True,
        "schemaStore": {"enable": False},  # offline: no catalogue download
        "schemas": {},
    },
    "http": {"proxy": "", "proxyStrictSSL": True},
}

Message = dict[str, Any]


def find_server() -> tuple[str | None, str]:
    """(path of the server's entry script, "") or (None, why it cannot run)."""
    if shutil.which("node") is None:
        return None, "node is not installed: yaml-language-server (npm) cannot run"
    candidates = [os.environ.get("GITASSIST_YAMLLS", ""), str(ROOT / ".ci/node/node_modules")]
    npm = shutil.which("npm")
    if npm:
        found = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=False)
        candidates.append(found.stdout.strip())
    for base in filter(None, candidates):
        module = Path(base) if Path(base).name == PACKAGE else Path(base) / PACKAGE
        script = module / "bin" / PACKAGE
        if script.is_file():
            return str(script), ""
    return None, f"the npm package {PACKAGE} is not installed (.ci/run installs it where npm is)"


class YamlLanguageServer:
    """One ``yaml-language-server --stdio`` process, initialised, for a test's documents."""

    def __init__(self, script: str) -> None:
        self._proc = subprocess.Popen(
            ["node", script, "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._inbox: queue.Queue[Message | None] = queue.Queue()
        self._ids = iter(range(1, 1_000_000))
        self._versions: dict[str, int] = {}
        threading.Thread(target=self._read, daemon=True).start()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": {
                    "workspace": {"configuration": True, "didChangeConfiguration": {}},
                    "textDocument": {
                        "publishDiagnostics": {},
                        "completion": {"completionItem": {"snippetSupport": True}},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                    },
                },
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._proc.poll() is None and exc is None:
                self.request("shutdown", None)
                self.notify("exit", None)
                self._proc.wait(timeout=10)
        except (OSError, TimeoutError, subprocess.TimeoutExpired, queue.Empty):
            pass
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait(timeout=10)
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()

    # ------------------------------------------------------------------ documents

    def open(self, path: Path, text: str) -> list[Message]:
        """Open ``path`` with ``text``; the diagnostics the server publishes for it."""
        uri = path.resolve().as_uri()
        self._versions[uri] = 1
        item = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})
        found = self._wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            )
        )
        diagnostics: list[Message] = found["params"]["diagnostics"]
        return diagnostics

    def completion(self, path: Path, line: int, character: int) -> list[Message]:
        """Completion items at a 0-based position of an open document."""
        result = self.request("textDocument/completion", _at(path, line, character))
        items: list[Message] = result["items"] if isinstance(result, dict) else result or []
        return items

    def hover(self, path: Path, line: int, character: int) -> str:
        """The hover text at a 0-based position ("" when there is none)."""
        result = self.request("textDocument/hover", _at(path, line, character))
        if not result:
            return ""
        contents = result["contents"]
        return str(contents["value"] if isinstance(contents, dict) else contents)

    # ------------------------------------------------------------------ JSON-RPC

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        number = next(self._ids)
        self._send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        answer = self._wait(lambda m: m.get("id") == number and "method" not in m)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result")

    def _send(self, message: Message) -> None:
        assert self._proc.stdin is not None
        body = json.dumps(message).encode("utf-8")
        self._proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self._proc.stdin.flush()

    def _wait(self, wanted: Callable[[Message], bool]) -> Message:
        deadline = time.monotonic() + WAIT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("yaml-language-server did not answer")
            message = self._inbox.get(timeout=left)
            if message is None:
                raise RuntimeError("yaml-language-server exited")
            if "method" in message and "id" in message:
                self._answer(message)
            elif wanted(message):
                return message

    def _answer(self, message: Message) -> None:
        """Reply to the server's own requests as an editor would."""
        result: Any = None
        if message["method"] == "workspace/configuration":
            items = message["params"]["items"]
            result = [SETTINGS.get(str(item.get("section")).split(".")[0]) for item in items]
        self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def _read(self) -> None:
        stream = self._proc.stdout
        assert stream is not None
        try:
            while True:
                headers: dict[str, str] = {}
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    if not line.strip():
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    headers[name.strip().lower()] = value.strip()
                self._inbox.put(json.loads(stream.read(int(headers["content-length"]))))
        except (OSError, ValueError):
            return
        finally:
            self._inbox.put(None)


def _at(path: Path, line: int, character: int) -> Message:
    return {
        "textDocument": {"uri": path.resolve().as_uri()},
        "position": {"line": line, "character": character},
    }
