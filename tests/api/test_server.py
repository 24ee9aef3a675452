"""`geo-patrol serve`: the listening sockets it binds before forking, and its access log."""

from __future__ import annotations

import logging
import socket

from geo_patrol.api.server import hide_device_tokens, listening_socket


def test_listening_socket_answers_without_waiting_for_delayed_acks() -> None:
    with listening_socket("127.0.0.1", 0) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.get_inheritable()


def test_access_log_lines_keep_no_device_token() -> None:
    path = "/osmand?lat=30.9&id=gpd_secret-token&lon=120.6"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", path, "1.1", 200),
        None,
    )
    assert hide_device_tokens(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /osmand?lat=30.9&id=…&lon=120.6 HTTP/1.1" 200'
    other = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, "%s", ("/?deviceid=gpd_x",), None
    )
    assert hide_device_tokens(other) and other.getMessage() == "/?deviceid=…"
