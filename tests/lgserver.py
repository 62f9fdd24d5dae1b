"""Start and stop a real ``langgraph dev`` server for tests and benchmarks.

Importable helper (no pytest dependency)::

    from tests.lgserver import start_server, write_tiny_project

    project = write_tiny_project(tmp_path / "proj")
    with start_server(project) as server:
        client = get_sync_client(url=server.url)
        ...

The server runs fully offline: :data:`OFFLINE_ENV` switches off the CLI's usage
analytics, the PyPI version check and LangSmith tracing, and :data:`SCRUBBED_ENV`
removes the keys that would turn on LangSmith tracing, licence/metadata reporting
or metric exporters.  It runs in its own process group; :meth:`Server.stop` signals
only that group (SIGTERM, then SIGKILL after a bounded wait).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from types import TracebackType

__all__ = [
    "DEFAULT_GRAPH_ID",
    "OFFLINE_ENV",
    "SCRUBBED_ENV",
    "Server",
    "ServerStartError",
    "find_free_port",
    "langgraph_executable",
    "running_server",
    "server_env",
    "start_server",
    "write_tiny_project",
]

DEFAULT_GRAPH_ID = "agent"

#: Environment variables set for the server process so that it never reaches out
#: to the network.
OFFLINE_ENV: dict[str, str] = {
    # langgraph_cli.analytics.log_command: otherwise every `langgraph dev` posts
    # anonymised usage data from a background thread.
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    # langgraph_api.cli.run_server: otherwise a thread asks PyPI for newer
    # langgraph-api versions at start-up.
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    # langgraph_api.config.TRACING / langsmith: never trace runs to LangSmith, and
    # _get_ls_origin()/_get_org_id() stay off the network.
    "LANGSMITH_TRACING": "false",
    "LANGSMITH_TRACING_V2": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    # Metric/log exporters (all default off; pinned so a developer's shell can't
    # switch them on).
    "OTEL_ENABLED": "false",
    "LANGGRAPH_METRICS_ENABLED": "false",
    "LANGGRAPH_LOGS_ENABLED": "false",
    # Plain, promptly flushed log lines we can parse.
    "LOG_COLOR": "false",
    "PYTHONUNBUFFERED": "1",
}

#: Environment variables removed from the server's environment: any of them would
#: switch on licence verification, the metadata "beacon" loop
#: (langgraph_api.metadata.metadata_loop), LangSmith tracing (an API key turns
#: tracing on unless explicitly disabled) or a Datadog/OTLP exporter.
SCRUBBED_ENV: tuple[str, ...] = (
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "LANGSMITH_CONTROL_PLANE_API_KEY",
    "LANGGRAPH_CLOUD_LICENSE_KEY",
    "LANGSMITH_ENDPOINT",
    "LANGCHAIN_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "LSD_DD_API_KEY",
    "CUSTOM_LSD_DD_API_KEY",
    "LANGGRAPH_METRICS_ENDPOINT",
    "LANGGRAPH_LOGS_ENDPOINT",
    "LANGGRAPH_API_KEY",
)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_API_LINE = re.compile(r"API:\s*(https?://[^\s/]+:(\d+))")
_LOG_TAIL_CHARS = 4000


class ServerStartError(RuntimeError):
    """The server did not come up; the message carries the tail of its log."""


def langgraph_executable() -> Path:
    """The ``langgraph`` CLI of the running interpreter's environment."""
    exe = Path(sys.executable).parent / "langgraph"
    if not exe.exists():
        raise FileNotFoundError(
            f"{exe} not found: install 'langgraph-cli[inmem]' into this environment"
        )
    return exe


def find_free_port(host: str = "127.0.0.1") -> int:
    """A port on *host* that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the server process: ours, scrubbed, plus offline switches."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env.update(OFFLINE_ENV)
    if extra:
        env.update(extra)
    return env


def _read_log(path: Path) -> str:
    try:
        return _ANSI.sub("", path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return ""


def _tail(text: str, limit: int = _LOG_TAIL_CHARS) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


def _ok(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ok", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Server:
    """A ``langgraph dev`` process started by :func:`start_server`.

    ``url`` is the base URL actually served (read from the server's log), ``pid`` the
    process id, which is also its process-group id.
    """

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        *,
        host: str,
        port: int,
        requested_port: int,
        log_path: Path,
        project_dir: Path,
        startup_seconds: float,
        owns_log: bool = False,
    ) -> None:
        self._proc = proc
        self.host = host
        self.port = port
        self.requested_port = requested_port
        self.log_path = log_path
        self.project_dir = project_dir
        self.startup_seconds = startup_seconds
        self.returncode: int | None = None
        # A log file start_server made up itself is deleted by a clean stop().
        self._owns_log = owns_log

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"Server(url={self.url!r}, pid={self.pid}, running={self.is_running()})"

    def is_running(self) -> bool:
        """True while the server process has not exited."""
        return self.returncode is None and not _exited_unreaped(self._proc)

    def log_text(self) -> str:
        """The server's log so far, ANSI colour codes removed."""
        return _read_log(self.log_path)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the server's process group: SIGTERM, then SIGKILL after *timeout* s.

        Idempotent. Signals only the process group this object started; the
        leader is reaped only after the group has been signalled, so its id can't
        have been recycled. Deletes the log if it was a temporary file that
        :func:`start_server` chose. Returns the exit code (``-15`` after a
        graceful SIGTERM shutdown: uvicorn re-raises the signal).
        """
        if self.returncode is not None or self._proc.returncode is not None:
            self.returncode = self._proc.returncode
            return self.returncode
        _signal_group(self._proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while not _exited_unreaped(self._proc) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Leader exited (a zombie until reaped, so the group id is still ours) or
        # it ignored SIGTERM: SIGKILL whatever is left in the group.
        _signal_group(self._proc, signal.SIGKILL)
        try:
            self.returncode = self._proc.wait(timeout=max(timeout, 5.0))
        except subprocess.TimeoutExpired:  # pragma: no cover - unkillable process
            self.returncode = None
            raise
        if self._owns_log:
            self.log_path.unlink(missing_ok=True)
        return self.returncode

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _exited_unreaped(proc: subprocess.Popen[bytes]) -> bool:
    """Has *proc* exited? Does not reap it (WNOWAIT), so its pid stays reserved."""
    if proc.returncode is not None:
        return True
    try:
        res = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return res is not None


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.returncode is not None:  # reaped: the group id may no longer be ours
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def start_server(
    project_dir: Path,
    *,
    port: int | None = None,
    log_path: Path | None = None,
    timeout: float = 90,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
) -> Server:
    """Start ``langgraph dev`` for *project_dir* (which holds a ``langgraph.json``).

    Picks a free port unless *port* is given, waits until ``GET /ok`` answers (at
    most *timeout* seconds) and returns the running :class:`Server`. The port
    actually served is read from the log, since the server silently moves to
    another port when the requested one is busy. On failure the process group is
    killed and :class:`ServerStartError` carries the tail of the log. *env* adds
    or overrides environment variables for the server process. Without
    *log_path* the log goes to a temporary file that a clean ``stop()`` deletes.
    Note: the in-memory server persists its state under
    ``project_dir/.langgraph_api/`` (pickles flushed every ~10 s and at shutdown).
    """
    project_dir = Path(project_dir).resolve()
    if not (project_dir / "langgraph.json").is_file():
        raise FileNotFoundError(f"{project_dir / 'langgraph.json'} does not exist")
    requested = port if port is not None else find_free_port(host)
    owns_log = log_path is None
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="langgraph-dev-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(langgraph_executable()),
        "dev",
        "--no-browser",
        "--no-reload",
        "--host",
        host,
        "--port",
        str(requested),
    ]
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=project_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_env(env),
            start_new_session=True,  # own session => own process group (pgid == pid)
        )
    server = Server(
        proc,
        host=host,
        port=requested,
        requested_port=requested,
        log_path=log_path,
        project_dir=project_dir,
        startup_seconds=0.0,
        owns_log=owns_log,
    )
    try:
        server.port = _wait_ready(proc, host, log_path, started + timeout)
    except BaseException:
        server._owns_log = False  # keep the log: the error names it
        server.stop(timeout=5)
        raise
    server.startup_seconds = time.monotonic() - started
    return server


def _wait_ready(proc: subprocess.Popen[bytes], host: str, log_path: Path, deadline: float) -> int:
    """Wait for the logged API URL, then for ``/ok`` on it; return the served port."""
    served: int | None = None
    while time.monotonic() < deadline:
        if _exited_unreaped(proc):
            raise ServerStartError(
                f"langgraph dev (pid {proc.pid}) exited during start-up; log {log_path}:\n"
                + _tail(_read_log(log_path))
            )
        if served is None:
            match = _API_LINE.search(_read_log(log_path))
            if match:
                served = int(match.group(2))
        if served is not None and _ok(f"http://{host}:{served}", timeout=2.0):
            return served
        time.sleep(0.1)
    raise ServerStartError(
        f"langgraph dev (pid {proc.pid}) did not answer GET /ok in time"
        f" (served port: {served}); log {log_path}:\n" + _tail(_read_log(log_path))
    )


@contextlib.contextmanager
def running_server(project_dir: Path, **kwargs: Any) -> Iterator[Server]:
    """Context manager around :func:`start_server` (for fixtures: ``yield from``)."""
    server = start_server(project_dir, **kwargs)
    try:
        yield server
    finally:
        server.stop()


_TINY_GRAPH = '''\
"""A one-node graph whose only node echoes its runtime context."""

from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime


class Context(TypedDict, total=False):
    greeting: str
    temperature: float


class State(TypedDict, total=False):
    text: str
    reply: str
    seen_context: dict


def respond(state: State, runtime: Runtime[Context]) -> State:
    ctx = dict(runtime.context or {})
    greeting = ctx.get("greeting", "hello")
    return {"reply": f"{greeting} {state.get('text', '')}".strip(), "seen_context": ctx}


graph = (
    StateGraph(State, context_schema=Context)
    .add_node("respond", respond)
    .add_edge(START, "respond")
    .add_edge("respond", END)
    .compile()
)
'''


def write_tiny_project(project_dir: Path, graph_id: str = DEFAULT_GRAPH_ID) -> Path:
    """Write a minimal ``langgraph.json`` project with one graph to *project_dir*.

    The graph has a ``context_schema`` (``greeting: str``, ``temperature: float``)
    and a single node ``respond`` that returns ``reply`` and ``seen_context``
    (the context it received). Returns *project_dir*.
    """
    project_dir = Path(project_dir)
    (project_dir / "graphs").mkdir(parents=True, exist_ok=True)
    (project_dir / "graphs" / "agent.py").write_text(_TINY_GRAPH, encoding="utf-8")
    (project_dir / "langgraph.json").write_text(
        textwrap.dedent(
            f"""\
            {{
              "dependencies": ["."],
              "graphs": {{"{graph_id}": "./graphs/agent.py:graph"}}
            }}
            """
        ),
        encoding="utf-8",
    )
    return project_dir
