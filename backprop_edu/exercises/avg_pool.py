"""Exercise avg_pool: the backward pass of average pooling shares each gradient out equally.

Pooling is one-dimensional over the units of a layer, with the batch as
columns: the n rows of x are cut into n/size windows of `size` consecutive
rows, and out[i, j] = the mean of window i in column j. Each input counts for
1/size of its window's mean, so it gets 1/size of the window's gradient,
whatever its value: average pooling's backward pass never looks at x.

The package's pooling layer is AvgPool (routing.py); the reference is written below as
equations of its own (avg_pool, avg_pool_backward) and is tested against finite
differences.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient

NAME = "avg_pool"
SUMMARY = "Average-pooling backward: share each gradient equally, 1/size to every entry"
MINUTES = 10
FUNCTIONS = ["avg_pool_backward"]
OUTPUTS = {"avg_pool_backward": ["grad_x"]}
GIVEN = []
HINTS = [
    "out = (x_1 + ... + x_size) / size, so ∂out/∂x_k = 1/size for every k in the window. "
    "You do not need x at all.",
    "Every row of grad_out must be repeated `size` times, consecutively: row i of grad_out "
    "goes to rows i·size ... i·size + size − 1.",
    "Find the numpy function that repeats each row a given number of times, one copy after "
    "the other (not the whole array after itself: that interleaves the windows), and give "
    "each entry its 1/size share.",
]


def avg_pool(x, size):
    """out[i, j] = (1/size) Σ_k x[i·size + k, j]: non-overlapping windows of `size` rows."""
    n, m = x.shape
    return x.reshape(n // size, size, m).mean(axis=1)


def avg_pool_backward(x, grad_out, size):
    """∂J/∂x for out = avg_pool(x, size), given grad_out = ∂J/∂out.

    x:        the pooling layer's input, shape (n, m), n a multiple of size (not needed!)
    grad_out: ∂J/∂out, shape (n // size, m): one column per sample
    size:     the window: out[i, j] = mean(x[i·size, j], ..., x[i·size + size − 1, j])
    returns   ∂J/∂x, shape (n, m): every entry of window i gets grad_out[i, j] / size
    """
    return np.repeat(grad_out / size, size, axis=0)  # ∂out_i/∂x_k = 1/size for each k in window i


def cases(rng, shapes=((2, 1, 1), (2, 3, 4), (3, 2, 5), (4, 3, 3))):  # (size, windows, m)
    return [Case("avg_pool_backward", {"x": rng.normal(size=(size * p, m)),
                                       "grad_out": rng.normal(size=(p, m)), "size": size}, m)
            for size, p, m in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((4, 16, 10), (3, 7, 13)))


# graded without the reference: ∂/∂x of Σ grad_out ⊙ avg_pool(x); linear in grad_out
DERIVATIVES = {"avg_pool_backward": {"grad_x": Gradient(
    "x", lambda x, grad_out, size: np.sum(grad_out * avg_pool(x, size)))}}
UPSTREAM = {"avg_pool_backward": "grad_out"}


def reference(case):
    return (avg_pool_backward(*case.inputs.values()),)


def first_only(case):
    x, grad_out, size = case.inputs.values()
    grad_x = np.zeros((x.shape[0] // size, size, x.shape[1]))
    grad_x[:, 0, :] = grad_out
    return (grad_x.reshape(x.shape),)


MISTAKES = [
    ("you forgot the 1/size: each input counts for 1/size of the window's mean, so it gets "
     "grad_out / size.",
     lambda case: (np.repeat(case.inputs["grad_out"], case.inputs["size"], axis=0),)),
    ("your windows are interleaved (np.tile?): window i is rows i·size ... i·size + size − 1, "
     "so repeat each row of grad_out size times in a row (np.repeat, axis=0).",
     lambda case: (np.tile(case.inputs["grad_out"] / case.inputs["size"],
                           (case.inputs["size"], 1)),)),
    ("you gave the whole gradient to the first entry of each window: average pooling shares it "
     "equally, 1/size each.",
     first_only),
]
