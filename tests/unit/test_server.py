"""The listening sockets `geo-patrol serve` binds before forking its workers."""

from __future__ import annotations

import socket

from geo_patrol.server import listening_socket


def test_listening_socket_answers_without_waiting_for_delayed_acks() -> None:
    with listening_socket("127.0.0.1", 0) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.get_inheritable()
