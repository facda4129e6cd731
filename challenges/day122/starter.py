"""Day 122: cut the RPC overhead — a batch per call, as raw float32 bytes with a shape header."""

import digits_batch_pb2 as pb  # noqa: F401  (generated from data/digits_batch.proto; see the spec)
import digits_batch_pb2_grpc as pb_grpc  # noqa: F401
import grpc  # noqa: F401
import numpy as np

MAX_ROWS = 16_000  # rows per PredictBatch call: 16000 x 64 x 4 bytes stays under gRPC's 4 MiB


def encode(array: np.ndarray) -> "pb.Tensor":
    """A float32 array (either byte order, any layout) as a Tensor: shape, '<f4', C-order bytes."""
    # TODO: anything but float32 → TypeError
    # TODO: little-endian float32 bytes in C order, whatever the input's byte order and layout
    raise NotImplementedError("encode")


def decode(tensor: "pb.Tensor") -> np.ndarray:
    """The float32 array a Tensor holds (a new, writable array of its shape)."""
    # TODO: dtype other than '<f4', a negative dimension, or len(data) != 4·prod(shape) → ValueError
    raise NotImplementedError("decode")


def serve(port: int, model_path: str) -> None:
    """Serve Digits (Predict and PredictBatch) on 127.0.0.1:port until SIGTERM, then return."""
    # TODO: as on day 121, plus PredictBatch: decode, validate (B, 64), one model call, encode
    raise NotImplementedError("serve")


def predict_naive(channel: "grpc.Channel", images: np.ndarray) -> np.ndarray:
    """(N, 10) float32 logits: one Predict call (repeated float) per image, one at a time."""
    raise NotImplementedError("predict_naive")


def predict_batched(channel: "grpc.Channel", images: np.ndarray,
                    batch_size: int = 256) -> np.ndarray:
    """(N, 10) float32 logits from PredictBatch calls of min(batch_size, MAX_ROWS) rows."""
    raise NotImplementedError("predict_batched")
