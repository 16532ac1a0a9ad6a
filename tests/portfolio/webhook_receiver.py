"""A real HTTP server on localhost that receives webhooks, for the tests: it records and answers as told."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from portfolio.webhooks import SIGNATURE_HEADER, signature_valid


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        """What a receiver does: the HMAC of the raw body with the shared secret, compared in constant time."""
        return signature_valid(secret, self.body, self.headers.get(SIGNATURE_HEADER, ""))


@dataclass
class Receiver:
    """Answers each POST with the next status of ``answers`` (then 200); ("sleep", s) waits s seconds first."""

    answers: list = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> tuple[float, int]:
        with self.lock:
            answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, tuple):
            return answer[1], 200
        return 0.0, answer

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.1)
        return len(self.received) >= count


@contextmanager
def receiving(*answers: int | tuple[str, float]) -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 for the length of the block."""
    receiver = Receiver(answers=list(answers))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            delay, status = receiver.next_answer()
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # The sender gave up waiting (a timeout test).

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/portfolio"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
