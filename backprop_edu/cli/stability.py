"""`backprop-edu stability`: exploding gradients as Euler's instability, and BPTT (--recurrent).

The command parses and checks its options, calls backprop_edu.stability (the numbers)
and backprop_edu.stability_plots (the figures), prints a table and writes the files
asked for (--json - prints the numbers as JSON instead of the table). No maths here:
|1 + τλ| and every gradient norm come from the library.
"""

import math

import click

from backprop_edu.cli.options import (SEED, distinct_outputs, figure_path, json_option,
                                      print_or_write, size_option, wrote_figure)

ACTIVATION_CHOICES = ("tanh", "identity", "sigmoid", "relu", "leaky_relu", "softplus")
RECURRENT_ONLY = ("steps", "spectral_radii", "width", "activation", "batch_size")
EULER_ONLY = ("eigenvalues", "taus", "depth")


# -- reading the options ----------------------------------------------------------

def parse_eigenvalues(ctx, param, value):
    """'-0.5,-1+2j,-4' -> [(-0.5+0j), (-1+2j), (-4+0j)]: complex numbers, i or j, finite."""
    values = []
    for part in value.split(","):
        text = "".join(part.split()).replace("i", "j").replace("J", "j")
        try:
            number = complex(text)
        except ValueError:
            raise click.BadParameter(
                f"{part.strip()!r} is not a number: give comma-separated real or complex "
                "numbers, a complex one as -1+2j, e.g. --eigenvalues -0.5,-1+2j,-4") from None
        if not (math.isfinite(number.real) and math.isfinite(number.imag)):
            raise click.BadParameter(f"{part.strip()!r} is not finite: every eigenvalue must be "
                                     "a finite number, e.g. --eigenvalues -0.5,-1+2j")
        values.append(number)
    return values


def positive_numbers(what, example, most=12):
    """A click callback: '0.1,0.5' -> [0.1, 0.5], each a positive finite number, at most
    ``most`` of them (one panel or line each in the figure)."""
    def callback(ctx, param, value):
        if value.count(",") >= most:
            raise click.BadParameter(f"at most {most} values of the {what}, got "
                                     f"{value.count(',') + 1}; e.g. {example}")
        numbers = []
        for part in value.split(","):
            try:
                number = float(part)
            except ValueError:
                raise click.BadParameter(f"{part.strip()!r} is not a number: give one {what} or "
                                         f"several separated by commas, e.g. {example}") from None
            if not (math.isfinite(number) and number > 0):
                raise click.BadParameter(f"{part.strip()} is not a positive finite {what}; "
                                         f"e.g. {example}")
            numbers.append(number)
        return numbers
    return callback


def given(ctx, names):
    """The flags of the options among ``names`` that the user typed (not left at defaults)."""
    typed = click.core.ParameterSource.COMMANDLINE
    return [param.opts[0] for param in ctx.command.params
            if param.name in names and ctx.get_parameter_source(param.name) == typed]


def check_sizes(recurrent, eigenvalues, depth, steps, width, batch_size):
    """Refuse, before any work, what would take minutes or fill a laptop's memory."""
    from backprop_edu import stability as lab

    if recurrent:
        if steps > lab.MAX_DEPTH or width > lab.MAX_WIDTH or batch_size > lab.MAX_BATCH or \
                steps * width * batch_size > lab.MAX_ACTIVATIONS:
            raise click.UsageError(
                f"--steps {steps} --width {width} --batch-size {batch_size} is too large for the "
                f"lab (at most {lab.MAX_DEPTH:,} steps, {lab.MAX_WIDTH} units, "
                f"{lab.MAX_BATCH:,} samples and {lab.MAX_ACTIVATIONS:,} activations, "
                "steps × width × batch): use smaller ones")
        return
    n = sum(1 if z.imag == 0 else 2 for z in lab.eigenvalue_list(eigenvalues))
    if depth > lab.MAX_DEPTH or n > lab.MAX_WIDTH or depth * n * n > lab.MAX_WEIGHTS:
        raise click.UsageError(
            f"--depth {depth} with {n} × {n} A (from --eigenvalues; a complex one counts twice) "
            f"is too large for the lab (at most {lab.MAX_DEPTH:,} layers, A at most "
            f"{lab.MAX_WIDTH} × {lab.MAX_WIDTH}, {lab.MAX_WEIGHTS:,} weights, depth × n²): use "
            "a smaller --depth or fewer eigenvalues")


# -- the command --------------------------------------------------------------------

@click.command()
@click.option("--eigenvalues", default="-0.5,-1+2j,-4", show_default=True,
              callback=parse_eigenvalues,
              help="Eigenvalues λ of A in dh/dt = A h, comma-separated; complex ones as -1+2j "
                   "(their conjugates are added, so that A is real).")
@click.option("--tau", "taus", default="0.1,0.3,0.6", show_default=True,
              callback=positive_numbers("step size τ", "--tau 0.1,0.5"),
              help="Step size τ of the residual blocks h_l = h_{l−1} + τ A h_{l−1}: one value or "
                   "a comma-separated list.")
@click.option("--depth", type=click.IntRange(min=1), default=40, show_default=True,
              help="Residual blocks L (Euler steps) the gradient is carried down.")
@click.option("--recurrent", is_flag=True,
              help="Backpropagation through time instead: one W shared by T steps.")
@click.option("--steps", "-T", type=click.IntRange(min=1), default=50, show_default=True,
              help="With --recurrent: time steps T of h_t = φ(W h_{t−1} + b).")
@click.option("--spectral-radius", "spectral_radii", default="0.9,1,2", show_default=True,
              callback=positive_numbers("spectral radius ρ", "--spectral-radius 0.9,1.1"),
              help="With --recurrent: ρ of W = ρQ, one value or a comma-separated list.")
@click.option("--width", type=click.IntRange(min=1), default=16, show_default=True,
              help="With --recurrent: units of the state h_t.")
@click.option("--activation", type=click.Choice(ACTIVATION_CHOICES), default="tanh",
              show_default=True, help="With --recurrent: φ (identity: the bound is exact).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True,
              help="With --recurrent: samples h_0 = x ~ N(0, I).")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the random rotations and the data.")
@click.option("-o", "--output", default=None, callback=figure_path, metavar="PATH",
              help="Figure to write (.png, .svg, .pdf). [default: none]")
@json_option("every record")
@size_option
@click.pass_context
def stability(ctx, eigenvalues, taus, depth, recurrent, steps, spectral_radii, width,
              activation, batch_size, seed, output, json_output, size):
    """Exploding gradients are Euler's instability: ‖∂J/∂h_l‖ through a residual stack.

    A residual network h_l = h_{l−1} + τ F(h_{l−1}) is the forward Euler method for
    dh/dt = F(h), and its backward pass g_{l−1} = g_l + τ J_Fᵀ g_l is the discrete adjoint.
    On F(h) = A h each block multiplies g = ∂J/∂h_l by (I + τA)ᵀ: along an eigenvector of
    A with eigenvalue λ, ‖g‖ grows by |1 + τλ| per layer. For every τ and λ the command
    measures that growth through the package's own Residual blocks and prints it beside
    |1 + τλ|; a tanh run, h_l = h_{l−1} + τ tanh(W h_{l−1}), follows the prediction only
    near h = 0 (asymptotic). The figure adds Euler's stability region |1 + τλ| ≤ 1.

    With --recurrent: backpropagation through time, one W = ρQ shared by T steps;
    ‖∂J/∂h_t‖ vanishes below ρ = 1 and can explode above it, and the gradient of the
    shared W is the sum over the steps.

    \b
    Examples:
      backprop-edu stability -o stability.png --json stability.json
      backprop-edu stability --eigenvalues -4 --tau 0.2,0.45,0.55 --depth 30
      backprop-edu stability --recurrent --spectral-radius 0.9,1,2 -o bptt.png
    """
    from backprop_edu import stability as lab

    mixed = given(ctx, EULER_ONLY if recurrent else RECURRENT_ONLY)
    if mixed:
        options = ", ".join(mixed)
        if recurrent:
            raise click.UsageError(f"{options} set the residual stack, which --recurrent does "
                                   f"not run: leave out {options} or --recurrent")
        raise click.UsageError(f"{options} set the recurrent network of --recurrent: add "
                               f"--recurrent, or leave out {options}")
    distinct_outputs(output=output, json=json_output)
    check_sizes(recurrent, eigenvalues, depth, steps, width, batch_size)
    if recurrent:
        result = lab.recurrent_experiment(steps=steps, spectral_radii=spectral_radii,
                                          width=width, batch_size=batch_size,
                                          activation=activation, seed=seed)
        text = recurrent_text(result)
    else:
        result = lab.stability_experiment(eigenvalues=eigenvalues, taus=taus, depth=depth,
                                          seed=seed)
        text = stability_text(result)
    print_or_write(text, result, json_output)
    if output:
        from backprop_edu.stability_plots import plot_recurrent, plot_stability

        (plot_recurrent if recurrent else plot_stability)(result, output, size=size)
        wrote_figure(output, json_output)


# -- what it prints -----------------------------------------------------------------

def growth(value):
    """A table cell for a growth factor: 8 decimals, or why there is none."""
    return "overflowed" if value is None else f"{value:.8f}"


def stability_text(result):
    """The settings, one row per (τ, λ), the tanh runs, and the largest disagreement."""
    from backprop_edu.stability_plots import eigenvalue_text

    s, records = result["settings"], result["records"]
    pairs = [eigenvalue_text([re, 0]) + f"±{abs(im):g}i" if im else eigenvalue_text([re, im])
             for re, im in s["eigenvalues"]]
    lines = [f"dh/dt = A h, A {s['width']} × {s['width']} with eigenvalues {', '.join(pairs)}; "
             f"{s['depth']} residual blocks",
             "h_l = h_{l−1} + τ A h_{l−1} (Residual, identity activation, W = τA); g_L = ∂J/∂h_L "
             "along each eigenvector",
             "growth: of ‖g‖ per layer through the blocks' backward pass (geometric mean), "
             "beside |1 + τλ|", "",
             f"{'τ':>7}  {'λ':>10}  {'measured growth':>15}  {'|1 + τλ|':>12}  "
             f"{'‖g_0‖ / ‖g_L‖':>13}"]
    for record in records:
        first, last = record["grad_norms"][0], record["grad_norms"][-1]
        ratio = "inf/nan" if first is None or not last else f"{first / last:.2e}"
        lines.append(f"{record['tau']:>7g}  {eigenvalue_text(record['eigenvalue']):>10}  "
                     f"{growth(record['measured_growth']):>15}  "
                     f"{record['predicted_growth']:>12.8f}  {ratio:>13}  "
                     f"{'stable' if record['stable'] else 'UNSTABLE'}")
    measured = [abs(r["measured_growth"] - r["predicted_growth"]) for r in records
                if r["measured_growth"] is not None]
    if measured:
        lines.append(f"largest |measured − predicted| on the linear problem: {max(measured):.1e}")
    if result["nonlinear"]:
        lines += ["", "tanh runs, h_l = h_{l−1} + τ tanh(W h_{l−1}) with W = Q A Qᵀ, from ‖h_0‖ = "
                      "0.1:", "asymptotic, the prediction holds only near h = 0",
                  f"{'τ':>7}  {'λ (fastest)':>11}  {'measured growth':>15}  {'|1 + τλ|':>12}"]
        for run in result["nonlinear"]:
            lines.append(f"{run['tau']:>7g}  {eigenvalue_text(run['eigenvalue']):>11}  "
                         f"{growth(run['measured_growth']):>15}  "
                         f"{run['predicted_growth']:>12.8f}")
    return "\n".join(lines)


def recurrent_text(result):
    """The settings, and one row per spectral radius."""
    s = result["settings"]
    lines = [f"backpropagation through time: h_t = {s['activation']}(W h_{{t−1}} + b), "
             f"t = 1..{s['steps']}, batch of {s['batch_size']};",
             f"one W = ρQ ({s['width']} × {s['width']}, Q a random rotation) at every step",
             "‖∂J/∂h_t‖: mean over the batch; ∇W J = Σ_t (1/m) δ_t h_{t−1}ᵀ, the sum over the "
             "steps", "",
             f"{'ρ':>6}  {'‖∂J/∂h_0‖/‖∂J/∂h_T‖':>20}  {'growth per step':>15}  "
             f"{'‖∇W J‖ (sum)':>13}  {'largest step part':>17}"]
    for run in result["runs"]:
        first, last = run["grad_h_norms"][0], run["grad_h_norms"][-1]
        ratio = "inf/nan" if first is None or not last else f"{first / last:.2e}"
        parts = [part for part in run["grad_W_parts"] if part is not None]
        total = "inf/nan" if run["grad_W_norm"] is None else f"{run['grad_W_norm']:.3e}"
        lines.append(f"{run['spectral_radius']:>6g}  {ratio:>20}  "
                     f"{growth(run['measured_growth']):>15}  {total:>13}  "
                     f"{max(parts) if parts else math.nan:>17.3e}")
    return "\n".join(lines)
