"""Day 57: knowledge distillation — a small student learns from a teacher's soft targets."""

import torch
from torch import nn


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
            T: float = 4.0, alpha: float = 0.9) -> torch.Tensor:
    """alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) (batch mean)
    + (1 − alpha) · cross_entropy(student, labels); a scalar tensor."""
    raise NotImplementedError("kd_loss")


def train_student(student: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  teacher: nn.Module | None = None, T: float = 4.0, alpha: float = 0.9,
                  epochs: int = 100, lr: float = 5e-3, batch_size: int = 32,
                  seed: int = 0) -> nn.Module:
    """Train `student` on (x, y): with kd_loss against `teacher`'s logits on each batch, or
    with plain cross-entropy when teacher is None. Returns the student in eval mode."""
    raise NotImplementedError("train_student")
