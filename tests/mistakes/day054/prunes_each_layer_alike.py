# mistake: every layer loses the same fraction of its weights instead of one global threshold
# expect: Prune globally


import copy
import statistics
import time

import torch
import torch.ao.quantization as tq
from torch import nn
from torch.nn.utils import prune

from graders.data.digits_cnn import accuracy, size_bytes


def dynamic_quantize(model: nn.Module) -> nn.Module:
    # int8 weights; activations are quantised on the fly, per batch, inside each Linear
    return tq.quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)


def magnitude_prune(model: nn.Module, sparsity: float) -> nn.Module:
    pruned = copy.deepcopy(model)
    weights = [(m, "weight") for m in pruned.modules() if isinstance(m, nn.Linear)]
    # one threshold for all layers: the smallest |w| of the whole model go, wherever they are
    for module, name in weights:
        prune.l1_unstructured(module, name, amount=sparsity)
    for module, name in weights:
        prune.remove(module, name)  # bake the mask in: plain `weight` tensors with zeros
    return pruned


def csr_bytes(model: nn.Module) -> int:
    total = 0
    for m in model.modules():
        if isinstance(m, nn.Linear):
            c = m.weight.detach().to_sparse_csr()  # torch's CSR: float32 values, int64 indices
            total += sum(a.nbytes for a in (c.values(), c.col_indices(), c.crow_indices()))
            total += 0 if m.bias is None else m.bias.nbytes
    return total


def linear_sparsity(model: nn.Module) -> float:
    ws = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    return sum(int((w == 0).sum()) for w in ws) / sum(w.numel() for w in ws)


def measure_latency_ms(model: nn.Module, x: torch.Tensor, timer=time.perf_counter,
                       repeats: int = 20) -> float:
    with torch.inference_mode():
        for _ in range(3):  # warm-up: allocation, packing, caches
            model(x)
        times = []
        for _ in range(repeats):
            t0 = timer()
            model(x)
            times.append(timer() - t0)
    return statistics.median(times) * 1e3


def comparison_table(model, x_test, y_test, sparsities=(0.5, 0.9), batch=64,
                     timer=time.perf_counter):
    variants = [("fp32", model), ("dynamic-int8", dynamic_quantize(model))]
    variants += [(f"pruned-{round(s * 100)}%", magnitude_prune(model, s)) for s in sparsities]
    rows = []
    for name, m in variants:
        rows.append({
            "name": name,
            "size_bytes": size_bytes(m),
            "csr_bytes": None if name == "dynamic-int8" else csr_bytes(m),
            "accuracy": accuracy(m, x_test, y_test),
            "latency_ms": measure_latency_ms(m, x_test[:batch], timer),
            "sparsity": 0.0 if name == "dynamic-int8" else linear_sparsity(m),
        })
    return rows
