"""Figures of the gradient-flow lab: every matplotlib drawing of the package lives here.

    plot_history(history, path)              ‖∇W_l‖ per layer against epoch; loss and accuracy;
                                             dead/saturated units and update ratios per layer
    plot_vanishing(configs, path)            ‖δ^(l)‖ and ‖∇W_l‖ against layer index l
    plot_modes(rows, path)                   forward vs reverse mode: seconds against n (log-log)
    plot_decision_boundary(net, X, y, path)  decision regions of a classifier on 2-D data

(The computational graph, boxes and arrows rather than a plot, is drawn by graph_figure.py
with the helpers below.)

Each function takes plain data (the dicts and lists that ``experiments.py`` and
``train`` produce, or a trained Network) and writes one figure to ``path``; the
format comes from the extension (.png, .svg, .pdf, ...). A figure is written
atomically: to a temporary file in the same directory, then renamed, so a
failed or interrupted run never leaves half an image behind, and a reader
never sees one.

matplotlib is imported inside the functions that draw (with the headless Agg
backend), so importing this module is cheap and needs no display.

What is left out: interactive figures, styling options. The figures are meant
to be read, not tuned; change the code if you want them to look different.
"""

import os

import numpy as np

from backprop_edu.files import atomic_file
from backprop_edu.health import HEALTHY_UPDATE_RATIO, UPDATE_RATIO_RANGE
from backprop_edu.history import check_history, read_history

DPI = 100  # pixels per inch: a 8 × 4 inch figure is 800 × 400 pixels


# -- writing a figure ---------------------------------------------------------

def _pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def figure_formats():
    """The file extensions matplotlib can write here, e.g. {'png', 'svg', 'pdf', ...}."""
    from matplotlib.backend_bases import FigureCanvasBase
    return set(FigureCanvasBase.get_supported_filetypes())


def check_figure_path(path):
    """Raise a one-line ValueError unless ``path`` has an extension matplotlib writes, in a
    directory that exists. Call it before a long computation, so a typo fails at once."""
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    formats = figure_formats()
    if extension not in formats:
        got = f"'.{extension}' is not" if extension else "a name without an extension is not"
        raise ValueError(
            f"cannot write a figure to {path}: {got} an image format matplotlib can "
            f"write; use a name ending in .png, .svg or .pdf "
            f"(or one of {', '.join('.' + f for f in sorted(formats))})")
    if extension == "pgf":  # matplotlib lists it, but writing it runs a TeX installation
        import shutil
        from matplotlib import rcParams

        if shutil.which(rcParams["pgf.texsystem"]) is None:
            raise ValueError(f"cannot write a figure to {path}: .pgf needs "
                             f"{rcParams['pgf.texsystem']} (TeX), which is not installed; "
                             "use .png, .svg or .pdf")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write a figure to {path}: directory {directory} does not exist")
    return path


def save_figure(fig, path, dpi=DPI):
    """Write ``fig`` to ``path`` atomically (temp file in the same directory, then os.replace),
    then close it. The format is the extension's."""
    plt = _pyplot()
    path = check_figure_path(path)
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    try:
        with atomic_file(path, "wb") as f:
            fig.savefig(f, format=extension, dpi=dpi)
    finally:
        plt.close(fig)


# -- decision regions ---------------------------------------------------------

def decision_grid(net, X, resolution=200, margin=0.1):
    """The network's predicted class on a resolution × resolution grid covering X.

    Returns (xx, yy, classes): grid coordinates and the class at every point.
    For a classification loss the class is argmax of the output; for a single
    regression output it is 1 where ŷ > 0.5 (0/1 targets), else 0; for several
    regression outputs, the argmax.
    """
    low, high = X.min(axis=0), X.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-12)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    grid = np.column_stack([xx.ravel(), yy.ravel()])  # every grid point as a sample (a row)
    Y_hat = net.forward(grid, training=False)  # an inference pass: dropout is off
    if net.loss.classification or Y_hat.shape[1] > 1:
        classes = Y_hat.argmax(axis=1)
    else:
        classes = (Y_hat[:, 0] > 0.5).astype(int)
    return xx, yy, classes.reshape(xx.shape)


def plot_decision_boundary(net, X, y, path, title=None):
    """Decision regions of a trained classifier on 2-D data, with the data points on top.

    net:   a trained Network with 2 inputs.
    X:     (m, 2) inputs, in the scaling the network was trained on.
    y:     (m,) class labels (or one-hot rows), drawn as the points' colours.
    path:  where to write the figure; the format comes from the extension.
    """
    check_figure_path(path)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"a decision boundary needs 2-D data (m × 2 features), got X of shape {X.shape}; "
            "use a dataset with exactly 2 features, such as moons")
    if net.n_in != 2:
        raise ValueError(f"a decision boundary needs a network with 2 inputs, this one has "
                         f"n_in={net.n_in}")
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(axis=1)  # one-hot rows -> labels
    y = y.reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]} labels")

    xx, yy, regions = decision_grid(net, X)
    labels = np.unique(np.concatenate([np.unique(y).astype(int), np.unique(regions)]))

    plt = _pyplot()
    from matplotlib.colors import BoundaryNorm, ListedColormap

    palette = plt.get_cmap("tab10").colors
    colours = ListedColormap([palette[int(k) % 10] for k in labels])
    norm = BoundaryNorm(np.append(labels - 0.5, labels[-1] + 0.5), colours.N)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.contourf(xx, yy, regions, levels=np.append(labels - 0.5, labels[-1] + 0.5),
                cmap=colours, norm=norm, alpha=0.3)
    for k in np.unique(y).astype(int):
        on = y.astype(int) == k
        ax.scatter(X[on, 0], X[on, 1], s=14, color=palette[k % 10], edgecolors="k",
                   linewidths=0.3, label=f"class {k}")
    accuracy = float(np.mean(net.predict(X).reshape(-1).astype(int) == y.astype(int))) \
        if net.loss.classification else None
    if title is None:
        title = "Decision regions of the network"
        if accuracy is not None:
            title += f" (accuracy on these points {accuracy:.1%})"
    ax.set_title(title)
    ax.set_xlabel("feature 1 ($x_1$)")
    ax.set_ylabel("feature 2 ($x_2$)")
    ax.legend(loc="best", fontsize="small", title="data points")
    fig.tight_layout()
    save_figure(fig, path)


# -- sizes and series ---------------------------------------------------------

def _figsize(size, default):
    """Figure size in inches from ``size`` = (width, height) in pixels, or the default inches."""
    if size is None:
        return default
    width, height = size
    if width < 100 or height < 100:
        raise ValueError(f"a figure must be at least 100×100 pixels, got {width}×{height}")
    return (width / DPI, height / DPI)


def _series(values):
    """A list that may hold None (overflowed or missing) as floats, None -> nan (a gap)."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _log_axis(ax):
    """A log-scale y axis that leaves out zeros and gaps instead of failing on them."""
    ax.set_yscale("log", nonpositive="mask")
    ax.grid(True, which="major", alpha=0.3)


def _mark_zeros(ax, x, values, colour, row=0):
    """Draw the points where ``values`` is exactly 0 as ▼ along the bottom edge of a log-scale
    axis (which has no place for 0), so a gradient that is exactly zero is seen, not left
    out; ``row`` lifts each series' marks a little so that they do not hide each other.
    Returns True if there was one."""
    x, values = np.asarray(x, dtype=float), _series(values)
    zero = values == 0
    if zero.any():
        ax.plot(x[zero], np.full(zero.sum(), 0.015 + 0.025 * (row % 8)), "v", color=colour,
                markersize=5, transform=ax.get_xaxis_transform(), clip_on=False)
    return bool(zero.any())


ZERO_MARK = "exactly 0 (marked along the bottom edge)"  # the legend entry of _mark_zeros


# -- a training history -------------------------------------------------------

def plot_history(history, path, title=None, size=None):
    """‖∇W_l‖ per layer against epoch (log scale), beside the loss and accuracy curves; below
    them, when the history has them, the health of every layer (draw_health).

    history: the dict of a history file (history.read_history), or its path.
    size:    (width, height) in pixels; default 1500 × 450 (1500 × 900 with the health row).
    """
    check_figure_path(path)
    if not isinstance(history, dict):
        history = read_history(history)
    check_history(history)
    layers, epochs = history["layers"], history["epochs"]
    epoch = np.array([e["epoch"] for e in epochs], dtype=float)

    def column(key):
        return _series([e.get(key) for e in epochs])

    has_accuracy = any(e.get("train_accuracy") is not None or e.get("val_accuracy") is not None
                       for e in epochs)
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    panels = 3 if has_accuracy else 2
    health = has_health(history)  # a second row: dead and saturated units, update ratios
    fig, grid = plt.subplots(2 if health else 1, 3 if health else panels, squeeze=False,
                             figsize=_figsize(size, (5 * (3 if health else panels),
                                                     9 if health else 4.5)))
    axes = grid[0][:panels]
    if health:
        draw_health(grid[1], history)
        if panels == 2:
            grid[0][2].axis("off")
    marker = "o" if len(epochs) <= 30 else None

    ax = axes[0]
    grad_W = np.array([_series(e["grad_W_norm"]) for e in epochs])  # epochs × layers
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(layers)))
    zeros = False
    for l, layer in enumerate(layers):
        if np.isnan(grad_W[:, l]).all() and "type" in layer:  # pooling, dropout: no W
            continue
        ax.plot(epoch, grad_W[:, l], marker=marker, markersize=3, color=colours[l],
                label=f"layer {l + 1} ({layer['n_out']}×{layer['n_in']})")
        zeros |= _mark_zeros(ax, epoch, grad_W[:, l], colours[l], row=l)
    if zeros:  # e.g. dead ReLU units: no gradient at all reaches W_l
        ax.plot([], [], "v", color="grey", label=ZERO_MARK)
    _log_axis(ax)
    ax.set_title("Gradient norm of every layer")
    ax.set_xlabel("epoch")
    ax.set_ylabel(r"$\|\nabla_{W_l} J\|$ (mean over the epoch's batches)")
    ax.legend(fontsize="small")

    ax = axes[1]
    for key, label in (("train_loss", "train"), ("val_loss", "validation")):
        values = column(key)
        if np.any(np.isfinite(values)):
            ax.plot(epoch, values, marker=marker, markersize=3, label=label)
    losses = np.concatenate([column("train_loss"), column("val_loss")])
    losses = losses[np.isfinite(losses)]
    if losses.size and losses.min() > 0 and losses.max() >= 10 * losses.min():
        _log_axis(ax)  # a log scale only where the loss spans a decade or more
    else:
        ax.grid(True, alpha=0.3)
    ax.set_title("Loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss $J$")
    ax.legend()

    if has_accuracy:
        ax = axes[2]
        for key, label in (("train_accuracy", "train"), ("val_accuracy", "validation")):
            values = column(key)
            if np.any(np.isfinite(values)):
                ax.plot(epoch, values, marker=marker, markersize=3, label=label)
        ax.set_title("Accuracy")
        ax.set_xlabel("epoch")
        ax.set_ylabel("fraction classified correctly")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(True, alpha=0.3)
        ax.legend()

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    config = history.get("config") or {}
    default = "Training history"
    if isinstance(config, dict) and config.get("data"):
        default += f": {config['data']}"
    default += f", {len(epochs)} epoch" + ("s" if len(epochs) != 1 else "")
    fig.suptitle(title or default)
    fig.tight_layout()
    save_figure(fig, path)


# -- the health of every layer ------------------------------------------------

HEALTH_PANELS = (("dead_fraction", "Dead ReLU units", "fraction never positive in the epoch"),
                 ("saturated_fraction", "Saturated sigmoid/tanh units",
                  "fraction with |φ'| < 1e-3 of its max"),
                 ("update_ratio", "Size of the steps", r"$\|\Delta W_l\| / \|W_l\|$ per step"))


def has_health(history):
    """Does a history hold the health fields (a history from before them does not)?"""
    return any(any(v is not None for v in epoch.get(field) or [])
               for epoch in history["epochs"] for field, _, _ in HEALTH_PANELS)


def draw_health(axes, history):
    """Draw the health fields of a history on three axes (one per field), a line per layer."""
    from matplotlib.ticker import MaxNLocator

    layers, epochs = history["layers"], history["epochs"]
    epoch = np.array([e["epoch"] for e in epochs], dtype=float)
    colours = _pyplot().get_cmap("viridis")(np.linspace(0, 0.9, len(layers)))
    marker = "o" if len(epochs) <= 30 else None
    named = set()  # the layers already named in a legend of the row (same colours throughout)
    for ax, (field, title, ylabel) in zip(axes, HEALTH_PANELS):
        table = [e.get(field) or [None] * len(layers) for e in epochs]
        drawn = zeros = False
        for l, layer in enumerate(layers):
            values = _series([row[l] if l < len(row) else None for row in table])
            if np.any(np.isfinite(values)):
                name = None if l in named else f"layer {l + 1} ({layer.get('activation', '?')})"
                ax.plot(epoch, values, marker=marker, markersize=3, color=colours[l], label=name)
                drawn = True
                if field != "update_ratio":
                    named.add(l)
                if field == "update_ratio":  # W did not move at all: 0 has no place on a log axis
                    zeros |= _mark_zeros(ax, epoch, values, colours[l], row=l)
        if field == "update_ratio":
            if zeros:
                ax.plot([], [], "v", color="grey", label=ZERO_MARK)
            _log_axis(ax)
            ax.autoscale(False)  # the band below marks where the values lie, not the axis
            ax.axhspan(*UPDATE_RATIO_RANGE, color="C2", alpha=0.08)
            ax.axhline(HEALTHY_UPDATE_RATIO, color="C2", linestyle=":",
                       label=f"healthy: about {HEALTHY_UPDATE_RATIO:g} (shaded: no verdict)")
        else:
            ax.set_ylim(-0.03, 1.03)
            ax.grid(True, alpha=0.3)
        if not drawn:
            ax.text(0.5, 0.5, "no layer of this kind", transform=ax.transAxes, ha="center",
                    color="grey")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("epoch")
        ax.set_xlim(epoch.min() - 0.5, epoch.max() + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        if drawn:
            ax.legend(fontsize="x-small", loc="best")


# -- the vanishing-gradient experiment ----------------------------------------

def plot_vanishing(result, path, title=None, size=None):
    """‖δ^(l)‖ and ‖∇W_l‖ against layer index l, one line per configuration (log scale).

    result: what experiments.vanishing_experiment returns (or its JSON).
    Residual runs are dashed. With dtype float16/float32, a third panel shows the
    fraction of ∇W_l entries that are exactly zero, beside the float64 run's
    (dotted); with steps > 0, a second row shows the same after training.
    """
    check_figure_path(path)
    configs, settings = result["configs"], result.get("settings", {})
    if not configs:
        raise ValueError("nothing to plot: the result has no configurations")
    dtype = configs[0]["dtype"]
    low_precision = dtype != "float64"
    trained = "trained" in configs[0]
    rows, columns = (2 if trained else 1), (3 if low_precision else 2)

    plt = _pyplot()
    fig, axes = plt.subplots(rows, columns, squeeze=False, layout="constrained",
                             figsize=_figsize(size, (5.2 * columns, 4.2 * rows + 0.8)))
    palette = plt.get_cmap("tab10").colors
    pairs = []  # (activation, init) in order of appearance: one colour each
    for config in configs:
        if (config["activation"], config["init"]) not in pairs:
            pairs.append((config["activation"], config["init"]))
    layers = np.arange(1, len(configs[0]["delta_norm"]) + 1)

    zeros = False
    for row in range(rows):
        when = "at initialisation" if row == 0 else f"after {settings.get('steps', '?')} SGD steps"
        for config in configs:
            data = config if row == 0 else config["trained"]
            colour = palette[pairs.index((config["activation"], config["init"])) % 10]
            style = "--" if config["residual"] else "-"
            label = _label(config)
            for ax, key in zip(axes[row], ("delta_norm", "grad_W_norm")):
                ax.plot(layers, _series(data[key]), style, marker=".", color=colour, label=label)
                zeros |= _mark_zeros(ax, layers, data[key], colour,  # e.g. float16 underflow
                                     row=pairs.index((config["activation"], config["init"])))
                if low_precision:
                    reference = config["float64"] if row == 0 else config["float64"]["trained"]
                    ax.plot(layers, _series(reference[key]), ":", color=colour, alpha=0.6)
            if low_precision:
                ax = axes[row][2]
                ax.plot(layers, data["grad_W_zero_fraction"], style, marker=".", color=colour,
                        label=label)
                reference = config["float64"] if row == 0 else config["float64"]["trained"]
                ax.plot(layers, reference["grad_W_zero_fraction"], ":", color=colour, alpha=0.6)
        titles = [rf"$\|\delta^{{(l)}}\|$ {when}", rf"$\|\nabla_{{W_l}} J\|$ {when}"]
        ylabels = [r"mean over the batch of $\|\delta_i^{(l)}\|$", r"$\|\nabla_{W_l} J\|$ (Frobenius)"]
        for ax, text, ylabel in zip(axes[row], titles, ylabels):
            _log_axis(ax)
            ax.set_title(text + (f" ({dtype}; dotted: float64)" if low_precision else ""),
                         fontsize="medium")
            ax.set_ylabel(ylabel)
        if low_precision:
            ax = axes[row][2]
            ax.set_title(f"entries of $\\nabla_{{W_l}} J$ exactly 0 ({dtype}; dotted: float64)",
                         fontsize="medium")
            ax.set_ylabel("fraction of entries that are 0")
            ax.set_ylim(-0.03, 1.03)
            ax.grid(True, alpha=0.3)
        for ax in axes[row]:
            ax.set_xlabel("layer $l$ (1 = first hidden layer, L = output layer)")
            ax.set_xticks(layers if len(layers) <= 16 else layers[::max(1, len(layers) // 10)])
    handles, labels = axes[0][0].get_legend_handles_labels()
    with_residual = any(config["residual"] for config in configs)
    ncol = min(len(pairs), 5) if with_residual else min(len(labels), 4)  # columns fill first
    if zeros:
        handles.append(axes[0][0].plot([], [], "v", color="grey")[0])
        labels.append(ZERO_MARK)
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize="small")
    default = (f"Gradient flow through {settings.get('depth', '?')} hidden layers of "
               f"{settings.get('width', '?')} units ({settings.get('data', '?')} data, "
               f"batch of {settings.get('batch_size', '?')}")
    if any(config["init"] == "normal" for config in configs) and "normal_std" in settings:
        default += f"; normal init N(0, {settings['normal_std']:g}²)"
    fig.suptitle(title or default + ")")
    save_figure(fig, path)


def _label(config):
    label = f"{config['activation']} / {config['init']}"
    return label + " + residual" if config["residual"] else label


# -- forward mode against reverse mode ----------------------------------------

def plot_modes(result, path, title=None, size=None):
    """Seconds for the full gradient against the number of parameters n, log-log: forward mode
    (n JVPs) beside reverse mode (one backward pass); and their ratio.

    result: what experiments.modes_experiment returns (or its JSON).
    """
    check_figure_path(path)
    rows = result["rows"]
    if not rows:
        raise ValueError("nothing to plot: the result has no rows")
    n = np.array([r["n_params"] for r in rows], dtype=float)
    forward = np.array([r["forward_seconds"] for r in rows])
    reverse = np.array([r["reverse_seconds"] for r in rows])
    plt = _pyplot()
    fig, (ax, ax_ratio) = plt.subplots(1, 2, figsize=_figsize(size, (11, 4.5)))

    ax.plot(n, forward, "o-", label="forward mode: n JVPs (one per parameter)")
    ax.plot(n, reverse, "s-", label="reverse mode: one backward pass (backprop)")
    ax.plot(n, forward[-1] * (n / n[-1]) ** 2, ":", color="grey",
            label=r"$\propto n^2$ (guide: $n$ passes of cost $\propto n$)")
    ax.set_xscale("log")
    _log_axis(ax)
    ax.set_title("Time for the full gradient $\\nabla_\\theta J$")
    ax.set_xlabel("number of parameters $n$")
    ax.set_ylabel("seconds (best of a few runs)")
    ax.legend(fontsize="small")

    ax_ratio.plot(n, forward / reverse, "o-", color="C3", label="forward time / reverse time")
    ax_ratio.plot(n, (forward / reverse)[-1] * n / n[-1], ":", color="grey",
                  label=r"$\propto n$ (guide)")
    ax_ratio.set_xscale("log")
    _log_axis(ax_ratio)
    ax_ratio.set_title("How many times slower forward mode is")
    ax_ratio.set_xlabel("number of parameters $n$")
    ax_ratio.set_ylabel("ratio of the times")
    ax_ratio.legend(fontsize="small")
    settings = result.get("settings", {})
    default = "Forward vs reverse mode"
    if settings.get("architecture"):
        default += f" on {settings['architecture']} networks, batch of {settings.get('batch_size')}"
    fig.suptitle(title or default)
    fig.tight_layout()
    save_figure(fig, path)
