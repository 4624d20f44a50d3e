"""The offline guard: non-loopback connections are refused, loopback still works, and it cleans up."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from edgeagents.errors import EdgeAgentsError
from edgeagents.netguard import NetworkBlockedError, is_loopback, offline, try_internet


@pytest.fixture
def local_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    yield srv.getsockname()[1]
    srv.close()


def test_is_loopback():
    for host in ("127.0.0.1", "127.5.5.5", "::1", "[::1]", "localhost", b"127.0.0.1"):
        assert is_loopback(host), host
    for host in ("8.8.8.8", "example.com", "10.0.0.1", None, ""):
        assert not is_loopback(host), host


def test_outside_addresses_are_blocked_with_a_typed_error():
    with offline() as guard:
        with pytest.raises(NetworkBlockedError) as info, socket.socket() as s:
            s.connect(("93.184.216.34", 80))
        with pytest.raises(NetworkBlockedError):
            socket.getaddrinfo("example.com", 443)
    assert isinstance(info.value, EdgeAgentsError) and isinstance(info.value, OSError)
    assert "offline" in str(info.value) and info.value.hint
    assert ("connect", "93.184.216.34:80") in guard.blocked


def test_udp_to_outside_is_blocked():
    with offline(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        with pytest.raises(NetworkBlockedError):
            s.sendto(b"x", ("8.8.8.8", 53))


def test_libraries_see_a_dead_network():
    with offline():
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen("http://example.com", timeout=1)
        assert try_internet().startswith("blocked by netguard")


def test_loopback_still_works(local_server):
    with offline() as guard:
        socket.create_connection(("127.0.0.1", local_server), timeout=1).close()
        socket.create_connection(("localhost", local_server), timeout=1).close()
    assert not guard.blocked and len(guard.allowed) >= 2


def test_the_socket_module_is_restored_even_after_an_error():
    before = (socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto, socket.getaddrinfo)
    with pytest.raises(RuntimeError):
        with offline():
            raise RuntimeError("boom")
    after = (socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto, socket.getaddrinfo)
    assert before == after
