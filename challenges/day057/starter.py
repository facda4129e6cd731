"""Day 57: knowledge distillation — a small student learns from a teacher's soft targets."""

import torch
from torch import nn


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
            T: float = 4.0, alpha: float = 0.9) -> torch.Tensor:
    """alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) (batch mean)
    + (1 − alpha) · cross_entropy(student, labels); a scalar tensor."""
    # TODO: soften both sets of logits with temperature T; keep the teacher's out of the
    #       gradient (they are targets)
    # TODO: the soft term: KL(teacher ‖ student) of the softened distributions, summed over
    #       classes and averaged over the batch (not over every element), scaled by T²
    # TODO: mix it with the hard cross-entropy on the labels by alpha
    raise NotImplementedError("kd_loss")


def train_student(student: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  teacher: nn.Module | None = None, T: float = 4.0, alpha: float = 0.9,
                  epochs: int = 100, lr: float = 5e-3, batch_size: int = 32,
                  seed: int = 0) -> nn.Module:
    """Train `student` on (x, y): with kd_loss against `teacher`'s logits on each batch, or
    with plain cross-entropy when teacher is None. Returns the student in eval mode."""
    # TODO: pick the loss: cross-entropy alone without a teacher, kd_loss with one
    # TODO: with a teacher, compute its logits on each shuffled batch when it is drawn
    #       (teacher in eval mode, no gradients); leave the teacher unchanged
    # TODO: train as graders.data.digits_cnn.train does (Adam, seeded shuffling, linearly
    #       decaying learning rate) — or pass it a loss_fn — and return the student in eval mode
    raise NotImplementedError("train_student")
