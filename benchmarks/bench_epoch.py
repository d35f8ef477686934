"""How fast is one epoch of the explicit equations? Timed against the matrix products it needs.

One epoch of plain mini-batch SGD (ReLU MLP 256-512-512-10, 16,384 samples,
batch 128, softmax cross-entropy). Every system runs in a worker process of its
own that builds its network and data once (the same data, the same seeds) and
warms up; then the driver asks each worker in turn for one timed epoch, round
after round (a busy moment on the machine hits every system alike), and reports
medians. Every row is a ratio to

    the bound: only the matrix products the epoch needs, numpy matmul into
    preallocated arrays. Per batch of m samples, for a network of L layers:
        L forward products       A_l = W_l H_{l−1}
        L weight-gradient ones   ∇W_l ∝ Δ_l H_{l−1}ᵀ                (BP3)
        L − 1 input-gradient     W_lᵀ Δ_l   (not for the first layer: nothing below needs it)

Rows: the bound; backprop-edu through its public contract (net.forward,
net.backward, SGD.step); the same at commit b799cab, the core before issue 9
wrote every line as its equation (its package extracted with ``git archive``
and imported in its own worker, since both are called backprop_edu); PyTorch
(nn.Sequential + optim.SGD) and scikit-learn (MLPClassifier, solver="sgd",
one epoch through partial_fit) when installed; a straightforward numpy
implementation (fresh arrays, float32 silently upcast by a float64 bias); the
``backprop_edu.train`` loop (norms, shuffling, history).

Further parts: a per-line profile of one batch (today and at b799cab), the
tricks issue 9 removed put back one at a time (bent_lines.py), the MNIST-sized
row of issue 16 (784-100-10, 60,000 samples, float32), peak memory, scaling
against samples and width, and the start-up time of ``backprop-edu --help``.

    python benchmarks/bench_epoch.py                 # every part, float64 and float32
    python benchmarks/bench_epoch.py --quick         # small and fast: the tables and start-up
    python benchmarks/bench_epoch.py --only table --dtype float32 --repeats 11

What it leaves out: GPUs, other architectures, accuracy (every system trains on
the same random data; only the time of an epoch is compared).
"""

import argparse
import json
import linecache
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

LAYERS = (256, 512, 512, 10)  # n_0 (inputs), hidden widths, n_L (classes)
SAMPLES = 16_384
BATCH = 128
LR = 0.01
MNIST_LAYERS = (784, 100, 10)  # issue 16: one epoch of MNIST's size, float32, ≤ 1.5× the bound
MNIST_SAMPLES = 60_000
MNIST_TARGET = 1.5
BASELINE = "b799cab"  # the core before issue 9 (every line its equation)
BUDGET = 1.10         # issue 9: an epoch today within 1.10× of the baseline's
HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(HERE)


def make_data(n, n_in, n_classes, dtype, seed=0):
    """n random samples (rows) in ``dtype`` and n integer labels."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in), dtype=dtype)  # drawn in dtype: no float64 copy on the way
    y = rng.integers(0, n_classes, n)
    return X, y


def he_weights(sizes, dtype, seed=0):
    """W_l of shape (n_l, n_{l−1}) for every layer, He-scaled, in ``dtype``."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((n_out, n_in)) * np.sqrt(2 / n_in)).astype(dtype)
            for n_in, n_out in zip(sizes, sizes[1:])]


# -- the systems ------------------------------------------------------------------
# Each maker takes (X, y, sizes, dtype) and returns a function that runs one epoch.
# A worker process calls one maker (see worker()).


def make_bound(X, y, sizes, dtype, rows=False):
    """Only the products: 3 forward, 3 weight-gradient, 2 input-gradient per batch (for 3 layers).

    Columns orientation (rows=False), as the equations and backprop-edu write it:
    A_l = W_l H_{l−1} (n_l × m). rows=True computes the same products transposed,
    A_lᵀ = H_{l−1}ᵀ W_lᵀ (m × n_l), the way numpy users often write them.
    """
    W = he_weights(sizes, dtype)
    rng = np.random.default_rng(1)
    L = len(W)
    grad_W = [np.empty_like(w) for w in W]

    def buffers(m):
        """Forward outputs A, δ^(l) stand-ins D (realistic values), W_lᵀ δ^(l) for l ≥ 2 (G)."""
        def buffer(n):
            return rng.standard_normal((m, n) if rows else (n, m)).astype(dtype)
        return ([buffer(n) for n in sizes[1:]], [buffer(n) * 0.01 for n in sizes[1:]],
                [buffer(n) for n in sizes[1:-1]])

    last = X.shape[0] - (X.shape[0] - 1) // BATCH * BATCH  # the last batch may be smaller
    arrays = {m: buffers(m) for m in {BATCH, last}}

    def epoch():
        for start in range(0, X.shape[0], BATCH):
            batch = X[start:start + BATCH]
            A, D, G = arrays[batch.shape[0]]
            inputs = [batch if rows else batch.T] + A[:-1]  # H_0 = Xᵀ is a view
            for l in range(L):
                if rows:
                    np.matmul(inputs[l], W[l].T, out=A[l])
                else:
                    np.matmul(W[l], inputs[l], out=A[l])
            for l in range(L - 1, -1, -1):
                if rows:
                    np.matmul(D[l].T, inputs[l], out=grad_W[l])
                    if l > 0:
                        np.matmul(D[l], W[l], out=G[l - 1])
                else:
                    np.matmul(D[l], inputs[l].T, out=grad_W[l])
                    if l > 0:
                        np.matmul(W[l].T, D[l], out=G[l - 1])
    return epoch


def contract_network(sizes, dtype, dense=None):
    """A network through the contract every version shares: Dense layers (ReLU, identity
    output) drawn from one seeded generator, in a Network with softmax cross-entropy.

    Today's ``build_network(sizes, dtype=dtype, rng=0)`` draws the same weights."""
    from backprop_edu import Dense, Network
    dense = dense or Dense
    rng = np.random.default_rng(0)
    widths = list(zip(sizes[:-1], sizes[1:]))
    layers = [dense(n_in, n_out, activation="relu", rng=rng, dtype=dtype)
              for n_in, n_out in widths[:-1]]
    layers.append(dense(*widths[-1], activation="identity", rng=rng, dtype=dtype))
    return Network(layers, loss="softmax_cross_entropy")


def contract_epoch(X, y, net, opt):
    """One epoch through the public contract: net.forward, net.backward, opt.step()."""
    m = BATCH

    def epoch():
        for start in range(0, X.shape[0], m):
            net.forward(X[start:start + m])
            net.backward(y[start:start + m])
            opt.step()
    return epoch


def make_backprop_edu(X, y, sizes, dtype):
    """backprop-edu today: build_network, then net.forward, net.backward, SGD.step."""
    from backprop_edu import SGD, build_network
    net = build_network(sizes, dtype=dtype, rng=0)
    return contract_epoch(X, y, net, SGD(net, lr=LR))


def make_baseline(X, y, sizes, dtype):
    """backprop-edu at the baseline commit (its package first on sys.path), same contract."""
    from backprop_edu import SGD
    net = contract_network(sizes, dtype)
    return contract_epoch(X, y, net, SGD(net, lr=LR))


def make_bent(trick):
    """Today's package with one of the removed speed tricks put back (bent_lines.py)."""
    def make(X, y, sizes, dtype):
        import bent_lines
        from backprop_edu import SGD
        dense = {"out_buffers": bent_lines.BufferedDense, "mean_delta": bent_lines.MeanDeltaDense,
                 "ones_bp4": bent_lines.OnesDense}.get(trick)
        net = contract_network(sizes, dtype, dense)
        if trick == "relu_fill_max":
            for layer in net.layers[:-1]:
                layer.activation = layer.activation._replace(phi=bent_lines.relu_fill_max)
        opt = (bent_lines.TiledSGD if trick == "tiled_sgd" else SGD)(net, lr=LR)
        return contract_epoch(X, y, net, opt)
    return make


def make_torch(X, y, sizes, dtype):
    """nn.Sequential of Linear + ReLU, CrossEntropyLoss, optim.SGD; threads = the cores."""
    import torch
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    modules = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        modules += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*modules[:-1]).to(getattr(torch, np.dtype(dtype).name))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    m = BATCH

    def epoch():
        for start in range(0, X.shape[0], m):
            opt.zero_grad()
            loss = loss_fn(model(X_t[start:start + m]), y_t[start:start + m])
            loss.backward()
            opt.step()
    return epoch


def make_sklearn(X, y, sizes, dtype):
    """MLPClassifier(solver="sgd"), no momentum, L2 or shuffling; one partial_fit = one epoch."""
    import warnings

    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=sizes[1:-1], activation="relu", solver="sgd",
                        batch_size=BATCH, learning_rate_init=LR, momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, shuffle=False, random_state=0)
    classes = np.arange(sizes[-1])
    clf.partial_fit(X[:BATCH], y[:BATCH], classes=classes)  # initialise the weights once

    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(X, y)
    return epoch


def make_naive(X, y, sizes, dtype):
    """The contract written the obvious way: fresh arrays every step, a float64 bias.

    With float32 data and weights, ``a = W h + b`` silently becomes float64 (the
    bias is float64), and every later product then casts W to float64 first.
    """
    W = he_weights(sizes, dtype)
    b = [np.zeros(w.shape[0]) for w in W]  # float64, whatever the data
    L, m = len(W), BATCH

    def step(X_batch, labels):
        H, A = [X_batch.T], []
        for l in range(L):
            a = W[l] @ H[-1] + b[l][:, None]
            A.append(a)
            H.append(np.maximum(a, 0) if l < L - 1 else a)
        e = np.exp(A[-1] - A[-1].max(axis=0))
        delta = e / e.sum(axis=0)
        delta[labels, np.arange(len(labels))] -= 1            # BP1
        for l in range(L - 1, -1, -1):
            grad_W = delta @ H[l].T / m                         # BP3
            grad_b = delta.mean(axis=1)                         # BP4
            if l > 0:
                delta = (W[l].T @ delta) * (A[l - 1] > 0)       # BP2
            W[l] -= LR * grad_W
            b[l] -= LR * grad_b

    def epoch():
        for start in range(0, X.shape[0], m):
            step(X[start:start + m], y[start:start + m])
    return epoch


def make_train_loop(X, y, sizes, dtype):
    """One epoch of ``backprop_edu.train.train_epochs`` as ``backprop-edu train`` runs it:
    shuffling, batches gathered into reused buffers, per-layer norms, accuracy, the history
    record, and a per-batch progress callback (here a counter: the real bar draws on a terminal).
    No validation split, so that the epoch does the same work as the core row."""
    from backprop_edu import SGD, build_network
    from backprop_edu.train import train_epochs
    net = build_network(sizes, dtype=dtype, rng=0)
    opt = SGD(net, lr=LR)
    rng = np.random.default_rng(0)
    progress = [0]

    def on_batch(k):
        progress[0] = k

    def epoch():
        for record in train_epochs(net, opt, X, y, epochs=1, batch_size=BATCH, rng=rng,
                                   on_batch=on_batch):
            pass
    return epoch


BENT = {
    "relu_fill_max": "ReLU as zeros + max(a, zeros) instead of max(a, 0)",
    "out_buffers": "every array of the pass preallocated, written with out=",
    "mean_delta": "1/m applied to Δ_l (mean_delta) instead of to Δ_l H_{l−1}ᵀ",
    "ones_bp4": "BP4 as Δ_l 1 / m with a kept column of ones instead of the row mean",
    "tiled_sgd": "SGD step in cache-sized blocks of rows instead of θ −= η g",
}

# name: (label, maker, module that must be installed, runs the baseline package)
SYSTEMS = {
    "bound": ("only the matrix products the epoch needs (numpy matmul into preallocated arrays)",
              make_bound, None, False),
    "bound_rows": ("  the same products in the rows orientation (H_{{l−1}}ᵀ W_lᵀ), for reference",
                   lambda *a: make_bound(*a, rows=True), None, False),
    "backprop_edu": ("backprop-edu now (net.forward, net.backward, SGD.step)", make_backprop_edu,
                     None, False),
    "baseline": ("backprop-edu at {baseline} (before issue 9), the same calls", make_baseline,
                 None, True),
    "torch": ("PyTorch {version} (nn.Sequential + optim.SGD)", make_torch, "torch", False),
    "sklearn": ("scikit-learn {version} MLPClassifier (solver=sgd, partial_fit)", make_sklearn,
                "sklearn", False),
    "naive": ("a straightforward numpy implementation (fresh arrays, float64 bias)",
              make_naive, None, False),
    "train": ("backprop_edu.train loop (norms, shuffling, history), one epoch", make_train_loop,
              None, False),
}
SYSTEMS.update((f"bent_{trick}", ("now + " + what.replace("{", "{{").replace("}", "}}"),
                                    make_bent(trick), None, False))
               for trick, what in BENT.items())


def installed(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return None


# -- workers --------------------------------------------------------------------------


def worker(system, dtype, samples, sizes, warmup):
    """Run in a worker process: build one system once, warm it up, then time one epoch
    for every "epoch" line read from stdin, answering with the seconds on stdout."""
    X, y = make_data(samples, sizes[0], sizes[-1], dtype)
    epoch = SYSTEMS[system][1](X, y, sizes, dtype)
    for _ in range(warmup):
        epoch()
    print("ready " + json.dumps(package_info()), flush=True)
    for line in sys.stdin:
        if line.strip() != "epoch":
            break
        start = time.perf_counter()
        epoch()
        print(time.perf_counter() - start, flush=True)


def package_info():
    """Which backprop_edu this process imported (if any), and its first layer's initial W."""
    module = sys.modules.get("backprop_edu")
    return {"package": os.path.dirname(module.__file__) if module else None}


class Baseline:
    """The baseline commit's package, extracted with ``git archive`` into a temporary folder."""

    def __init__(self, commit):
        self.commit, self.folder, self.problem = commit, None, None
        if commit is None:
            self.problem = "no baseline asked for (--baseline none)"
            return
        self.temp = tempfile.TemporaryDirectory(prefix="backprop-edu-baseline-")
        archive = subprocess.run(["git", "-C", REPOSITORY, "archive", commit, "backprop_edu"],
                                 capture_output=True)
        if archive.returncode != 0:
            self.problem = (f"git archive {commit} failed: "
                            f"{archive.stderr.decode(errors='replace').strip()}")
            return
        subprocess.run(["tar", "-x", "-C", self.temp.name], input=archive.stdout, check=True)
        self.folder = self.temp.name

    def env(self):
        """The environment of a worker that must import the baseline's backprop_edu."""
        return dict(os.environ, PYTHONPATH=os.pathsep.join(
            [self.folder] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))

    def close(self):
        if self.folder:
            self.temp.cleanup()


class Worker:
    """A worker process for one system; epoch() returns the seconds of one epoch."""

    def __init__(self, system, dtype, samples, sizes, baseline=None, warmup=1):
        env = baseline.env() if SYSTEMS[system][3] else None
        command = [sys.executable, __file__, "--worker", system, "--dtype", dtype,
                   "--samples", str(samples), "--sizes", "-".join(map(str, sizes)),
                   "--warmup", str(warmup)]
        self.system = system
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1, env=env, cwd=HERE)
        self.baseline = baseline

    def ready(self):
        line = self.process.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"the {self.system} worker stopped before it was ready "
                               f"(exit code {self.process.wait()})")
        info = json.loads(line[len("ready "):])
        package = info["package"]
        if package is not None:
            in_baseline = self.baseline is not None and self.baseline.folder is not None and \
                os.path.commonpath([package, self.baseline.folder]) == self.baseline.folder
            if in_baseline != SYSTEMS[self.system][3]:
                raise RuntimeError(f"the {self.system} worker imported backprop_edu from "
                                   f"{package}: the wrong version")
        return info

    def epoch(self):
        self.process.stdin.write("epoch\n")
        return float(self.process.stdout.readline())

    def close(self):
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        self.process.wait()


PAUSE = 0.3  # seconds between two timed epochs: the thread pools of the last one go idle


def time_systems(systems, dtype, samples, sizes, repeats, baseline=None):
    """Seconds per epoch of each system, round by round: {name: [seconds of round 1, ...]}.

    Every system runs in its own worker process (built and warmed up once). Each round
    asks every worker for one epoch, starting one system later than the round before.
    numpy's OpenBLAS and PyTorch's OpenMP keep their worker threads spinning for a
    while after the last operation; with 2 cores, those threads would steal time
    from the next system's epoch, so a short pause comes before every epoch.
    """
    workers = {name: Worker(name, dtype, samples, sizes, baseline) for name in systems}
    try:
        for w in workers.values():
            w.ready()
        times = {name: [] for name in systems}
        order = list(systems)
        for r in range(repeats):
            for name in order[r % len(order):] + order[:r % len(order)]:
                time.sleep(PAUSE)
                times[name].append(workers[name].epoch())
        return times
    finally:
        for w in workers.values():
            w.close()


def medians(times):
    return {name: statistics.median(t) for name, t in times.items()}


def paired(times, a, b):
    """The ratio a / b of the medians; the median and range of the per-round ratios; the ratio
    of the fastest epochs (on a busy machine, the one least touched by other work)."""
    rounds = [x / y for x, y in zip(times[a], times[b])]
    ratio = statistics.median(times[a]) / statistics.median(times[b])
    return (f"**{ratio:.3f}×** (per round: median {statistics.median(rounds):.3f}×, "
            f"{min(rounds):.2f}–{max(rounds):.2f}×; fastest epochs: "
            f"{min(times[a]) / min(times[b]):.3f}×)")


def available(names, baseline):
    """The systems that can run here, their labels, and notes on the ones that cannot."""
    kept, labels, notes = [], {}, []
    for name in names:
        label, _, module, in_baseline = SYSTEMS[name]
        version = None
        if module is not None:
            version = installed(module)
            if version is None:
                notes.append(f"{module} is not installed: its row is skipped")
                continue
        if in_baseline and baseline.folder is None:
            notes.append(f"no baseline row: {baseline.problem}")
            continue
        kept.append(name)
        labels[name] = label.format(version=version, baseline=baseline.commit)
    return kept, labels, notes


def print_rows(times, labels, bound="bound"):
    """One row per system: the median epoch and the fastest, each as a ratio to the bound's."""
    seconds, fastest = medians(times), {name: min(t) for name, t in times.items()}
    print("| system | seconds per epoch | ratio to the bound | fastest epoch | its ratio |")
    print("|---|---|---|---|---|")
    for name, s in seconds.items():
        print(f"| {labels[name]} | {s:.3f} | {s / seconds[bound]:.2f}× | {fastest[name]:.3f} | "
              f"{fastest[name] / fastest[bound]:.2f}× |")


def print_table(title, times, labels, notes, baseline):
    seconds = medians(times)
    print(f"\n{title}")
    print_rows(times, labels)
    print()
    if "baseline" in seconds:
        print(f"- now / {baseline.commit}: {paired(times, 'backprop_edu', 'baseline')} "
              f"(budget ≤ {BUDGET:.2f}×)")
    if "torch" in seconds:
        print(f"- now / PyTorch: {paired(times, 'backprop_edu', 'torch')} (below 1: faster)")
    if "sklearn" in seconds:
        print(f"- now / scikit-learn: {paired(times, 'backprop_edu', 'sklearn')}")
    if "train" in seconds:
        print(f"- train loop / now (the CLI's overhead): {paired(times, 'train', 'backprop_edu')}")
    for note in notes:
        print(f"note: {note}")


def table_rows(dtype, samples, repeats, baseline):
    names, labels, notes = available(
        ["bound", "bound_rows", "backprop_edu", "baseline", "torch", "sklearn", "naive", "train"],
        baseline)
    times = time_systems(names, dtype, samples, LAYERS, repeats, baseline)
    print_table(dtype, times, labels, notes, baseline)


def bent_rows(dtype, samples, repeats, baseline):
    """Today's epoch with each removed trick put back, one at a time (bent_lines.py)."""
    names, labels, notes = available(
        ["backprop_edu"] + [f"bent_{t}" for t in BENT] + ["baseline"], baseline)
    times = time_systems(names, dtype, samples, LAYERS, repeats, baseline)
    seconds = medians(times)
    batches = -(-samples // BATCH)
    now = seconds["backprop_edu"]
    print(f"\nThe removed tricks, {dtype}: today's epoch with one of them put back "
          f"(median of {repeats})")
    print("| system | seconds per epoch | ratio to now | µs per batch against now |")
    print("|---|---|---|---|")
    for name, s in seconds.items():
        print(f"| {labels[name]} | {s:.3f} | {paired(times, name, 'backprop_edu')} | "
              f"{(s - now) / batches * 1e6:+.0f} |")
    for note in notes:
        print(f"note: {note}")


def mnist_rows(samples, repeats, baseline):
    """Issue 16's row: 784-100-10 on 60,000 samples at batch 128, float32, against its bound."""
    names, labels, notes = available(["bound", "backprop_edu", "baseline", "torch"], baseline)
    times = time_systems(names, "float32", samples, MNIST_LAYERS, repeats, baseline)
    seconds = medians(times)
    print(f"\nMNIST size, float32: {'-'.join(map(str, MNIST_LAYERS))} (ReLU), {samples} random "
          f"samples, batch {BATCH} (median of {repeats}; target ≤ {MNIST_TARGET}× the bound)")
    print_rows(times, labels)
    print(f"\n- now / the bound: {paired(times, 'backprop_edu', 'bound')}")
    for other, name in (("baseline", baseline.commit), ("torch", "PyTorch")):
        if other in seconds:
            print(f"- now / {name}: {paired(times, 'backprop_edu', other)}")
    for note in notes:
        print(f"note: {note}")


# -- profile ------------------------------------------------------------------------

# The functions whose lines the profile times one by one, in today's package and at the
# baseline; whatever else they call (numpy, the input checks) counts in the calling line.
PROFILED = {"network": ("Network.forward", "Network.forward_columns", "Network.backward",
                        "Network._loss_and_delta"),
            "layers": ("Dense.forward", "Dense.backward", "Dense.backward_from_delta"),
            "optim": ("Optimizer.step", "Optimizer.gradient", "SGD.update"),
            "losses": ("softmax_cross_entropy",),
            "activations": ("relu", "relu_prime", "identity", "identity_prime")}


def profiled_code():
    """The code objects of PROFILED that this process's backprop_edu has."""
    import importlib
    codes = set()
    for module_name, names in PROFILED.items():
        module = importlib.import_module(f"backprop_edu.{module_name}")
        for name in names:
            thing = module
            for part in name.split("."):
                thing = getattr(thing, part, None)
            if thing is not None:
                codes.add(thing.__code__)
    return codes


class LineClock:
    """Seconds spent on each line of the profiled functions, exclusive of the profiled
    functions it calls (sys.settrace; the tracer's own time is left out as far as a
    clock read at its start and end allows)."""

    def __init__(self, codes):
        self.codes, self.spent, self.stack = codes, {}, []
        self.line, self.since = None, 0.0

    def charge(self, now):
        if self.line is not None:
            self.spent[self.line] = self.spent.get(self.line, 0.0) + now - self.since

    def local(self, frame, event, arg):
        self.charge(time.perf_counter())
        if event == "line":
            self.line = (frame.f_code, frame.f_lineno)
        elif event == "return":
            self.line = self.stack.pop()
        self.since = time.perf_counter()
        return self.local

    def calls(self, frame, event, arg):
        started = time.perf_counter()
        if frame.f_code not in self.codes:
            self.since += time.perf_counter() - started  # the tracer's time is nobody's
            return None
        self.charge(started)
        self.stack.append(self.line)
        self.line = (frame.f_code, frame.f_code.co_firstlineno)  # the call itself
        self.since = time.perf_counter()
        return self.local

    def __enter__(self):
        self.spent.clear()
        self.line, self.since = None, time.perf_counter()
        sys.settrace(self.calls)
        return self

    def __exit__(self, *exc):
        sys.settrace(None)
        self.charge(time.perf_counter())


def describe(code, lineno):
    """'layers.py:Dense.forward  a = self.W @ h_prev + self.b[:, None]' for a profiled line."""
    where = f"{os.path.basename(code.co_filename)}:{code.co_qualname}"
    if lineno == code.co_firstlineno:
        return where, "(calling it)"
    text = linecache.getline(code.co_filename, lineno).strip()
    code_part = text.split("  #")[0].strip()
    return where, code_part


def profile_child(system, dtype, samples, repeats, sizes):
    """Run in a worker process: a per-line profile of the contract's batch, as JSON."""
    from backprop_edu import SGD
    X, y = make_data(samples, sizes[0], sizes[-1], dtype)
    if system == "baseline":
        net = contract_network(sizes, dtype)
    else:
        from backprop_edu import build_network
        net = build_network(sizes, dtype=dtype, rng=0)
    opt = SGD(net, lr=LR)
    bound = make_bound(X, y, sizes, dtype)
    plain = contract_epoch(X, y, net, opt)
    clock = LineClock(profiled_code())
    per_line, traced, bound_s, plain_s = {}, [], [], []
    for r in range(repeats + 1):  # the first round warms up and is not counted
        for start in range(0, samples, BATCH):
            X_batch, y_batch = X[start:start + BATCH], y[start:start + BATCH]
            t0 = time.perf_counter()
            with clock:
                net.forward(X_batch)
                net.backward(y_batch)
                opt.step()
            t1 = time.perf_counter()
            if r:
                traced.append(t1 - t0)
                for key, seconds in clock.spent.items():
                    per_line.setdefault(key, []).append(seconds)
        for times, epoch in ((bound_s, bound), (plain_s, plain)):
            time.sleep(PAUSE)
            t = time.perf_counter()
            epoch()
            if r:
                times.append(time.perf_counter() - t)
    batches = -(-samples // BATCH)
    rows = [describe(*key) + (statistics.median(v),) for key, v in per_line.items()]
    print(json.dumps({"rows": rows, "bound": statistics.median(bound_s) / batches,
                      "plain": statistics.median(plain_s) / batches,
                      "traced": statistics.median(traced), "package": package_info()["package"]}))


SMALL = 0.004  # lines below this fraction of the bound are added up per function


def lump(rows, small):
    """The rows, with each function's lines below ``small`` seconds added up into one row
    (the Python around the equations: calls, ifs, returns), placed where the first was."""
    out, rest = [], {}
    for where, line, seconds in rows:
        if seconds >= small:
            out.append([where, line, seconds])
        elif where in rest:
            rest[where][2] += seconds
        else:
            rest[where] = [where, "(its other lines, each small: calls, tests, returns)", seconds]
            out.append(rest[where])
    return out


def profile_rows(dtype, samples, repeats, baseline):
    """Where one batch of the contract spends its time, line by line, now and at the baseline.

    The real contract runs (net.forward, net.backward, SGD.step, nothing copied from the
    package) with a line clock (sys.settrace) on the lines of the layer, the loss, the
    activations, the optimiser and the network's passes; numpy calls and input checks count
    in the line that makes them. Medians per batch over every batch of ``repeats`` epochs,
    as fractions of the bound's batch (its epoch median / batches), next to the same
    contract's batch without the clock, timed in between.
    """
    for system in ("backprop_edu", "baseline"):
        if system == "baseline" and baseline.folder is None:
            print(f"note: no baseline profile: {baseline.problem}")
            continue
        command = [sys.executable, __file__, "--profile-child", system, "--dtype", dtype,
                   "--samples", str(samples), "--repeats", str(repeats)]
        env = baseline.env() if system == "baseline" else None
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env,
                             cwd=HERE)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        bound = result["bound"]
        name = f"at {baseline.commit}" if system == "baseline" else "now"
        print(f"\nProfile, {dtype}, backprop-edu {name}: one batch, line by line, medians, as "
              f"fractions of the bound's batch ({bound * 1e3:.3f} ms); "
              "× marks a line with a matrix product")
        print("| where | line (summed over the layers that run it) | fraction of the bound "
              "| µs per batch |")
        print("|---|---|---|---|")
        total = sum(seconds for _, _, seconds in result["rows"])
        for where, line, seconds in lump(result["rows"], SMALL * bound):
            mark = " ×" if "@" in line or "matmul(" in line else ""
            line = line if line.startswith("(") else f"`{line}`"
            print(f"| {where} | {line}{mark} | {seconds / bound:.3f} | {seconds * 1e6:.0f} |")
        print(f"| | sum of the lines | {total / bound:.3f} | {total * 1e6:.0f} |")
        print(f"| | the batch with the clock on | {result['traced'] / bound:.3f} | "
              f"{result['traced'] * 1e6:.0f} |")
        print(f"| | the batch without the clock | {result['plain'] / bound:.3f} | "
              f"{result['plain'] * 1e6:.0f} |")


# -- memory -------------------------------------------------------------------------


def memory_child(samples, dtype, system):
    """Run in a subprocess: the data, then one epoch; print peak memory as JSON."""
    import tracemalloc
    X, y = make_data(samples, LAYERS[0], LAYERS[-1], dtype)
    data_bytes = X.nbytes + y.nbytes
    tracemalloc.start()  # from here on: everything but the data
    epoch = SYSTEMS[system][1](X, y, LAYERS, dtype)
    epoch()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"data": data_bytes, "traced_peak": traced_peak, "max_rss": peak_rss()}))


def peak_rss():
    """This process's peak resident memory in bytes: VmHWM (ru_maxrss survives exec on Linux,
    so a child would report its parent's peak if that was larger)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def measure_memory(samples, dtype, system, baseline):
    env = baseline.env() if SYSTEMS[system][3] else None
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(samples),
                          "--dtype", dtype, "--system", system],
                         capture_output=True, text=True, check=True, env=env, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_rows(samples, dtype, baseline):
    systems, labels, notes = available(["backprop_edu", "baseline", "train"], baseline)
    print(f"\nPeak memory, {dtype}: one epoch in a fresh process "
          "(working = peak allocation after the data existed, tracemalloc; RSS = VmHWM)")
    print("| system | samples | data | working memory | peak RSS | RSS growth vs data growth |")
    print("|---|---|---|---|---|---|")
    mb = 2 ** 20
    for system in systems:
        small = measure_memory(samples, dtype, system, baseline)
        large = measure_memory(10 * samples, dtype, system, baseline)
        for n, r in ((samples, small), (10 * samples, large)):
            growth = ""
            if r is large:
                growth = (f"{(large['max_rss'] - small['max_rss']) / mb:.1f} MB vs "
                          f"{(large['data'] - small['data']) / mb:.1f} MB")
            print(f"| {labels[system].split(' (')[0]} | {n} | {r['data'] / mb:.1f} MB | "
                  f"{r['traced_peak'] / mb:.2f} MB | {r['max_rss'] / mb:.1f} MB | {growth} |")
    for note in notes:
        print(f"note: {note}")


# -- scaling ------------------------------------------------------------------------


def epoch_flops(sizes, samples):
    """Multiply-adds ×2 of the products an epoch needs (the bound's products)."""
    forward = sum(n_in * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    backward = forward + sum(n_in * n_out for n_in, n_out in zip(sizes[1:-1], sizes[2:]))
    return 2 * samples * (forward + backward)


def scaling_rows(dtype, samples, repeats):
    print(f"\nScaling, {dtype}: backprop-edu seconds per epoch against samples and width")
    print("| layers | samples | GFLOP per epoch | seconds | ns per sample | "
          "seconds per GFLOP | the bound's seconds per GFLOP | ratio to the bound |")
    print("|---|---|---|---|---|---|---|---|")
    cases = [(LAYERS, samples // 4), (LAYERS, samples), (LAYERS, samples * 4)]
    cases += [((256, w, w, 10), samples) for w in (128, 256, 1024)]
    for sizes, n in cases:
        t = medians(time_systems(["bound", "backprop_edu"], dtype, n, sizes, repeats))
        gflop = epoch_flops(sizes, n) / 1e9
        s = t["backprop_edu"]
        print(f"| {'-'.join(map(str, sizes))} | {n} | {gflop:.1f} | {s:.3f} | {s / n * 1e9:.0f} "
              f"| {s / gflop:.4f} | {t['bound'] / gflop:.4f} | {s / t['bound']:.2f}× |")


# -- start-up -----------------------------------------------------------------------


def startup_rows(repeats=5):
    exe = shutil.which("backprop-edu") or os.path.join(os.path.dirname(sys.executable),
                                                         "backprop-edu")
    print("\nStart-up")
    if not os.path.exists(exe):
        print("note: the backprop-edu command is not installed: no start-up row")
        return
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([exe, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    print(f"`backprop-edu --help`: {statistics.median(times) * 1000:.0f} ms (median of {repeats})")
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import backprop_edu.cli"],
                         capture_output=True, text=True)
    heavy = sorted({line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines()
                    if line.split("|")[-1].strip().split(".")[0] in ("matplotlib", "torch",
                                                                     "sklearn", "scipy")})
    print("heavy modules imported by `import backprop_edu.cli`: "
          + (", ".join(heavy) if heavy else "none (no matplotlib, torch, sklearn, scipy)"))


def machine():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return (f"{model}, {os.cpu_count()} cores (load average {load}); "
            f"Python {platform.python_version()}, numpy {np.__version__}")


PARTS = ("table", "profile", "bent", "mnist", "memory", "scaling", "startup")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a small run: 4,096 samples (MNIST row: 15,000), 3 repeats, "
                             "parts table, mnist and startup only")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both",
                        help="the dtype of data, weights and every array (default: both)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed epochs per system, median reported (default: 7, quick: 3)")
    parser.add_argument("--samples", type=int, default=None,
                        help=f"samples per epoch (default: {SAMPLES}, quick: 4096)")
    parser.add_argument("--mnist-samples", type=int, default=None,
                        help=f"samples of the MNIST row (default: {MNIST_SAMPLES}, quick: 15000)")
    parser.add_argument("--only", choices=PARTS, action="append", default=None,
                        help="run this part only (may be repeated; default: every part)")
    parser.add_argument("--baseline", default=BASELINE,
                        help=f"the commit to compare with (default: {BASELINE}; 'none': no "
                             "baseline rows)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--system", default="backprop_edu", help=argparse.SUPPRESS)
    args = parser.parse_args()

    sizes = tuple(map(int, args.sizes.split("-"))) if args.sizes else LAYERS
    if args.worker is not None:
        worker(args.worker, args.dtype, args.samples, sizes, args.warmup)
        return
    if args.profile_child is not None:
        profile_child(args.profile_child, args.dtype, args.samples, args.repeats, sizes)
        return
    if args.memory_child is not None:
        memory_child(args.memory_child, args.dtype, args.system)
        return
    samples = args.samples or (4096 if args.quick else SAMPLES)
    mnist_samples = args.mnist_samples or (15_000 if args.quick else MNIST_SAMPLES)
    repeats = args.repeats or (3 if args.quick else 7)
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    baseline = Baseline(None if args.baseline == "none" else args.baseline)
    print(f"Machine: {machine()}")
    print(f"One epoch: MLP {'-'.join(map(str, LAYERS))} (ReLU), {samples} samples, batch {BATCH}, "
          f"softmax cross-entropy, plain SGD; median of {repeats} epochs")
    parts = args.only or (("table", "mnist", "startup") if args.quick else PARTS)
    try:
        if "table" in parts:
            for dtype in dtypes:
                table_rows(dtype, samples, repeats, baseline)
        if "profile" in parts:
            for dtype in dtypes:
                profile_rows(dtype, samples, repeats, baseline)
        if "bent" in parts:
            for dtype in dtypes:
                bent_rows(dtype, samples, repeats, baseline)
        if "mnist" in parts:
            mnist_rows(mnist_samples, repeats, baseline)
        if "memory" in parts:
            for dtype in dtypes:
                memory_rows(samples, dtype, baseline)
        if "scaling" in parts:
            for dtype in dtypes:
                scaling_rows(dtype, samples, max(3, repeats // 2))
        if "startup" in parts:
            startup_rows()
    finally:
        baseline.close()


if __name__ == "__main__":
    main()
