"""How each layer fares while it trains: dead ReLU units, saturated units, the size of the steps.

What practitioners look at when a network will not train: one number per layer per
epoch, gathered over the whole epoch (every mini-batch as it was seen, while the
weights changed), by the training loop (train.py) into every history record:

    dead_fraction       ReLU layers: the fraction of units j whose a_{l,j} was never > 0 on
                        any sample of the epoch. Such a unit outputs 0 with φ' = 0 on every
                        sample, so BP2 gives δ_j = 0, BP3 leaves its row of W_l as it is, and
                        nothing brings it back. null for other activations (leaky ReLU's φ'
                        is never 0: it never dies).
    saturated_fraction  sigmoid and tanh layers: the fraction of units whose |φ'(a_{l,j})|
                        stayed below 1e-3 of φ''s maximum (σ' ≤ 1/4, tanh' ≤ 1) on every
                        sample: BP2 multiplies whatever reaches them by less than that.
                        null for other activations.
    update_ratio        layers with a W: ‖ΔW_l‖ / ‖W_l‖ of the step the optimiser took
                        (its Δθ for W_l, kept in optimizer.last_steps, so momentum and Adam
                        count as they really step; ‖W_l‖ before the step), averaged over
                        the epoch's steps. About 1e-3 is healthy; far above, the steps are
                        large for the weights (lower the learning rate); far below,
                        learning crawls.

Everything is read from what the layers and the optimiser hold after each step (a_l
from the forward pass, W_l before the step, the step itself): no extra pass over the
data, a few reductions per layer. A layer without a W or an activation (pooling,
dropout, a layer of your own) gets null; so does a layer that did not hold a_l (with
gradient checkpointing, the layers whose values were let go), and every update_ratio
when the optimiser keeps no last_steps (one of your own).

    health = EpochHealth(net.layers, optimizer)   # at the start of an epoch
    ... forward, backward ...
    health.after_backward()                 # a_l, and ‖W_l‖ before the step
    optimizer.step()
    health.after_step()                     # ‖ΔW_l‖ / ‖W_l‖
    health.record()                         # {"dead_fraction": [...], ...}, one value per layer

What is left out: which units died (only how many), the statistics of the validation set.
"""

import math

import numpy as np

SATURATED = 1e-3                            # |φ'| below this fraction of its maximum
LARGEST_SLOPE = {"sigmoid": 0.25, "tanh": 1.0}  # the maximum of φ', at a = 0
HEALTHY_UPDATE_RATIO = 1e-3
FIELDS = ("dead_fraction", "saturated_fraction", "update_ratio")

# A verdict speaks up at these
DEAD_WARNING = 0.1                         # 10 % of a ReLU layer's units dead
SATURATED_WARNING = 0.1                    # 10 % of a sigmoid/tanh layer's units saturated
UPDATE_RATIO_RANGE = (1e-5, 3e-2)          # steps far outside 1e-3 of ‖W‖


def activation_of(layer):
    """The name of a layer's activation (Dense, Residual), or None."""
    return getattr(getattr(layer, "activation", None), "name", None)


def norm(array):
    """‖array‖, Frobenius; float16 is summed in float32, where the squares neither overflow
    nor underflow."""
    if array.dtype.itemsize < 4:
        array = array.astype(np.float32)
    return math.sqrt(float(np.vdot(array, array)))


class EpochHealth:
    """dead_fraction, saturated_fraction and update_ratio of every layer, over one epoch."""

    def __init__(self, layers, optimizer=None):
        self.layers = layers
        self.optimizer = optimizer
        kinds = [activation_of(layer) for layer in layers]
        # per ReLU unit: Σ over the epoch's samples of h_{l,j} = max(a_{l,j}, 0); a sum of
        # numbers ≥ 0, it is 0 exactly when a_{l,j} was never > 0: a dead unit
        self.relu_sums = [np.zeros(layer.n_out) if kind == "relu" else None
                          for layer, kind in zip(layers, kinds)]
        # per sigmoid/tanh unit: the largest |φ'(a_{l,j})| of the epoch
        self.largest_slope = [np.zeros(layer.n_out) if kind in LARGEST_SLOPE else None
                              for layer, kind in zip(layers, kinds)]
        # which of the optimiser's parameters is layer l's W (its step is last_steps[k])
        W_of = {id(layer): k for k, parameter in enumerate(getattr(optimizer, "parameters", []))
                for layer, name in parameter.places if name == "W"}
        self.W_index = [W_of.get(id(layer)) for layer in layers]
        self.W_size = [None] * len(layers)   # ‖W_l‖ before the step
        self.ratio_sum = [0.0] * len(layers)
        self.steps = [0] * len(layers)
        self.unseen = [False] * len(layers)  # a step after which the layer held no a_l
        self.ones = {}                       # 1, a column of m ones, per batch size and dtype

    def after_backward(self):
        """Read every layer's a_l, h_l (one column per sample), and ‖W_l‖ before the step."""
        for l, layer in enumerate(self.layers):
            if self.relu_sums[l] is not None or self.largest_slope[l] is not None:
                a = getattr(layer, "a", None)
                if a is None:
                    self.unseen[l] = True
                elif self.relu_sums[l] is not None:  # ReLU: Σ_i h_{l,ji}, written H_l 1
                    sums = self.relu_sums[l]
                    np.add(sums, layer.h @ self.column_of_ones(a), out=sums)
                else:                                # sigmoid, tanh: the largest |φ'(a_{l,j})|
                    slope = np.abs(layer.activation.phi_prime(a, layer.h))
                    np.maximum(self.largest_slope[l], slope.max(axis=1), out=self.largest_slope[l])
            if self.W_index[l] is not None:
                self.W_size[l] = norm(layer.W)       # ‖W_l‖ before the step

    def column_of_ones(self, a):
        """1, the column of m ones that sums a batch's columns (as in BP4), made once."""
        key = (a.shape[1], a.dtype)
        if key not in self.ones:
            self.ones[key] = np.ones(a.shape[1], dtype=a.dtype)
        return self.ones[key]

    def after_step(self):
        """‖ΔW_l‖ / ‖W_l‖ of the step the optimiser just took, for every layer with a W."""
        steps = getattr(self.optimizer, "last_steps", None)
        if steps is None:
            return
        for l, k in enumerate(self.W_index):
            if k is not None and self.W_size[l] > 0:
                self.ratio_sum[l] += norm(steps[k]) / self.W_size[l]  # ‖ΔW_l‖ / ‖W_l‖
                self.steps[l] += 1

    def record(self):
        """{"dead_fraction": [...], "saturated_fraction": [...], "update_ratio": [...]}:
        one value per layer, None where it does not apply (or was not seen)."""
        dead, saturated = [], []
        for l in range(len(self.layers)):
            relu_sums, largest_slope = self.relu_sums[l], self.largest_slope[l]
            dead.append(None if relu_sums is None or self.unseen[l]
                        else float(np.mean(relu_sums == 0)))  # never > 0 on any sample
            kind = activation_of(self.layers[l])
            saturated.append(None if largest_slope is None or self.unseen[l] else
                             float(np.mean(largest_slope < SATURATED * LARGEST_SLOPE[kind])))
        ratio = [total / steps if steps and math.isfinite(total) else None  # inf: W overflowed
                 for total, steps in zip(self.ratio_sum, self.steps)]
        return {"dead_fraction": dead, "saturated_fraction": saturated, "update_ratio": ratio}


# -- a verdict per layer ---------------------------------------------------------------

def verdict(l, dead=None, saturated=None, update_ratio=None, blocked=()):
    """One line on layer l from its statistics (an epoch record's values), e.g.
    'layer 3: 62 % dead ReLU units; lower the learning rate or use leaky_relu'.
    ``blocked``: the other layers whose dead or saturated units stop the gradient."""
    problems = []
    if dead is not None and dead >= DEAD_WARNING:
        problems.append(f"{100 * dead:.0f} % dead ReLU units (never positive on any sample); "
                        "lower the learning rate or use leaky_relu")
    if saturated is not None and saturated >= SATURATED_WARNING:
        problems.append(f"{100 * saturated:.0f} % saturated units (|φ'| below 1e-3 of its "
                        "maximum on every sample); standardise the inputs, use xavier "
                        "initialisation or lower the learning rate")
    low, high = UPDATE_RATIO_RANGE
    healthy = f"(healthy: about {HEALTHY_UPDATE_RATIO:.0e})"
    if update_ratio is not None and update_ratio > high:
        problems.append(f"each step moves W by {update_ratio:.1e} of ‖W‖ {healthy}; "
                        "lower the learning rate")
    elif update_ratio is not None and update_ratio < low:
        moves = ("W did not move at all" if update_ratio == 0 else
                 f"W hardly moves ({update_ratio:.1e} of ‖W‖ per step)")
        if blocked:
            others = ", ".join(map(str, blocked))
            problems.append(f"{moves}: the dead or saturated units of layer"
                            f"{'s' * (len(blocked) > 1)} {others} stop its gradient")
        elif not problems:
            problems.append(f"{moves} {healthy}; raise the learning rate")
    if problems:
        return f"layer {l}: " + "; ".join(problems)
    if dead is None and saturated is None and update_ratio is None:
        return f"layer {l}: no statistics (no W and no ReLU, sigmoid or tanh units)"
    facts = [f"{100 * dead:.0f} % dead units" if dead is not None else None,
             f"{100 * saturated:.0f} % saturated units" if saturated is not None else None,
             f"update ratio {update_ratio:.1e}" if update_ratio is not None else None]
    return f"layer {l}: healthy (" + ", ".join(fact for fact in facts if fact) + ")"


def verdicts(record):
    """One verdict per layer from an epoch record (normally the last epoch's). A layer whose
    W hardly moves is told which other layers' dead or saturated units are the cause."""
    columns = [record.get(field) or [] for field in FIELDS]
    depth = max(len(column) for column in columns)
    rows = list(zip(*[column + [None] * (depth - len(column)) for column in columns]))
    stuck = [l for l, (dead, saturated, _) in enumerate(rows, start=1)
             if (dead or 0) >= DEAD_WARNING or (saturated or 0) >= SATURATED_WARNING]
    return [verdict(l, *values, blocked=[other for other in stuck if other != l])
            for l, values in enumerate(rows, start=1)]
