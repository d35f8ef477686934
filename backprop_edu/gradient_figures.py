"""Figures of where gradients go: routed by pooling and dropout, and down to the input.

    plot_saliency(images, maps, labels, predicted, path)   each digit, and |∂J/∂x| as an image
    plot_fgsm_accuracy(records, path)                       accuracy against the FGSM step ε
    plot_adversarial_examples(originals, adversarial, ...)  originals / perturbations / adversarial
    plot_routing(net, X, Y, path)                           a small net with pooling or dropout:
                                                            where each gradient was routed, and
                                                            which units got none

The first three take plain arrays (what ``adversarial.py`` returns); plot_routing
takes a network and a batch and runs one forward and one backward pass on it (the
layers' own; nothing is computed here but the drawing). Every figure is written
atomically with the helpers of plots.py, and matplotlib is imported only inside
the functions that draw.

What is left out: 2-D pooling windows, colour images, networks too large to draw
unit by unit (plot_routing draws at most MAX_UNITS units in a layer).
"""

import math

import numpy as np

from backprop_edu.plots import _figsize, _pyplot, check_figure_path, save_figure
from backprop_edu.routing import AvgPool, Dropout, MaxPool

MAX_UNITS = 32   # plot_routing draws every unit: more than this would be unreadable


def image_shape(n, shape=None):
    """The (rows, columns) of an image of n pixels: ``shape``, or a square."""
    if shape is None:
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(f"{n} features are not a square image: give shape=(rows, columns)")
        shape = (side, side)
    if shape[0] * shape[1] != n:
        raise ValueError(f"an image of shape {shape} has {shape[0] * shape[1]} pixels, "
                         f"not {n}")
    return tuple(shape)


def check_rows(**arrays):
    """Every array has the same number of rows (one per sample); returns that number."""
    counts = {name: len(array) for name, array in arrays.items()}
    if len(set(counts.values())) != 1:
        raise ValueError("one row per sample is needed in each of "
                         + ", ".join(f"{name} ({count})" for name, count in counts.items()))
    count = next(iter(counts.values()))
    if count == 0:
        raise ValueError("nothing to draw: no samples")
    return count


def _image_axis(ax, title=None, colour="black"):
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize="small", color=colour)


# -- saliency maps ------------------------------------------------------------------

def plot_saliency(images, maps, labels, predicted, path, standardised_maps=None, shape=None,
                  pixel_range=(0, 16), title=None, size=None):
    """Each image, and its saliency map |∂J/∂x| drawn as an image of the same shape.

    images:    (k, n) the inputs in raw units (digits: pixels 0..16), one row each
    maps:      (k, n) |∂J_i/∂x_i| in the same units (adversarial.saliency)
    labels, predicted: (k,) the true and the predicted class of each
    standardised_maps: optional (k, n) |∂J_i/∂x_std|, the gradient per standard deviation
               of each pixel, drawn as a third row
    shape:     the image's (rows, columns); default: a square (8 × 8 for digits)
    Each map has its own colour scale, from 0 to its maximum (written under it).
    """
    check_figure_path(path)
    images, maps = np.asarray(images, dtype=float), np.asarray(maps, dtype=float)
    rows_of = dict(images=images, maps=maps, labels=labels, predicted=predicted)
    if standardised_maps is not None:
        standardised_maps = np.asarray(standardised_maps, dtype=float)
        rows_of["standardised_maps"] = standardised_maps
    k = check_rows(**rows_of)
    shape = image_shape(images.shape[1], shape)
    rows = [("image", images)] + [("|∂J/∂x|\n(per pixel level)", maps)]
    if standardised_maps is not None:
        rows.append(("|∂J/∂x_std|\n(per std of the pixel)", standardised_maps))

    plt = _pyplot()
    fig, axes = plt.subplots(len(rows), k, squeeze=False, layout="constrained",
                             figsize=_figsize(size, (1.45 * k + 1.2, 1.75 * len(rows) + 0.7)))
    for i in range(k):
        right = labels[i] == predicted[i]
        colour = "black" if right else "red"
        ax = axes[0][i]
        ax.imshow(images[i].reshape(shape), cmap="gray_r", vmin=pixel_range[0],
                  vmax=pixel_range[1])
        _image_axis(ax, f"label {labels[i]}\npredicted {predicted[i]}", colour)
        for row, (_, values) in enumerate(rows[1:], start=1):
            ax = axes[row][i]
            top = values[i].max()
            ax.imshow(values[i].reshape(shape), cmap="inferno", vmin=0, vmax=top or 1)
            _image_axis(ax)
            ax.set_xlabel(f"max {top:.2g}", fontsize="x-small")
    for row, (name, _) in enumerate(rows):
        axes[row][0].set_ylabel(name, fontsize="small")
    fig.suptitle(title or "Saliency: how much each pixel moves the loss J (bright = most; "
                          "each map scaled to its own maximum)", fontsize="medium")
    save_figure(fig, path)


# -- the fast gradient sign method ----------------------------------------------------

def plot_fgsm_accuracy(records, path, chance=None, title=None, size=None):
    """Accuracy on the adversarial inputs x' = clip(x + ε sign(∂J/∂x)) against ε.

    records: [{"epsilon": ε, "accuracy": a}, ...] (adversarial.accuracy_against_epsilon)
    chance:  the accuracy of guessing (e.g. 0.1 for ten classes), drawn as a dotted line
    """
    check_figure_path(path)
    if not records:
        raise ValueError("nothing to plot: no (epsilon, accuracy) records")
    epsilons = np.array([record["epsilon"] for record in records], dtype=float)
    accuracies = np.array([record["accuracy"] for record in records], dtype=float)
    order = np.argsort(epsilons)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=_figsize(size, (6.5, 4.3)), layout="constrained")
    ax.plot(epsilons[order], accuracies[order], "o-", color="C3",
            label="accuracy on the adversarial inputs")
    clean = accuracies[epsilons == 0]
    if clean.size:
        ax.axhline(clean[0], color="C0", linestyle="--", linewidth=1,
                   label=f"clean accuracy (ε = 0): {clean[0]:.1%}")
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1,
                   label=f"guessing: {chance:.0%}")
    for epsilon, accuracy in zip(epsilons[order], accuracies[order]):
        ax.annotate(f"{accuracy:.0%}", (epsilon, accuracy), textcoords="offset points",
                    xytext=(4, 5), fontsize="x-small")
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("ε, the step of every pixel (raw pixel units)")
    ax.set_ylabel("accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title(title or "Fast gradient sign method: x' = clip(x + ε·sign(∂J/∂x))",
                 fontsize="medium")
    save_figure(fig, path)


def plot_adversarial_examples(originals, adversarial, labels, predicted, predicted_adversarial,
                              epsilon, path, shape=None, pixel_range=(0, 16), title=None,
                              size=None):
    """Three rows: the originals, the perturbations x' − x, the adversarial images x'.

    originals, adversarial: (k, n) images in raw units; labels: (k,) true classes;
    predicted, predicted_adversarial: (k,) the network's classes for x and for x'.
    A prediction that differs from the label is red.
    """
    check_figure_path(path)
    originals = np.asarray(originals, dtype=float)
    adversarial = np.asarray(adversarial, dtype=float)
    k = check_rows(originals=originals, adversarial=adversarial, labels=labels,
                   predicted=predicted, predicted_adversarial=predicted_adversarial)
    shape = image_shape(originals.shape[1], shape)
    plt = _pyplot()
    fig, axes = plt.subplots(3, k, squeeze=False, layout="constrained",
                             figsize=_figsize(size, (1.45 * k + 1.2, 6.2)))
    limit = max(float(epsilon), 1e-12)
    for i in range(k):
        ax = axes[0][i]
        ax.imshow(originals[i].reshape(shape), cmap="gray_r", vmin=pixel_range[0],
                  vmax=pixel_range[1])
        _image_axis(ax, f"label {labels[i]}\npredicted {predicted[i]}",
                    "black" if predicted[i] == labels[i] else "red")
        ax = axes[1][i]
        shown = ax.imshow((adversarial[i] - originals[i]).reshape(shape), cmap="RdBu_r",
                          vmin=-limit, vmax=limit)
        _image_axis(ax)
        ax = axes[2][i]
        ax.imshow(adversarial[i].reshape(shape), cmap="gray_r", vmin=pixel_range[0],
                  vmax=pixel_range[1])
        _image_axis(ax, f"predicted {predicted_adversarial[i]}",
                    "black" if predicted_adversarial[i] == labels[i] else "red")
    axes[0][0].set_ylabel("original x", fontsize="small")
    axes[1][0].set_ylabel("x' − x\n(red +ε, blue −ε,\nwhite: clipped)", fontsize="small")
    axes[2][0].set_ylabel("adversarial x'", fontsize="small")
    fig.colorbar(shown, ax=axes[1, :].tolist(), shrink=0.8, label="pixel change")
    levels = f"{epsilon:g} pixel level{'s' if epsilon != 1 else ''}"
    fig.suptitle(title or f"FGSM with ε = {levels} (of {pixel_range[1]:g}): "
                          "red titles are wrong predictions", fontsize="medium")
    save_figure(fig, path)


# -- where the gradient was routed ------------------------------------------------------

def routing_caption(layer):
    """What a layer does to the gradient on its way down, in a few words."""
    if isinstance(layer, MaxPool):
        return f"MaxPool({layer.k})\nall to the winner"
    if isinstance(layer, AvgPool):
        return f"AvgPool({layer.k})\n1/{layer.k} to each"
    if isinstance(layer, Dropout):
        return f"Dropout({layer.p:g})\nkept units only"
    activation = getattr(getattr(layer, "activation", None), "name", None)
    name = type(layer).__name__ + (f" {activation}" if activation else "")
    return f"{name}\n$W_l^T\\delta^{{(l)}}$" if "W" in layer.params else name


def plot_routing(net, X, Y, path, sample=0, title=None, size=None):
    """Where each gradient was routed, and which units got none, in a small network.

    Runs net.forward(X) and net.backward(Y, input_gradient=True) (a training pass: a
    Dropout draws its mask, or uses its fixed_mask). Left: sample ``sample`` as a graph,
    one column of units per h_l (h_0 = x at the left, ŷ = h_L at the right), each unit
    coloured by ∂J/∂h_l (its column's own scale; a hollow circle with × got exactly 0);
    between the columns of a pooling or dropout layer, the lines the gradient took
    (solid) and did not take (dotted). Right: for every routing layer, ∂J/∂h_{l−1} over
    the whole batch (units × samples), with a dot where a unit got exactly 0.
    """
    check_figure_path(path)
    widths = [net.n_in] + [layer.n_out for layer in net.layers]
    if max(widths) > MAX_UNITS:
        raise ValueError(f"plot_routing draws every unit: a layer of {max(widths)} units is "
                         f"more than {MAX_UNITS}; use a smaller network")
    routing = [l for l, layer in enumerate(net.layers) if isinstance(layer, (MaxPool, AvgPool,
                                                                             Dropout))]
    if not routing:
        raise ValueError("plot_routing needs a network with a MaxPool, AvgPool or Dropout layer")
    net.forward(X)
    net.backward(Y, input_gradient=True)
    _, grad_output = net.loss_gradient(Y)                         # ∇_{h_L} J, per sample
    grads = [layer.grad_h_prev for layer in net.layers] + [grad_output]   # ∂J/∂h_l, l = 0..L
    m = grads[0].shape[1]
    if not 0 <= sample < m:
        raise ValueError(f"sample must be one of 0..{m - 1} (the batch has {m} samples), "
                         f"got {sample}")

    plt = _pyplot()
    tallest = max(widths)
    fig = plt.figure(figsize=_figsize(size, (max(11.0, 1.9 * len(widths)),
                                            0.38 * tallest + 6.2)), layout="constrained")
    grid = fig.add_gridspec(2, len(routing), height_ratios=[0.38 * tallest + 2.2, 3.2])
    _draw_graph(fig.add_subplot(grid[0, :]), net, grads, widths, sample)
    for column, l in enumerate(routing):
        _draw_batch(fig.add_subplot(grid[1, column]), net.layers[l], l, grads[l], sample)
    fig.suptitle(title or "Where backpropagation routed the gradient ∂J/∂h, and which units "
                          "got none", fontsize="medium")
    save_figure(fig, path)


def _positions(width, tallest):
    """y positions of ``width`` units, centred on the tallest column."""
    return (tallest - 1) / 2 - np.arange(width) + (width - 1) / 2


def _draw_graph(ax, net, grads, widths, sample):
    from matplotlib.colors import TwoSlopeNorm
    tallest = max(widths)
    ys = [_positions(width, tallest) for width in widths]
    for l, layer in enumerate(net.layers):          # the lines between column l and l + 1
        below, above = ys[l], ys[l + 1]
        if isinstance(layer, (MaxPool, AvgPool)):
            for i, y_out in enumerate(above):
                for j in range(layer.k):
                    unit = i * layer.k + j
                    taken = isinstance(layer, AvgPool) or layer.winner[i, sample] == j
                    ax.plot([l, l + 1], [below[unit], y_out], "-" if taken else ":",
                            color="C2" if taken else "0.7", linewidth=2 if taken else 1,
                            zorder=1)
        elif isinstance(layer, Dropout):
            for unit, y in enumerate(below):
                kept = layer.mask[unit, sample]
                ax.plot([l, l + 1], [y, above[unit]], "-" if kept else ":",
                        color="C2" if kept else "0.7", linewidth=2 if kept else 1, zorder=1)
        else:                                       # a Dense layer: every unit to every unit
            for y_in in below:
                for y_out in above:
                    ax.plot([l, l + 1], [y_in, y_out], "-", color="0.85", linewidth=0.5,
                            zorder=0)
        ax.text(l + 0.5, -1.1, routing_caption(layer), ha="center", va="top",
                fontsize="x-small")
    for l, (grad, y) in enumerate(zip(grads, ys)):
        values = grad[:, sample]
        top = float(np.abs(values).max()) or 1.0
        none = values == 0
        ax.scatter(np.full(none.sum(), l), y[none], s=170, facecolors="white",
                   edgecolors="0.4", zorder=2)
        ax.scatter(np.full(none.sum(), l), y[none], s=50, marker="x", color="0.4", zorder=3)
        ax.scatter(np.full((~none).sum(), l), y[~none], s=170, c=values[~none],
                           cmap="RdBu_r", norm=TwoSlopeNorm(0, -top, top), edgecolors="k",
                           linewidths=0.5, zorder=2)
        name = "x" if l == 0 else ("\\hat{y}" if l == len(grads) - 1 else f"h_{{{l}}}")
        ax.text(l, tallest - 0.2, f"$\\partial J/\\partial {name}$\n"
                f"{int(none.sum())} of {len(values)} got 0",
                ha="center", va="bottom", fontsize="x-small")
    ax.set_xlim(-0.5, len(grads) - 0.5)
    ax.set_ylim(-2.3, tallest + 0.9)
    ax.axis("off")
    ax.set_title(f"sample {sample}: red ∂J/∂h > 0, blue < 0 (each column its own scale); "
                 "green: the path the gradient took, dotted: no gradient;\n"
                 "hollow ×: this unit got exactly 0", fontsize="small")


def _draw_batch(ax, layer, l, grad, sample):
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.patches import Rectangle
    top = float(np.abs(grad).max()) or 1.0
    shown = ax.imshow(grad, cmap="RdBu_r", norm=TwoSlopeNorm(0, -top, top), aspect="auto",
                      interpolation="nearest")
    units, samples = np.nonzero(grad == 0)
    ax.scatter(samples, units, s=8, color="k")
    ax.add_patch(Rectangle((sample - 0.5, -0.5), 1, grad.shape[0], fill=False, edgecolor="C2",
                           linewidth=2))
    none = float(np.mean(grad == 0))
    ax.set_title(f"layer {l + 1}, {routing_caption(layer).splitlines()[0]}, hands down\n"
                 f"$\\partial J/\\partial h_{{{l}}}$ over the batch ({none:.0%} exactly 0, •)",
                 fontsize="small")
    ax.set_xlabel("sample (green: the one drawn above)", fontsize="small")
    ax.set_ylabel(f"unit of $h_{{{l}}}$", fontsize="small")
    ax.figure.colorbar(shown, ax=ax, shrink=0.9)
