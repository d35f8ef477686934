"""Regenerate every figure of the lab pages and tutorials into docs/figures/.

    python docs/make_figures.py            # all figures (about half a minute)
    python docs/make_figures.py modes      # only the figures whose name contains "modes"

Uses the installed package only: the same functions the `backprop-edu` commands call
(backprop_edu.experiments, .memory, .slowdown, .plots, .cost_plots, .gradient_figures),
and the commands themselves for the training histories, the decision regions, the saliency
maps and the adversarial digits. Every run uses a fixed seed, so the numbers in
the pages come out the same on every machine; only the timings of `modes` vary.
"""

import json
import os
import sys
import tempfile

from backprop_edu.cost_plots import plot_memory, plot_slowdown
from backprop_edu.experiments import modes_experiment, vanishing_experiment
from backprop_edu.memory import memory_experiment
from backprop_edu.plots import plot_history, plot_modes, plot_vanishing
from backprop_edu.slowdown import slowdown_experiment
from backprop_edu.stability import recurrent_experiment, stability_experiment
from backprop_edu.stability_plots import plot_recurrent, plot_stability

FIGURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures")


def vanishing():
    """backprop-edu vanishing --depth 12 --width 64 (sigmoid,tanh,relu × normal,xavier,he)."""
    plot_vanishing(vanishing_experiment(depth=12, width=64), os.path.join(FIGURES, "vanishing.png"))


def vanishing_std_1():
    """backprop-edu vanishing --depth 12 --width 64 --init normal --std 1."""
    result = vanishing_experiment(depth=12, width=64, inits=["normal"], std=1.0)
    plot_vanishing(result, os.path.join(FIGURES, "vanishing-std-1.png"),
                   title="Normal init N(0, 1): 12 hidden layers of 64 units")


def highway():
    """backprop-edu vanishing --depth 30 --activations sigmoid --residual."""
    result = vanishing_experiment(depth=30, width=64, activations=["sigmoid"], residual=True)
    plot_vanishing(result, os.path.join(FIGURES, "highway.png"))


def float16():
    """backprop-edu vanishing --depth 12 --activations sigmoid --dtype float16."""
    result = vanishing_experiment(depth=12, width=64, activations=["sigmoid"], dtype="float16")
    plot_vanishing(result, os.path.join(FIGURES, "float16.png"))


def modes():
    """backprop-edu modes --max-params 20000."""
    plot_modes(modes_experiment(max_params=20000), os.path.join(FIGURES, "modes.png"))


def stability():
    """backprop-edu stability (eigenvalues −0.5, −1±2i, −4; τ = 0.1, 0.3, 0.6; depth 40)."""
    plot_stability(stability_experiment(), os.path.join(FIGURES, "stability.png"))


def bptt():
    """backprop-edu stability --recurrent (T = 50, ρ = 0.9, 1, 2, tanh)."""
    plot_recurrent(recurrent_experiment(), os.path.join(FIGURES, "bptt.png"))


def training():
    """backprop-edu train --data moons --layers 2,16,16,2 --history ... --plot-boundary moons.png,
    then the history's figure (backprop-edu plot); and the same with 4 sigmoid hidden layers."""
    from backprop_edu.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        history = os.path.join(tmp, "run.json")
        main(["train", "--data", "moons", "--layers", "2,16,16,2", "--activation", "tanh",
              "--epochs", "40", "--lr", "0.3", "--seed", "0", "--quiet", "--history", history,
              "--plot-boundary", os.path.join(FIGURES, "moons.png")], standalone_mode=False)
        with open(history, encoding="utf-8") as f:
            plot_history(json.load(f), os.path.join(FIGURES, "history.png"))
        main(["train", "--data", "moons", "--layers", "2,16,16,16,16,2", "--activation",
              "sigmoid", "--epochs", "20", "--seed", "0", "--quiet", "--history", history],
             standalone_mode=False)
        with open(history, encoding="utf-8") as f:
            plot_history(json.load(f), os.path.join(FIGURES, "history-sigmoid.png"),
                         title="Training history: moons, 4 sigmoid hidden layers, 20 epochs")


def graphs():
    """backprop-edu graph, graph --tied and graph --residual (the computational graph)."""
    from backprop_edu.graph import (computational_graph, example_network, residual_network,
                                    tied_network)
    from backprop_edu.graph_figure import plot_graph

    plot_graph(computational_graph(example_network(), (2, -1), 1),
               os.path.join(FIGURES, "graph.png"))
    plot_graph(computational_graph(tied_network(), (2, -1), (2, -1)),
               os.path.join(FIGURES, "graph-tied.png"))
    plot_graph(computational_graph(residual_network(), (2, -1), 1),
               os.path.join(FIGURES, "graph-residual.png"))


def input_gradient():
    """backprop-edu saliency and backprop-edu adversarial (tutorial 7), each training the
    default digits classifier first."""
    from backprop_edu.cli import main

    main(["saliency", "--quiet", "-o", os.path.join(FIGURES, "saliency.png")],
         standalone_mode=False)
    main(["adversarial", "--quiet", "-o", os.path.join(FIGURES, "fgsm.png"), "--examples",
          os.path.join(FIGURES, "fgsm-examples.png")], standalone_mode=False)


def routing():
    """plot_routing on the small network of tutorial 7: max-pooling, dropout, average-pooling."""
    import numpy as np

    from backprop_edu import AvgPool, Dense, Dropout, MaxPool, Network
    from backprop_edu.gradient_figures import plot_routing

    rng = np.random.default_rng(0)
    net = Network([Dense(4, 8, activation="relu", rng=1), MaxPool(2),
                   Dense(4, 6, activation="tanh", rng=2), Dropout(0.5, rng=3), AvgPool(2),
                   Dense(3, 3, activation="identity", rng=4)], loss="softmax_cross_entropy")
    plot_routing(net, rng.standard_normal((12, 4)), np.arange(12) % 3,
                 os.path.join(FIGURES, "routing.png"))


def memory():
    """backprop-edu memory (layers 64,256×8,10, batch 256, float64; k = 3 = √9)."""
    result = memory_experiment([64] + [256] * 8 + [10], batch_size=256)
    plot_memory(result, os.path.join(FIGURES, "memory.png"))


def health():
    """backprop-edu train --layers 64,64,64,10 --lr 1 --epochs 10 --health --history ...,
    then its figure (backprop-edu plot): a learning rate that kills a layer's ReLU units."""
    from backprop_edu.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        history = os.path.join(tmp, "run.json")
        main(["train", "--layers", "64,64,64,10", "--lr", "1", "--epochs", "10", "--quiet",
              "--history", history], standalone_mode=False)
        with open(history, encoding="utf-8") as f:
            plot_history(json.load(f), os.path.join(FIGURES, "health.png"),
                         title="digits, 64-64-64-10 ReLU, SGD lr=1: layer 2's units die")


def slowdown():
    """backprop-edu slowdown (300 epochs, η = 0.15 for the neuron, 1 for the network)."""
    plot_slowdown(slowdown_experiment(), os.path.join(FIGURES, "slowdown.png"))


def main(only=""):
    os.makedirs(FIGURES, exist_ok=True)
    for make in (vanishing, vanishing_std_1, highway, float16, modes, stability, bptt, training,
                 graphs, input_gradient, routing, memory, health, slowdown):
        if only in make.__name__:
            make()
            print(f"{make.__name__}: done")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
