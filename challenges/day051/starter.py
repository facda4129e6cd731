"""Day 51: serve a model over HTTP (standard library) and profile where inference time goes."""

from http.server import ThreadingHTTPServer

import torch


def create_server(model: torch.nn.Module, host: str = "127.0.0.1",
                  port: int = 0) -> ThreadingHTTPServer:
    """A bound, not yet started, HTTP server that serves `model` (see spec.md).

    GET /health -> 200 {"status": "ok"}
    POST /predict {"inputs": [[64 numbers in [0, 1]], ...]}  (1..256 rows)
        -> 200 {"predictions": [int, ...], "probabilities": [[10 floats], ...]}
           with the header Server-Timing: parse;dur=..., model;dur=..., serialize;dur=...
    Errors -> {"error": "<message>"} with 400, 404, 405, 413 or 415.
    The caller runs server.serve_forever() in a thread and server.shutdown() at the end.
    """
    # TODO: put the model in eval mode
    # TODO: a BaseHTTPRequestHandler subclass with do_GET and do_POST
    # TODO: return ThreadingHTTPServer((host, port), Handler)
    raise NotImplementedError("create_server")


def profile_model(model: torch.nn.Module, x: torch.Tensor,
                  repeats: int = 5) -> list[tuple[str, float]]:
    """Mean seconds per forward pass spent in each leaf module of `model` on input `x`,
    as (name from model.named_modules(), seconds) pairs, slowest first."""
    # TODO: forward pre-hooks and hooks on every leaf module, one warm-up pass,
    #       then `repeats` timed passes under torch.inference_mode()
    raise NotImplementedError("profile_model")
