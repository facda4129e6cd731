"""The demo model behind a simulated accelerator, for the inference-service days (110, 111).

    from graders.data.serving import ServedModel
    model = ServedModel()              # capstone 2's trained DigitsMLP, fixed seed
    logits = model(rows)               # (B, 64) pixels in [0, 1] -> (B, 10) float32 logits

On an accelerator a call has a fixed cost whatever its batch size (launch, transfer,
synchronisation): that is what makes dynamic batching pay. The CPU model costs well under a
millisecond, so `ServedModel` adds that fixed cost as a sleep of PER_CALL_S per call, and
runs one call at a time (a lock: the device is one), as a real device would. A sleep costs
no CPU, so the gain from batching stays measurable on a busy 2-core machine.

When the environment variable CALL_LOG_ENV names a file, every call appends its batch size
to it, one line per call: the grader reads how the learner's service really batched.
"""

from __future__ import annotations

import os
import threading
import time

import torch

from graders.data.capstone2 import load_task

PER_CALL_S = 0.2  # the simulated device's fixed cost of one call, whatever its batch size
FEATURES, CLASSES = 64, 10
CALL_LOG_ENV = "MLTRACK_SERVING_CALL_LOG"


class ServedModel:
    """Capstone 2's trained MLP as a device: one call at a time, PER_CALL_S per call."""

    def __init__(self) -> None:
        torch.set_num_threads(1)
        self._model = load_task().model.eval()
        self._lock = threading.Lock()
        self._log = os.environ.get(CALL_LOG_ENV)

    def __call__(self, rows) -> torch.Tensor:
        """(B, 64) float32 pixels (a tensor, an array or a list of lists) -> (B, 10) logits."""
        x = torch.as_tensor(rows, dtype=torch.float32)
        if x.dim() != 2 or x.shape[1] != FEATURES or x.shape[0] < 1:
            raise ValueError(f"expected a (B, {FEATURES}) batch with B >= 1, got "
                             f"{tuple(x.shape)}")
        with self._lock:
            time.sleep(PER_CALL_S)
            with torch.inference_mode():
                out = self._model(x.reshape(-1, 1, 8, 8))
            if self._log:
                with open(self._log, "a", encoding="utf-8") as f:
                    f.write(f"{x.shape[0]}\n")
        return out


def direct_logits(rows: torch.Tensor) -> torch.Tensor:
    """The oracle: the same trained model run directly on (B, 64) rows, no device cost."""
    model = load_task().model.eval()
    with torch.inference_mode():
        return model(torch.as_tensor(rows, dtype=torch.float32).reshape(-1, 1, 8, 8))


def eval_rows(n: int) -> torch.Tensor:
    """The first n test images of the digits split as (n, 64) float32 rows in [0, 1]."""
    return load_task().x_eval[:n].reshape(n, FEATURES).clone()


__all__ = ["CALL_LOG_ENV", "CLASSES", "FEATURES", "PER_CALL_S", "ServedModel", "direct_logits",
           "eval_rows"]
