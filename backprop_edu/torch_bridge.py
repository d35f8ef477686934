"""The way out to PyTorch: a network as a torch.nn.Sequential, and back; the losses in PyTorch.

    torch_net = net.to_torch()                  # Linear + activation modules, same W, b, dtype
    J = loss_to_torch(net.loss)(torch_net(X), Y)
    J.backward()                                # torch_net.linear1.weight.grad == ∇W_1
    net = Network.from_torch(torch_net, loss="softmax_cross_entropy")

Layer by layer (l = 1, 2, ... as in the equations; module names carry l):

    Dense(n_in, n_out, φ)   linear{l} = nn.Linear(n_in, n_out) and {φ}{l} (nn.ReLU(), ...;
                            nothing for identity): PyTorch's weight is W_l (n_out × n_in), its
                            bias is b_l, and it computes a_l = h_{l−1} W_lᵀ + b_l on rows = samples
    Residual(width, φ)      residual{l} = torch_modules.ResidualBlock: h_{l−1} + φ(linear(h_{l−1}))
    EulerStep(width, τ, φ)  euler{l} = ResidualBlock with scale τ: h_{l−1} + τ φ(linear(h_{l−1}))
    TiedDense(n_in, n_out)  tied{l} = torch_modules.TiedLinear, using the encoder's weight
                            transposed, and its activation module
    MaxPool(k), AvgPool(k)  maxpool{l}, avgpool{l} = nn.MaxPool1d(k), nn.AvgPool1d(k): a batch
                            (m × n) is read as m channels of length n, so each sample's n units
                            are pooled in windows of k consecutive units, as routing.py does
    Dropout(p)              dropout{l} = nn.Dropout(p), inverted dropout as in routing.py (its
                            own random masks: the two networks drop different units)

A parameter two layers share (the same array: tied weights) becomes one nn.Parameter that
both modules hold, so PyTorch adds its two gradients as Parameter.grad does. A layer type
has one small function here that returns its modules (TRANSLATIONS); anything else, e.g. a
layer of your own, is a TypeError naming it. The weights are copied: the two networks
train independently afterwards.

The losses, as PyTorch computes the same J (the mean over the m samples of the batch):

    half_mse                ½ Σ (ŷ − y)² / m: a sum over the outputs, so not nn.MSELoss,
                            which also divides by the number of outputs and leaves out the ½
    softmax_cross_entropy   F.cross_entropy on the output h_L, the logits (labels or
                            probabilities as targets), as the package takes softmax in its loss
    binary_cross_entropy    F.binary_cross_entropy on the sigmoid's output ŷ (probabilities),
                            summed over the outputs, / m. The package computes J from a_L
                            (softplus(a) − y a, exact for any a); on probabilities PyTorch clamps
                            log ŷ at −100 as the package's two-step form does. The two agree
                            while σ has not saturated to 0 or 1 (|a_L| below about 30 in
                            float64, 15 in float32). For training at scale, PyTorch's stable
                            form is the pre-sigmoid logits: to_torch(net, logits=True) leaves
                            out the last nn.Sigmoid, and loss_to_torch(loss, logits=True) is
                            F.binary_cross_entropy_with_logits, the package's form, exact.

PyTorch is optional (pip install "backprop-edu[torch]"): it is imported inside the
functions, so the rest of the package never needs it, and without it each function
raises a one-line ImportError saying how to install it.

What is left out: convolutions, optimiser state, and in from_torch any module but Linear,
the six activations, MaxPool1d/AvgPool1d (window = stride, no padding), Dropout and the
package's own ResidualBlock and TiedLinear.
"""

from collections import OrderedDict

import numpy as np

from backprop_edu.activations import LEAKY_SLOPE
from backprop_edu.euler import EulerStep
from backprop_edu.layers import Dense
from backprop_edu.losses import get_loss
from backprop_edu.residual import Residual
from backprop_edu.routing import AvgPool, Dropout, MaxPool
from backprop_edu.tied import TiedDense

INSTALL = 'pip install "backprop-edu[torch]"'


def import_torch():
    """The torch module, or a one-line ImportError saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError(f"this needs PyTorch, which is not installed: {INSTALL} "
                          "(or pip install torch)") from None
    return torch


# -- backprop-edu -> PyTorch -----------------------------------------------------------

def activation_module(name, nn):
    """The torch module computing the activation ``name`` (activations.py); None for identity."""
    modules = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
               "softplus": nn.Softplus,  # log(1 + e^a); PyTorch returns a itself above a = 20
               "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE)}
    return modules[name]() if name != "identity" else None


def parameter(array, shared, torch):
    """An nn.Parameter holding a copy of ``array``; for an array two layers share, the same
    nn.Parameter again (``shared`` maps each array seen to its Parameter)."""
    if id(array) not in shared:
        shared[id(array)] = torch.nn.Parameter(torch.tensor(array))   # torch.tensor copies
    return shared[id(array)]


def linear_module(layer, shared, torch):
    """nn.Linear holding (a copy of) the layer's W_l (n_out × n_in) and b_l, in its dtype."""
    linear = torch.nn.Linear(layer.n_in, layer.n_out, dtype=getattr(torch, layer.W.dtype.name))
    linear.weight = parameter(layer.W, shared, torch)    # weight = W_l
    linear.bias = parameter(layer.b, shared, torch)      # bias = b_l
    return linear


def with_activation(name, module, layer, l, torch):
    """[(name{l}, module), (φ{l}, φ's module)]: no module for the identity."""
    activation = activation_module(layer.activation.name, torch.nn)
    modules = [(f"{name}{l}", module)]
    if activation is not None:
        modules.append((f"{layer.activation.name}{l}", activation))
    return modules


def dense_modules(layer, l, shared, torch):
    """Dense: a_l = W_l h_{l−1} + b_l, then h_l = φ(a_l)."""
    return with_activation("linear", linear_module(layer, shared, torch), layer, l, torch)


def residual_modules(layer, l, shared, torch, scale=1.0, name="residual"):
    """Residual: h_l = h_{l−1} + φ(W_l h_{l−1} + b_l), as the package's ResidualBlock."""
    from backprop_edu.torch_modules import ResidualBlock
    activation = activation_module(layer.activation.name, torch.nn) or torch.nn.Identity()
    return [(f"{name}{l}", ResidualBlock(linear_module(layer, shared, torch), activation, scale))]


def euler_modules(layer, l, shared, torch):
    """EulerStep: h_l = h_{l−1} + τ φ(W_l h_{l−1} + b_l), a ResidualBlock scaled by τ."""
    return residual_modules(layer, l, shared, torch, scale=layer.tau, name="euler")


def tied_modules(layer, l, shared, torch):
    """TiedDense: a_l = Wᵀ h_{l−1} + b_l with the encoder's W (the same Parameter), then φ."""
    from backprop_edu.torch_modules import TiedLinear
    tied = TiedLinear(parameter(layer.W, shared, torch), parameter(layer.b, shared, torch))
    return with_activation("tied", tied, layer, l, torch)


def max_pool_modules(layer, l, shared, torch):
    """MaxPool(k): h_{l,i} = max of window i; on (m × n) nn.MaxPool1d(k) pools each row."""
    return [(f"maxpool{l}", torch.nn.MaxPool1d(layer.k))]


def avg_pool_modules(layer, l, shared, torch):
    """AvgPool(k): h_{l,i} = mean of window i; on (m × n) nn.AvgPool1d(k) pools each row."""
    return [(f"avgpool{l}", torch.nn.AvgPool1d(layer.k))]


def dropout_modules(layer, l, shared, torch):
    """Dropout(p): h_l = M ⊙ h_{l−1} / (1 − p) while training, the identity at evaluation."""
    return [(f"dropout{l}", torch.nn.Dropout(layer.p))]


# One function per layer type: (layer, l, shared, torch) -> [(module name, module), ...].
# The exact type counts: a subclass of Dense of your own may compute something else.
TRANSLATIONS = {Dense: dense_modules, Residual: residual_modules, EulerStep: euler_modules,
                TiedDense: tied_modules, MaxPool: max_pool_modules, AvgPool: avg_pool_modules,
                Dropout: dropout_modules}


def to_torch(net, logits=False):
    """``net`` as a torch.nn.Sequential: the same layers, a copy of its weights, the same dtype.

    Modules are named after the layer l they come from (linear1, relu1, linear2, ...), so
    torch_net.linear1.weight is W_1. A layer without a translation is a one-line TypeError.
    logits=True (binary_cross_entropy only) leaves out the output layer's nn.Sigmoid: the
    Sequential returns a_L, for loss_to_torch(net.loss, logits=True).
    """
    torch = import_torch()
    if logits and net.loss.name != "binary_cross_entropy":
        raise ValueError(f"logits=True is for binary_cross_entropy, whose output layer is a "
                         f"sigmoid; this network's loss is {net.loss.name}: leave logits out")
    modules, shared = [], {}
    for l, layer in enumerate(net.layers, start=1):
        translate = TRANSLATIONS.get(type(layer))
        if translate is None:
            known = ", ".join(kind.__name__ for kind in TRANSLATIONS)
            raise TypeError(f"layer {l} ({type(layer).__name__}) has no PyTorch translation: "
                            f"to_torch translates {known}; write that layer's torch module "
                            "yourself, or leave it out")
        modules += translate(layer, l, shared, torch)
    if logits:   # binary_cross_entropy's output layer is a Dense sigmoid layer (checks.py)
        modules.pop()
    return torch.nn.Sequential(OrderedDict(modules))


# -- PyTorch -> backprop-edu -----------------------------------------------------------

def activation_name(module, nn):
    """The activations.py name of a torch activation module, or None if it is none of ours."""
    if isinstance(module, nn.LeakyReLU):
        return "leaky_relu" if module.negative_slope == LEAKY_SLOPE else None
    if isinstance(module, nn.Softplus):
        return "softplus" if module.beta == 1 else None
    names = {nn.Identity: "identity", nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
    return names.get(type(module))


def array(tensor, shared, torch, where):
    """A numpy copy of a torch parameter; for a parameter two modules share, the same array
    again (``shared`` maps each parameter seen to its array)."""
    if tensor.dtype not in (torch.float16, torch.float32, torch.float64):
        raise TypeError(f"{where} is {tensor.dtype}: backprop-edu computes in float16, "
                        "float32 or float64; convert the module first, e.g. module.double()")
    if id(tensor) not in shared:
        shared[id(tensor)] = tensor.detach().cpu().numpy().copy()
    return shared[id(tensor)]


def layer_from(weight, bias, activation, make, shared, torch, where):
    """A layer made by make(n_out, n_in, activation, dtype) holding (a copy of) ``weight``
    and ``bias`` (nn.Linear(..., bias=False): b = 0)."""
    W = array(weight, shared, torch, where)
    b = (array(bias, shared, torch, where) if bias is not None
         else np.zeros(len(W), W.dtype))
    layer = make(*W.shape, activation, W.dtype)
    layer.W, layer.b = W, b
    return layer


def layers_from_torch(module):
    """The backprop-edu layers of a torch Sequential of Linear and activation modules.

    Linear followed by an activation (ReLU, LeakyReLU(0.01), Sigmoid, Tanh, Softplus,
    Identity) is one Dense layer with that activation; a Linear followed by anything else
    is an identity Dense layer; the package's own ResidualBlock is a Residual layer (an
    EulerStep when its scale is not 1) and its TiedLinear a TiedDense; MaxPool1d(k),
    AvgPool1d(k) and Dropout(p) are MaxPool(k), AvgPool(k) and Dropout(p). A parameter two
    modules share is one array, shared by the two layers. Anything else is a one-line
    TypeError naming the module and its place.
    """
    torch = import_torch()
    from backprop_edu.torch_modules import ResidualBlock, TiedLinear
    nn = torch.nn
    if isinstance(module, nn.Linear):
        module = nn.Sequential(module)
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch takes a torch.nn.Sequential of Linear and activation "
                        f"modules, got {type(module).__name__}")
    children = list(module.named_children())
    layers, shared, i = [], {}, 0
    while i < len(children):
        name, child = children[i]
        where = f"module {name!r} ({type(child).__name__})"
        following = activation_name(children[i + 1][1], nn) if i + 1 < len(children) else None
        if isinstance(child, (nn.Linear, TiedLinear)):
            if isinstance(child, nn.Linear):
                def make(n_out, n_in, activation, dtype):
                    return Dense(n_in, n_out, activation, dtype=dtype, rng=0)
            else:
                def make(n_in, n_out, activation, dtype):   # W is used transposed
                    return TiedDense(n_in, n_out, activation, dtype=dtype)
            layers.append(layer_from(child.weight, child.bias, following or "identity", make,
                                     shared, torch, where))
            i += 2 if following else 1
        elif isinstance(child, ResidualBlock) and activation_name(child.activation, nn):
            def make(width, _, activation, dtype, scale=child.scale):
                if scale == 1:
                    return Residual(width, activation, dtype=dtype, rng=0)
                return EulerStep(width, scale, activation, dtype=dtype, rng=0)
            layers.append(layer_from(child.linear.weight, child.linear.bias,
                                     activation_name(child.activation, nn), make, shared,
                                     torch, where))
            i += 1
        elif isinstance(child, nn.Identity):  # computes nothing
            i += 1
        elif routing_layer(child, nn) is not None:
            layers.append(routing_layer(child, nn))
            i += 1
        else:
            raise TypeError(f"from_torch cannot translate {where}: {explain(child, nn)}")
    if not layers:
        raise ValueError("from_torch found no Linear module in the Sequential")
    return layers


def routing_layer(child, nn):
    """The MaxPool, AvgPool or Dropout layer of a torch pooling or dropout module, or None
    (for a pooling module whose stride is not its window, or that pads)."""
    if isinstance(child, nn.Dropout):
        return Dropout(child.p)
    pools = {nn.MaxPool1d: MaxPool, nn.AvgPool1d: AvgPool}
    if type(child) in pools:
        k, stride, padding = (value[0] if isinstance(value, tuple) else value
                              for value in (child.kernel_size, child.stride, child.padding))
        if stride == k and padding == 0 and getattr(child, "dilation", 1) in (1, (1,)):
            return pools[type(child)](k)
    return None


def explain(child, nn):
    """Why ``child`` has no backprop-edu layer, in a few words."""
    if activation_name(child, nn) is not None:
        return "an activation needs a Linear module right before it"
    if isinstance(child, (nn.LeakyReLU, nn.Softplus)):
        return "backprop-edu has only LeakyReLU(0.01) and Softplus(beta=1)"
    if isinstance(child, (nn.MaxPool1d, nn.AvgPool1d)):
        return "backprop-edu pools windows of k units with stride k and no padding"
    return ("it takes Linear modules, each followed by ReLU, LeakyReLU(0.01), Sigmoid, Tanh, "
            "Softplus or nothing, MaxPool1d, AvgPool1d, Dropout, and the package's "
            "ResidualBlock and TiedLinear")


# -- the losses ------------------------------------------------------------------------

def loss_to_torch(loss, logits=False):
    """The PyTorch function J(output, Y) computing the same mean loss as ``loss``.

    loss: a name ("half_mse", ...) or net.loss. output: the torch network's output, rows =
    samples. Y: as for net.backward (a numpy array or tensor): real targets, or integer
    class labels / probability rows for softmax_cross_entropy.
    logits: for binary_cross_entropy, the output is a_L, the logits of net.to_torch(logits=True),
    and J is F.binary_cross_entropy_with_logits: the package's own form, exact for any a_L.
    """
    torch = import_torch()
    F = torch.nn.functional
    loss = get_loss(loss)
    if logits and loss.name != "binary_cross_entropy":
        raise ValueError(f"logits=True is for binary_cross_entropy; with {loss.name} leave it "
                         "out (softmax_cross_entropy's output is the logits already)")

    def targets(output, Y):
        """Y as a tensor beside the output: class labels as int64, anything else as the
        output's dtype and shape (a (m,) target of a one-output network becomes (m, 1))."""
        Y = (Y if torch.is_tensor(Y) else torch.as_tensor(np.asarray(Y))).to(output.device)
        if loss.classification and Y.dim() == 1:
            return Y.long()
        return Y.to(output.dtype).reshape(output.shape)

    def half_mse(output, Y):
        Y = targets(output, Y)
        return 0.5 * ((output - Y) ** 2).sum() / len(output)   # J = (1/m) Σ_i ½‖ŷ_i − y_i‖²

    def softmax_cross_entropy(output, Y):
        Y = targets(output, Y)
        return F.cross_entropy(output, Y)   # softmax on the logits h_L; the mean over the batch

    def binary_cross_entropy(output, Y):
        Y = targets(output, Y)
        if logits:   # output = a_L: (1/m) Σ_i Σ_k softplus(a) − y a, stable for any a
            return F.binary_cross_entropy_with_logits(output, Y, reduction="sum") / len(output)
        # −(1/m) Σ_i Σ_k [y log ŷ + (1 − y) log(1 − ŷ)]: summed over outputs, mean over samples
        return F.binary_cross_entropy(output, Y, reduction="sum") / len(output)

    functions = {"half_mse": half_mse, "softmax_cross_entropy": softmax_cross_entropy,
                 "binary_cross_entropy": binary_cross_entropy}
    return functions[loss.name]
