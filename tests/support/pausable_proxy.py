"""A TCP proxy in front of the test database that can stop answering, as a paused server.

Bytes are forwarded both ways between a loopback port and the server's Unix socket (so the
server trusts the connection as it trusts the test's own). While paused, nothing is
forwarded: the client's connection stays open and its requests go unanswered, exactly what
a client sees of a PostgreSQL stopped with SIGSTOP or a machine gone from the network.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from pathlib import Path

from sqlalchemy.engine import make_url


class PausableProxy:
    """Forward 127.0.0.1:port to a PostgreSQL Unix socket; pause() stops all traffic."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.upstream = str(Path(str(url.query["host"])) / f".s.PGSQL.{url.query['port']}")
        self.database = url.database
        self.user = url.username
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._running = threading.Event()
        self._running.set()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """A URL that reaches the database through the proxy."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def pause(self) -> None:
        """Stop forwarding (connections stay open, nothing is answered)."""
        self._running.clear()

    def resume(self) -> None:
        """Forward again."""
        self._running.set()

    def close(self) -> None:
        """Stop the proxy and close every connection."""
        self._stopped.set()
        self._running.set()
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        """Accept clients until closed; each gets its own upstream connection."""
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self.upstream)
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        """Copy bytes both ways while running; hold them back while paused."""
        peers = {client: server, server: client}
        while not self._stopped.is_set():
            self._running.wait()
            try:
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                for sock in readable:
                    if not self._running.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        raise OSError("closed")
                    peers[sock].sendall(data)
            except OSError:
                break
        for sock in peers:
            with contextlib.suppress(OSError):
                sock.close()
