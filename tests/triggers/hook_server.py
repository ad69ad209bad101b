"""A real webhook receiver on loopback, shared by the trigger tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HookServer:
    """A webhook receiver on 127.0.0.1 that answers with scripted status codes."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict] = []
        self.script: list[int] = []  # status codes to answer first; then 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = outer.script.pop(0) if outer.script else 200
                outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body, "status": status})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def delivered(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests if r["status"] == 200]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
