"""torch.autograd.Function: user-defined forward and backward.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            y, = ctx.saved_tensors
            return grad_output * y

    y = Exp.apply(x)

forward runs with grad mode off; its ctx is the graph node (cygrad._core.FunctionCtx), so
`y.grad_fn` is ctx and `y.grad_fn.name()` is "ExpBackward". backward returns one gradient per
forward argument (None for arguments that need none); a gradient of the wrong shape raises an
error naming the Function.
"""
from cygrad._core import FunctionCtx, _function_apply


class Function:
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply takes positional arguments only")
        return _function_apply(cls, args)


__all__ = ["Function", "FunctionCtx"]
