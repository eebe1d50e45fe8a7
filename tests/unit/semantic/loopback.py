"""The loopback HTTP server under the semantic tests' fake chat endpoints.

:class:`LoopbackServer` binds 127.0.0.1 at a free port; a :class:`JSONHandler` subclass says
what each POST gets (:meth:`~JSONHandler.respond`) and the handler sends it; :func:`serving`
runs a server on a thread for the length of a ``with`` block. Used in-process by the tests and
by ``openai_server.py``, which runs as its own process (so this module imports nothing from the
tests).
"""

from __future__ import annotations

import contextlib
import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


class JSONHandler(BaseHTTPRequestHandler):
    """Answers each POST of a JSON body with :meth:`respond`'s reply; logs nothing."""

    def respond(self, body: Any) -> tuple[int, str]:
        """(HTTP status, reply text) for a POST of ``body`` (parsed JSON) to ``self.path``."""
        raise NotImplementedError

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, payload = self.respond(body)
        data = payload.encode("utf-8")
        # A client that gave up (the timeout tests) closes the connection before the reply.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing: requests are not printed into the test output."""


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 at a free port, answering with ``handler``."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's slow reverse DNS lookup
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL of this server: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


Server = TypeVar("Server", bound=LoopbackServer)


@contextlib.contextmanager
def serving(server: Server) -> Iterator[Server]:
    """``server``, served on a daemon thread until the block ends, then shut down and closed."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
