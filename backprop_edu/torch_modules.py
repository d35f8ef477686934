"""The package's own PyTorch modules, for the layers PyTorch has no module for (torch_bridge.py).

    ResidualBlock(linear, activation)    h_l = h_{l−1} + φ(W_l h_{l−1} + b_l)   (residual.py)

Imported only by torch_bridge's functions, once PyTorch is known to be there.
What is left out: everything nn already has (Linear, the activations).
"""

from backprop_edu.torch_bridge import import_torch

torch = import_torch()


class ResidualBlock(torch.nn.Module):
    """h_l = h_{l−1} + φ(linear(h_{l−1})): backprop-edu's Residual layer, in PyTorch.

    linear: an nn.Linear(width, width), holding W_l and b_l; activation: a module (φ).
    """

    def __init__(self, linear, activation):
        super().__init__()
        self.linear = linear
        self.activation = activation

    def forward(self, h_prev):
        return h_prev + self.activation(self.linear(h_prev))   # h_l = h_{l−1} + φ(a_l)
