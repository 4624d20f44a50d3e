"""Prove a piece of code runs offline: refuse every non-loopback network connection in this process.

>>> with offline_guard() as guard:
...     agent_run()                      # works: the model is in-process, the store is a file
>>> guard.blocked                        # what tried to leave the machine
[]

It patches ``socket.socket.connect``/``connect_ex``, ``socket.create_connection`` and
``socket.getaddrinfo`` for the duration of the block: 127.0.0.1, ::1, ``localhost`` and Unix
sockets pass; anything else raises :class:`NetworkBlockedError` (an ``OSError``, which is what
network code already expects when the link is down). This is the agents lab's own small guard;
a course-wide one may live in ``edgeagents.netguard``.
"""

from __future__ import annotations

import ipaddress
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator


class NetworkBlockedError(ConnectionRefusedError):
    """A connection to a non-loopback address was refused by :func:`offline_guard`."""


LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@dataclass
class Guard:
    blocked: list[str] = field(default_factory=list)


@contextmanager
def offline_guard() -> Iterator[Guard]:
    """Within the block, only loopback and Unix-socket connections are allowed."""
    guard = Guard()
    orig_connect, orig_connect_ex = socket.socket.connect, socket.socket.connect_ex
    orig_create, orig_gai = socket.create_connection, socket.getaddrinfo

    def _check(address: Any) -> None:
        if isinstance(address, (str, bytes)):  # AF_UNIX path
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not is_loopback(host):
            guard.blocked.append(f"{host}:{address[1] if isinstance(address, tuple) and len(address) > 1 else ''}")
            raise NetworkBlockedError(f"offline_guard: connection to {host} refused (network disabled)")

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family != getattr(socket, "AF_UNIX", -1):
            _check(address)
        return orig_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family != getattr(socket, "AF_UNIX", -1):
            _check(address)
        return orig_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        _check(address)
        return orig_create(address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            _check((host, args[0] if args else 0))
        return orig_gai(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    socket.create_connection, socket.getaddrinfo = create_connection, getaddrinfo  # type: ignore[assignment]
    try:
        yield guard
    finally:
        socket.socket.connect, socket.socket.connect_ex = orig_connect, orig_connect_ex  # type: ignore[method-assign]
        socket.create_connection, socket.getaddrinfo = orig_create, orig_gai  # type: ignore[assignment]
