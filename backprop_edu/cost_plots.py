"""Figures of what training costs and how each layer fares: memory, health, the slowdown.

    plot_memory(result, path)     bytes kept per layer in the three regimes; peak memory
                                  against extra forward work for k = 1..L, √L marked
    plot_health(history, path)    dead and saturated fractions and update ratios per layer
                                  against epoch (a training history)
    plot_slowdown(result, path)   error, loss and ‖δ^(L)‖ against epoch, quadratic cost
                                  against cross-entropy

Each takes the plain data its experiment returns (memory.memory_experiment,
train.train_epochs's records in a history, slowdown.slowdown_experiment) and writes one
figure with the helpers of plots.py (format from the extension, written atomically,
matplotlib imported only when drawing).

What is left out: styling options (change the code to change the look).
"""

import numpy as np

from backprop_edu.memory import format_bytes
from backprop_edu.plots import (_figsize, _log_axis, _pyplot, check_figure_path, draw_health,
                                has_health, save_figure)

REGIME_COLOURS = {"training": "C3", "checkpointed": "C0", "inference": "C2"}


def _mib(values):
    return np.array([np.nan if v is None else v / 2**20 for v in values], dtype=float)


def widths_label(widths):
    """[64, 256, 256, 256, 10] -> '64, 256×3, 10': repeated widths counted, not listed."""
    parts, i = [], 0
    while i < len(widths):
        j = i
        while j + 1 < len(widths) and widths[j + 1] == widths[i]:
            j += 1
        parts.append(f"{widths[i]}×{j - i + 1}" if j > i + 1 else
                     ", ".join([str(widths[i])] * (j - i + 1)))
        i = j + 1
    return ", ".join(parts)


# -- memory -------------------------------------------------------------------------------

def plot_memory(result, path, title=None, size=None):
    """Left: bytes kept per layer after the forward pass, measured (bars) and predicted
    (black ticks), for training, checkpointed and inference passes. Right: for every k,
    the peak memory of a training step against the forward work it recomputes, the √L
    choice marked.

    result: what memory.memory_experiment returns (or its JSON).
    """
    check_figure_path(path)
    settings, sweep = result["settings"], result["sweep"]
    depth = settings["depth"]
    plt = _pyplot()
    fig, (ax, ax_sweep) = plt.subplots(1, 2, figsize=_figsize(size, (13, 6.2)),
                                       gridspec_kw={"width_ratios": [1.1, 1]})

    layers = np.arange(1, depth + 1)
    width = 0.27
    k = result["checkpointed"].get("checkpoint_every", settings.get("checkpoint_every"))
    labels = {"training": "training pass", "checkpointed": f"checkpointed, k = {k}",
              "inference": "inference pass (keeps nothing)"}
    for i, regime in enumerate(("training", "checkpointed", "inference")):
        rows = result[regime]["per_layer"]
        x = layers + (i - 1) * width
        ax.bar(x, _mib([row["measured_bytes"] for row in rows]), width,
               color=REGIME_COLOURS[regime], label=labels[regime] + " (measured)")
        ax.plot(x, _mib([row["predicted_bytes"] for row in rows]), "_", color="black",
                markersize=9, markeredgewidth=1.6)
    ax.plot([], [], "_", color="black", markersize=9, markeredgewidth=1.6,
            label="predicted: entries × itemsize")
    ax.set_xticks(layers if depth <= 20 else layers[::max(1, depth // 10)])
    ax.set_xlabel("layer $l$")
    ax.set_ylabel("MiB kept after the forward pass")
    ax.set_title("What each layer keeps for backward ($h_{l-1}$, $a_l$; each array once)",
                 fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)

    extra = np.array([row["extra_forward_fraction"] for row in sweep])
    ks = [row["k"] for row in sweep]
    peak = _mib([row["peak_bytes"] for row in sweep])
    kept = _mib([row["kept_measured_bytes"] for row in sweep])
    values = _mib([row.get("forward_values_peak_bytes") for row in sweep])
    ax_sweep.plot(extra, peak, "o-", color="C0", label="peak of the training step (measured)")
    ax_sweep.plot(extra, values, "^--", color="C1", markersize=5,
                  label="forward values held at most (predicted)")
    ax_sweep.plot(extra, kept, "s:", color="C7", markersize=4,
                  label="kept after the forward pass (measured)")
    for x, y, kk in zip(extra, peak, ks):
        ax_sweep.annotate(f"k={kk}", (x, y), textcoords="offset points", xytext=(0, 7),
                          ha="center", fontsize="x-small")
    choice = next(i for i, row in enumerate(sweep) if row["sqrt_choice"])
    ax_sweep.plot(extra[choice], peak[choice], "*", color="C3", markersize=18, zorder=5,
                  label=f"k = √L ≈ {ks[choice]} (L = {depth})")
    plain = ks.index(depth)
    ax_sweep.plot(extra[plain], peak[plain], "D", color="black", markersize=7, zorder=5,
                  label=f"k = L = {depth}: a plain training step")
    ax_sweep.axhline(result["inference"]["peak_bytes"] / 2**20, color=REGIME_COLOURS["inference"],
                     linestyle=":", label="peak of an inference pass")
    ax_sweep.set_ylim(bottom=0)
    ax_sweep.set_xlabel("extra forward work: recomputed multiply-adds / one forward pass")
    ax_sweep.set_ylabel("MiB")
    ax_sweep.set_title("Checkpointing every k layers: memory against recomputation",
                       fontsize="medium")
    ax_sweep.grid(True, alpha=0.3)
    ax_sweep.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    default = (f"Memory of layers {widths_label(settings['layers'])}, batch of "
               f"{settings['batch_size']}, {settings['dtype']}: training keeps "
               f"{format_bytes(result['training']['kept_measured_bytes'])}, checkpointed "
               f"(k = {k}) {format_bytes(result['checkpointed']['kept_measured_bytes'])}")
    fig.suptitle(title or default, fontsize="medium")
    fig.tight_layout()
    save_figure(fig, path)


# -- health ---------------------------------------------------------------------------------

def plot_health(history, path, title=None, size=None):
    """Dead ReLU units, saturated units and ‖ΔW_l‖/‖W_l‖ of every layer against epoch.

    history: a dict with "layers" and "epochs" as `backprop-edu train --history` writes it
    (the epochs are train_epochs's records).
    """
    check_figure_path(path)
    if not has_health(history):
        raise ValueError("this history has no health fields (dead_fraction, "
                         "saturated_fraction, update_ratio): train again with this version")
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=_figsize(size, (15, 4.5)))
    draw_health(axes, history)
    fig.suptitle(title or f"Health of every layer, {len(history['epochs'])} epochs")
    fig.tight_layout()
    save_figure(fig, path)


# -- the learning slowdown --------------------------------------------------------------

COST_LABELS = {"half_mse": "quadratic cost ½(ŷ − y)²: δ = σ'(a)(ŷ − y)",
               "binary_cross_entropy": "cross-entropy: δ = ŷ − y"}


def plot_slowdown(result, path, title=None, size=None):
    """Per experiment (the single neuron, the small network), against epoch: the error
    |ŷ − y|, the loss of each run's own cost, and ‖δ^(L)‖ (log scale), for both costs.

    result: what slowdown.slowdown_experiment returns (or its JSON).
    """
    check_figure_path(path)
    parts = [part for part in ("neuron", "network") if part in result]
    plt = _pyplot()
    fig, axes = plt.subplots(len(parts), 3, squeeze=False,
                             figsize=_figsize(size, (15, 4.2 * len(parts) + 0.6)))
    names = {"neuron": "one sigmoid neuron", "network": "a 2-8-1 network"}
    for row, part in zip(axes, parts):
        settings = result[part]["settings"]
        for cost, run in result[part]["runs"].items():
            epochs = np.arange(len(run["error"]))
            colour = "C3" if cost == "half_mse" else "C0"
            halved = run.get("epochs_to_halve_error")
            label = COST_LABELS.get(cost, cost)
            row[0].plot(epochs, run["error"], color=colour, label=label)
            if halved is not None:
                row[0].plot(halved, run["error"][halved], "o", color=colour)
            row[1].plot(epochs, run["loss"], color=colour,
                        label=label + (f"\nerror halved at epoch {halved} (●)"
                                       if halved is not None else "\nerror never halved"))
            row[2].plot(epochs, run["delta_norm"], color=colour, label=label)
        row[0].set_ylabel("mean error |ŷ − y|")
        row[0].set_ylim(bottom=0)
        row[1].set_ylabel("loss J (each run's own cost)")
        row[1].set_ylim(bottom=0)
        row[2].set_ylabel(r"$\|\delta^{(L)}\|$ (mean over the samples)")
        _log_axis(row[2])
        where = (f"x = {settings['x']:g}, y = {settings['y']:g}, start w = {settings['w']:g}, "
                 f"b = {settings['b']:g} (ŷ = {settings['start_output']:.2f})"
                 if part == "neuron" else
                 f"{settings['samples']} samples, output bias starts at "
                 f"{settings['output_bias']:g}")
        for ax, what in zip(row, ("Error", "Loss", "Output error signal")):
            ax.set_title(f"{what}: {names[part]}, η = {settings['lr']:g}", fontsize="medium")
            ax.set_xlabel("epoch (one gradient step on all samples)")
            if what != "Output error signal":
                ax.grid(True, alpha=0.3)
        row[1].legend(fontsize="small", title=where, title_fontsize="small", loc="upper right")
    fig.suptitle(title or "The learning slowdown: a badly wrong sigmoid output learns slowly "
                 "with the quadratic cost (σ' ≈ 0), at once with cross-entropy")
    fig.tight_layout()
    save_figure(fig, path)
