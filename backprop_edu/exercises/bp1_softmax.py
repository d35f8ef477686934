"""Exercise bp1_softmax: the output error for softmax cross-entropy, δ^(L) = softmax(a_L) − y.

Teaches: fusing softmax with the cross-entropy gives the simple error
softmax(a_L) − onehot(y); softmax normalises each column (each sample); and
subtracting each column's max before exp keeps it from overflowing (one case
has logits near a thousand). Graded against losses.softmax_cross_entropy.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient
from backprop_edu.losses import softmax_cross_entropy

NAME = "bp1_softmax"
SUMMARY = "BP1 for softmax cross-entropy: δ^(L) = softmax(a_L) − onehot(y), stable for large a"
MINUTES = 15
FUNCTIONS = ["bp1_softmax"]
OUTPUTS = {"bp1_softmax": ["delta"]}
GIVEN = []
HINTS = [
    "softmax works column by column: each column of a is one sample, and each column of "
    "softmax(a) must sum to 1 (axis=0).",
    "exp(800) overflows to inf. softmax(a) = softmax(a − c) for any constant c per column: "
    "subtract each column's max (a.max(axis=0)) before np.exp.",
    "onehot(y) has a single 1 in each column i, in row labels[i]. Subtract 1 at exactly "
    "those m entries (index the rows and the columns together, with two index arrays), not "
    "from whole rows and not from labels itself.",
]


def bp1_softmax(a, labels):
    """δ^(L) = softmax(a_L) − onehot(y), for J_i = −log softmax(a_L)_{y_i}.

    a:      a_L, the linear output (the logits), shape (n_out, m): one column per sample
    labels: the class of each sample, integers in 0..n_out−1, shape (m,)
    returns δ^(L), shape (n_out, m)

    softmax(a)_k = e^(a_k) / Σ_j e^(a_j), over each column. Some logits are large
    (near 1000): e^800 overflows, so compute it as e^(a − max a) / Σ e^(a − max a).
    """
    m = a.shape[1]
    e = np.exp(a - a.max(axis=0))        # subtracting each column's max keeps exp ≤ 1
    delta = e / e.sum(axis=0)            # softmax(a_L): each column sums to 1
    delta[labels, np.arange(m)] -= 1     # BP1: δ^(L) = softmax(a_L) − onehot(y)
    return delta


# (n_out, m, scale of the logits): the last case overflows a softmax that skips the max
SHAPES = ((2, 1, 1.0), (3, 5, 1.0), (5, 4, 3.0), (10, 6, 1.0), (4, 3, 1000.0))


def cases(rng, shapes=SHAPES):
    return [Case("bp1_softmax", {"a": scale * rng.normal(size=(n, m)),
                                 "labels": rng.integers(0, n, size=m)}, m)
            for n, m, scale in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((20, 50, 1.0), (7, 30, 500.0)))


def cross_entropy_sum(a, labels):
    """Σ_i −log softmax(a_i)_{y_i} = Σ_i (log Σ_k e^(a_ki) − a_{y_i,i}); the max of the real
    part is subtracted (a constant: it changes no derivative), so e^a cannot overflow."""
    c = a.real.max(axis=0)
    return np.sum(np.log(np.sum(np.exp(a - c), axis=0)) + c - a[labels, np.arange(a.shape[1])])


# graded without the reference: δ^(L) = ∂/∂a_L of the summed cross-entropy (per sample)
DERIVATIVES = {"bp1_softmax": {"delta": Gradient("a", cross_entropy_sum)}}


def reference(case):
    a, labels = case.inputs.values()
    J, grad_h = softmax_cross_entropy(a, labels)  # = δ^(L) for a linear output layer (BP1)
    return (grad_h,)


def softmax(a, axis=0):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def onehot(case):
    a, labels = case.inputs.values()
    y = np.zeros_like(a)
    y[labels, np.arange(a.shape[1])] = 1
    return y


def whole_rows(case):
    """delta[labels] -= 1: every row named in labels loses 1 in every column."""
    delta = softmax(case.inputs["a"])
    delta[case.inputs["labels"]] -= 1
    return (delta,)


MISTAKES = [
    ("your softmax normalises the rows: each *column* is a sample, so sum over axis=0.",
     lambda case: (softmax(case.inputs["a"], axis=1) - onehot(case),)),
    ("you returned softmax(a) without subtracting the one-hot target y.",
     lambda case: (softmax(case.inputs["a"]),)),
    ("you forgot the softmax: δ^(L) = softmax(a_L) − y, not a_L − y.",
     lambda case: (case.inputs["a"] - onehot(case),)),
    ("you divided by m: δ^(L) keeps one column per sample; the 1/m enters only in BP3/BP4.",
     lambda case: ((softmax(case.inputs["a"]) - onehot(case)) / case.m,)),
    ("you subtracted the labels themselves: labels are class numbers, not the one-hot y; "
     "subtract 1 in row labels[i] of column i only.",
     lambda case: (softmax(case.inputs["a"]) - case.inputs["labels"],)),
    ("delta[labels] -= 1 subtracts 1 from whole rows: subtract it from one entry per column, "
     "delta[labels, np.arange(m)].",
     whole_rows),
    ("your one-hot matrix is m × n_out, one row per sample (np.eye(n)[labels]): the batch is "
     "columns here, so transpose it.",
     lambda case: (softmax(case.inputs["a"])
                   - np.eye(case.inputs["a"].shape[0])[case.inputs["labels"]],)),
]
