"""Prove that code runs offline: refuse every non-loopback network connection for a while.

>>> from edgeagents.netguard import offline
>>> with offline() as guard:
...     run_my_agent()            # works: llama.cpp in-process needs no network
...     urllib.request.urlopen("https://example.com")   # raises NetworkBlockedError
>>> guard.blocked                 # what was refused, e.g. [('connect', 'example.com:443')]

While the block is active, ``socket.socket.connect`` / ``connect_ex`` / ``sendto`` and
``socket.getaddrinfo`` refuse any address that is not loopback (127.0.0.0/8, ::1, localhost) or
a Unix socket. Local servers (a llama.cpp server on 127.0.0.1, Jupyter's own kernel channels)
keep working. It patches the ``socket`` module for the whole process (every thread), and
restores it on exit; it does not stop code that bypasses Python's ``socket`` module (a C
library opening its own sockets). For a hard guarantee, unplug the network or run in a
container started with ``--network none``.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from edgeagents.errors import EdgeAgentsError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NetworkBlockedError(EdgeAgentsError, ConnectionRefusedError):
    """A connection to a non-loopback address was refused by :func:`offline`.

    It is also a ``ConnectionRefusedError`` (an ``OSError``), so libraries that handle a dead
    network handle this the same way.
    """

    default_hint = "This code is running inside edgeagents.netguard.offline(): only 127.0.0.1/localhost is allowed."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        EdgeAgentsError.__init__(self, message, hint=hint)

    def __str__(self) -> str:
        return EdgeAgentsError.__str__(self)


def is_loopback(host: Any) -> bool:
    """True for loopback IPs (127.x, ::1) and the usual local host names."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().strip("[]").lower().split("%")[0]
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_ip_literal(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).strip("[]").split("%")[0])
        return True
    except ValueError:
        return False


def _address_allowed(family: int, address: Any) -> bool:
    if family == getattr(socket, "AF_UNIX", object()):
        return True
    if isinstance(address, tuple) and address:
        return is_loopback(address[0])
    return False


@dataclass
class NetworkGuard:
    """The active block: what it refused (``blocked``) and what it let through (``allowed``)."""

    blocked: list[tuple[str, str]] = field(default_factory=list)
    allowed: list[tuple[str, str]] = field(default_factory=list)
    _saved: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _note(self, ok: bool, what: str, target: str) -> None:
        with self._lock:
            (self.allowed if ok else self.blocked).append((what, target))

    def __enter__(self) -> NetworkGuard:
        guard = self
        sock_cls = socket.socket
        self._saved = {
            "connect": sock_cls.connect,
            "connect_ex": sock_cls.connect_ex,
            "sendto": sock_cls.sendto,
            "getaddrinfo": socket.getaddrinfo,
        }
        real = self._saved

        def describe(address: Any) -> str:
            if isinstance(address, tuple) and len(address) >= 2:
                return f"{address[0]}:{address[1]}"
            return str(address)

        def guarded_connect(name: str) -> Any:
            def method(sock: socket.socket, address: Any) -> Any:
                ok = _address_allowed(sock.family, address)
                guard._note(ok, "connect", describe(address))
                if not ok:
                    raise NetworkBlockedError(f"Blocked a connection to {describe(address)} (offline mode).")
                return real[name](sock, address)

            return method

        connect, connect_ex = guarded_connect("connect"), guarded_connect("connect_ex")

        def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
            address = args[-1]
            ok = _address_allowed(sock.family, address)
            guard._note(ok, "sendto", describe(address))
            if not ok:
                raise NetworkBlockedError(f"Blocked a datagram to {describe(address)} (offline mode).")
            return real["sendto"](sock, data, *args)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            ok = host is None or is_loopback(host)
            if _is_ip_literal(host):  # create_connection(("93.184.216.34", 80)) resolves before it connects
                target = f"{host}:{args[0] if args else kwargs.get('port', '')}"
                guard._note(ok, "connect", target)
                if not ok:
                    raise NetworkBlockedError(f"Blocked a connection to {target} (offline mode).")
            else:
                guard._note(ok, "resolve", str(host))
                if not ok:
                    raise NetworkBlockedError(f"Blocked a DNS lookup of {host!r} (offline mode).")
            return real["getaddrinfo"](host, *args, **kwargs)

        sock_cls.connect = connect  # type: ignore[method-assign]
        sock_cls.connect_ex = connect_ex  # type: ignore[method-assign]
        sock_cls.sendto = sendto  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        socket.socket.connect = self._saved["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self._saved["connect_ex"]  # type: ignore[method-assign]
        socket.socket.sendto = self._saved["sendto"]  # type: ignore[method-assign]
        socket.getaddrinfo = self._saved["getaddrinfo"]  # type: ignore[assignment]


def offline() -> NetworkGuard:
    """A context manager that refuses non-loopback connections until it exits (see the module doc)."""
    return NetworkGuard()


def try_internet(host: str = "pypi.org", port: int = 443, timeout: float = 3.0) -> str:
    """Try one TCP connection; returns ``"connected"`` or the reason it failed (never raises)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "connected"
    except NetworkBlockedError as exc:
        return f"blocked by netguard: {exc.message}"
    except OSError as exc:
        return f"failed: {type(exc).__name__}: {exc}"

