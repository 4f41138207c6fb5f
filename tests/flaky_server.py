"""An HTTP server on 127.0.0.1 that misbehaves on purpose, for the clients' retry tests (reward
endpoints, judges, served models):

    srv = FlakyServer(b'{"reward": 1}', script=["500", "500", "ok"])   # the n-th request: script[n]
    srv.url, srv.count, srv.requests, srv.max_active; srv.close()
    refused_url()                                  # a port on 127.0.0.1 with nothing listening

What each script entry does with a request (the last entry repeats):
    ok         200 and the good body (after `hold` seconds: concurrent requests overlap)
    500        500 and a JSON error body
    slow       sleeps `slow` seconds, past the client's timeout, then answers as ok
    malformed  200 and a body that is not JSON
    cut        200 with a Content-Length larger than the bytes sent, then the connection closes
fail_after(k, mode) is the script of a server that answers k requests, then fails every one.
"""
from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "500", "slow", "malformed", "cut")


def fail_after(k: int, mode: str = "500") -> list[str]:
    return ["ok"] * k + [mode]


def refused_url(path: str = "/v1") -> str:
    """A URL whose port was just bound and released without listening: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class FlakyServer:
    """`body`: the good reply's bytes, or a function of the request's JSON returning them."""

    def __init__(self, body, script=("ok",), slow: float = 2.0, hold: float = 0.0):
        assert all(m in MODES for m in script), script
        self.script, self.slow, self.hold = list(script), slow, hold
        self.body = body if callable(body) else (lambda request: body)
        self.requests: list[dict] = []
        self.modes: list[str] = []                 # what each request got, in arrival order
        self.active = self.max_active = 0
        self._lock, self._closing = threading.Lock(), threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                mode = outer._arrive(request)
                with contextlib.suppress(OSError):      # the client may have given up
                    outer._answer(self, mode, request)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def count(self) -> int:
        return len(self.requests)

    def _arrive(self, request: dict) -> str:
        with self._lock:
            mode = self.script[min(len(self.requests), len(self.script) - 1)]
            self.requests.append(request)
            self.modes.append(mode)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        return mode

    def _answer(self, handler, mode: str, request: dict) -> None:
        if mode == "slow":
            self._closing.wait(self.slow)
        elif mode == "ok" and self.hold:
            self._closing.wait(self.hold)
        with self._lock:          # before the reply: a client that has it may send the next
            self.active -= 1
        status, payload = {"500": (500, b'{"error": "on purpose"}'),
                           "malformed": (200, b'{"reward": 1, <html>')}.get(
            mode, (200, self.body(request)))
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload) + (1000 if mode == "cut" else 0)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload[:len(payload) // 2] if mode == "cut" else payload)
        handler.wfile.flush()
        handler.close_connection = True

    def close(self) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def chat_body(text: str = "1") -> bytes:
    """A chat-completion reply (what a served model or a judge endpoint answers)."""
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}]}).encode()
