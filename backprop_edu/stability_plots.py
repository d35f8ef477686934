"""Figures of the ODE view (stability.py): gradient norms layer by layer, Euler's stability
region, and backpropagation through time.

    plot_stability(result, path)   ‖∂J/∂h_l‖ against l for every (τ, λ), one panel per τ, and
                                   the region |1 + τλ| ≤ 1 with every run's τλ marked
    plot_recurrent(result, path)   ‖∂J/∂h_t‖ against t for each spectral radius ρ, and
                                   each step's part of the shared W's gradient

Each takes what the experiment returns (or its JSON) and writes one figure; the
format comes from the extension (.png, .svg, .pdf), written atomically with the
helpers of plots.py. matplotlib is imported inside the functions.

What is left out: animation of the forward trajectory h_l, other integrators' regions.
"""

import math

import numpy as np

from backprop_edu.plots import (_figsize, _log_axis, _pyplot, _series, check_figure_path,
                                save_figure)


def eigenvalue_text(eigenvalue):
    """[-1.0, 2.0] -> '−1+2i'; [-0.5, 0.0] -> '−0.5'."""
    re, im = eigenvalue
    if im == 0:
        return f"{re:g}".replace("-", "−")
    text = f"{re:g}{im:+g}i" if re else f"{im:g}i"
    return text.replace("-", "−")


def plot_stability(result, path, title=None, size=None):
    """‖∂J/∂h_l‖ against l, one panel per τ (log scale), and Euler's stability region.

    Every (τ, λ) run of the linear problem is a solid line in λ's colour, with the
    prediction ‖g_L‖ |1 + τλ|^(L−l) dashed on top; the nonlinear (tanh) run of each τ is
    grey, beside the same prediction for its λ. The last panel is the complex τλ plane:
    the disc |1 + τλ| ≤ 1 shaded, each run's τλ a dot (stable) or a cross (unstable),
    its conjugate hollow.
    """
    check_figure_path(path)
    settings, records = result["settings"], result["records"]
    if not records:
        raise ValueError("nothing to plot: the result has no records")
    taus, depth = settings["taus"], settings["depth"]
    eigenvalues = [tuple(eigenvalue) for eigenvalue in settings["eigenvalues"]]
    cells = len(taus) + 1
    columns = min(cells, 4)
    rows = math.ceil(cells / columns)
    plt = _pyplot()
    fig, axes = plt.subplots(rows, columns, squeeze=False, layout="constrained",
                             figsize=_figsize(size, (4.6 * columns, 4.2 * rows + 0.6)))
    axes = axes.ravel()
    palette = plt.get_cmap("tab10").colors
    layers = np.arange(depth + 1)

    for ax, tau in zip(axes, taus):
        for record in (r for r in records if r["tau"] == tau):
            colour = palette[eigenvalues.index(tuple(record["eigenvalue"])) % 10]
            norms = _series(record["grad_norms"])
            verdict = "stable" if record["stable"] else "unstable"
            ax.plot(layers, norms, "-", color=colour, linewidth=2.2, alpha=0.75,
                    label=f"λ = {eigenvalue_text(record['eigenvalue'])}: "
                          f"|1+τλ| = {record['predicted_growth']:.4g} ({verdict})")
            ax.plot(layers, _prediction(record, depth), "--", color="k", linewidth=0.8)
        for run in (r for r in result.get("nonlinear", []) if r["tau"] == tau):
            ax.plot(layers, _series(run["grad_norms"]), "-.", color="0.45", linewidth=1.6,
                    label=f"tanh run, λ = {eigenvalue_text(run['eigenvalue'])} "
                          f"(asymptotic): {_growth_text(run['measured_growth'])} per layer")
        ax.plot([], [], "--", color="k", linewidth=0.8,
                label=r"prediction $\|g_L\|\,|1+\tau\lambda|^{L-l}$")
        _log_axis(ax)
        ax.set_title(f"τ = {tau:g}: backward pass through {depth} Euler steps",
                     fontsize="medium")
        ax.set_xlabel("layer $l$ (the backward pass runs from $L$ down to 0)")
        ax.set_ylabel(r"$\|\partial J/\partial h_l\|$")
        ax.legend(fontsize="x-small", loc="best")

    _stability_region(axes[len(taus)], records, eigenvalues, palette)
    for ax in axes[cells:]:
        ax.set_visible(False)
    default = ("Exploding gradients are Euler's instability: the residual stack "
               r"$h_l = h_{l-1} + \tau A h_{l-1}$ hands down $g_{l-1} = (I + \tau A)^\top g_l$")
    fig.suptitle(title or default)
    save_figure(fig, path)


def _prediction(record, depth):
    """‖g_L‖ |1 + τλ|^(L−l) for l = 0..L (inf where it overflows: not drawn)."""
    top = record["grad_norms"][-1]
    with np.errstate(over="ignore", divide="ignore"):
        return top * record["predicted_growth"] ** np.arange(depth, -1, -1.0)


def _growth_text(growth):
    return "overflowed" if growth is None else f"×{growth:.3g}"


def _stability_region(ax, records, eigenvalues, palette):
    """The disc |1 + z| ≤ 1 in the complex z = τλ plane, and every run's τλ on it."""
    angle = np.linspace(0, 2 * np.pi, 400)
    ax.fill(-1 + np.cos(angle), np.sin(angle), color="tab:green", alpha=0.15)
    ax.plot(-1 + np.cos(angle), np.sin(angle), color="tab:green", linewidth=1)
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.axvline(0, color="0.6", linewidth=0.6)
    points = [(-2.0, -1.0), (0.0, 1.0)]
    for record in records:
        tau, (re, im) = record["tau"], record["eigenvalue"]
        points += [(tau * re, tau * im), (tau * re, -tau * im)]
    xs, ys = zip(*points)
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    ax.set_xlim(min(xs) - 0.15 * span, max(xs) + 0.15 * span)
    ax.set_ylim(min(ys) - 0.15 * span, max(ys) + 0.15 * span)

    farthest = max(record["tau"] for record in records)
    for k, eigenvalue in enumerate(eigenvalues):   # τλ walks out along a ray as τ grows
        ax.plot([0, farthest * eigenvalue[0]], [0, farthest * eigenvalue[1]], ":",
                linewidth=0.8, color=palette[k % 10])
    labelled = []
    for record in sorted(records, key=lambda r: -r["tau"]):   # outermost first
        tau, (re, im) = record["tau"], record["eigenvalue"]
        colour = palette[eigenvalues.index((re, im)) % 10]
        z = (tau * re, tau * im)
        marker = "o" if record["stable"] else "X"
        ax.plot(*z, marker, color=colour, markersize=8, markeredgecolor="k", markeredgewidth=0.6)
        if im:
            ax.plot(z[0], -z[1], marker, markersize=8, markerfacecolor="none",
                    markeredgecolor=colour)
        if all(abs(z[0] - x) > 0.16 * span or abs(z[1] - y) > 0.06 * span for x, y in labelled):
            labelled.append(z)                     # a label only where it has room
            ax.annotate(f"τ={tau:g}", z, textcoords="offset points",
                        xytext=(5, 5) if im else (0, -13), ha="left" if im else "center",
                        fontsize="x-small", color=colour)
    ax.set_aspect("equal", adjustable="box")
    ax.plot([], [], "o", color="0.5", markeredgecolor="k", label="stable: |1+τλ| ≤ 1")
    ax.plot([], [], "X", color="0.5", markeredgecolor="k", label="unstable: |1+τλ| > 1")
    ax.plot([], [], "o", markerfacecolor="none", markeredgecolor="0.5", label="its conjugate")
    ax.plot([], [], ":", color="0.5", label="τλ as τ grows")
    ax.fill([], [], color="tab:green", alpha=0.15, label="|1 + τλ| ≤ 1 (Euler is stable)")
    ax.set_title("Stability region of forward Euler", fontsize="medium")
    ax.set_xlabel("Re τλ")
    ax.set_ylabel("Im τλ")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)


def plot_recurrent(result, path, title=None, size=None):
    """Backpropagation through time: ‖∂J/∂h_t‖ against t for each spectral radius ρ (the bound
    ρ^(T−t) ‖∂J/∂h_T‖ dashed), and each step's part ‖(1/m) δ_t h_{t−1}ᵀ‖ of the shared W's
    gradient, with the norm of their sum (the gradient an optimiser steps with) marked."""
    check_figure_path(path)
    settings, runs = result["settings"], result["runs"]
    if not runs:
        raise ValueError("nothing to plot: the result has no runs")
    T = settings["steps"]
    plt = _pyplot()
    fig, (ax, ax_parts) = plt.subplots(1, 2, layout="constrained",
                                       figsize=_figsize(size, (12, 4.8)))
    palette = plt.get_cmap("tab10").colors
    steps = np.arange(T + 1)
    for k, run in enumerate(runs):
        colour, rho = palette[k % 10], run["spectral_radius"]
        ax.plot(steps, _series(run["grad_h_norms"]), "-", color=colour, linewidth=2,
                label=f"ρ = {rho:g}: {_growth_text(run['measured_growth'])} per step")
        ax.plot(steps, _series(run["bound"]), "--", color=colour, linewidth=0.9)
        ax_parts.plot(steps[1:], _series(run["grad_W_parts"]), "-", color=colour,
                      label=f"ρ = {rho:g}: ‖sum‖ = {_number(run['grad_W_norm'])}")
        if run["grad_W_norm"] is not None:
            ax_parts.plot([T + 0.03 * T + 1], [run["grad_W_norm"]], "*", color=colour,
                          markersize=12, markeredgecolor="k", clip_on=False)
    ax.plot([], [], "--", color="0.4", label=r"bound $\rho^{T-t}\,\|\partial J/\partial h_T\|$")
    _log_axis(ax)
    measured = np.concatenate([_series(run["grad_h_norms"]) for run in runs])
    measured = measured[np.isfinite(measured) & (measured > 0)]
    if measured.size:                              # the bounds may run far off: follow the data
        ax.set_ylim(measured.min() / 5, measured.max() * 5)
    ax.set_title(f"‖∂J/∂h_t‖ through {T} steps of one shared W ({settings['activation']})",
                 fontsize="medium")
    ax.set_xlabel("time step $t$ (the backward pass runs from $T$ down to 0)")
    ax.set_ylabel(r"mean over the batch of $\|\partial J/\partial h_t\|$")
    ax.legend(fontsize="small")
    ax_parts.plot([], [], "*", color="0.5", markeredgecolor="k", markersize=10,
                  label=r"$\|\nabla_W J\| = \|\sum_t (1/m)\,\delta_t h_{t-1}^\top\|$")
    _log_axis(ax_parts)
    ax_parts.set_title("The shared W's gradient is the sum over the steps", fontsize="medium")
    ax_parts.set_xlabel("time step $t$")
    ax_parts.set_ylabel(r"step $t$'s part $\|(1/m)\,\delta_t h_{t-1}^\top\|$")
    ax_parts.legend(fontsize="small")
    default = (f"Backpropagation through time: $h_t = \\mathrm{{{settings['activation']}}}"
               f"(W h_{{t-1}} + b)$, one $W = \\rho Q$ at every step; width {settings['width']}, "
               f"batch of {settings['batch_size']}")
    fig.suptitle(title or default)
    save_figure(fig, path)


def _number(value):
    return "inf/nan" if value is None else f"{value:.3g}"
