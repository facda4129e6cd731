"""Day 77 reference: magnitude pruning and dynamic int8 quantisation of a GCN's linear layers,
and the largest pruning amount that keeps validation accuracy within a budget."""

import copy

import torch
import torch.nn.utils.prune as prune
from torch import nn
from torch.ao.quantization import quantize_dynamic


def prune_linear_layers(model: nn.Module, amount: float) -> nn.Module:
    pruned = copy.deepcopy(model)  # the caller keeps its dense model
    for module in pruned.modules():
        if isinstance(module, nn.Linear):
            # per layer: zero the round(amount · numel) weights of smallest magnitude
            prune.l1_unstructured(module, "weight", amount=amount)
            prune.remove(module, "weight")  # permanent: a plain weight, no mask or weight_orig
    return pruned


def quantize_int8(model: nn.Module) -> nn.Module:
    # int8 weights, activations quantised on the fly: the sparse Â @ h stays in float
    return quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)


def correct(model: nn.Module, graph, adj, mask) -> int:
    with torch.no_grad():
        pred = model(graph.x, adj).argmax(1)
    return int((pred[mask] == graph.y[mask]).sum())


def choose_pruning(model: nn.Module, graph, adj: torch.Tensor, amounts,
                   max_drop_pt: float) -> float:
    mask = graph.val_mask
    n = int(mask.sum())
    base = correct(model, graph, adj, mask)
    best = 0.0
    for amount in amounts:
        drop = 100 * (base - correct(prune_linear_layers(model, amount), graph, adj, mask)) / n
        if drop <= max_drop_pt:
            best = max(best, amount)
    return best
