"""Day 94 grader: the learner's RMSNorm autograd.Function — its form (staticmethods,
setup_context, a vmap rule), values against torch.nn.functional.rms_norm, the hand-written
backward against autograd of the formula, gradcheck and gradgradcheck in float64 (run
here), torch.func.vmap/grad through it, save_for_backward, and the dtype kept."""

import inspect

import pytest
import torch
import torch.nn.functional as F
from torch.func import grad, vmap

from graders import expect, forbid
from graders.gradcheck import assert_grad, rel_error

torch.set_num_threads(1)
# a warning raised in the solution's code may be attributed to this module: its registry exists
# from the start, so that is not taken for a change to the grader
__warningregistry__: dict = {}
GRAD_LIMIT = 1e-10  # relative error of float64 gradients against autograd of the formula
FORBIDDEN = ["torch.nn.functional.rms_norm", "torch.rms_norm", "torch.nn.RMSNorm",
             "torch.nn.modules.normalization", "torch.autograd.grad", "torch.autograd.backward",
             "torch.autograd.functional", "torch.func", "functorch"]


def formula(x, weight, eps):
    """RMSNorm from plain differentiable ops: the oracle for gradients of every order."""
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


def inputs(shape, dtype=torch.float64, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)
    w = (1 + 0.5 * torch.randn(shape[-1], generator=g, dtype=torch.float64)).to(dtype)
    return x.requires_grad_(), w.requires_grad_()


# ---- the form -------------------------------------------------------------------------

def test_rms_norm_function_has_the_transformable_form(solution):
    cls = getattr(solution, "RMSNormFunction", None)
    assert inspect.isclass(cls) and issubclass(cls, torch.autograd.Function), (
        "RMSNormFunction must be a subclass of torch.autograd.Function")
    for name in ("forward", "setup_context", "backward"):
        assert name in vars(cls), f"RMSNormFunction must define {name} itself"
        assert isinstance(inspect.getattr_static(cls, name), staticmethod), (
            f"RMSNormFunction.{name} must be a @staticmethod")
    first = next(iter(inspect.signature(cls.forward).parameters), "")
    assert first != "ctx", (
        "RMSNormFunction.forward takes ctx: in the setup_context form forward(x, weight, eps) "
        "gets only the inputs, and setup_context(ctx, inputs, output) saves what backward "
        "needs — the form torch.func transforms require")
    has_rule = getattr(cls, "generate_vmap_rule", False) is True or "vmap" in vars(cls)
    assert has_rule, (
        "RMSNormFunction has no vmap rule: set generate_vmap_rule = True (or write a vmap "
        "staticmethod) so torch.func.vmap can batch it")


def test_solution_writes_the_derivative_itself(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN,
                           why="write RMSNorm and its backward from basic tensor ops; autograd "
                               "of a composite would be the library's derivative, not yours")


def test_rms_norm_goes_through_the_function(solution):
    x, w = inputs((3, 8))
    y = solution.rms_norm(x, w)
    backward_cls = getattr(getattr(solution, "RMSNormFunction", None), "_backward_cls", None)
    assert backward_cls is not None and isinstance(y.grad_fn, backward_cls), (
        f"rms_norm's output has grad_fn {type(y.grad_fn).__name__}: rms_norm must return "
        "RMSNormFunction.apply(x, weight, eps), so your backward is the one autograd runs")


# ---- values and dtypes ----------------------------------------------------------------

@pytest.mark.parametrize("shape,eps,scale", [((4, 8), 1e-6, 1.0), ((2, 3, 16), 1e-6, 1.0),
                                             ((5,), 1e-6, 1.0), ((3, 6), 0.1, 0.05)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_forward_matches_torch_rms_norm(solution, shape, eps, scale, dtype):
    x, w = inputs(shape, dtype, seed=len(shape), scale=scale)
    with torch.no_grad():
        got = solution.rms_norm(x, w, eps)
    assert isinstance(got, torch.Tensor) and got.shape == x.shape, (
        f"rms_norm of a {tuple(shape)} input must return a tensor of the same shape")
    assert got.dtype == dtype, (
        f"rms_norm of {dtype} inputs returned {got.dtype}: keep the input's dtype (compute in "
        "it; do not upcast the result)")
    want = F.rms_norm(x.detach(), (shape[-1],), w.detach(), eps)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    if torch.allclose(got, want, **tol):
        return
    outside = (x / torch.sqrt(x.pow(2).mean(-1, keepdim=True)).add(eps) * w).detach()
    why = (" — eps is added outside the square root: rms = sqrt(mean(x²) + eps)"
           if torch.allclose(got, outside, **tol) else "")
    expect.close(got.numpy(), want.numpy(), what=f"rms_norm({tuple(shape)}, eps={eps:g}, "
                 f"{dtype})" + why, oracle="torch.nn.functional.rms_norm", **tol)


# ---- the backward ---------------------------------------------------------------------

@pytest.mark.parametrize("shape,eps,scale", [((4, 8), 1e-6, 1.0), ((2, 3, 5), 1e-6, 1.0),
                                             ((6,), 1e-6, 1.0), ((3, 6), 0.1, 0.05)])
def test_backward_matches_autograd_of_the_formula(solution, shape, eps, scale):
    x, w = inputs(shape, seed=10 + len(shape), scale=scale)
    g = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    solution.rms_norm(x, w, eps).backward(g)
    xr, wr = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
    formula(xr, wr, eps).backward(g)
    what = f"({shape} input, eps {eps:g})"
    if x.grad is not None and w.grad is not None:
        # the usual slip: 1/rms treated as a constant, dropping the term through the mean
        rms = torch.rsqrt(xr.detach().pow(2).mean(-1, keepdim=True) + eps)
        if rel_error(x.grad.numpy(), (g * wr.detach() * rms).numpy()) < 1e-8:
            pytest.fail(f"the gradient for x {what} is grad_out · weight / rms: "
                        "1/rms depends on x too — add the term −x̂ · mean(grad_out · weight · "
                        "x̂) (times 1/rms)", pytrace=False)
        if eps != 1e-6:
            # forward got eps; a backward that recomputes 1/rms with a constant 1e-6 is wrong
            # only where eps matters (a small x with a large eps)
            xc, wc = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
            formula(xc, wc, 1e-6).backward(g)
            if rel_error(w.grad.numpy(), wc.grad.numpy()) < 1e-8:
                pytest.fail(f"the gradients {what} are those of eps = 1e-6: backward must "
                            "recompute 1/rms with the eps forward was given (ctx.eps), not a "
                            "constant", pytrace=False)
    assert_grad(x.grad, xr.grad, what=f"the gradient for x {what}",
                against="autograd of the RMSNorm formula", limit=GRAD_LIMIT)
    assert_grad(w.grad, wr.grad, what=f"the gradient for weight {what}",
                against="autograd of the RMSNorm formula", limit=GRAD_LIMIT)


def test_inputs_are_not_modified(solution):
    x, w = inputs((3, 8))
    x0, w0 = x.detach().clone(), w.detach().clone()
    solution.rms_norm(x, w).pow(2).sum().backward()
    assert torch.equal(x.detach(), x0) and torch.equal(w.detach(), w0), (
        "rms_norm (forward or backward) modified its inputs in place")


def test_torch_gradcheck_passes(solution):
    x, w = inputs((3, 5), seed=3)
    try:
        ok = torch.autograd.gradcheck(solution.rms_norm, (x, w, 1e-6), eps=1e-6, atol=1e-5,
                                      rtol=1e-3)
    except Exception as exc:  # gradcheck raises GradcheckError with its own diagnosis
        pytest.fail(f"torch.autograd.gradcheck(rms_norm, (x (3, 5), weight (5,), 1e-6)) in "
                    f"float64 failed: {str(exc)[:600]}", pytrace=False)
    assert ok


def test_torch_gradgradcheck_passes(solution):
    # double backward: the gradient of backward's output must itself be right, so backward
    # has to be built from differentiable tensor ops on what forward saved
    x, w = inputs((2, 4), seed=4)
    try:
        ok = torch.autograd.gradgradcheck(solution.rms_norm, (x, w, 1e-6), eps=1e-6,
                                          atol=1e-5, rtol=1e-3)
    except Exception as exc:
        pytest.fail(
            "torch.autograd.gradgradcheck(rms_norm, (x (2, 4), weight (4,), 1e-6)) in float64 "
            "failed, so double backward is wrong: backward must use differentiable tensor ops "
            "on saved inputs (no .detach(), no torch.no_grad(), no @once_differentiable, no "
            f"intermediate kept from forward). gradgradcheck says: {str(exc)[:500]}",
            pytrace=False)
    assert ok


# ---- what is saved, and torch.func ----------------------------------------------------

def test_tensors_are_saved_with_save_for_backward(solution):
    x, w = inputs((3, 8))
    y = solution.rms_norm(x, w)
    node = y.grad_fn
    attributes = sorted(k for k, v in vars(node).items() if isinstance(v, torch.Tensor)) if (
        hasattr(node, "__dict__")) else []
    assert not attributes, (
        f"setup_context stores tensors as ctx attributes ({', '.join(attributes)}): save "
        "tensors with ctx.save_for_backward(...) — it checks they were not modified in place "
        "before backward and avoids the reference cycle (and leak) of an output kept on ctx; "
        "only non-tensors such as eps may be attributes")
    assert len(node.saved_tensors) >= 1, (
        "nothing was saved with ctx.save_for_backward: backward needs x and weight")


def test_vmap_batches_the_function(solution):
    x, w = inputs((4, 3, 8), seed=5)
    xd, wd = x.detach(), w.detach()
    try:
        got = vmap(solution.rms_norm, in_dims=(0, None, None))(xd, wd, 1e-6)
    except Exception as exc:
        pytest.fail(f"torch.func.vmap(rms_norm, in_dims=(0, None, None)) raised "
                    f"{type(exc).__name__}: {str(exc)[:400]}", pytrace=False)
    expect.close(got.numpy(), formula(xd, wd, 1e-6).numpy(), what="vmap(rms_norm) over 4 "
                 "samples of (3, 8)", oracle="the formula", rtol=1e-10, atol=1e-12)


def test_func_grad_and_per_sample_gradients(solution):
    x, w = inputs((5, 6), seed=6)
    xd, wd = x.detach(), w.detach()

    def loss(xi, wi):
        return solution.rms_norm(xi, wi, 1e-6).pow(3).sum()

    def loss_ref(xi, wi):
        return formula(xi, wi, 1e-6).pow(3).sum()

    try:
        got_w = grad(loss, argnums=1)(xd, wd)
        per_sample = vmap(grad(loss, argnums=(0, 1)), in_dims=(0, None))(xd, wd)
    except Exception as exc:
        pytest.fail(f"torch.func.grad / vmap(grad(...)) through rms_norm raised "
                    f"{type(exc).__name__}: {str(exc)[:400]}", pytrace=False)
    assert_grad(got_w, grad(loss_ref, argnums=1)(xd, wd), what="torch.func.grad w.r.t. weight",
                against="torch.func.grad of the formula", limit=GRAD_LIMIT)
    want = vmap(grad(loss_ref, argnums=(0, 1)), in_dims=(0, None))(xd, wd)
    assert_grad(per_sample[0], want[0], what="per-sample gradients for x (vmap of grad)",
                against="the same transforms of the formula", limit=GRAD_LIMIT)
    assert_grad(per_sample[1], want[1], what="per-sample gradients for weight (vmap of grad)",
                against="the same transforms of the formula", limit=GRAD_LIMIT)
