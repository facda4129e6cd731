"""Day 57 grader: the knowledge-distillation loss against its formula (value and gradient),
then a small CNN student trained on 100 labelled digits twice with the learner's code — on
the labels alone and distilled from the grader's teacher — scored on the test split."""

import copy
import warnings

import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim imports it and it wraps torch.manual_seed:
import torch.nn.functional as F  # imported before the grade, so the module guard does not

from graders import expect
from graders.data.digits_cnn import DigitsCNN, accuracy, load_digits_images, trained_cnn

torch.set_num_threads(1)
# kl_div(reduction="mean") warns (the diagnosis tries it); warnings record themselves in this
# module's registry, which exists from the start so that is not taken for a change
warnings.filterwarnings("ignore", category=UserWarning)
__warningregistry__: dict = {}
N_LABELLED, SUBSET_SEED = 100, 100
STUDENT = (8, 16, 32)
MIN_GAIN_PT, MIN_LABEL_ONLY = 2.0, 0.80


def reference_kd(s, t, y, T, alpha):
    soft = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean")
    return alpha * T * T * soft + (1 - alpha) * F.cross_entropy(s, y)


def _diagnose(got, s, t, y, T, alpha):
    """Name the usual slip when the learner's value matches one of them."""
    hard = (1 - alpha) * F.cross_entropy(s, y)
    p, log_q = F.softmax(t / T, 1), F.log_softmax(s / T, 1)
    soft = F.kl_div(log_q, p, reduction="batchmean")
    candidates = {
        "the soft term is missing its T² factor (Hinton et al. scale it by T² so its "
        "gradients keep their size as T changes)": alpha * soft + hard,
        "the KL divergence is averaged over every element (reduction='mean'), which also "
        "divides by the number of classes: use reduction='batchmean'":
            alpha * T * T * F.kl_div(log_q, p, reduction="mean") + hard,
        "the KL divergence runs the wrong way: it is KL(teacher ‖ student), i.e. "
        "kl_div(log_softmax(student/T), softmax(teacher/T))":
            alpha * T * T * F.kl_div(F.log_softmax(t / T, 1), F.softmax(s / T, 1),
                                     reduction="batchmean") + hard,
        "the student's logits are not divided by T":
            alpha * T * T * F.kl_div(F.log_softmax(s, 1), p, reduction="batchmean") + hard,
    }
    for why, value in candidates.items():
        if abs(float(got) - float(value)) <= 1e-5 * max(1.0, abs(float(value))):
            return f" — {why}"
    return ""


@pytest.mark.parametrize("T,alpha,batch", [(4.0, 0.9, 16), (1.0, 0.5, 5), (2.0, 1.0, 8),
                                           (8.0, 0.3, 12), (3.0, 0.0, 7)])
def test_kd_loss_matches_the_formula(solution, T, alpha, batch):
    g = torch.Generator().manual_seed(int(T * 10 + batch))
    s = (torch.randn(batch, 10, generator=g) * 3).requires_grad_()
    t = torch.randn(batch, 10, generator=g) * 3
    y = torch.randint(0, 10, (batch,), generator=g)
    got = solution.kd_loss(s, t, y, T=T, alpha=alpha)
    assert isinstance(got, torch.Tensor) and got.dim() == 0, "kd_loss must return a scalar tensor"
    s_ref = s.detach().clone().requires_grad_()
    want = reference_kd(s_ref, t, y, T, alpha)
    what = f"kd_loss(T={T}, alpha={alpha}, batch {batch})"
    if abs(got.item() - want.item()) > 1e-5 * max(1.0, abs(want.item())):
        shown, expected = expect.distinct(got.item(), want.item())
        pytest.fail(f"{what} = {shown}, the formula gives {expected}"
                    f"{_diagnose(got.item(), s.detach(), t, y, T, alpha)}", pytrace=False)
    got.backward()
    want.backward()
    assert s.grad is not None, f"{what}: no gradient reached the student's logits"
    expect.close(s.grad.numpy(), s_ref.grad.numpy(), what=f"gradient of {what}",
                 rtol=1e-5, atol=1e-7, oracle="autograd of the formula")


def test_kd_loss_treats_the_teacher_as_a_target(solution):
    g = torch.Generator().manual_seed(3)
    s = torch.randn(6, 10, generator=g, requires_grad=True)
    t = torch.randn(6, 10, generator=g, requires_grad=True)
    y = torch.randint(0, 10, (6,), generator=g)
    solution.kd_loss(s, t, y, T=4.0, alpha=0.9).backward()
    assert t.grad is None or float(t.grad.abs().max()) == 0.0, (
        "a gradient flowed into the teacher's logits: they are targets — detach them (or "
        "compute them under torch.no_grad())")
    same = solution.kd_loss(s.detach(), s.detach(), y, T=4.0, alpha=1.0)
    assert abs(float(same)) <= 1e-6, (
        f"with alpha=1 and student == teacher the loss is 0, got {float(same):.3g}")


@pytest.fixture(scope="module")
def data():
    d = load_digits_images()
    idx = torch.randperm(len(d.x_train), generator=torch.Generator().manual_seed(SUBSET_SEED))
    return d, d.x_train[idx[:N_LABELLED]], d.y_train[idx[:N_LABELLED]]


@pytest.fixture(scope="module")
def teacher():
    return trained_cnn()


@pytest.fixture(scope="module")
def students(solution, teacher, data):
    d, x, y = data
    torch.manual_seed(0)
    init = DigitsCNN(*STUDENT)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    calls = {"n": 0, "training": 0, "with_grad": 0}
    teacher.train()  # given in training mode: "do not change the teacher" includes its mode
    mode = teacher.training

    def count(module, args, output):
        calls["n"] += 1
        calls["training"] += module.training
        calls["with_grad"] += torch.is_grad_enabled()

    hook = teacher.register_forward_hook(count)
    try:
        label_only = solution.train_student(copy.deepcopy(init), x.clone(), y.clone(),
                                             teacher=None, seed=0)
        calls_without = calls["n"]
        distilled = solution.train_student(copy.deepcopy(init), x.clone(), y.clone(),
                                           teacher=teacher, T=4.0, alpha=0.9, seed=0)
    finally:
        hook.remove()
    after = teacher.state_dict()
    # recorded now: the accuracy checks below may switch modes themselves
    returned = {name: (type(m).__name__, getattr(m, "training", None))
                for name, m in (("label-only", label_only), ("distilled", distilled))}
    mode_changed = teacher.training != mode
    teacher.eval()  # as the other checks use it
    return {"label_only": label_only, "distilled": distilled,
            "teacher_calls": calls["n"] - calls_without, "teacher_training": calls["training"],
            "teacher_with_grad": calls["with_grad"],
            "teacher_changed": any(not torch.equal(before[k], after[k]) for k in before),
            "teacher_mode_changed": mode_changed, "returned": returned}


def test_train_student_returns_the_student_in_eval_mode(students):
    for name, (kind, training) in students["returned"].items():
        assert training is not None, (
            f"train_student ({name}) returned a {kind}: return the trained student module")
        assert not training, (
            f"train_student ({name}) returned the student in training mode: return it in eval "
            "mode (student.eval())")


def test_the_teacher_is_consulted_and_left_alone(students):
    assert students["teacher_calls"] > 0, (
        "train_student(…, teacher=teacher) never ran the teacher: distillation needs its "
        "logits on the training batches")
    assert not students["teacher_changed"], (
        "the teacher's weights changed during distillation: only the student trains")
    assert not students["teacher_training"] and not students["teacher_with_grad"], (
        f"the teacher ran {students['teacher_training']} time(s) in training mode and "
        f"{students['teacher_with_grad']} time(s) with gradients enabled: run it in eval mode "
        "under torch.no_grad()")
    assert not students["teacher_mode_changed"], (
        "train_student changed the teacher's train/eval mode: leave the teacher as it was")


@pytest.mark.parametrize("with_teacher", [False, True], ids=["label-only", "distilled"])
def test_train_student_follows_its_seed(solution, teacher, data, with_teacher):
    # one epoch each: the seed orders the shuffled batches, so it shows in the weights
    _, x, y = data
    torch.manual_seed(0)
    init = DigitsCNN(*STUDENT)
    kwargs = {"teacher": teacher if with_teacher else None, "epochs": 1}
    runs = {}
    for key, seed in (("a", 3), ("b", 3), ("c", 4)):
        torch.manual_seed(1 if key == "b" else 0)  # the global RNG must not matter
        student = copy.deepcopy(init)
        solution.train_student(student, x.clone(), y.clone(), seed=seed, **kwargs)
        runs[key] = student.state_dict()
    teacher.eval()  # as the other checks use it
    name = "with a teacher" if with_teacher else "without a teacher"
    assert all(torch.equal(runs["a"][k], runs["b"][k]) for k in runs["a"]), (
        f"train_student {name}, seed=3 twice, gave different weights: seed the shuffling "
        "with `seed`, not with the global RNG")
    assert not all(torch.equal(runs["a"][k], runs["c"][k]) for k in runs["a"]), (
        f"train_student {name} gave the same weights for seed=3 and seed=4: pass `seed` on "
        "to the shuffling (train(..., seed=seed))")


def test_distilled_student_beats_label_only_student(students, teacher, data, record_metric):
    d = data[0]
    acc = {k: accuracy(students[k], d.x_test, d.y_test) for k in ("label_only", "distilled")}
    record_metric("teacher accuracy", accuracy(teacher, d.x_test, d.y_test) * 100, unit="%")
    record_metric("label-only student accuracy", acc["label_only"] * 100, unit="%")
    record_metric("distilled student accuracy", acc["distilled"] * 100, unit="%")
    gain = (acc["distilled"] - acc["label_only"]) * 100
    record_metric("distillation gain", gain, unit="pt", target=f">= {MIN_GAIN_PT:g} pt",
                  verdict="PASS" if gain >= MIN_GAIN_PT else "FAIL")
    assert acc["label_only"] >= MIN_LABEL_ONLY, (
        f"the label-only student reaches {acc['label_only']:.1%} (expected ≥ "
        f"{MIN_LABEL_ONLY:.0%} with 100 epochs of cross-entropy): train it properly, or the "
        "comparison means nothing")
    assert gain >= MIN_GAIN_PT, (
        f"the distilled student reaches {acc['distilled']:.1%}, the label-only one "
        f"{acc['label_only']:.1%}: a gain of {gain:.1f} points, the spec asks for ≥ "
        f"{MIN_GAIN_PT:g}. Are the teacher's logits computed on the same batch the student "
        "sees (after shuffling)?")
