"""A stub OpenAI-compatible chat server on 127.0.0.1 for tests (the `server` fixture in
conftest.py starts them): `reply(body) -> (status, bytes)` answers each request, and every
request body is kept in `requests`."""
from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server:
    def __init__(self, reply):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                status, payload = reply(body)
                with contextlib.suppress(OSError):      # the client may have timed out and gone
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(text: str, reason: str = "stop") -> bytes:
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": reason}]}).encode()


def scripted(replies: list[tuple[int, bytes, float]]):
    """A reply function: the n-th request gets replies[min(n, last)], (status, body, delay)."""
    count = [0]

    def reply(body):
        count[0] += 1
        status, payload, delay = replies[min(count[0], len(replies)) - 1]
        time.sleep(delay)
        return status, payload
    return reply
