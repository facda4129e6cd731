"""Day 67: a torch model to a LiteRT (.tflite) flatbuffer, an int8 dynamic-range copy, and the
LiteRT interpreter that runs both."""

from pathlib import Path

import numpy as np
import torch
from torch import nn


def convert(model: nn.Module, batch: int, path) -> Path:
    """Convert `model` in eval mode with litert_torch for inputs (batch, 1, 8, 8) float32 and
    write the .tflite file to `path`; returns the path."""
    import litert_torch

    path = Path(path)
    model.eval()  # dropout off (it has no LiteRT lowering), BatchNorm on running statistics
    example = torch.zeros(batch, 1, 8, 8)
    litert_torch.convert(model, (example,)).export(str(path))
    return path


def quantize_dynamic(src, dst) -> Path:
    """An int8 dynamic-range copy of the .tflite file `src` (int8 weights, float32
    activations), written with ai-edge-quantizer to `dst`; returns `dst`."""
    from ai_edge_quantizer import quantizer, recipe

    q = quantizer.Quantizer(str(src))
    q.load_quantization_recipe(recipe.dynamic_wi8_afp32())
    q.quantize().export_model(str(dst), overwrite=True)
    return Path(dst)


def run_tflite(path, x) -> np.ndarray:
    """The .tflite model at `path` on `x` (any N) with the LiteRT interpreter:
    float32 logits (N, 10). The model's batch is fixed: run in chunks of it, padding the last."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    b = int(inp["shape"][0])
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    n = len(x)
    parts = []
    for start in range(0, n, b):
        chunk = x[start:start + b]
        if len(chunk) < b:  # pad with zeros to the model's batch, drop those rows afterwards
            pad = np.zeros((b - len(chunk),) + chunk.shape[1:], dtype=np.float32)
            chunk = np.concatenate([chunk, pad])
        interpreter.set_tensor(inp["index"], chunk)
        interpreter.invoke()
        parts.append(interpreter.get_tensor(out["index"])[:min(b, n - start)].copy())
    return np.concatenate(parts)


def describe(path) -> dict:
    """What the interpreter reports about the .tflite file at `path`."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    return {
        "input_shape": tuple(int(d) for d in inp["shape"]),
        "input_dtype": np.dtype(inp["dtype"]).name,
        "output_shape": tuple(int(d) for d in out["shape"]),
        "output_dtype": np.dtype(out["dtype"]).name,
        "int8_tensors": sum(int(np.dtype(t["dtype"]) == np.int8)
                            for t in interpreter.get_tensor_details()),
        "size_bytes": Path(path).stat().st_size,
    }
