"""backprop-edu: backpropagation written as the four equations, in matrix form.

    from backprop_edu import Network, Dense
    net = Network([Dense(2, 2, activation="relu"),
                   Dense(2, 1, activation="identity")], loss="half_mse")

See docs/equations.md for the map from every equation to the line that computes it.
"""

from backprop_edu.builder import build_network
from backprop_edu.gradcheck import gradcheck
from backprop_edu.layers import Dense
from backprop_edu.network import Network
from backprop_edu.optim import SGD, Adam, Momentum
from backprop_edu.residual import Residual
from backprop_edu.routing import AvgPool, Dropout, MaxPool
from backprop_edu.tied import TiedDense

__version__ = "0.1.0"

__all__ = ["Network", "Dense", "Residual", "TiedDense", "MaxPool", "AvgPool", "Dropout",
           "build_network", "SGD", "Momentum", "Adam", "gradcheck", "__version__"]
