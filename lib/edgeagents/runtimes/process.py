"""One server subprocess on 127.0.0.1: a free port, its own process group, readiness, a log, a clean stop.

Every server the course starts (llama.cpp's, vLLM's, Ollama's, Prometheus) is a :class:`ServerProcess`;
each subclass says only what is its own: the command line, the environment, the readiness route and what to
prepare before the launch.

>>> port = free_port()
>>> with ServerProcess([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
...                    port=port, name="a file server") as server:
...     server.running, server.pid, server.log_tail(3)

What it guarantees:

- the port is checked before the launch (a live listener there is a typed error naming the port), and
  readiness is proven by *this* process (or a child of it) owning the listening socket and answering
  ``ready_path`` with 200, never by another server that happens to hold the port;
- a server that exits while starting, or is not ready in time, is stopped and raises
  :class:`~edgeagents.errors.ServerStartError` with the tail of its log;
- :meth:`ServerProcess.stop` signals the whole process group (SIGTERM, a grace period, then SIGKILL), and
  also any child that left the group, so nothing is left behind; it may be called any number of times;
- a server still running when the interpreter exits (a kernel restarted) is stopped then too.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

import httpx
import psutil

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError, ServerStartError
from edgeagents.settings import load_settings

__all__ = ["ServerProcess", "check_port", "free_port", "listens_on", "require_free_port"]


# --------------------------------------------------------------------------- ports
def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def check_port(port: object) -> int:
    """``port`` if it is a TCP port number, else a typed error."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidRequestError(
            f"port={port!r} is not a TCP port.", hint="Pass a number from 1024 to 65535, or leave port out to get a free one."
        )
    return port


def require_free_port(port: int, host: str, server: str) -> None:
    """Raise a typed error naming ``port`` if something already listens on it.

    SO_REUSEADDR, as the servers themselves set it: a port whose last connections are still in
    TIME_WAIT is free for a new server, only a live listener makes it busy.
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise RuntimeUnavailableError(
                f"Port {port} on {host} is already in use ({exc.strerror}): {server} cannot listen there.",
                hint="Leave port out to get a free port, pass another one, or stop what listens there "
                f"(`ss -ltnp | grep :{port}` shows it).",
            ) from None


def listens_on(process: subprocess.Popen[bytes] | None, port: int) -> bool:
    """Whether ``process`` is alive and it (or a child of it) is the one listening on ``port``.

    A server that failed to bind (address in use) may still be starting or already dead while another
    server answers on the port: only the owner of the listening socket proves the answer is ours.
    """
    if process is None or process.poll() is not None:
        return False
    try:
        root = psutil.Process(process.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return False
    for proc in tree:
        try:
            conns = proc.net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns):
            return True
    return False


# --------------------------------------------------------------------------- the process
_LIVE: weakref.WeakSet[ServerProcess] = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit() -> None:
    """A kernel that exits takes its servers along."""
    for server in list(_LIVE):
        try:
            server.stop(timeout=3.0)
        except Exception:  # noqa: BLE001 - the interpreter is going away; nothing could report it
            pass


class ServerProcess:
    """Start, wait for, and stop one server subprocess listening on ``host:port``.

    Used as it is for a one-off command, or subclassed: a subclass overrides :meth:`command` (and
    :meth:`environment`, :meth:`prepare`, :attr:`ready_path`) and sets the class defaults below.

    Args:
        command: the command line (a subclass builds it in :meth:`command` instead).
        port: where the server listens; default a free port.
        host: the address it listens on.
        log_path: where its stdout and stderr go; default ``$EDGEAGENTS_HOME/logs/<log_name>-<port>.log``.
        env: its environment; default this process's.
        ready_path: the route that answers 200 once it is ready.
        name: how errors name it ("the llama.cpp server").
    """

    name = "the server"
    log_name = "server"
    ready_path = "/"
    #: seconds :meth:`start` waits for readiness, and :meth:`stop` grants between SIGTERM and SIGKILL
    start_timeout_s = 60.0
    stop_timeout_s = 10.0
    poll_s = 0.25
    log_lines = 15
    #: what the learner can do when the server does not start
    start_hint: str | None = None

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_path: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        ready_path: str | None = None,
        name: str | None = None,
    ) -> None:
        self.host = host
        self.port = check_port(port) if port is not None else free_port(host)
        self.log_path = Path(log_path) if log_path else load_settings().home / "logs" / f"{self.log_name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        #: seconds from the launch to the first ready answer
        self.started_s: float | None = None
        self._command = list(command) if command is not None else None
        self._env = dict(env) if env is not None else None
        if ready_path is not None:
            self.ready_path = ready_path
        if name is not None:
            self.name = name
        self._tree: dict[int, psutil.Process] = {}

    # ----------------------------------------------------------- what a subclass says
    def command(self) -> list[str]:
        if self._command is None:
            raise InvalidRequestError(f"{self.name} has no command line.", hint="Pass command=[...] to ServerProcess.")
        return list(self._command)

    def environment(self) -> dict[str, str] | None:
        """The server's environment (None: this process's)."""
        return self._env

    def prepare(self) -> None:
        """Check or build what the server needs before it is launched (a subclass raises typed errors here)."""

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ready_url(self) -> str:
        return f"{self.root_url}{self.ready_path}"

    # ----------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float | None = None) -> Self:
        """Launch the server and wait until it is ready (or raise :class:`ServerStartError` with the log's tail).

        Returns the server itself, so ``server = Server().start()`` reads naturally. Starting a running
        server does nothing.
        """
        if self.running:
            return self
        timeout = self.start_timeout_s if timeout is None else timeout
        if self.process is not None:  # a crashed server's children may still run: end them before the relaunch
            self.stop()
        self.prepare()
        require_free_port(self.port, self.host, self.name)
        command, env = self.command(), self.environment()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._tree = {}
        self.started_s = None
        t0 = time.monotonic()
        with self.log_path.open("wb") as log:  # the child keeps its own descriptor
            try:
                self.process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True, env=env,
                )
            except OSError as exc:
                raise ServerStartError(f"{_capital(self.name)} could not be launched ({exc.strerror}): {command[0]}",
                                       hint=self.start_hint) from None
        _LIVE.add(self)
        deadline = t0 + timeout
        while True:
            self._remember_tree()
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()  # children it started may still run
                raise ServerStartError(f"{_capital(self.name)} exited with code {code} while starting:",
                                       log_tail=self.log_tail(), returncode=code, hint=self.start_hint)
            if self.ready():
                self.started_s = time.monotonic() - t0
                self._remember_tree()
                return self
            if time.monotonic() >= deadline:
                break
            time.sleep(self.poll_s)
        self.stop()
        raise ServerStartError(f"{_capital(self.name)} did not become ready in {timeout:.0f} s:",
                               log_tail=self.log_tail(), hint=self.start_hint)

    def ready(self) -> bool:
        """This server's process is alive, listens on the port, and answers ``ready_path`` with 200."""
        if not listens_on(self.process, self.port):
            return False
        try:
            return httpx.get(self.ready_url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float | None = None) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL to whatever is left after ``timeout``.

        Children that outlive the leader (Ollama's model runners, vLLM's engine) are waited for too, and a
        child that left the group is signalled by its id. Stopping a stopped (or never started) server is
        a no-op.
        """
        proc = self.process
        if proc is None:
            return
        timeout = self.stop_timeout_s if timeout is None else timeout
        self._remember_tree()
        if proc.poll() is None or self.pids():
            deadline = time.monotonic() + timeout
            self._signal(signal.SIGTERM)
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.1)
            if proc.poll() is None or self.pids():
                self._signal(signal.SIGKILL)
                for p in self.processes():
                    try:
                        p.wait(timeout=5)
                    except psutil.Error:
                        pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # SIGKILL not delivered (uninterruptible sleep): nothing more to do
            pass
        self._tree = {p.pid: p for p in self.processes()}
        if not self.running:
            _LIVE.discard(self)

    def kill(self, timeout: float | None = None) -> None:
        """Kill the server's process group at once (SIGKILL), as a crash would, and wait for its leader to be gone."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        self._remember_tree()
        self._signal(signal.SIGKILL)
        proc.wait(timeout=self.stop_timeout_s if timeout is None else timeout)

    def kill_children(self) -> list[int]:
        """SIGKILL every process of the server but its leader (to see how clients fail mid-request)."""
        killed = []
        for p in self.processes():
            if p.pid != self.pid:
                try:
                    p.kill()
                    killed.append(p.pid)
                except psutil.Error:
                    pass
        return killed

    # ----------------------------------------------------------- its processes
    def pids(self) -> list[int]:
        """Every live process of the server: its process group and any child seen that left the group."""
        return [p.pid for p in self.processes()]

    def processes(self) -> list[psutil.Process]:
        """The server's live processes (psutil objects), leader first if it is alive."""
        if self.process is None:
            return []
        self._remember_tree()
        pgid = self.process.pid
        found: dict[int, psutil.Process] = {}
        for p in psutil.process_iter():
            try:
                if os.getpgid(p.pid) == pgid:
                    found[p.pid] = p
            except (OSError, psutil.Error):
                continue
        for pid, p in self._tree.items():
            found.setdefault(pid, p)
        alive = []
        for pid in sorted(found):
            p = found[pid]
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:  # is_running: not a reused pid
                    alive.append(p)
            except psutil.Error:
                continue
        return alive

    def rss_mb(self) -> float:
        """Resident memory of the server's processes together, in MB."""
        total = 0
        for p in self.processes():
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 1e6

    def _remember_tree(self) -> None:
        """Note every process of the server's tree, so that a child which leaves the group is still stopped."""
        if not self.running:
            return
        try:
            root = psutil.Process(self.process.pid)  # type: ignore[union-attr]
            for p in [root, *root.children(recursive=True)]:
                self._tree.setdefault(p.pid, p)
        except psutil.Error:
            pass

    def _signal(self, sig: int) -> None:
        """Send ``sig`` to the server's process group and to each remembered child outside it."""
        assert self.process is not None
        pgid = self.process.pid
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for p in list(self._tree.values()):
            try:
                if p.is_running() and os.getpgid(p.pid) != pgid:
                    p.send_signal(sig)
            except (OSError, psutil.Error):
                pass

    # ----------------------------------------------------------- log and context
    def log_tail(self, lines: int | None = None) -> str:
        """The last ``lines`` lines of the server's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-(lines or self.log_lines):])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:  # a forgotten server must not outlive the notebook
        try:
            self.stop(timeout=2.0)
        except Exception:  # noqa: BLE001 - nothing can report an error from a finaliser
            pass

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.root_url} {state}>"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
