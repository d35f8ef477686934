"""`backprop-edu plot`, `vanishing` and `modes`: the gradient-flow lab from the shell.

Each command parses options, calls backprop_edu.experiments (the numbers) and
backprop_edu.plots (the figures), prints a table and writes the files asked
for (--json - prints the numbers as JSON instead of the table). No maths here.
Output files are written atomically (a temporary file in the same directory,
then renamed): a failed run leaves no partial file.
"""

import math
import os

import click

from backprop_edu.cli.options import (SEED, FiniteFloatRange, comma_list, distinct_outputs,
                                      figure_path, json_option, print_or_write, size_option,
                                      wrote_figure)

ACTIVATION_CHOICES = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus")
INIT_CHOICES = ("normal", "xavier", "he")
# vanishing builds one network at a time: sizes beyond these would fill a laptop's memory
MAX_WEIGHTS = 20_000_000       # depth × width² weights: 160 MB in float64, twice with ∇W
MAX_ACTIVATIONS = 10_000_000   # depth × width × batch entries in each of a, h, δ, ...


# -- shared helpers -------------------------------------------------------------

def number(value):
    """A table cell: 1.2e-07, or 'inf/nan' for an overflowed value."""
    return "inf/nan" if value is None else f"{value:.2e}"


# -- plot -------------------------------------------------------------------------

@click.command()
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default=None, callback=figure_path, metavar="PATH",
              help="Figure to write (.png, .svg, .pdf). [default: HISTORY with .png]")
@click.option("--title", default=None, help="Figure title. [default: from the history]")
@size_option
def plot(history, output, title, size):
    """Plot a training history: ‖∇W_l‖ per layer per epoch (log scale), loss and accuracy.

    HISTORY is the JSON file `backprop-edu train --history run.json` writes; it
    may still be growing (it is read once, and train replaces it atomically).

    \b
    Example:
      backprop-edu train --data moons --history run.json
      backprop-edu plot run.json -o run.png
    """
    from backprop_edu.history import read_history
    from backprop_edu.plots import check_figure_path, plot_history

    if output is None:
        output = check_figure_path(os.path.splitext(history)[0] + ".png")
    if not os.path.exists(history):
        raise click.ClickException(f"no such history file: {history} (write one with "
                                   "`backprop-edu train --history run.json`)")
    data = read_history(history)
    plot_history(data, output, title=title, size=size)
    epochs = data["epochs"]
    click.echo(f"{len(epochs)} epoch{'s' if len(epochs) != 1 else ''}, "
               f"{len(data['layers'])} layers: wrote {output}")


# -- vanishing --------------------------------------------------------------------

def vanishing_table(result, key, title, fmt=number):
    """Rows = layers l = 1..L, columns = configurations (at most 5 per block)."""
    from backprop_edu.experiments import config_label

    configs = result["configs"]
    lines = [title]
    for start in range(0, len(configs), 5):
        block = configs[start:start + 5]
        labels = [config_label(c) for c in block]
        width = max(13, *(len(label) for label in labels))
        lines.append(f"{'layer':>5}  " + "  ".join(f"{label:>{width}}" for label in labels))
        for l in range(len(get(block[0], key))):
            cells = [fmt(get(c, key)[l]) for c in block]
            lines.append(f"{l + 1:>5}  " + "  ".join(f"{cell:>{width}}" for cell in cells))
        lines.append("")
    return "\n".join(lines)


def percent(fraction):
    """A table cell: 0.387 -> '38.7%'."""
    return f"{100 * fraction:.1f}%"


def get(config, key):
    """config[key]; 'trained.delta_norm' reaches into config['trained']['delta_norm']."""
    for part in key.split("."):
        config = config[part]
    return config


@click.command()
@click.option("--depth", type=click.IntRange(min=1), default=12, show_default=True,
              help="Hidden layers (the network has depth + 1 layers with the output layer).")
@click.option("--width", type=click.IntRange(min=1), default=64, show_default=True,
              help="Units in every hidden layer.")
@click.option("--activations", default="sigmoid,tanh,relu", show_default=True,
              callback=comma_list(ACTIVATION_CHOICES, "activation"),
              help="Comma-separated activations of the hidden layers.")
@click.option("--init", "inits", default="normal,xavier,he", show_default=True,
              callback=comma_list(INIT_CHOICES, "init"),
              help="Comma-separated initialisations; every activation is run with each.")
@click.option("--std", type=FiniteFloatRange(min=0, min_open=True), default=0.1,
              show_default=True,
              help="Standard deviation of the 'normal' init N(0, std²); 1 makes tanh and relu "
                   "explode.")
@click.option("--residual", is_flag=True,
              help="Also run every configuration with residual blocks (dashed lines).")
@click.option("--dtype", type=click.Choice(["float64", "float32", "float16"]),
              default="float64", show_default=True,
              help="Precision; float32/float16 are compared with a float64 run.")
@click.option("--data", default="gaussian", show_default=True,
              help="gaussian (x ~ N(0, I), 10 features, 10 classes), a shipped data set "
                   "(digits, iris, xor, moons, circles, spirals; standardised), or mnist or "
                   "fashion-mnist (784 pixels in [0, 1], downloaded on first use).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Samples in the batch of the forward and backward pass.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the weights and of the data.")
@click.option("--steps", type=click.IntRange(min=0, max=10_000), default=0, show_default=True,
              help="Also measure after this many SGD steps on the batch (0: only at init).")
@click.option("--lr", type=FiniteFloatRange(min=0, min_open=True), default=0.1,
              show_default=True, help="Learning rate of those SGD steps.")
@click.option("-o", "--output", default=None, callback=figure_path, metavar="PATH",
              help="Figure to write (.png, .svg, .pdf). [default: none]")
@click.option("--table", is_flag=True,
              help="Also print every layer's ‖δ^(l)‖ and ‖∇W_l‖ (one row per layer). "
                   "[default: only layer 1 and layer L of each configuration]")
@json_option("every number")
@size_option
def vanishing(depth, width, activations, inits, std, residual, dtype, data, batch_size, seed,
              steps, lr, table, output, json_output, size):
    """The vanishing/exploding gradient experiment: ‖δ^(l)‖ and ‖∇W_l‖ at every layer.

    For each activation × init, a fresh network of DEPTH hidden layers runs one
    forward and one backward pass on one batch. BP2, δ^(l) = φ'(a_l) ⊙ (W_{l+1}ᵀ δ^(l+1)),
    multiplies the error by W_{l+1}ᵀ and φ' once per layer, so ‖δ^(l)‖ shrinks or
    grows geometrically towards layer 1 unless the init balances the product.

    \b
    Examples:
      backprop-edu vanishing --depth 12 -o vanishing.png --json vanishing.json
      backprop-edu vanishing --depth 30 --activations sigmoid --residual -o residual.png
      backprop-edu vanishing --depth 12 --activations sigmoid --dtype float16
    """
    from backprop_edu.experiments import vanishing_experiment

    distinct_outputs(output=output, json=json_output)
    if depth * width * width > MAX_WEIGHTS or depth * width * batch_size > MAX_ACTIVATIONS:
        raise click.UsageError(
            f"--depth {depth} --width {width} --batch-size {batch_size} is too large for the lab "
            f"(at most {MAX_WEIGHTS:,} weights, depth × width², and {MAX_ACTIVATIONS:,} "
            f"activations, depth × width × batch): use a smaller --depth, --width or --batch-size")
    result = vanishing_experiment(depth=depth, width=width, activations=activations,
                                  inits=inits, residual=residual, dtype=dtype, data=data,
                                  batch_size=batch_size, seed=seed, steps=steps, lr=lr, std=std)
    print_or_write(vanishing_text(result, table), result, json_output)
    if output:
        from backprop_edu.plots import plot_vanishing

        plot_vanishing(result, output, size=size)
        wrote_figure(output, json_output)


def vanishing_text(result, table=False):
    """What vanishing prints: the settings and, per configuration, layer 1 against layer L
    (with table=True, first a table per quantity, one row per layer)."""
    s = result["settings"]
    depth, width, dtype, steps = s["depth"], s["width"], s["dtype"], s["steps"]
    normal = (f", normal init std {s['normal_std']:g}"
              if any(config["init"] == "normal" for config in result["configs"]) else "")
    lines = [f"{depth} hidden layers of {width} units + a linear output layer "
             f"(L = {depth + 1}); {s['data']} data, batch of {s['batch_size']}, {dtype}{normal}",
             "‖δ^(l)‖ is the mean over the batch of the per-sample norm; ‖∇W_l‖ the "
             "Frobenius norm.\n"]
    if table:
        lines += [vanishing_table(result, "delta_norm", "‖δ^(l)‖ at initialisation"),
                  vanishing_table(result, "grad_W_norm", "‖∇W_l‖ at initialisation")]
        if dtype != "float64":
            lines += [vanishing_table(result, "grad_W_zero_fraction",
                                      f"entries of ∇W_l exactly 0 in {dtype}", percent),
                      vanishing_table(result, "float64.grad_W_zero_fraction",
                                      "entries of ∇W_l exactly 0 in float64 (same weights)",
                                      percent)]
        if steps:
            lines.append(vanishing_table(result, "trained.delta_norm",
                                         f"‖δ^(l)‖ after {steps} SGD steps"))
    lines.append(vanishing_summary(result))
    if not table:
        lines.append("(every layer: --table)")
    return "\n".join(lines)


def vanishing_summary(result):
    """One row per configuration: ‖δ‖ and ‖∇W‖ of layer 1 and of layer L, their ratio, the
    loss at initialisation (and the zeros of ∇W_1 in low precision, the ratio after steps)."""
    from backprop_edu.experiments import config_label

    s, configs = result["settings"], result["configs"]
    extra = []   # (header, cell of a configuration)
    if s["dtype"] != "float64":
        extra += [(f"∇W_1 = 0 {s['dtype']}", lambda c: percent(c["grad_W_zero_fraction"][0])),
                  ("∇W_1 = 0 float64",
                   lambda c: percent(c["float64"]["grad_W_zero_fraction"][0]))]
    if s["steps"]:
        extra.append((f"δ 1/L after {s['steps']} steps",
                      lambda c: number(c["trained"]["delta_ratio"])))
    label_width = max(len("configuration"), *(len(config_label(c)) for c in configs))
    heads = ["layer 1", "layer L", "1 / L"]
    lines = [f"{'':<{label_width}}  {'‖δ^(l)‖':^31}  {'‖∇W_l‖':^31}".rstrip(),
             f"{'configuration':<{label_width}}  " + "  ".join(f"{h:>9}" for h in heads * 2)
             + f"  {'loss J':>8}" + "".join(f"  {h:>{max(len(h), 9)}}" for h, _ in extra)]
    for c in configs:
        cells = [c["delta_norm"][0], c["delta_norm"][-1], c["delta_ratio"],
                 c["grad_W_norm"][0], c["grad_W_norm"][-1], c["grad_W_ratio"]]
        loss = ("inf/nan" if c["loss"] is None else
                f"{c['loss']:.3f}" if c["loss"] < 1e4 else f"{c['loss']:.2e}")
        lines.append(f"{config_label(c):<{label_width}}  "
                     + "  ".join(f"{number(value):>9}" for value in cells) + f"  {loss:>8}"
                     + "".join(f"  {cell(c):>{max(len(h), 9)}}" for h, cell in extra))
    chance = math.log(s["n_classes"])
    lines.append(f"loss J at initialisation: a uniform guess over the {s['n_classes']} classes "
                 f"gives ln {s['n_classes']} = {chance:.2f}")
    return "\n".join(lines)


# -- modes ------------------------------------------------------------------------

@click.command()
@click.option("--max-params", type=click.IntRange(min=33, max=500_000), default=20000,
              show_default=True,
              help="Parameters of the largest network. Forward mode's cost grows faster "
                   "than n: 100,000 takes seconds, 500,000 (the most) about a minute.")
@click.option("--points", type=click.IntRange(min=1, max=20), default=6, show_default=True,
              help="How many network sizes, spaced geometrically up to --max-params.")
@click.option("--batch-size", type=click.IntRange(min=1, max=10_000), default=16,
              show_default=True, help="Samples in the batch the loss J is the mean over.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of weights and data.")
@click.option("-o", "--output", default=None, callback=figure_path, metavar="PATH",
              help="Figure to write (.png, .svg, .pdf). [default: none]")
@json_option("the table")
@size_option
def modes(max_params, points, batch_size, seed, output, json_output, size):
    """Forward mode (n JVPs) against reverse mode (one backward pass) for the full gradient.

    For networks 10 → w → w → 10 (w units in each hidden layer) of growing parameter
    count n, the gradient of the loss is computed both ways; the command checks they
    agree, times both, counts the multiply-adds each needs (the count does not depend on
    the machine), and prints how many times more forward mode needs. That factor grows
    with n: the reason neural networks are trained with backpropagation.

    \b
    Example:
      backprop-edu modes --max-params 20000 -o modes.png
    """
    from backprop_edu.experiments import modes_experiment

    distinct_outputs(output=output, json=json_output)
    result = modes_experiment(max_params=max_params, batch_size=batch_size, seed=seed,
                              points=points)
    print_or_write(modes_text(result), result, json_output)
    if output:
        from backprop_edu.plots import plot_modes

        plot_modes(result, output, size=size)
        wrote_figure(output, json_output)


def modes_text(result):
    """What modes prints: one row per network size (its n and w), the measured seconds and the
    counted multiply-adds of each mode, and whether the two modes agree."""
    s = result["settings"]
    lines = [f"full gradient of the mean loss of {s['architecture']} networks (w: the units of "
             f"each of the two hidden layers), batch of {s['batch_size']}",
             f"{'':15}{'seconds (measured)':^32}    {'multiply-adds (counted)':^32}".rstrip(),
             f"{'n params':>9}{'w':>6}  {'forward':>10} {'reverse':>10} {'ratio':>9}    "
             f"{'forward':>10} {'reverse':>10} {'ratio':>9}  {'max |difference|':>16}"]
    lines += [f"{row['n_params']:>9}{row['width']:>6}  {row['forward_seconds']:>10.2e} "
              f"{row['reverse_seconds']:>10.2e} {row['ratio']:>9.1f}    "
              f"{row['forward_multiply_adds']:>10.2e} {row['reverse_multiply_adds']:>10.2e} "
              f"{row['forward_multiply_adds'] / row['reverse_multiply_adds']:>9.1f}  "
              f"{row['max_abs_difference']:>16.1e}" for row in result["rows"]]
    worst = max(row["max_abs_difference"] for row in result["rows"])
    verdict = "agree" if worst <= 1e-10 else "DISAGREE"
    lines.append(f"forward and reverse mode {verdict}: largest difference {worst:.1e} (float64)")
    return "\n".join(lines)
