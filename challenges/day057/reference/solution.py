"""Day 57 reference: Hinton-style knowledge distillation — the KD loss and a student trained
with it next to one trained on the labels alone."""

import torch
import torch.nn.functional as F
from torch import nn

from graders.data.digits_cnn import train


def kd_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.9):
    teacher = teacher_logits.detach()  # targets: no gradient flows into the teacher
    # KL(teacher_T || student_T), averaged over the batch ("batchmean": the mathematical KL)
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1), F.softmax(teacher / T, dim=1),
                    reduction="batchmean")
    hard = F.cross_entropy(student_logits, labels)
    # T² keeps the soft term's gradients on the scale of the hard term's as T changes
    return alpha * T * T * soft + (1 - alpha) * hard


def train_student(student: nn.Module, x, y, teacher=None, T=4.0, alpha=0.9, epochs=100,
                  lr=5e-3, batch_size=32, seed=0) -> nn.Module:
    if teacher is None:
        return train(student, x, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    was_training = teacher.training
    teacher.eval()

    def loss_fn(logits, y_batch, x_batch):
        with torch.no_grad():
            t = teacher(x_batch)  # the teacher sees the same (shuffled) batch as the student
        return kd_loss(logits, t, y_batch, T, alpha)

    try:
        return train(student, x, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                     loss_fn=loss_fn)
    finally:
        teacher.train(was_training)  # the caller's teacher, as it was given
