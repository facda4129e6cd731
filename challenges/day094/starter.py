"""Day 94: RMSNorm as a custom torch.autograd.Function with a hand-written backward."""

import torch


class RMSNormFunction(torch.autograd.Function):
    """y = x / sqrt(mean(x², last dim) + eps) · weight, with its own backward."""

    # TODO: let torch.func.vmap batch this Function (a class attribute)

    @staticmethod
    def forward(x, weight, eps):
        # TODO: the output from the inputs alone (no ctx in this form)
        raise NotImplementedError("RMSNormFunction.forward")

    @staticmethod
    def setup_context(ctx, inputs, output):
        # TODO: save the tensors backward needs with ctx.save_for_backward; eps may be an
        #       attribute
        raise NotImplementedError("RMSNormFunction.setup_context")

    @staticmethod
    def backward(ctx, grad_out):
        # TODO: one gradient per input of forward: (grad_x, grad_weight, None for eps), built
        #       from differentiable tensor ops so that double backward works
        raise NotImplementedError("RMSNormFunction.backward")


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """RMSNorm over the last dimension of x (..., D) with weight (D,), through the Function."""
    return RMSNormFunction.apply(x, weight, eps)
