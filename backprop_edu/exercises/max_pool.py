"""Exercise max_pool: the backward pass of max pooling routes each gradient to the window's max.

Pooling here is one-dimensional over the units of a layer, with the batch as
columns: the n rows of x are cut into n/size windows of `size` consecutive
rows, and out[i, j] = max of window i in column j. Its backward pass sends
∂J/∂out[i, j] to the one entry that was the max and 0 to the others: max is
a switch, and its derivative says which input got through.

The package's pooling layer is MaxPool (routing.py); the reference is written below as
equations of its own (max_pool, max_pool_backward) and is tested against finite
differences.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient

NAME = "max_pool"
SUMMARY = "Max-pooling backward: route each gradient to the max of its window, 0 elsewhere"
MINUTES = 15
FUNCTIONS = ["max_pool_backward"]
OUTPUTS = {"max_pool_backward": ["grad_x"]}
GIVEN = []
HINTS = [
    "Group the rows into windows: x.reshape(n // size, size, m) puts window i, entry k, "
    "sample j at [i, k, j] (rows i·size ... i·size + size − 1).",
    "The derivative of max(x_1, ..., x_k) is 1 for the largest x and 0 for the others. "
    "windows == windows.max(axis=1, keepdims=True) marks the max of every window.",
    "The mask has one entry per input, grad_out one per window: each entry of window i "
    "needs grad_out[i] where the mask is 1 and 0 elsewhere (broadcasting can stretch "
    "grad_out along the window's axis). The answer has x's shape.",
]


def max_pool(x, size):
    """out[i, j] = max_k x[i·size + k, j]: non-overlapping windows of `size` rows."""
    n, m = x.shape
    return x.reshape(n // size, size, m).max(axis=1)


def max_pool_backward(x, grad_out, size):
    """∂J/∂x for out = max_pool(x, size), given grad_out = ∂J/∂out.

    x:        the pooling layer's input, shape (n, m): one column per sample; n is a
              multiple of size
    grad_out: ∂J/∂out, shape (n // size, m)
    size:     the window: out[i, j] = max(x[i·size, j], ..., x[i·size + size − 1, j])
    returns   ∂J/∂x, shape (n, m): each grad_out[i, j] goes to the entry of window i
              that was the max, and the other entries of the window get 0
    """
    n, m = x.shape
    windows = x.reshape(n // size, size, m)                   # windows[i, k, j] = x[i·size + k, j]
    is_max = windows == windows.max(axis=1, keepdims=True)    # ∂ max / ∂ x: 1 at the max, else 0
    grad_x = is_max * grad_out[:, None, :]                    # chain rule: all of it to the max
    return grad_x.reshape(n, m)


def cases(rng, shapes=((2, 1, 1), (2, 3, 4), (3, 2, 5), (4, 2, 3), (1, 3, 2))):
    # shapes: (size, windows, m)
    return [Case("max_pool_backward", {"x": rng.normal(size=(size * p, m)),
                                       "grad_out": rng.normal(size=(p, m)), "size": size}, m)
            for size, p, m in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((3, 20, 16), (2, 32, 8)))


# graded without the reference: ∂/∂x of Σ grad_out ⊙ max_pool(x), by central differences
# (max has kinks: no complex step); linear in grad_out
DERIVATIVES = {"max_pool_backward": {"grad_x": Gradient(
    "x", lambda x, grad_out, size: np.sum(grad_out * max_pool(x, size)), analytic=False)}}
UPSTREAM = {"max_pool_backward": "grad_out"}


def reference(case):
    return (max_pool_backward(*case.inputs.values()),)


def spread(case, scale):
    x, grad_out, size = case.inputs.values()
    return (np.repeat(grad_out * scale, size, axis=0),)


MISTAKES = [
    ("you spread the gradient evenly over the window, as average pooling does: max pooling "
     "sends all of it to the entry that was the max, and 0 to the others.",
     lambda case: spread(case, 1 / case.inputs["size"])),
    ("you copied the gradient to every entry of the window: only the max got through in the "
     "forward pass, so only the max gets the gradient.",
     lambda case: spread(case, 1)),
    ("you returned the mask of where the max is, without multiplying it by grad_out.",
     lambda case: (max_pool_backward(case.inputs["x"], np.ones_like(case.inputs["grad_out"]),
                                     case.inputs["size"]),)),
]
