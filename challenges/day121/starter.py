"""Day 121: the digits model behind a gRPC service, and a client that benchmarks it."""

import digits_pb2 as pb  # noqa: F401  (generated from data/digits.proto; see the spec)
import digits_pb2_grpc as pb_grpc  # noqa: F401
import numpy as np


def serve(port: int, model_path: str) -> None:
    """Serve the Digits service on 127.0.0.1:port until SIGTERM, then return."""
    # TODO: load DigitsMLP(hidden=512) (graders.data.digits_cnn) from the state dict at
    #       model_path (torch.load(model_path, weights_only=True)), eval mode
    # TODO: a servicer whose Predict answers the 10 logits and their argmax for 64 row-major
    #       pixels; anything but 64 finite pixels → INVALID_ARGUMENT
    # TODO: grpc.server with a thread pool, bound to 127.0.0.1:port; on SIGTERM stop it
    #       (grace ≤ 1 s) and return, so the process exits with code 0
    raise NotImplementedError("serve")


def benchmark(target: str, images: np.ndarray, concurrency: int = 8,
              timeout_s: float = 10.0) -> dict:
    """Call Predict once per image on `target` ("127.0.0.1:PORT"), `concurrency` calls in
    flight; return the record of the spec (latencies, nearest-rank p50/p99, throughput)."""
    # TODO: one channel and stub; a pool of `concurrency` workers, one call per image
    # TODO: time each call (send to reply) in milliseconds; keep latency and label at the
    #       image's index
    # TODO: p50/p99 by nearest rank of your latencies; throughput = answered calls / wall time
    raise NotImplementedError("benchmark")
