"""The ODE view: residual networks as Euler steps, the backward pass as the adjoint method.

    stability_experiment(eigenvalues=[-0.5, -1+2j, -4], taus=[0.1, 0.3, 0.6], depth=40)
        per (τ, λ): the growth of ‖∂J/∂h_l‖ per layer, measured through a residual
        stack's own backward pass, beside |1 + τλ|; and one nonlinear (tanh) run per τ
    recurrent_experiment(steps=50, spectral_radii=[0.9, 1.0, 2.0])
        backpropagation through time: one W shared by T steps, ‖∂J/∂h_t‖ against t

Both return dicts of lists and floats (JSON-ready, as experiments.py does), which
``stability_plots.py`` draws and the CLI prints.

The maths (docs/lab/stability.md). A residual network h_l = h_{l−1} + τ F(h_{l−1})
is the forward Euler method for the ODE dh/dt = F(h) with step τ: layer l is
time t = lτ. Its backward pass (euler.py) hands down

    g_{l−1} = g_l + τ J_F(h_{l−1})ᵀ g_l          g_l = ∂J/∂h_l, J_F the Jacobian of F

which is the discrete adjoint equation of the ODE, run backward in time: the
adjoint method of numerical analysis and optimal control, which backpropagation
is. On the linear problem F(h) = A h, J_F = A everywhere, and every layer
multiplies g by (I + τA)ᵀ. Along an eigenvector of A with eigenvalue λ:

    ‖g_{l−1}‖ = |1 + τλ| ‖g_l‖,   so   ‖g_0‖ = |1 + τλ|^L ‖g_L‖

|1 + τλ| > 1 explodes and |1 + τλ| < 1 vanishes, geometrically in the depth:
exploding gradients are Euler's instability. The disc |1 + τλ| ≤ 1 (radius 1,
centre −1 in the complex τλ plane) is forward Euler's region of absolute
stability; a decaying flow (Re λ < 0) taken with too large a step leaves it.

A is built block-diagonal so that its eigenvectors are known exactly: a real λ
is a 1×1 block [λ] (eigenvector: a coordinate vector e_k); a complex λ = α + iβ
and its conjugate make a 2×2 block [[α, −β], [β, α]], a rotation-scaling of its
plane (e_k, e_{k+1}). I + τ·block is a rotation-scaling by |1 + τλ|, so every
vector of that plane, and none outside it, grows by exactly |1 + τλ| per step.

Every gradient here comes from the package's own layers: the linear stack is
``Residual(n, activation="identity")`` blocks with W = τA and b = 0 (so that
h_l = h_{l−1} + τ A h_{l−1} exactly), the nonlinear stack is ``EulerStep``
layers (h_l = h_{l−1} + τ tanh(W h_{l−1})); the norms are read from the
gradients their backward passes handed down (``layer.grad_h_prev``).

What is left out: other integrators (Runge–Kutta, implicit Euler), the
continuous adjoint (neural ODEs), and recurrent networks with an input at every
step (here the input is h_0 only).
"""

import math
import numbers

import numpy as np

from backprop_edu.euler import EulerStep, check_tau
from backprop_edu.experiments import _finite_or_none  # inf, nan -> None, for JSON
from backprop_edu.layers import Dense
from backprop_edu.network import Network
from backprop_edu.residual import Residual

# Sizes beyond these would take minutes or fill a laptop's memory (a network of L
# layers is checked in time ∝ L², its parameters are L × n²).
MAX_DEPTH = 1000          # layers of a residual stack, or time steps T of a recurrent net
MAX_WIDTH = 200           # units: the dimension of A, or the recurrent state
MAX_BATCH = 1000          # samples in the recurrent experiment's batch
MAX_WEIGHTS = 20_000_000  # depth × n² weights of a residual stack (160 MB in float64)
MAX_ACTIVATIONS = 10_000_000  # T × width × batch entries of each of a, h, δ in a recurrent net

# A step is measured only while ‖g‖ stays inside this range: ‖g‖ = √(Σ g_i²), and the
# squares overflow (inf) or lose their digits (subnormal numbers) beyond about 1e±154.
SAFE_NORMS = (1e-150, 1e150)

NONLINEAR_START = 0.1     # ‖h_0‖ of the nonlinear run: near the fixed point h = 0, tanh' ≈ 1


# -- the linear problem -----------------------------------------------------------

def eigenvalue_list(eigenvalues):
    """The eigenvalues as complex numbers, each checked; a conjugate of one already listed is
    dropped (λ and λ̄ are one 2×2 block). [-1, 2j, -2j] -> [(-1+0j), 2j]."""
    if isinstance(eigenvalues, (numbers.Number, str)):
        eigenvalues = [eigenvalues]
    found = []
    for value in eigenvalues:
        if isinstance(value, bool) or not isinstance(value, numbers.Complex):
            raise TypeError(f"eigenvalues must be numbers (complex ones as -1+2j), got {value!r}")
        value = complex(value)
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            raise ValueError(f"eigenvalues must be finite, got {value}")
        if value.conjugate() not in found or value.imag == 0:
            found.append(value)
    if not found:
        raise ValueError("give at least one eigenvalue, e.g. eigenvalues=[-0.5, -1+2j]")
    return found


def eigen_block(eigenvalue):
    """The real block of A that has ``eigenvalue`` (and its conjugate) as eigenvalues:
    [[λ]] for a real λ, [[α, −β], [β, α]] for λ = α + iβ."""
    alpha, beta = eigenvalue.real, eigenvalue.imag
    if beta == 0:
        return np.array([[alpha]])
    return np.array([[alpha, -beta],
                     [beta, alpha]])   # a rotation by arg λ, scaled by |λ|


def linear_problem(eigenvalues):
    """A (n × n, real, block-diagonal) and V (n × k): column j of V is a unit vector along
    eigenvalue j's eigenvector (a real λ) or in its invariant plane (a complex λ; any vector
    of the plane grows alike, we take (e_k + e_{k+1})/√2). Returns (A, V, eigenvalues)."""
    eigenvalues = eigenvalue_list(eigenvalues)
    blocks = [eigen_block(eigenvalue) for eigenvalue in eigenvalues]
    n = sum(len(block) for block in blocks)
    if n > MAX_WIDTH:
        raise ValueError(f"the eigenvalues make A {n} × {n}; at most {MAX_WIDTH} × {MAX_WIDTH} "
                         "(a complex eigenvalue counts twice): give fewer eigenvalues")
    A, V = np.zeros((n, n)), np.zeros((n, len(blocks)))
    k = 0
    for j, block in enumerate(blocks):
        size = len(block)
        A[k:k + size, k:k + size] = block
        V[k:k + size, j] = 1 / math.sqrt(size)   # e_k, or (e_k + e_{k+1})/√2
        k += size
    return A, V, eigenvalues


def predicted_growth(tau, eigenvalue):
    """|1 + τλ|: how much one step of (I + τA)ᵀ multiplies ‖g‖ along λ's eigenvector."""
    return abs(1 + tau * eigenvalue)


# -- the stacks, and their backward pass ------------------------------------------

def residual_stack(A, tau, depth):
    """``depth`` Residual blocks with identity activation, W = τA, b = 0:
    h_l = h_{l−1} + τ A h_{l−1}, the forward Euler method for dh/dt = A h."""
    n = len(A)
    layers = []
    for _ in range(depth):
        block = Residual(n, activation="identity", rng=0)
        block.W[...] = tau * A                      # W_l = τA, so φ(a_l) = τ A h_{l−1}
        layers.append(block)
    return Network(layers, loss="half_mse")


def euler_stack(W, tau, depth, activation="tanh"):
    """``depth`` EulerStep layers with the same W (copied into each), b = 0:
    h_l = h_{l−1} + τ φ(W h_{l−1}), the forward Euler method for dh/dt = φ(W h)."""
    layers = []
    for _ in range(depth):
        step = EulerStep(len(W), tau=tau, activation=activation, rng=0)
        step.W[...] = W
        layers.append(step)
    return Network(layers, loss="half_mse")


def adjoint_pass(net, H_0, G_L):
    """Run ``net`` forward from H_0 (n × m, columns = samples) and backward from ∂J/∂h_L = G_L.

    The loss is half_mse with targets Y = h_L − G_L, whose gradient is ∇_{h_L} J = h_L − Y =
    G_L (exactly so when h_L = 0). Returns [g_0, g_1, ..., g_L], each n × m: g_L as the top
    layer received it, g_{l−1} = layer l's grad_h_prev, all from the layers' own backward.
    """
    H_L = net.forward_columns(H_0)
    net.backward((H_L - G_L).T, input_gradient=True)  # every layer hands down g_{l−1}
    top = net.layers[-1]
    received = top.grad_h_prev_parts["identity"] if hasattr(top, "grad_h_prev_parts") else G_L
    return [layer.grad_h_prev for layer in net.layers] + [received]


def column_norms(grads):
    """[‖g_l‖ for l = 0..L] for every column: an array (L + 1) × m."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array([np.linalg.norm(g, axis=0) for g in grads])


def measured_growth(norms):
    """The mean growth of ‖g‖ per step, from ‖g_L‖ = norms[-1] down to ‖g_0‖ = norms[0]:
    (‖g_l‖ / ‖g_L‖)^(1 / (L − l)), the geometric mean of the ratios ‖g_{l−1}‖ / ‖g_l‖, taken
    to the lowest l that ‖g‖ reaches without leaving SAFE_NORMS (an exploding run's norm
    overflows, a vanishing one underflows). Returns (growth, steps measured); growth None if
    not even one step could be measured; 0.0 if g became exactly 0.
    """
    low, high = SAFE_NORMS
    top = norms[-1]
    if not low <= top <= high:
        return None, 0
    steps, last = 0, top
    for norm in norms[-2::-1]:                  # ‖g_{L−1}‖, ..., ‖g_0‖
        if norm == 0:                            # 1 + τλ = 0: one step sent g to exactly 0
            return 0.0, steps + 1
        if not low <= norm <= high:
            break
        steps, last = steps + 1, norm
    if steps == 0:
        return None, 0
    return math.exp((math.log(last) - math.log(top)) / steps), steps


def growth_record(tau, eigenvalue, norms):
    """One (τ, λ) run as plain data: the record the lab's --json writes."""
    growth, steps = measured_growth(norms)
    predicted = predicted_growth(tau, eigenvalue)
    return {"tau": tau, "eigenvalue": [eigenvalue.real, eigenvalue.imag],
            "measured_growth": growth, "predicted_growth": predicted,
            "stable": predicted <= 1, "steps_measured": steps,
            "grad_norms": _finite_or_none(norms)}


# -- the experiment ---------------------------------------------------------------

def check_count(name, value, maximum, minimum=1):
    """A whole number between minimum and maximum, or a one-line ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must lie between {minimum} and {maximum:,}, got {value}")
    return int(value)


def tau_list(taus):
    """One τ or several, each a positive finite number."""
    if isinstance(taus, (numbers.Number, str)):
        taus = [taus]
    taus = [check_tau(tau) for tau in taus]
    if not taus:
        raise ValueError("give at least one step size tau, e.g. taus=[0.1, 0.5]")
    return taus


def random_rotation(n, rng):
    """A random orthogonal n × n matrix Q (QR of a Gaussian matrix, signs fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def linear_runs(A, V, eigenvalues, tau, depth):
    """For every eigenvalue λ: g_L = λ's column of V, pushed down the residual stack of
    step τ by its own backward pass; one growth record per λ."""
    net = residual_stack(A, tau, depth)
    H_0 = np.zeros_like(V)                      # start at the fixed point h = 0: h_L = 0
    with np.errstate(over="ignore", invalid="ignore"):
        norms = column_norms(adjoint_pass(net, H_0, V))   # one column per eigenvalue
    return [growth_record(tau, eigenvalue, norms[:, j])
            for j, eigenvalue in enumerate(eigenvalues)]


def nonlinear_run(A, V, eigenvalues, tau, depth, seed=0):
    """h_l = h_{l−1} + τ tanh(W h_{l−1}) with W = Q A Qᵀ, A turned by a random rotation Q
    (W has A's eigenvalues; tanh'(0) = 1, so at h = 0 the Jacobian J_F is W itself).

    h_0 is a random vector of norm NONLINEAR_START (0.1); g_L starts along the eigenvector
    of the eigenvalue λ that grows most, max |1 + τλ|, to which the backward pass of the
    linearisation would turn any start. The linear prediction |1 + τλ| holds only near
    h = 0 (where tanh' ≈ 1): it is asymptotic, not exact. A stable run stays near 0 and
    follows it closely; an unstable one leaves 0 until tanh saturates (tanh' → 0 and
    g_{l−1} → g_l), and its gradient grows less than predicted. The same seed gives the
    same Q and h_0 for every τ. One growth record, with "asymptotic": True.
    """
    rng = np.random.default_rng(seed)
    Q = random_rotation(len(A), rng)
    W = Q @ A @ Q.T
    growths = [predicted_growth(tau, eigenvalue) for eigenvalue in eigenvalues]
    j = int(np.argmax(growths))
    h_0 = rng.standard_normal((len(A), 1))
    h_0 *= NONLINEAR_START / np.linalg.norm(h_0)
    net = euler_stack(W, tau, depth, activation="tanh")
    with np.errstate(over="ignore", invalid="ignore"):
        norms = column_norms(adjoint_pass(net, h_0, Q @ V[:, [j]]))
    return {**growth_record(tau, eigenvalues[j], norms[:, 0]), "asymptotic": True}


def stability_experiment(eigenvalues=(-0.5, -1 + 2j, -4), taus=(0.1, 0.3, 0.6), depth=40,
                         nonlinear=True, seed=0):
    """Exploding and vanishing gradients as the (in)stability of forward Euler.

    eigenvalues: λ of the linear problem dh/dt = A h (complex ones as -1+2j; conjugates
    are added so that A is real). taus: the step sizes τ. depth: L, the number of
    residual blocks. For every (τ, λ), g_L = ∂J/∂h_L starts along λ's eigenvector and
    the stack's backward pass carries it down; the record holds the measured growth per
    step of ‖g‖ and the predicted |1 + τλ| (they agree to rounding). With nonlinear=True,
    one run per τ of h_l = h_{l−1} + τ tanh(W h_{l−1}) (see nonlinear_run).

    Returns {"settings": {...}, "records": [{"tau", "eigenvalue": [re, im],
    "measured_growth", "predicted_growth", "stable", "steps_measured", "grad_norms"},
    ...], "nonlinear": [the same keys and "asymptotic": true, ...]}. grad_norms lists
    ‖∂J/∂h_l‖ for l = 0..L (None where it overflowed); measured_growth is the geometric
    mean over the steps_measured steps from l = L down (see measured_growth).
    """
    taus = tau_list(taus)
    depth = check_count("depth", depth, MAX_DEPTH)
    A, V, eigenvalues = linear_problem(eigenvalues)
    if depth * A.size > MAX_WEIGHTS:
        raise ValueError(f"depth {depth} with A {len(A)} × {len(A)} is too large: at most "
                         f"{MAX_WEIGHTS:,} weights (depth × n²); use a smaller depth or "
                         "fewer eigenvalues")
    records = []
    for tau in taus:
        records += linear_runs(A, V, eigenvalues, tau, depth)
    runs = []
    if nonlinear:
        runs = [nonlinear_run(A, V, eigenvalues, tau, depth, seed) for tau in taus]
    settings = {"eigenvalues": [[eigenvalue.real, eigenvalue.imag] for eigenvalue in eigenvalues],
                "taus": taus, "depth": depth, "width": len(A), "seed": seed,
                "A": A.tolist(), "problem": "dh/dt = A h; h_l = h_{l−1} + τ A h_{l−1}",
                "nonlinear_problem": "dh/dt = tanh(W h), W = Q A Qᵀ (Q a random rotation); "
                                     f"‖h_0‖ = {NONLINEAR_START}, a random direction"}
    return {"settings": settings, "records": records, "nonlinear": runs}


# -- backpropagation through time ------------------------------------------------

def recurrent_network(W, b, steps, n_out, activation="tanh", rng=None):
    """h_t = φ(W h_{t−1} + b) for t = 1..T, then a linear output layer: T Dense layers
    given the same arrays W and b (one parameter each, used T times), half_mse loss."""
    width = len(W)
    layers = []
    for _ in range(steps):
        layer = Dense(width, width, activation=activation, rng=0)
        layer.W, layer.b = W, b                    # the same arrays at every step
        layers.append(layer)
    layers.append(Dense(width, n_out, activation="identity", rng=rng))
    return Network(layers, loss="half_mse")


def recurrent_experiment(steps=50, spectral_radii=(0.9, 1.0, 2.0), width=16, batch_size=8,
                         n_out=4, activation="tanh", seed=0):
    """Backpropagation through time: ‖∂J/∂h_t‖ against t for one W shared by T steps.

    For each spectral radius ρ: W = ρQ (Q a random rotation: every eigenvalue and every
    singular value of W has modulus ρ), b = 0, h_0 = x ~ N(0, I) for a batch of samples,
    h_t = φ(W h_{t−1} + b) for t = 1..steps, ŷ = V h_T + c, J = half_mse against random
    targets. The backward pass multiplies the error by Wᵀ and φ' at every step, so
    ‖∂J/∂h_t‖ ≤ ρ^(T−t) ‖∂J/∂h_T‖ (equality for activation="identity"; tanh' ≤ 1):
    it vanishes below ρ = 1 and can explode above it.

    The gradient of the shared W is the sum over the steps of each step's
    (1/m) δ_t h_{t−1}ᵀ: Network.parameters()[0].grad.

    Returns {"settings": {...}, "runs": [{"spectral_radius", "grad_h_norms" (t = 0..T,
    the mean over the batch of ‖∂J/∂h_t‖ per sample), "bound" (ρ^(T−t) ‖∂J/∂h_T‖),
    "measured_growth" (per step, as measured_growth), "grad_W_parts" (‖(1/m) δ_t h_{t−1}ᵀ‖
    for t = 1..T), "grad_W_norm" (‖the sum‖), "loss"}, ...]}.
    """
    steps = check_count("steps (T)", steps, MAX_DEPTH)
    width = check_count("width", width, MAX_WIDTH)
    batch_size = check_count("batch_size", batch_size, MAX_BATCH)
    n_out = check_count("n_out", n_out, MAX_WIDTH)
    if steps * width * batch_size > MAX_ACTIVATIONS:
        raise ValueError(f"steps {steps} × width {width} × batch_size {batch_size} is too large: "
                         f"at most {MAX_ACTIVATIONS:,} activations; use a smaller one of them")
    if isinstance(spectral_radii, numbers.Number):
        spectral_radii = [spectral_radii]
    spectral_radii = [float(rho) for rho in spectral_radii]
    if not spectral_radii or not all(math.isfinite(rho) and rho > 0 for rho in spectral_radii):
        raise ValueError(f"spectral_radii must be positive finite numbers, got {spectral_radii}")
    runs = []
    for rho in spectral_radii:
        rng = np.random.default_rng(seed)          # the same Q, data and output layer for every ρ
        W = rho * random_rotation(width, rng)      # spectral radius ρ
        b = np.zeros(width)
        X = rng.standard_normal((batch_size, width))
        Y = rng.standard_normal((batch_size, n_out))
        net = recurrent_network(W, b, steps, n_out, activation, rng)
        with np.errstate(over="ignore", invalid="ignore"):
            net.forward(X)
            J = net.backward(Y, input_gradient=True)
            # ∂J/∂h_t for t = 0..T: what layer t + 1 handed down, one column per sample
            grads = [layer.grad_h_prev for layer in net.layers]
            norms = np.array([np.linalg.norm(g, axis=0).mean() for g in grads])
            shared_W = net.parameters()[0]         # W, used at every step t = 1..T
            parts = [float(np.linalg.norm(layer.grad_W)) for layer, _ in shared_W.places]
            total = float(np.linalg.norm(shared_W.grad))   # ∇W J = Σ_t (1/m) δ_t h_{t−1}ᵀ
            bound = norms[-1] * rho ** np.arange(steps, -1, -1.0)   # ρ^(T−t) ‖∂J/∂h_T‖
        growth, measured = measured_growth(norms)
        runs.append({"spectral_radius": rho, "grad_h_norms": _finite_or_none(norms),
                     "bound": _finite_or_none(bound), "measured_growth": growth,
                     "steps_measured": measured, "grad_W_parts": _finite_or_none(parts),
                     "grad_W_norm": total if math.isfinite(total) else None,
                     "loss": float(J) if math.isfinite(J) else None})
    settings = {"steps": steps, "width": width, "batch_size": batch_size, "n_out": n_out,
                "activation": activation, "seed": seed, "loss": "half_mse",
                "network": "h_0 = x; h_t = φ(W h_{t−1} + b), t = 1..T; ŷ = V h_T + c; "
                           "W = ρQ shared by every step"}
    return {"settings": settings, "runs": runs}
