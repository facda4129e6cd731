"""A grader-owned HTTP server with a known service time per request (day 111's target).

    with DelayServer(delays_s) as srv:       # listens on 127.0.0.1, a free port
        ... load against srv.url ...
        srv.arrivals, srv.methods, srv.max_in_flight, srv.service_s, srv.span_s()
        srv.reset()                          # counters back to zero for the next run

Every request (any method, any path) is answered 200 with `{"i": k}` after holding it for
delays_s[k % len(delays_s)] seconds, k being its arrival index since the last reset: the
multiset of service times of any run of len(delays_s) requests is known in advance, so the
percentiles a client measures can be checked. The server counts arrivals and requests in
flight (the most at once is what tells a concurrent client from a sequential one), and the
requests per HTTP method. It runs an asyncio loop in a thread of the grader's process and
speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) for httpx.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence

HOST = "127.0.0.1"


class DelayServer:
    def __init__(self, delays_s: Sequence[float]):
        self.delays_s = list(delays_s)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self.reset()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def reset(self) -> None:
        """Forget the last run: arrival index, counts and timings start again."""
        self.arrivals = 0
        self.methods: dict[str, int] = {}  # requests per HTTP method ("GET": 80)
        self.in_flight = 0
        self.max_in_flight = 0
        self.service_s: list[float] = []  # arrival to answer written, per answered request
        self.first_arrival: float | None = None
        self.last_answer: float | None = None

    def span_s(self) -> float:
        """First arrival to last answer of the run, seconds (server side)."""
        if self.first_arrival is None or self.last_answer is None:
            return 0.0
        return self.last_answer - self.first_arrival

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                start = time.perf_counter()
                method = head.split(b" ", 1)[0].decode("ascii", "replace")
                self.methods[method] = self.methods.get(method, 0) + 1
                k = self.arrivals
                self.arrivals += 1
                if self.first_arrival is None:
                    self.first_arrival = start
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    await asyncio.sleep(self.delays_s[k % len(self.delays_s)])
                    body = json.dumps({"i": k}).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: " + str(len(body)).encode() +
                                 b"\r\n\r\n" + body)
                    await writer.drain()
                finally:
                    self.in_flight -= 1
                end = time.perf_counter()
                self.last_answer = end
                self.service_s.append(end - start)  # last: a reader waits on its length
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
                asyncio.CancelledError):
            pass  # the client closed the connection, or the server is stopping
        finally:
            writer.close()

    def __enter__(self) -> DelayServer:
        ready = threading.Event()

        def main() -> None:
            self._loop = asyncio.new_event_loop()
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, HOST, 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=main, name="delay-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the delay server did not start")
        return self

    def __exit__(self, *exc) -> None:
        loop, server = self._loop, self._server

        async def shutdown() -> None:
            server.close()
            handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(5)
        loop.close()


__all__ = ["DelayServer"]
