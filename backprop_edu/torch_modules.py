"""The package's own PyTorch modules, for the layers PyTorch has no module for (torch_bridge.py).

    ResidualBlock(linear, activation, scale=1)   h_l = h_{l−1} + scale · φ(W_l h_{l−1} + b_l)
                                                 (Residual; EulerStep with scale = τ)
    TiedLinear(weight, bias)                     a_l = Wᵀ h_{l−1} + b_l, W another module's
                                                 weight, the same Parameter (TiedDense)

Both work on rows = samples, as every torch module does. Imported only by torch_bridge's
functions, once PyTorch is known to be there.
What is left out: everything nn already has (Linear, the activations).
"""

from backprop_edu.torch_bridge import import_torch

torch = import_torch()


class ResidualBlock(torch.nn.Module):
    """h_l = h_{l−1} + scale · φ(linear(h_{l−1})): backprop-edu's Residual (scale 1) and
    EulerStep (scale τ), in PyTorch.

    linear: an nn.Linear(width, width), holding W_l and b_l; activation: a module (φ).
    """

    def __init__(self, linear, activation, scale=1.0):
        super().__init__()
        self.linear = linear
        self.activation = activation
        self.scale = scale

    def forward(self, h_prev):
        branch = self.activation(self.linear(h_prev))              # φ(a_l)
        return h_prev + (branch if self.scale == 1 else self.scale * branch)   # h_{l−1} + τ φ

    def extra_repr(self):
        return "" if self.scale == 1 else f"scale={self.scale}"


class TiedLinear(torch.nn.Module):
    """a_l = Wᵀ h_{l−1} + b_l, where ``weight`` (k × n) is another module's, the same Parameter:
    backprop-edu's TiedDense, the decoder of a tied autoencoder. PyTorch adds the two
    modules' gradients of the shared weight, as the package's Parameter.grad does."""

    def __init__(self, weight, bias):
        super().__init__()
        self.weight = weight
        self.bias = bias

    def forward(self, h_prev):
        # rows = samples: a = h Wᵀᵀ + b = h W + b, which F.linear(h, Wᵀ, b) computes
        return torch.nn.functional.linear(h_prev, self.weight.T, self.bias)

    def extra_repr(self):
        k, n = self.weight.shape
        return f"in_features={k}, out_features={n} (the weight {k}×{n}, used transposed)"
