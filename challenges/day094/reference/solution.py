"""Day 94 reference: RMSNorm as a custom torch.autograd.Function — a hand-written backward
that is itself differentiable, in the setup_context form that torch.func can transform."""

import torch


class RMSNormFunction(torch.autograd.Function):
    generate_vmap_rule = True  # torch.func.vmap batches forward and backward by itself

    @staticmethod
    def forward(x, weight, eps):
        rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)
        return x * rms * weight

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, eps = inputs
        # the inputs, not 1/rms: an intermediate made in forward has no graph back to x, and
        # backward must stay differentiable for double backward
        ctx.save_for_backward(x, weight)
        ctx.eps = eps  # a float, not a tensor: an attribute is fine

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + ctx.eps)
        x_hat = x * rms
        g = grad_out * weight
        # d x_hat_i / d x_j = rms (δ_ij − x_hat_i x_hat_j / D)
        grad_x = rms * (g - x_hat * (g * x_hat).mean(dim=-1, keepdim=True))
        grad_weight = (grad_out * x_hat).reshape(-1, x.shape[-1]).sum(dim=0)
        return grad_x, grad_weight, None


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return RMSNormFunction.apply(x, weight, eps)
