"""Figures of the gradient-flow lab: every matplotlib drawing of the package lives here.

    plot_history(history, path)              ‖∇W_l‖ per layer against epoch; loss and accuracy
    plot_vanishing(configs, path)            ‖δ^(l)‖ and ‖∇W_l‖ against layer index l
    plot_modes(rows, path)                   forward vs reverse mode: seconds against n (log-log)
    plot_decision_boundary(net, X, y, path)  decision regions of a classifier on 2-D data

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
import tempfile

import numpy as np

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
        got = f"'.{extension}'" if extension else "no extension"
        raise ValueError(
            f"cannot write a figure to {path}: {got} is not an image format matplotlib can "
            f"write; use a name ending in .png, .svg or .pdf "
            f"(or one of {', '.join('.' + f for f in sorted(formats))})")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write a figure to {path}: directory {directory} does not exist")
    return path


def _umask():
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_figure(fig, path, dpi=DPI):
    """Write ``fig`` to ``path`` atomically (temp file in the same directory, then os.replace),
    then close it. The format is the extension's."""
    plt = _pyplot()
    path = check_figure_path(path)
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="." + extension)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=extension, dpi=dpi)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
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
    Y_hat = net.forward(grid)
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
