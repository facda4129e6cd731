"""Day 81: GPipe-style pipeline parallelism — two stages, two processes, micro-batches."""

import torch
from torch import nn


def bubble_fraction(p: int, m: int) -> float:
    """The share of stage-time a GPipe schedule of p stages and m micro-batches leaves idle.
    Raises ValueError when p < 1 or m < 1."""
    # TODO: fill and drain take p − 1 ticks of the m + p − 1 each stage lives through
    raise NotImplementedError("bubble_fraction")


def gpipe_schedule(p: int, m: int) -> list[list[int | None]]:
    """The forward timetable: table[t][s] is the micro-batch stage s runs at tick t, or None
    when it idles; as few ticks as the dependencies allow. Raises ValueError when p < 1 or
    m < 1."""
    # TODO: stage s can start micro-batch j only after stage s − 1 has finished it
    raise NotImplementedError("gpipe_schedule")


def split_micro(t: torch.Tensor, n_micro: int) -> list[torch.Tensor]:
    """`t` cut along dim 0 into n_micro equal contiguous micro-batches, in order. Raises
    ValueError when the rows do not split evenly (or n_micro < 1)."""
    # TODO
    raise NotImplementedError("split_micro")


def gpipe_step(stage: nn.Module, rank: int, port: int, x: torch.Tensor, y: torch.Tensor,
               n_micro: int, width: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """One training step's forward and backward (no optimiser step) of a two-stage pipeline;
    runs on both ranks. Rank 0 holds stage 0 and feeds it x, rank 1 holds stage 1 and scores
    its outputs against y with mean-squared error. Rank 0 returns None, rank 1
    (outputs of the whole batch, loss). The stages' .grad hold the full batch's gradients."""
    # TODO: join the gloo group (tcp://127.0.0.1:{port}, world_size 2); destroy it at the end
    # TODO: rank 0: every micro-batch forward through the stage, sending each activation
    #       (micro-batch rows × width) to rank 1; then, for each, receive its gradient and
    #       backpropagate it through the stage
    # TODO: rank 1: receive each activation (as a leaf that requires grad), run the stage,
    #       take a loss that makes the micro-batches add up to the full batch's mean; then
    #       backward each and send the activation's gradient to rank 0
    raise NotImplementedError("gpipe_step")
