"""The gradient with respect to the input, put to use: saliency maps and adversarial examples.

Backpropagation does not have to stop at layer 1. Layer 1 hands down
∂J/∂h_0 = W_1ᵀ δ^(1), as every layer hands down W_lᵀ δ^(l) in BP2, and h_0 is the
input x: ``net.backward(Y, input_gradient=True)`` fills ``net.grad_X``, whose row i is
(1/m) ∂J_i/∂x_i. Nothing else is computed here; this module only uses it:

    input_gradient(net, X, y)   ∂J_i/∂x_i for every sample, in the units of the raw pixels
    saliency(net, X, y)         |∂J_i/∂x_i|: which pixels J is most sensitive to
    fgsm(net, X, y, ε)          the fast gradient sign method (Goodfellow et al. 2015):
                                x' = clip(x + ε · sign(∂J/∂x), low, high)
    accuracy_against_epsilon    the accuracy on x' for a sweep of ε (ε = 0: the clean accuracy)
    examples_by_class(y, k)     k samples to show, one of each class in turn

Raw units. A model trained by ``backprop-edu train`` sees standardised features,
x_std = (x − mean) / std, with the mean and std saved in its metadata
(``feature_mean``, ``feature_std``). The functions here take X in the data's own
units (digits: pixels 0..16) and follow the chain rule one step further:

    ∂J/∂x = ∂J/∂x_std · ∂x_std/∂x = ∂J/∂x_std / std      (entry by entry)

so ε is measured in pixels, and the clip keeps x' a valid image. A model without
that metadata is taken to see X as it is (mean 0, std 1). The 1/std matters: a pixel
that was nearly always blank in the training digits has a tiny std, so a faint
stroke there, a fraction of one pixel level, is many standard deviations to the
network, and in raw units it is the pixel J is most sensitive to.

Evaluation. The gradient is that of the network as ``predict`` computes it: a
Dropout layer is the identity at evaluation, so it is left out of the pass that
computes ∂J/∂x (``evaluation_network``). The pass is a training pass of the
network's own layers (backward needs one), so their caches hold it afterwards.

FGSM takes one step of size ε in the direction that increases J fastest when
every pixel may change by at most ε (the ∞-norm ball): the sign of the gradient,
pixel by pixel. Only the sign matters, so row i of ``net.grad_X``, which is
(1/m) ∂J_i/∂x_i, gives the same step as ∂J_i/∂x_i itself.

What is left out: iterated attacks (PGD), targeted attacks, defences, and
gradients of a class score instead of the loss.
"""

import numpy as np

from backprop_edu import datasets
from backprop_edu.network import Network
from backprop_edu.routing import Dropout
from backprop_edu.train import targets_for


def feature_scaling(net):
    """(mean, std) of the standardisation the model was trained with, from its metadata;
    (0, 1), no scaling, for a model without them."""
    metadata = net.metadata
    if "feature_mean" not in metadata or "feature_std" not in metadata:
        return np.zeros(net.n_in), np.ones(net.n_in)
    mean, std = np.array(metadata["feature_mean"]), np.array(metadata["feature_std"])
    if mean.shape != (net.n_in,) or std.shape != (net.n_in,):
        raise ValueError(f"the model's metadata holds {mean.size} feature means and "
                         f"{std.size} standard deviations, but its first layer takes "
                         f"n_in={net.n_in} features: the metadata does not belong to it")
    return mean, std


def evaluation_network(net):
    """``net`` as predict computes it: Dropout is the identity at evaluation, so its Dropout
    layers are left out (the other layers are the same objects, not copies)."""
    kept = [layer for layer in net.layers if not isinstance(layer, Dropout)]
    if len(kept) == len(net.layers):
        return net
    return Network(kept, loss=net.loss.name, metadata=net.metadata)


def check_inputs(X, y):
    """X as a 2-D float array of samples, and y with one label (or target row) per sample."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples × features), got shape {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels")
    return X


def standardised(net, X):
    """x_std = (x − mean) / std, with the statistics the model was trained with."""
    mean, std = feature_scaling(net)
    return datasets.standardise(X, mean, std)


def input_gradient(net, X, y):
    """∂J_i/∂x_i for every sample i, in the units of X -> array (m, n), one row per sample.

    X: raw features, one row per sample (digits: pixels 0..16); the model's metadata
    standardises them as in training. y: the labels (targets) J is computed with.
    """
    X = check_inputs(X, y)
    evaluated = evaluation_network(net)
    targets, _ = targets_for(evaluated, y)         # labels, or one-hot rows for half_mse
    evaluated.forward(standardised(net, X))        # forward, x_std = (x − mean) / std
    evaluated.backward(targets, input_gradient=True)   # BP1..BP4, then ∂J/∂h_0 = W_1ᵀ δ^(1)
    per_sample = len(X) * evaluated.grad_X        # row i: ∂J_i/∂x_std,i (grad_X holds 1/m of it)
    return per_sample / feature_scaling(net)[1]    # ∂J/∂x = ∂J/∂x_std / std


def saliency(net, X, y, standardised=False):
    """|∂J_i/∂x_i| for every sample i, in the units of X -> array (m, n): a saliency map.

    A large entry is a pixel whose change would change sample i's loss the most.
    It is one sample's own gradient: it does not depend on the other rows of X.
    standardised=True: |∂J_i/∂x_std| = |∂J_i/∂x| · std instead, the change of J per
    standard deviation of each feature (the units the network itself sees).
    """
    grad = input_gradient(net, X, y)
    if standardised:
        grad = grad * feature_scaling(net)[1]       # ∂J/∂x_std = ∂J/∂x · std
    return np.abs(grad)


def check_epsilon(epsilon):
    """ε: a number ≥ 0, in the units of X."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.integer,
                                                              np.floating)):
        raise TypeError(f"epsilon must be a number ≥ 0 (in the units of X, e.g. pixels), "
                        f"got {epsilon!r}")
    if not (np.isfinite(epsilon) and epsilon >= 0):
        raise ValueError(f"epsilon must be a number ≥ 0 (in the units of X, e.g. pixels), "
                         f"got {epsilon}")
    return float(epsilon)


def check_bounds(X, low, high):
    """low < high, and every entry of X within [low, high] (a clean input is a valid one)."""
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"low and high bound the valid inputs and need low < high, "
                         f"got low={low}, high={high}")
    X = np.asarray(X)
    if X.min() < low or X.max() > high:
        raise ValueError(f"X holds values from {X.min():g} to {X.max():g}, outside the valid "
                         f"range [{low:g}, {high:g}]: give X in its raw units (digits: pixels "
                         "0..16), or the range of your data as low and high")


def fgsm(net, X, y, epsilon, low=0.0, high=16.0):
    """The fast gradient sign method: x' = clip(x + ε · sign(∂J/∂x), low, high) for every row.

    X: raw features (digits: pixels 0..16); epsilon (ε ≥ 0), low and high in the same
    units. Returns the adversarial X', same shape as X.
    """
    epsilon = check_epsilon(epsilon)
    check_bounds(X, low, high)
    direction = np.sign(input_gradient(net, X, y))     # sign(∂J_i/∂x_i): uphill in J
    return perturb(X, direction, epsilon, low, high)


def perturb(X, direction, epsilon, low, high):
    """x' = clip(x + ε · direction, low, high)."""
    return np.clip(np.asarray(X, dtype=np.float64) + epsilon * direction, low, high)


def predicted_classes(net, X):
    """The class ``net`` gives every row of X (raw features): the argmax of its outputs."""
    return net.forward(standardised(net, X), training=False).argmax(axis=1)


def accuracy(net, X, y):
    """The fraction of rows of X (raw features) that ``net`` classifies as the labels y."""
    return float(np.mean(predicted_classes(net, X) == np.asarray(y)))


def accuracy_against_epsilon(net, X, y, epsilons, low=0.0, high=16.0):
    """FGSM for every ε of ``epsilons`` -> [{"epsilon": ε, "accuracy": ...}, ...].

    The gradient is computed once, at the clean X (FGSM takes one step from x). With
    ε = 0, x' = clip(x, low, high) = x for X within the bounds, so the accuracy is
    exactly the clean accuracy.
    """
    epsilons = [check_epsilon(epsilon) for epsilon in epsilons]
    check_bounds(X, low, high)
    direction = np.sign(input_gradient(net, X, y))     # sign(∂J_i/∂x_i), once for every ε
    return [{"epsilon": epsilon,
             "accuracy": accuracy(net, perturb(X, direction, epsilon, low, high), y)}
            for epsilon in epsilons]


def examples_by_class(labels, count):
    """The indices of ``count`` samples, one of each class in turn: the first sample of
    every class (in class order), then the second of every class, and so on."""
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")              # the samples of each class, in order
    sorted_labels = labels[order]
    first = np.searchsorted(sorted_labels, sorted_labels)  # where each one's class starts
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - first           # 0 for a class's first sample, ...
    return np.lexsort((labels, rank))[:count]              # by rank, then by class
