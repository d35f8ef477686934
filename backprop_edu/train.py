"""The training loop: mini-batch gradient descent, and one record per epoch of what happened.

    for record in train_epochs(net, optimizer, X_train, y_train, X_val, y_val,
                               epochs=20, batch_size=32, rng=0):
        print(record["epoch"], record["val_accuracy"], record["grad_W_norm"])

Every step is the textbook's three lines, on a mini-batch of rows of X:

    net.forward_columns(Xᵀ)      forward:  a_l = W_l h_{l−1} + b_l,  h_l = φ(a_l)
    J = net.backward(Y)          BP1 in the loss, BP2..BP4 in every layer
    optimizer.step()             θ ← θ − η ∇θ J  (or momentum, Adam)

The loop adds bookkeeping only. After each backward it reads, from the
gradients the layers already hold (no extra pass):

    ‖∇W_l‖   the Frobenius norm of layer.grad_W         (mean over the epoch's batches)
    ‖∇b_l‖   the norm of layer.grad_b                   (mean over the epoch's batches)
    ‖δ^(l)‖  the norm of one sample's error signal, a column of layer.delta,
             averaged over the batch                   (then over the epoch's batches)

Around each optimiser step it also gathers each layer's health (health.py): the
fraction of dead ReLU units, of saturated sigmoid/tanh units, and ‖ΔW_l‖/‖W_l‖
of the steps, from a_l and W_l, over the whole epoch.

With clip_norm=C the gradients are clipped by global norm before each step
(clipping.py: scaled by C/‖g‖ when ‖g‖ > C); the record then also holds
grad_norm_before_clip, the mean over the epoch's steps of ‖g‖ before clipping,
and clipped_steps, how many steps were clipped. The per-layer norms above are
read before clipping.

Train loss and accuracy are the means over the epoch's samples as each batch
saw them (the weights change while the epoch runs); validation loss and
accuracy are computed once at the end of the epoch. See docs/history.md.

The data is converted to the network's dtype once; each batch is gathered
into a buffer reused from step to step. When the loss or a gradient norm
stops being finite the loop raises Diverged, naming the epoch and the batch.

What is left out: early stopping, learning-rate schedules, data augmentation.
"""

import math
import time

import numpy as np

from backprop_edu.clipping import check_max_norm, clip_grad_norm
from backprop_edu.health import EpochHealth, norm

EVAL_CHUNK = 4096  # samples per forward pass when evaluating: memory O(chunk × width)
DIVERGENCE_FACTOR = 1e6  # a loss above 1e6 × max(the first batch's loss, 1) has diverged


class Diverged(ArithmeticError):
    """The loss (or a gradient) became NaN, infinite or huge: the steps were too large."""

    def __init__(self, epoch, batch, n_batches, what, last_norms, lr=None):
        self.epoch, self.batch, self.n_batches = epoch, batch, n_batches
        self.what = what              # e.g. "the loss became nan"
        self.last_norms = last_norms  # ‖∇W_l‖ of the last batch whose loss was finite, or None
        self.lr = lr                  # the optimiser's learning rate, when it has one
        where = (f"the validation pass of epoch {epoch}" if batch is None
                 else f"epoch {epoch}, batch {batch} of {n_batches}")
        norms = ("none: the very first batch diverged" if last_norms is None else
                 ", ".join(f"layer {l}: {norm:.3g}" for l, norm in enumerate(last_norms, 1)
                           if norm is not None))
        self.description = (f"training diverged at {where}: {what}; "
                            f"last finite gradient norms ‖∇W_l‖: {norms}")
        hint = "" if lr is None else (f"; the steps were too large: try lr={lr / 10:.3g} or "
                                      "smaller (10× smaller; more may be needed)")
        super().__init__(self.description + hint)


def targets_for(net, y):
    """What backward needs from y, and the class labels for accuracy.

    y of shape (m,) with integer values is class labels: returned as int64
    labels, and, for a loss that wants vectors (half_mse), as one-hot rows.
    Anything else is real targets, shape (m, n_out). Returns (targets, labels or None).
    """
    y = np.asarray(y)
    is_labels = y.ndim == 1 and (y.dtype.kind in "iub" or net.loss.classification)
    if not is_labels:
        return np.ascontiguousarray(y.reshape(len(y), -1), dtype=net.dtype), None
    labels = y.astype(np.int64)
    if net.loss.classification:
        return labels, labels
    one_hot = np.zeros((len(y), net.n_out), dtype=net.dtype)
    one_hot[np.arange(len(y)), labels] = 1  # half_mse on one-hot targets, as in Nielsen's book
    return one_hot, labels


def evaluate(net, X, y):
    """Mean loss and accuracy (None for real targets) of ``net`` on (X, y), in chunks of samples."""
    X = np.asarray(X, dtype=net.dtype)
    targets, labels = targets_for(net, y)
    m = len(X)
    total_loss, correct = 0.0, 0
    for start in range(0, m, EVAL_CHUNK):
        rows = slice(start, start + EVAL_CHUNK)
        J = net.compute_loss(X[rows], targets[rows])
        total_loss += J * len(X[rows])
        if labels is not None:
            correct += int(np.count_nonzero(net.output.argmax(axis=0) == labels[rows]))
    accuracy = correct / m if labels is not None else None
    return total_loss / m, accuracy


def layer_norms(layer, column_norms):
    """(‖∇W_l‖, ‖∇b_l‖, ‖δ^(l)‖) from what the layer holds after backward; no extra pass.

    ‖δ^(l)‖ is the mean over the batch of ‖δ_i^(l)‖, the norm of one sample's column of Δ_l;
    ``column_norms`` is a reused array of one entry per sample. A layer without a W, b or
    delta (a pooling layer, a layer of your own) gets None for it.
    """
    norm_W = norm(layer.grad_W) if "W" in layer.params else None  # ‖∇W_l‖_F, Frobenius
    norm_b = norm(layer.grad_b) if "b" in layer.params else None  # ‖∇b_l‖
    norm_delta = None
    if hasattr(layer, "delta"):
        np.einsum("ij,ij->j", layer.delta, layer.delta, out=column_norms)  # ‖δ_i^(l)‖² per column
        norm_delta = float(np.sqrt(column_norms, out=column_norms).mean())
    return norm_W, norm_b, norm_delta


def divergence(J, limit, norms, what="the loss"):
    """Why a batch has diverged, or None: ``what`` (a loss J) is not finite or is above
    ``limit``, or a gradient norm ‖∇W_l‖ overflowed. Numbers are written to 3 digits."""
    if not math.isfinite(J):
        return f"{what} became {J}"
    if limit is not None and J > limit:
        return (f"{what} grew to {J:.3g}, above 1e6 × max(the first batch's loss, 1) "
                f"= {limit:.3g}")
    if not all(math.isfinite(norm_W) for norm_W, _, _ in norms if norm_W is not None):
        return "a gradient norm overflowed to inf"
    return None


def mean_norms(sums, batches, last):
    """Each layer's sum of norms over the epoch's batches / batches; None where the layer
    has no such quantity (its ``last`` norm is None)."""
    return [None if norm is None else total / batches for total, norm in zip(sums, last)]


class BatchBuffers:
    """The arrays one batch of ``size`` samples is gathered into, allocated once."""

    def __init__(self, size, X, targets, labels):
        self.X = np.empty((size,) + X.shape[1:], X.dtype)
        self.targets = np.empty((size,) + targets.shape[1:], targets.dtype)
        if labels is targets:
            self.labels = self.targets
        elif labels is not None:
            self.labels = np.empty(size, labels.dtype)
        self.predicted = np.empty(size, np.intp)
        self.hit = np.empty(size, bool)
        self.column_norms = np.empty(size, X.dtype)


def train_epochs(net, optimizer, X_train, y_train, X_val=None, y_val=None, epochs=10,
                 batch_size=32, rng=None, on_batch=None, max_steps=None, clip_norm=None):
    """Train ``net`` with ``optimizer``; yield one record (a dict) after every epoch.

    X_train: (m, n_in) rows = samples. y_train: class labels (m,) or real targets (m, n_out).
    rng: a numpy Generator or seed; it shuffles the samples at every epoch.
    on_batch(k): called after the k-th optimiser step of the epoch (e.g. a progress bar).
    max_steps: stop after this many optimiser steps in all (the last record is a partial epoch).
    clip_norm: C > 0 clips the gradients by global norm before every step (None: no clipping).

    A record: epoch, train_loss, train_accuracy, val_loss, val_accuracy (None where
    there are no labels or no validation data), grad_W_norm, grad_b_norm, delta_norm,
    dead_fraction, saturated_fraction, update_ratio (one value per layer, l = 1..L; None
    where it does not apply), seconds; with clip_norm also grad_norm_before_clip
    (mean over the epoch's steps) and clipped_steps. Raises Diverged on a loss that is NaN,
    infinite or above 1e6 × max(the first batch's loss, 1).
    """
    rng = np.random.default_rng(rng)
    layers = net.layers
    L = len(layers)
    X = np.ascontiguousarray(X_train, dtype=net.dtype)  # converted once, not per batch
    targets, labels = targets_for(net, y_train)
    m = len(X)
    if m == 0 or len(targets) != m:
        raise ValueError(f"X_train has {m} samples but y_train has {len(targets)}")
    batch_size = min(batch_size, m)
    n_batches = math.ceil(m / batch_size)
    buffers = {size: BatchBuffers(size, X, targets, labels)
               for size in {batch_size, m - (n_batches - 1) * batch_size}}
    order = np.arange(m)
    if clip_norm is not None:
        clip_norm = check_max_norm(clip_norm)
        parameters = net.parameters()  # each parameter once, a shared one too
    steps = 0
    last_norms = None
    limit = None  # the largest loss that has not diverged, set by the first batch
    lr = getattr(optimizer, "lr", None)
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        rng.shuffle(order)
        loss_sum, correct = 0.0, 0
        sum_W, sum_b, sum_delta = [0.0] * L, [0.0] * L, [0.0] * L
        health = EpochHealth(layers, optimizer)  # dead and saturated units, update ratios
        seen = batches = 0
        sum_clip, clipped = 0.0, 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for k in range(n_batches):
                batch = order[k * batch_size:(k + 1) * batch_size]
                buf = buffers[len(batch)]
                np.take(X, batch, axis=0, out=buf.X)
                np.take(targets, batch, axis=0, out=buf.targets)
                if labels is not None and buf.labels is not buf.targets:
                    np.take(labels, batch, axis=0, out=buf.labels)

                output = net.forward_columns(buf.X.T)  # H_0 = Xᵀ: one column per sample
                J = net.backward(buf.targets)          # BP1..BP4; the layers now hold ∇W, ∇b, δ

                norms = [layer_norms(layer, buf.column_norms) for layer in layers]
                if limit is None and math.isfinite(J):
                    limit = DIVERGENCE_FACTOR * max(J, 1.0)  # from the first batch's loss
                what = divergence(J, limit, norms)
                if what is not None:
                    raise Diverged(epoch, k + 1, n_batches, what, last_norms, lr)
                for l, (norm_W, norm_b, norm_delta) in enumerate(norms):
                    sum_W[l] += norm_W or 0.0  # None: the layer has no W (nor b, nor δ)
                    sum_b[l] += norm_b or 0.0
                    sum_delta[l] += norm_delta or 0.0
                last_norms = [norm_W for norm_W, _, _ in norms]

                if clip_norm is not None:  # ∇θ J ← (C / ‖g‖) ∇θ J when ‖g‖ > C
                    norm_before = clip_grad_norm(parameters, clip_norm)
                    sum_clip += norm_before
                    clipped += norm_before > clip_norm
                health.after_backward()                # reads a_l; keeps W_l before the step
                optimizer.step()
                health.after_step()                    # ‖ΔW_l‖ / ‖W_l‖ of the step just taken

                loss_sum += J * len(batch)
                if labels is not None:
                    np.argmax(output, axis=0, out=buf.predicted)
                    correct += int(np.count_nonzero(
                        np.equal(buf.predicted, buf.labels, out=buf.hit)))
                seen += len(batch)
                batches += 1
                steps += 1
                if on_batch is not None:
                    on_batch(k + 1)
                if max_steps is not None and steps >= max_steps:
                    break
            val_loss = val_accuracy = None
            if X_val is not None and len(X_val):
                val_loss, val_accuracy = evaluate(net, X_val, y_val)
                what = divergence(val_loss, limit, [], "the validation loss")
                if what is not None:
                    raise Diverged(epoch, None, n_batches, what, last_norms, lr)
        record = {
            "epoch": epoch,
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / seen if labels is not None else None,
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
            "grad_W_norm": mean_norms(sum_W, batches, [norm_W for norm_W, _, _ in norms]),
            "grad_b_norm": mean_norms(sum_b, batches, [norm_b for _, norm_b, _ in norms]),
            "delta_norm": mean_norms(sum_delta, batches, [delta for _, _, delta in norms]),
            **health.record(),
            "seconds": time.perf_counter() - started,
        }
        if clip_norm is not None:
            record["grad_norm_before_clip"] = sum_clip / batches  # mean ‖g‖ over the steps
            record["clipped_steps"] = clipped
        yield record
        if max_steps is not None and steps >= max_steps:
            return


def train(net, optimizer, X_train, y_train, X_val=None, y_val=None, epochs=10, batch_size=32,
          rng=None, on_batch=None, max_steps=None, clip_norm=None):
    """Run train_epochs to the end; return the list of its records (the history)."""
    return list(train_epochs(net, optimizer, X_train, y_train, X_val, y_val, epochs=epochs,
                             batch_size=batch_size, rng=rng, on_batch=on_batch,
                             max_steps=max_steps, clip_norm=clip_norm))
