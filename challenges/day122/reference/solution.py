"""Day 122 reference: the same gRPC inference call made cheap — a batch per call, sent as
raw little-endian float32 bytes with a shape header instead of a repeated float per image."""

import math
import signal
from concurrent.futures import ThreadPoolExecutor

import digits_batch_pb2 as pb
import digits_batch_pb2_grpc as pb_grpc
import grpc
import numpy as np
import torch

from graders.data.digits_cnn import DigitsMLP

PIXELS, CLASSES = 64, 10
DTYPE = "<f4"
MAX_ROWS = 16_000  # 16000 x 64 x 4 bytes = 4,096,000: under gRPC's default 4 MiB per message


def encode(array: np.ndarray) -> pb.Tensor:
    array = np.asarray(array)
    if array.dtype.kind != "f" or array.dtype.itemsize != 4:  # float32 in either byte order
        raise TypeError(f"encode takes float32 arrays, not {array.dtype}")
    data = np.ascontiguousarray(array, dtype=DTYPE).tobytes()  # little-endian, C order
    return pb.Tensor(shape=list(array.shape), dtype=DTYPE, data=data)


def decode(tensor: pb.Tensor) -> np.ndarray:
    if tensor.dtype != DTYPE:
        raise ValueError(f"dtype {tensor.dtype!r}: only {DTYPE!r} is understood")
    shape = tuple(int(d) for d in tensor.shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    if len(tensor.data) != 4 * math.prod(shape):
        raise ValueError(f"{len(tensor.data)} bytes of data for shape {shape}")
    return np.frombuffer(tensor.data, dtype=DTYPE).astype(np.float32).reshape(shape)


class Digits(pb_grpc.DigitsServicer):
    def __init__(self, model: torch.nn.Module):
        self.model = model

    def _logits(self, x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model(torch.from_numpy(x)).numpy()

    def Predict(self, request, context):
        pixels = np.asarray(request.pixels, dtype=np.float32)
        if pixels.size != PIXELS or not np.isfinite(pixels).all():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"need {PIXELS} finite pixels")
        return pb.Logits(logits=self._logits(pixels.reshape(1, PIXELS))[0].tolist())

    def PredictBatch(self, request, context):
        try:
            x = decode(request)
        except ValueError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] != PIXELS:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"shape {x.shape}: expected (B, {PIXELS}) with B >= 1")
        if not np.isfinite(x).all():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "pixels must be finite")
        return encode(self._logits(x))


def serve(port: int, model_path: str) -> None:
    torch.set_num_threads(1)
    model = DigitsMLP(hidden=512)
    model.load_state_dict(torch.load(model_path, weights_only=True))
    model.eval()
    server = grpc.server(ThreadPoolExecutor(max_workers=8))
    pb_grpc.add_DigitsServicer_to_server(Digits(model), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(grace=1.0))
    server.wait_for_termination()


def _rows(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype=np.float32).reshape(len(images), PIXELS)


def predict_naive(channel: grpc.Channel, images: np.ndarray) -> np.ndarray:
    rows = _rows(images)
    stub = pb_grpc.DigitsStub(channel)
    out = [stub.Predict(pb.Image(pixels=row.tolist()), timeout=30).logits for row in rows]
    return np.array(out, dtype=np.float32).reshape(len(rows), CLASSES)


def predict_batched(channel: grpc.Channel, images: np.ndarray,
                    batch_size: int = 256) -> np.ndarray:
    rows = _rows(images)
    step = min(batch_size, MAX_ROWS)
    stub = pb_grpc.DigitsStub(channel)
    parts = [decode(stub.PredictBatch(encode(rows[i:i + step]), timeout=30))
             for i in range(0, len(rows), step)]
    return np.concatenate(parts) if parts else np.zeros((0, CLASSES), np.float32)
