"""`backprop-edu memory` and `slowdown`: what training costs, from the shell.

Each command parses options, calls the package (backprop_edu.memory, backprop_edu.slowdown:
the numbers; backprop_edu.cost_plots: the figures), prints a table and writes the files
asked for (--json - prints the numbers as JSON instead of the table). No maths here.
Every file is written atomically, after the experiment: a failed run leaves no file.
"""

import click

from backprop_edu.cli.options import (SEED, FiniteFloatRange, distinct_outputs, figure_path,
                                      json_option, parse_layers, print_or_write, size_option,
                                      wrote_figure)

DEFAULT_LAYERS = "64," + "256," * 8 + "10"   # L = 9 layers: √L = 3


# -- memory ---------------------------------------------------------------------------

@click.command()
@click.option("--layers", "widths", default=DEFAULT_LAYERS, show_default=True,
              callback=parse_layers,
              help="Every layer width, input to output; hidden layers use --activation, the "
                   "output layer is linear.")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True,
              help="Samples in the batch (the m columns of every h_l, a_l).")
@click.option("--dtype", type=click.Choice(["float64", "float32", "float16"]),
              default="float64", show_default=True,
              help="Floating-point type: 8, 4 or 2 bytes per entry.")
@click.option("--activation", type=click.Choice(["relu", "leaky_relu", "sigmoid", "tanh",
                                                 "softplus", "identity"]),
              default="relu", show_default=True, help="φ of the hidden layers.")
@click.option("--checkpoint-every", type=int, default=None, metavar="K",
              help="k of the checkpointed regime: keep the input of every k-th layer "
                   "(1 ≤ k ≤ L). [default: √L, rounded]")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of weights and data.")
@click.option("-o", "--output", default=None, callback=figure_path, metavar="PATH",
              help="Figure to write (.png, .svg, .pdf). [default: none]")
@json_option("every count and measurement")
@size_option
def memory(widths, batch_size, dtype, activation, checkpoint_every, seed, output, json_output,
           size):
    """What a training pass keeps in memory, layer by layer, and what checkpointing saves.

    Backward needs each layer's h_{l−1} (BP3) and a_l (BP2), so a training pass keeps
    them; an inference pass (evaluation) keeps nothing. Both are measured with
    tracemalloc on a real pass and printed beside the count the equations predict
    (entries × bytes per entry). Checkpointing every k layers keeps only each
    segment's input and recomputes the rest during backward: the second table shows,
    for k = 1 ... L, the memory against the forward work it repeats; k ≈ √L
    balances the two.

    \b
    Examples:
      backprop-edu memory -o memory.png
      backprop-edu memory --layers 784,512,512,512,512,10 --batch-size 128 --dtype float32
      backprop-edu memory --checkpoint-every 2 --json memory.json
    """
    from backprop_edu.memory import memory_experiment

    distinct_outputs(output=output, json=json_output)
    result = memory_experiment(widths, batch_size=batch_size, dtype=dtype,
                               activation=activation, checkpoint_every=checkpoint_every,
                               seed=seed)
    print_or_write(memory_text(result), result, json_output)
    if output:
        from backprop_edu.cost_plots import plot_memory

        plot_memory(result, output, size=size)
        wrote_figure(output, json_output)


def memory_text(result):
    """What memory prints: per layer the three regimes, then the sweep over k."""
    from backprop_edu.cost_plots import widths_label
    from backprop_edu.memory import format_bytes

    s = result["settings"]
    k, depth = s["checkpoint_every"], s["depth"]
    largest = max(row["measured_bytes"] or 0 for row in result["training"]["per_layer"])
    unit, name = (2**20, "MiB") if largest >= 2**20 else (2**10, "KiB")

    def size(count):
        if count is None:
            return "—"
        text = f"{count / unit:.2f}"
        return "0.00" if text == "-0.00" else text

    def counted(row):
        arrays = ",".join(row["arrays"]) if row["arrays"] else "—"
        return f"{arrays:<11} {size(row['predicted_bytes']):>7} {size(row['measured_bytes']):>7}"

    training, checkpointed, inference = (result[regime] for regime in
                                         ("training", "checkpointed", "inference"))
    lines = [f"layers {widths_label(s['layers'])} (L = {depth}, {s['activation']}), batch of "
             f"{s['batch_size']}, {s['dtype']}: bytes = entries × {s['itemsize']}",
             "holds: the layer's h_(l−1), a_l, h_l, (n_in + 2 n_out) × m entries; arrays: "
             "each counted",
             "once, at the highest layer holding it (h_0 is your X); predicted, measured "
             f"(tracemalloc); {name}",
             "",
             f"{'':>26}{'training':<29}{f'checkpointed, k = {k}':<29}{'inference':>9}",
             f"{'layer':>5}  {'shape':>8}  {'holds':>7}  {'arrays':<11} {'pred':>7} {'meas':>7}"
             f"  {'arrays':<11} {'pred':>7} {'meas':>7}  {'meas':>9}"]
    for layer, train, check, infer in zip(result["layers"], training["per_layer"],
                                          checkpointed["per_layer"], inference["per_layer"]):
        shape = f"{layer['n_out']}×{layer['n_in']}"
        lines.append(f"{layer['layer']:>5}  {shape:>8}  {size(layer['holds_bytes']):>7}  "
                     f"{counted(train)}  {counted(check)}  {size(infer['measured_bytes']):>9}")
    lines += [
        f"{'kept after the forward pass':>36} {size(training['kept_predicted_bytes']):>7} "
        f"{size(training['kept_measured_bytes']):>7}  {'':<11} "
        f"{size(checkpointed['kept_predicted_bytes']):>7} "
        f"{size(checkpointed['kept_measured_bytes']):>7}  "
        f"{size(inference['kept_measured_bytes']):>9}",
        f"(an inference pass keeps only its output h_{depth}: "
        f"{format_bytes(inference['output']['measured_bytes'])})",
        "",
        "checkpointing every k layers: extra forward = recomputed multiply-adds / one forward",
        f"pass; peak = tracemalloc's during one forward and backward pass; sizes in {name}",
        f"{'k':>4}  {'segments':>8}  {'recomputed':>10}  {'extra forward':>13}  "
        f"{'kept':>7}  {'values at most':>14}  {'peak':>7}"]
    for row in result["sweep"]:
        mark = "  ← √L" if row["sqrt_choice"] else ("  ← plain" if row["k"] == depth else "")
        lines.append(f"{row['k']:>4}  {row['segments']:>8}  {row['recomputed_layers']:>10}  "
                     f"{100 * row['extra_forward_fraction']:>12.1f}%  "
                     f"{size(row['kept_measured_bytes']):>7}  "
                     f"{size(row['forward_values_peak_bytes']):>14}  "
                     f"{size(row['peak_bytes']):>7}{mark}")
    plain = result["sweep"][-1]
    best = min(result["sweep"], key=lambda row: row["peak_bytes"])
    choice = next(row for row in result["sweep"] if row["sqrt_choice"])
    lines += [
        f"(kept: measured after the forward pass; values at most: the forward values held at "
        "once,",
        "predicted; the rest of the peak is backward's δ^(l), ∂J/∂h_(l−1) and ∇W_l)",
        f"k = {choice['k']} (√L): peak {format_bytes(choice['peak_bytes'])} instead of "
        f"{format_bytes(plain['peak_bytes'])}, for "
        f"{100 * choice['extra_forward_fraction']:.0f} % more forward work",
        f"lowest peak: k = {best['k']}, {format_bytes(best['peak_bytes'])}; an inference pass "
        f"peaks at {format_bytes(inference['peak_bytes'])}"]
    return "\n".join(lines)


# -- slowdown -------------------------------------------------------------------------

@click.command()
@click.option("--epochs", type=click.IntRange(1, 100_000), default=300, show_default=True,
              help="Gradient steps (each on all samples) for both experiments.")
@click.option("--lr", type=FiniteFloatRange(min=0, min_open=True), default=0.15,
              show_default=True, help="η of the single neuron.")
@click.option("--network-lr", type=FiniteFloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="η of the small network.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the network's weights and data.")
@click.option("-o", "--output", default=None, callback=figure_path, metavar="PATH",
              help="Figure to write (.png, .svg, .pdf). [default: none]")
@json_option("every epoch's numbers")
@size_option
def slowdown(epochs, lr, network_lr, seed, output, json_output, size):
    """The learning slowdown: a badly wrong sigmoid output, quadratic cost against cross-entropy.

    BP1 for a sigmoid output: with the quadratic cost ½(ŷ − y)², δ^(L) = σ'(a)(ŷ − y),
    and σ'(a) ≈ 0 when the output is confidently wrong, so the gradient is tiny just
    when the error is largest; with binary cross-entropy, δ^(L) = ŷ − y: σ' cancels.
    A single neuron (x = 1, y = 0, starting at ŷ ≈ 0.98) and a 2-8-1 network (which
    starts answering 1 for every sample) are trained with each cost, the same η.

    \b
    Examples:
      backprop-edu slowdown -o slowdown.png
      backprop-edu slowdown --epochs 1000 --json slowdown.json
    """
    from backprop_edu.slowdown import slowdown_experiment

    distinct_outputs(output=output, json=json_output)
    result = slowdown_experiment(epochs=epochs, lr=lr, network_epochs=epochs,
                                 network_lr=network_lr, seed=seed)
    print_or_write(slowdown_text(result), result, json_output)
    if output:
        from backprop_edu.cost_plots import plot_slowdown

        plot_slowdown(result, output, size=size)
        wrote_figure(output, json_output)


def slowdown_text(result):
    """What slowdown prints: per experiment and cost, when the error halved, and the error
    and ‖δ^(L)‖ at five epochs."""
    neuron, network = result["neuron"]["settings"], result["network"]["settings"]
    titles = {"neuron": f"one sigmoid neuron: x = 1, y = 0, starting at w = {neuron['w']:g}, "
                        f"b = {neuron['b']:g} (ŷ = {neuron['start_output']:.2f}), "
                        f"η = {neuron['lr']:g}",
              "network": f"a 2-8-1 network (tanh, sigmoid output), {network['samples']} "
                         f"samples of two blobs, output bias {network['output_bias']:g} at "
                         f"the start, η = {network['lr']:g}"}
    lines = ["BP1 with a sigmoid output: δ^(L) = σ'(a)(ŷ − y) with the quadratic cost "
             "(half_mse),", "δ^(L) = ŷ − y with binary_cross_entropy; error = mean |ŷ − y|",
             ""]
    for part in ("neuron", "network"):
        runs = result[part]["runs"]
        last = len(next(iter(runs.values()))["error"]) - 1
        shown = sorted({round(last * i / 4) for i in range(5)})
        lines += [titles[part],
                  f"  {'cost':<20}  {'halved at':>9}  {'':<7}"
                  + "".join(f"{f'epoch {e}':>11}" for e in shown)]
        for cost, run in runs.items():
            halved = run["epochs_to_halve_error"]
            halved = "never" if halved is None else f"epoch {halved}"
            lines.append(f"  {cost:<20}  {halved:>9}  {'error':<7}"
                         + "".join(f"{run['error'][e]:>11.4f}" for e in shown))
            lines.append(f"  {'':<20}  {'':>9}  {'‖δ^(L)‖':<7}"
                         + "".join(f"{run['delta_norm'][e]:>11.2e}" for e in shown))
        lines.append("")
    quadratic = result["neuron"]["runs"]["half_mse"]["epochs_to_halve_error"]
    cross = result["neuron"]["runs"]["binary_cross_entropy"]["epochs_to_halve_error"]
    never = f"not within {last} epochs"
    quadratic = f"after {quadratic} epochs" if quadratic is not None else never
    cross = f"after {cross}" if cross is not None else never
    lines.append(f"the neuron's error halves {quadratic} with the quadratic cost and {cross} "
                 "with cross-entropy:")
    lines.append("σ'(a) ≈ 0 at the badly wrong start slows the quadratic cost down; "
                 "cross-entropy cancels it")
    return "\n".join(lines)
