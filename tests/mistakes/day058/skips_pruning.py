# mistake: no structured pruning: the teacher itself is distilled and quantised
# expect: structured pruning removes channels


import copy

import torch
import torch.ao.quantization as tq
import torch.nn.functional as F
from torch import nn

from graders.data.digits_cnn import DigitsCNN, train

KEEP = 0.5  # half the channels and hidden units: a quarter of the conv/linear work


def _top(weight: torch.Tensor, k: int) -> torch.Tensor:
    return weight.detach().abs().flatten(1).sum(1).topk(k).indices.sort().values


def prune(teacher: DigitsCNN, keep: float = KEEP) -> DigitsCNN:
    """Structured L1 pruning (day 56): a physically smaller DigitsCNN."""
    k1, k2, kh = (max(1, round(keep * n)) for n in (teacher.c1, teacher.c2, teacher.hidden))
    i1, i2, ih = _top(teacher.conv1.weight, k1), _top(teacher.conv2.weight, k2), \
        _top(teacher.fc1.weight, kh)
    small = DigitsCNN(k1, k2, kh)
    cols = (i2[:, None] * 16 + torch.arange(16)).flatten()
    with torch.no_grad():
        small.conv1.weight.copy_(teacher.conv1.weight[i1])
        small.conv1.bias.copy_(teacher.conv1.bias[i1])
        small.conv2.weight.copy_(teacher.conv2.weight[i2][:, i1])
        small.conv2.bias.copy_(teacher.conv2.bias[i2])
        small.fc1.weight.copy_(teacher.fc1.weight[ih][:, cols])
        small.fc1.bias.copy_(teacher.fc1.bias[ih])
        small.fc2.weight.copy_(teacher.fc2.weight[:, ih])
        small.fc2.bias.copy_(teacher.fc2.bias)
    return small.eval()


def kd_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.9):
    soft = F.kl_div(F.log_softmax(student_logits / T, 1),
                    F.softmax(teacher_logits.detach() / T, 1), reduction="batchmean")
    return alpha * T * T * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def distill(student: nn.Module, teacher: nn.Module, x, y, epochs: int = 3,
            lr: float = 2e-3, seed: int = 0) -> nn.Module:
    """Recover the pruned network's accuracy from the teacher's soft targets (day 57)."""
    teacher.eval()

    def loss_fn(logits, y_batch, x_batch):
        with torch.no_grad():
            t = teacher(x_batch)
        return kd_loss(logits, t, y_batch)

    return train(student, x, y, epochs=epochs, lr=lr, seed=seed, loss_fn=loss_fn)


def quantize(model: nn.Module, calibration: torch.Tensor) -> nn.Module:
    """Post-training static int8 quantisation (day 53)."""
    m = copy.deepcopy(model).eval()
    tq.fuse_modules(m, [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]], inplace=True)
    q = nn.Sequential(tq.QuantStub(), m, tq.DeQuantStub()).eval()
    q.qconfig = tq.get_default_qconfig(torch.backends.quantized.engine)
    prepared = tq.prepare(q)
    with torch.no_grad():
        for i in range(0, len(calibration), 64):
            prepared(calibration[i:i + 64])
    return tq.convert(prepared)


def optimize(teacher: DigitsCNN, x: torch.Tensor, y: torch.Tensor) -> dict[str, nn.Module]:
    pruned = copy.deepcopy(teacher)
    distilled = distill(copy.deepcopy(pruned), teacher, x, y)
    quantized = quantize(distilled, x[:256])
    return {"pruned": pruned, "distilled": distilled, "quantized": quantized}
