"""How fast is one epoch of the explicit equations? Timed against the matrix products it needs.

One epoch of plain mini-batch SGD (ReLU MLP 256-512-512-10, 16,384 samples,
batch 128, softmax cross-entropy), timed in one process, medians of repeated
runs, each system interleaved with the others round by round so that a busy
moment on the machine hits them all alike. Every row is a ratio to

    the bound: only the matrix products the epoch needs, numpy matmul into
    preallocated arrays. Per batch of m samples, for a network of L layers:
        L forward products       A_l = W_l H_{l−1}
        L weight-gradient ones   ∇W_l ∝ Δ_l H_{l−1}ᵀ                (BP3)
        L − 1 input-gradient     W_lᵀ Δ_l   (not for the first layer: nothing below needs it)

Rows: the bound; backprop-edu through its public contract (net.forward,
net.backward, SGD.step); PyTorch (nn.Sequential + optim.SGD) and scikit-learn
(MLPClassifier, solver="sgd", one epoch through partial_fit) when installed;
a straightforward numpy implementation of the contract (fresh arrays every
step, float32 silently upcast by a float64 bias). Then: the overhead of the
``backprop_edu.train`` loop (norms, shuffling, history) when it exists, peak
memory on a dataset 10× larger, scaling against samples and width, and the
start-up time of ``backprop-edu --help``.

    python benchmarks/bench_epoch.py                 # the full comparison, float64 and float32
    python benchmarks/bench_epoch.py --quick         # a small run, in seconds
    python benchmarks/bench_epoch.py --dtype float32 --repeats 11

What it leaves out: GPUs, other architectures, accuracy (every system trains on
the same random data; only the time of an epoch is compared).
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

LAYERS = (256, 512, 512, 10)  # n_0 (inputs), hidden widths, n_L (classes)
SAMPLES = 16_384
BATCH = 128
LR = 0.01


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


def make_bound(X, y, sizes, dtype, rows=False):
    """Only the products: 3 forward, 3 weight-gradient, 2 input-gradient per batch (for 3 layers).

    Columns orientation (rows=False), as the equations and backprop-edu write it:
    A_l = W_l H_{l−1} (n_l × m). rows=True computes the same products transposed,
    A_lᵀ = H_{l−1}ᵀ W_lᵀ (m × n_l), the way numpy users often write them.
    """
    W = he_weights(sizes, dtype)
    rng = np.random.default_rng(1)
    m, L = BATCH, len(W)

    def buffer(n):
        shape = (m, n) if rows else (n, m)
        return rng.standard_normal(shape).astype(dtype)

    A = [buffer(n) for n in sizes[1:]]          # forward outputs
    D = [buffer(n) * 0.01 for n in sizes[1:]]   # δ^(l), stand-ins with realistic values
    G = [buffer(n) for n in sizes[1:-1]]        # W_lᵀ δ^(l), for l ≥ 2
    grad_W = [np.empty_like(w) for w in W]

    def epoch():
        for start in range(0, X.shape[0], m):
            batch = X[start:start + m]
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


def build_network(sizes, dtype):
    from backprop_edu import Dense, Network
    layers = [Dense(n_in, n_out, activation="relu", rng=l, dtype=dtype)
              for l, (n_in, n_out) in enumerate(zip(sizes[:-2], sizes[1:-1]))]
    layers.append(Dense(sizes[-2], sizes[-1], activation="identity", rng=99, dtype=dtype))
    return Network(layers, loss="softmax_cross_entropy")


def make_backprop_edu(X, y, sizes, dtype):
    """backprop-edu through the public contract: net.forward, net.backward, SGD.step."""
    from backprop_edu import SGD
    net = build_network(sizes, dtype)
    opt = SGD(net, lr=LR)
    m = BATCH

    def epoch():
        for start in range(0, X.shape[0], m):
            net.forward(X[start:start + m])
            net.backward(y[start:start + m])
            opt.step()
    return epoch


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


def train_loop_available():
    try:
        import backprop_edu.train  # noqa: F401
    except ImportError:
        return False
    return True


def make_train_loop(X, y, sizes, dtype):
    """One epoch of ``backprop_edu.train.train_epochs`` as ``backprop-edu train`` runs it:
    shuffling, batches gathered into reused buffers, per-layer norms, accuracy, the history
    record, and a per-batch progress callback (here a counter: the real bar draws on a terminal).
    No validation split, so that the epoch does the same work as the core row."""
    from backprop_edu import SGD
    from backprop_edu.train import train_epochs
    net = build_network(sizes, dtype)
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


SYSTEMS = {
    "bound": ("only the matrix products the epoch needs (numpy matmul into preallocated arrays)",
              make_bound, None),
    "bound_rows": ("  the same products in the rows orientation (H_{{l−1}}ᵀ W_lᵀ), for reference",
                   lambda *a: make_bound(*a, rows=True), None),
    "backprop_edu": ("backprop-edu (net.forward, net.backward, SGD.step)", make_backprop_edu, None),
    "torch": ("PyTorch {version} (nn.Sequential + optim.SGD)", make_torch, "torch"),
    "sklearn": ("scikit-learn {version} MLPClassifier (solver=sgd, partial_fit)", make_sklearn,
                "sklearn"),
    "naive": ("a straightforward numpy implementation of the contract (fresh arrays, float64 bias)",
              make_naive, None),
}


def installed(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return None


PAUSE = 0.3  # seconds between two timed epochs: the thread pools of the last one go idle


def time_systems(makers, repeats, warmup=1):
    """Median seconds per epoch of each system, the systems interleaved round by round.

    numpy's OpenBLAS and PyTorch's OpenMP keep their worker threads spinning for a
    while after the last operation; with 2 cores, those threads would steal time
    from the next system's epoch. A short pause before every epoch lets them sleep.
    """
    for epoch in makers.values():
        for _ in range(warmup):
            epoch()
    times = {name: [] for name in makers}
    for _ in range(repeats):
        for name, epoch in makers.items():
            time.sleep(PAUSE)
            start = time.perf_counter()
            epoch()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def comparison(dtype, samples, repeats, include_train):
    """The table: seconds per epoch and the ratio to the bound, for every available system."""
    X, y = make_data(samples, LAYERS[0], LAYERS[-1], dtype)
    makers, labels, notes = {}, {}, []
    for name, (label, make, module) in SYSTEMS.items():
        version = None
        if module is not None:
            version = installed(module)
            if version is None:
                notes.append(f"{module} is not installed: its row is skipped")
                continue
        makers[name] = make(X, y, LAYERS, dtype)
        labels[name] = label.format(version=version)
    if include_train:
        if train_loop_available():
            makers["train"] = make_train_loop(X, y, LAYERS, dtype)
            labels["train"] = "backprop_edu.train loop (norms, shuffling, history), one epoch"
        else:
            notes.append("backprop_edu.train does not exist yet: no CLI-overhead row")
    seconds = time_systems(makers, repeats)
    return seconds, labels, notes


def print_table(title, seconds, labels, notes, bound="bound"):
    print(f"\n{title}")
    print(f"| system | seconds per epoch | ratio to the bound |")
    print("|---|---|---|")
    for name, s in seconds.items():
        print(f"| {labels[name]} | {s:.3f} | {s / seconds[bound]:.2f}× |")
    if "train" in seconds:
        print(f"\nCLI-overhead ratio (train loop / backprop-edu core epoch): "
              f"{seconds['train'] / seconds['backprop_edu']:.2f}×")
    for note in notes:
        print(f"note: {note}")


# -- profile ------------------------------------------------------------------------


def profile_rows(dtype, samples, repeats):
    """Where a backprop-edu batch spends its time beyond the products, as fractions of the bound.

    The real contract runs (net.forward, net.backward, SGD.step, nothing copied from the
    layers); np.matmul and the loss are wrapped with a clock, so each step splits into: the
    products (matrix × matrix), BP4's matrix × vector, the rest of forward (+ b, φ, the
    boundary), the loss (BP1), the rest of backward (φ′, ⊙, 1/m, Python), the SGD step.
    Medians per batch over every batch of ``repeats`` epochs; the bound's batch is its epoch
    median / batches. The wrappers add about 0.5 µs per call to the "rest" rows.
    """
    from backprop_edu import SGD
    X, y = make_data(samples, LAYERS[0], LAYERS[-1], dtype)
    net = build_network(LAYERS, dtype)
    opt = SGD(net, lr=LR)
    bound, core = make_bound(X, y, LAYERS, dtype), make_backprop_edu(X, y, LAYERS, dtype)
    clock, matmul, loss = time.perf_counter, np.matmul, net.loss
    spent = {}

    def timed_matmul(a, b, out=None):
        start = clock()
        result = matmul(a, b, out=out)
        key = "BP4 (1/m) Δ_l 1, matrix × vector" if np.ndim(b) == 1 else "products"
        spent[key] = spent.get(key, 0.0) + clock() - start
        return result

    def timed_loss(*args):
        start = clock()
        J = loss.value_and_delta(*args)
        spent["loss: softmax, J, BP1"] = clock() - start
        return J

    net.loss = loss._replace(value_and_delta=timed_loss)
    rows, bound_s, core_s = {}, [], []
    np.matmul = timed_matmul
    try:
        for r in range(repeats + 1):  # the first epoch warms up and is not counted
            for start in range(0, samples, BATCH):
                spent.clear()
                t0 = clock()
                net.forward(X[start:start + BATCH])
                t1 = clock()
                forward_products = spent.pop("products", 0.0)
                net.backward(y[start:start + BATCH])
                t2 = clock()
                opt.step()
                t3 = clock()
                part = {"products": forward_products + spent.get("products", 0.0),
                        "forward beyond its products: + b, φ, the boundary":
                            t1 - t0 - forward_products}
                part.update((k, v) for k, v in sorted(spent.items()) if k != "products")
                part["backward beyond products and loss: φ′, ⊙, 1/m, Python"] = \
                    t2 - t1 - sum(spent.values())
                part["SGD step θ ← θ − η g"] = t3 - t2
                if r:
                    for k, v in part.items():
                        rows.setdefault(k, []).append(v)
            np.matmul = matmul
            if r:
                for times, epoch in ((bound_s, bound), (core_s, core)):
                    time.sleep(PAUSE)
                    t = clock()
                    epoch()
                    times.append(clock() - t)
            np.matmul = timed_matmul
    finally:
        np.matmul = matmul
    batches = -(-samples // BATCH)
    per_batch = statistics.median(bound_s) / batches
    print(f"\nProfile, {dtype}: one batch of backprop-edu, medians, as fractions of the bound's "
          f"batch ({per_batch * 1e3:.3f} ms)")
    print("| part | fraction of the bound | µs per batch |")
    print("|---|---|---|")
    total = 0.0
    for k, v in rows.items():
        median = statistics.median(v)
        total += median
        print(f"| {k} | {median / per_batch:.3f} | {median * 1e6:.0f} |")
    print(f"| sum of the parts | {total / per_batch:.3f} | {total * 1e6:.0f} |")
    core_batch = statistics.median(core_s) / batches
    print(f"| the contract's batch, not instrumented | {core_batch / per_batch:.3f} | "
          f"{core_batch * 1e6:.0f} |")


# -- memory -------------------------------------------------------------------------


def memory_child(samples, dtype, system):
    """Run in a subprocess: the data, then one epoch; print peak memory as JSON."""
    import tracemalloc
    X, y = make_data(samples, LAYERS[0], LAYERS[-1], dtype)
    data_bytes = X.nbytes + y.nbytes
    tracemalloc.start()  # from here on: everything but the data
    epoch = {"backprop_edu": make_backprop_edu, "train": make_train_loop}[system](
        X, y, LAYERS, dtype)
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


def measure_memory(samples, dtype, system):
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(samples),
                          "--dtype", dtype, "--system", system],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_rows(samples, dtype, systems):
    print(f"\nPeak memory, {dtype}: one epoch in a fresh process "
          "(working = peak allocation after the data existed, tracemalloc; RSS = VmHWM)")
    print("| system | samples | data | working memory | peak RSS | RSS growth vs data growth |")
    print("|---|---|---|---|---|---|")
    mb = 2 ** 20
    for system in systems:
        small = measure_memory(samples, dtype, system)
        large = measure_memory(10 * samples, dtype, system)
        for n, r in ((samples, small), (10 * samples, large)):
            growth = ""
            if r is large:
                growth = (f"{(large['max_rss'] - small['max_rss']) / mb:.1f} MB vs "
                          f"{(large['data'] - small['data']) / mb:.1f} MB")
            print(f"| {system} | {n} | {r['data'] / mb:.1f} MB | {r['traced_peak'] / mb:.2f} MB "
                  f"| {r['max_rss'] / mb:.1f} MB | {growth} |")


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
        X, y = make_data(n, sizes[0], sizes[-1], dtype)
        t = time_systems({"bound": make_bound(X, y, sizes, dtype),
                          "backprop_edu": make_backprop_edu(X, y, sizes, dtype)}, repeats)
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
    return (f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"numpy {np.__version__}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a small run: 4,096 samples, 3 repeats, no memory or scaling rows")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both",
                        help="the dtype of data, weights and every array (default: both)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed epochs per system, median reported (default: 7, quick: 3)")
    parser.add_argument("--samples", type=int, default=None,
                        help=f"samples per epoch (default: {SAMPLES}, quick: 4096)")
    parser.add_argument("--only", choices=("table", "profile", "memory", "scaling", "startup"),
                        default=None,
                        help="run one part only (default: all parts)")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--system", default="backprop_edu", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_child is not None:
        memory_child(args.memory_child, args.dtype, args.system)
        return
    samples = args.samples or (4096 if args.quick else SAMPLES)
    repeats = args.repeats or (3 if args.quick else 7)
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    print(f"Machine: {machine()}")
    print(f"One epoch: MLP {'-'.join(map(str, LAYERS))} (ReLU), {samples} samples, batch {BATCH}, "
          f"softmax cross-entropy, plain SGD; median of {repeats} epochs")
    parts = (args.only,) if args.only else ("table", "profile", "memory", "scaling", "startup")
    if "table" in parts:
        for dtype in dtypes:
            seconds, labels, notes = comparison(dtype, samples, repeats, include_train=True)
            print_table(f"{dtype}", seconds, labels, notes)
    if "profile" in parts and not args.quick:
        for dtype in dtypes:
            profile_rows(dtype, samples, repeats)
    if "memory" in parts and not args.quick:
        systems = ["backprop_edu"] + (["train"] if train_loop_available() else [])
        for dtype in dtypes:
            memory_rows(samples, dtype, systems)
    if "scaling" in parts and not args.quick:
        for dtype in dtypes:
            scaling_rows(dtype, samples, max(3, repeats // 2))
    if "startup" in parts:
        startup_rows()


if __name__ == "__main__":
    main()
