"""Day 121 reference: the digits model behind a gRPC service, and a client that benchmarks
unary calls (latency percentiles, throughput) at a fixed concurrency."""

import math
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import digits_pb2 as pb
import digits_pb2_grpc as pb_grpc
import grpc
import numpy as np
import torch

from graders.data.digits_cnn import DigitsMLP

PIXELS = 64


class Digits(pb_grpc.DigitsServicer):
    def __init__(self, model: torch.nn.Module):
        self.model = model

    def Predict(self, request, context):
        pixels = np.asarray(request.pixels, dtype=np.float32)
        if pixels.size != PIXELS:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"expected {PIXELS} pixels, got {pixels.size}")
        if not np.isfinite(pixels).all():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "pixels must be finite")
        with torch.inference_mode():
            logits = self.model(torch.from_numpy(pixels).reshape(1, 1, 8, 8))[0]
        return pb.PredictReply(logits=logits.tolist(), label=int(logits.argmax()))


def serve(port: int, model_path: str) -> None:
    torch.set_num_threads(1)
    model = DigitsMLP(hidden=512)
    model.load_state_dict(torch.load(model_path, weights_only=True))
    model.eval()
    server = grpc.server(ThreadPoolExecutor(max_workers=8))
    pb_grpc.add_DigitsServicer_to_server(Digits(model), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    # SIGTERM: stop taking calls, let those in flight finish, then return (exit code 0)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(grace=1.0))
    server.wait_for_termination()


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def benchmark(target: str, images: np.ndarray, concurrency: int = 8,
              timeout_s: float = 10.0) -> dict:
    flat = np.asarray(images, dtype=np.float32).reshape(len(images), PIXELS)
    latencies = [0.0] * len(flat)
    labels = [-1] * len(flat)
    errors = [0]
    lock = threading.Lock()
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.DigitsStub(channel)
        grpc.channel_ready_future(channel).result(timeout=timeout_s)

        def call(i: int) -> None:
            request = pb.PredictRequest(pixels=flat[i].tolist())
            start = time.perf_counter()
            try:
                reply = stub.Predict(request, timeout=timeout_s)
            except grpc.RpcError:
                with lock:
                    errors[0] += 1
                latencies[i] = (time.perf_counter() - start) * 1000
                return
            latencies[i] = (time.perf_counter() - start) * 1000
            labels[i] = reply.label

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(call, range(len(flat))))
        wall = time.perf_counter() - t0
    return {"n": len(flat), "concurrency": concurrency, "errors": errors[0],
            "latencies_ms": latencies, "labels": labels,
            "p50_ms": nearest_rank(latencies, 50), "p99_ms": nearest_rank(latencies, 99),
            "throughput_rps": (len(flat) - errors[0]) / wall}
