"""Day 67: a torch model to a LiteRT (.tflite) flatbuffer, an int8 dynamic-range copy, and the
LiteRT interpreter that runs both."""

from pathlib import Path

import numpy as np
from torch import nn


def convert(model: nn.Module, batch: int, path) -> Path:
    """Convert `model` in eval mode with litert_torch for inputs (batch, 1, 8, 8) float32 and
    write the .tflite file to `path`; returns the path."""
    # TODO: eval mode first; litert_torch.convert(model, (example,)) with an example input of
    #       the asked batch; .export(path)
    raise NotImplementedError("convert")


def quantize_dynamic(src, dst) -> Path:
    """An int8 dynamic-range copy of the .tflite file `src` (int8 weights, float32
    activations), written with ai-edge-quantizer to `dst`; returns `dst`."""
    # TODO: ai_edge_quantizer's Quantizer on `src` with a dynamic-range int8 recipe
    raise NotImplementedError("quantize_dynamic")


def run_tflite(path, x) -> np.ndarray:
    """The .tflite model at `path` on `x` (any N) with the LiteRT interpreter:
    float32 logits (N, 10). The model's batch is fixed: run in chunks of it, padding the last."""
    # TODO: ai_edge_litert.interpreter.Interpreter(model_path=..., num_threads=1); feed float32
    #       chunks of the model's own batch size; keep only the rows that were real inputs
    raise NotImplementedError("run_tflite")


def describe(path) -> dict:
    """What the interpreter reports about the .tflite file at `path`."""
    # TODO: input/output shape and dtype, the number of int8 tensors, the file size
    raise NotImplementedError("describe")
