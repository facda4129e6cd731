"""Day 56 grader: structured channel pruning of the digits CNN at keep = 0.5. The pruned
network must be physically smaller and compute exactly what the grader's own L1 pruning
computes; after fine-tuning, FLOPs, size, accuracy and CPU speed are measured against the
original in the same run."""

import copy
import time

import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim imports it and it wraps torch.manual_seed:
from torch import nn  # imported before the grade, so the module guard does not blame the solution)

from graders import expect
from graders.data.digits_cnn import (
    accuracy,
    check_cpu_latency,
    load_digits_images,
    size_bytes,
    trained_cnn,
)

torch.set_num_threads(1)
KEEP, BATCH = 0.5, 64


@pytest.fixture(scope="module")
def data():
    return load_digits_images()


@pytest.fixture(scope="module")
def fp32():
    return trained_cnn()


def top(weight, k):
    return weight.detach().abs().flatten(1).sum(1).topk(k).indices.sort().values


def oracle_indices(model, keep=KEEP):
    ks = [max(1, round(keep * n)) for n in (model.c1, model.c2, model.hidden)]
    return (top(model.conv1.weight, ks[0]), top(model.conv2.weight, ks[1]),
            top(model.fc1.weight, ks[2]))


def macs(model, shape=(1, 1, 8, 8)):
    """Multiply-accumulates of every conv and linear layer for one image (hooks on the real
    modules, so masked-but-full-size layers count in full)."""
    total = [0]

    def hook(m, args, out):
        if isinstance(m, nn.Conv2d):
            total[0] += out[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * \
                m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.Conv2d | nn.Linear)]
    try:
        with torch.no_grad():
            model(torch.zeros(shape))
    finally:
        for h in handles:
            h.remove()
    return total[0]


@pytest.fixture(scope="module")
def pruned(solution, fp32):
    before = {k: v.clone() for k, v in fp32.state_dict().items()}
    small = solution.prune_channels(fp32, keep=KEEP)
    after = fp32.state_dict()
    changed = any(not torch.equal(before[k], after[k]) for k in before) or set(before) != set(after)
    return small, changed


@pytest.fixture(scope="module")
def tuned(solution, pruned, data):
    small, _ = pruned
    model = copy.deepcopy(small)
    out = solution.finetune(model, data.x_train, data.y_train, epochs=2, lr=1e-3, seed=0)
    return (out if isinstance(out, nn.Module) else model).eval()


@pytest.mark.parametrize("shape", [(8, 1, 3, 3), (16, 4, 3, 3), (5, 7)])
def test_channel_l1(solution, shape):
    w = torch.randn(shape, generator=torch.Generator().manual_seed(len(shape)))
    got = solution.channel_l1(w)
    expect.close(got.detach().numpy(), w.abs().reshape(shape[0], -1).sum(1).numpy(),
                 what=f"channel_l1 of a {shape} weight", rtol=1e-6, atol=1e-6,
                 oracle="sum of |w| over all but dim 0")


def test_the_original_is_left_alone(pruned):
    assert not pruned[1], "prune_channels modified the model it was given: build a new one"


def test_weights_are_physically_smaller(pruned, fp32):
    small, _ = pruned
    want = {"conv1": (16, 1, 3, 3), "conv2": (32, 16, 3, 3), "fc1": (128, 512), "fc2": (10, 128)}
    for name, shape in want.items():
        layer = getattr(small, name, None)
        assert layer is not None, f"the pruned model has no layer {name!r}"
        got = tuple(layer.weight.shape)
        if got == tuple(getattr(fp32, name).weight.shape):
            pytest.fail(f"{name}.weight still has the full shape {got}: zeroing channels "
                        "(masks, prune.ln_structured) leaves tensors as large and as slow as "
                        "before — build a smaller network from the kept channels", pytrace=False)
        assert got == shape, f"{name}.weight has shape {got}; keep=0.5 gives {shape}"


@pytest.mark.parametrize("keep,want", [
    (0.3, {"conv1": 10, "conv2": 19, "fc1": 77}),  # round(9.6), round(19.2), round(76.8)
    (0.01, {"conv1": 1, "conv2": 1, "fc1": 3}),  # max(1, round(0.32)), …, round(2.56)
])
def test_kept_counts_are_rounded(solution, fp32, keep, want):
    small = solution.prune_channels(fp32, keep)
    got = {name: getattr(small, name).weight.shape[0] for name in want}
    assert got == want, (
        f"prune_channels(model, keep={keep}) kept {got} output units; k = max(1, "
        f"round(keep · n)) gives {want}")


def test_pruned_network_computes_what_l1_pruning_gives(pruned, fp32, data):
    small, _ = pruned
    i1, i2, ih = oracle_indices(fp32)
    shapes = {n: tuple(getattr(small, n).weight.shape) for n in ("conv1", "conv2", "fc1")}
    if shapes != {"conv1": (16, 1, 3, 3), "conv2": (32, 16, 3, 3), "fc1": (128, 512)}:
        pytest.fail(f"not compared: the pruned layers have shapes {shapes} (see the size "
                    "check)", pytrace=False)
    cols = (i2[:, None] * 16 + torch.arange(16)).flatten()
    ref = copy.deepcopy(small)
    with torch.no_grad():
        ref.conv1.weight.copy_(fp32.conv1.weight[i1])
        ref.conv1.bias.copy_(fp32.conv1.bias[i1])
        ref.conv2.weight.copy_(fp32.conv2.weight[i2][:, i1])
        ref.conv2.bias.copy_(fp32.conv2.bias[i2])
        ref.fc1.weight.copy_(fp32.fc1.weight[ih][:, cols])
        ref.fc1.bias.copy_(fp32.fc1.bias[ih])
        ref.fc2.weight.copy_(fp32.fc2.weight[:, ih])
        ref.fc2.bias.copy_(fp32.fc2.bias)
        got, want = small.eval()(data.x_test[:50]), ref.eval()(data.x_test[:50])
    gap = (got - want).abs().max().item()
    if gap <= 1e-4:
        return

    def rows(w):
        return {tuple(r.tolist()) for r in w.detach().flatten(1).round(decimals=6)}

    hint = ""
    kept1 = rows(small.conv1.weight)
    if kept1 != rows(fp32.conv1.weight[i1]):
        weakest = fp32.conv1.weight.abs().flatten(1).sum(1).topk(len(i1), largest=False).indices
        hint = (" — conv1 kept the channels with the smallest L1 norm: keep the largest"
                if kept1 == rows(fp32.conv1.weight[weakest]) else
                " — conv1 kept other channels than the largest-L1 ones")
    elif rows(small.conv2.weight.flatten(1)) != rows(fp32.conv2.weight[i2][:, i1]):
        hint = " — conv2 must keep its largest-L1 filters and only the kept input channels"
    elif rows(small.fc1.weight) != rows(fp32.fc1.weight[ih][:, cols]):
        hint = (" — fc1's input columns must follow the kept conv2 channels: after pooling "
                "and flattening, channel c owns columns c*16 .. c*16+15")
    pytest.fail(f"before fine-tuning, the pruned network's logits differ by {gap:.3g} from "
                f"the network L1 channel pruning gives (keep=0.5){hint}", pytrace=False)


def test_flops_and_size(pruned, fp32, bench, record_metric):
    small, _ = pruned
    a, b = macs(fp32), macs(small)
    record_metric("fp32 MACs per image", a)
    record_metric("pruned MACs per image", b)
    bench.check_value("flops_ratio", b / a, name="FLOPs ratio pruned/original")
    bench.check_value("size_ratio", size_bytes(small) / size_bytes(fp32),
                      name="size ratio pruned/original (state_dict bytes)")


def test_accuracy_after_finetuning(tuned, pruned, fp32, data, bench, record_metric):
    base = accuracy(fp32, data.x_test, data.y_test)
    before = accuracy(pruned[0], data.x_test, data.y_test)
    after = accuracy(tuned, data.x_test, data.y_test)
    record_metric("original accuracy", base * 100, unit="%")
    record_metric("pruned accuracy before fine-tuning", before * 100, unit="%")
    record_metric("pruned accuracy after fine-tuning", after * 100, unit="%")
    drop = (base - after) * 100
    if drop > 1.5 and abs(after - before) < 1e-9:
        pytest.fail(f"accuracy {after:.1%} after finetune, exactly as before it ({before:.1%}), "
                    f"vs {base:.1%} unpruned: finetune did not train the model", pytrace=False)
    bench.check_value("accuracy_drop", drop, name="accuracy drop after fine-tuning (points)")


def test_speedup(tuned, fp32, data, bench):
    x = data.x_test[:BATCH]
    torch.set_num_threads(1)
    with torch.inference_mode():
        c = bench.compare(fp32, tuned, x, name=f"pruned vs original, batch {BATCH}",
                          timer=time.thread_time, max_time_s=1.5)
    bench.check(c, "pruned_speedup")


def test_latency(tuned, data, bench):
    """The pruned network's own forward time against the bound for this hardware class
    (challenge.toml): generous, it catches a network that is grossly slow, not a slow
    machine."""
    check_cpu_latency(bench, tuned, data.x_test[:BATCH], "pruned_latency",
                      f"pruned latency, batch {BATCH}")
