"""Saving a network to one .npz file and loading it back; nothing is pickled.

The file holds one array per parameter, named after the parameter and its
layer ("W_1", "b_1", "W_2", ...), and an entry "architecture": JSON with the
file format, the loss, the dtype, every layer's config() and the network's
metadata. A parameter that two layers share (tied weights) is stored once and
the architecture says where else it is used ("shared": {"W_3": "W_1"}).

Loading rebuilds each layer from its config: the package's own layer types by
name, and a layer type from outside the package only when the caller passes
its class (``layers={"Scale": Scale}``); nothing is imported by name from the file.

What is left out: optimiser state (a loaded network starts a fresh optimiser).
"""

import json
import os
import zipfile

import numpy as np

from backprop_edu.files import atomic_file
from backprop_edu.layers import Dense
from backprop_edu.residual import Residual
from backprop_edu.routing import AvgPool, Dropout, MaxPool
from backprop_edu.tied import TiedDense

FILE_FORMAT = "backprop-edu network, version 2"
OLDER_FORMATS = ("backprop-edu network, version 1",)  # read as well (no dtype in the layers)
KNOWN_LAYERS = {"Dense": Dense, "Residual": Residual, "TiedDense": TiedDense, "MaxPool": MaxPool,
                "AvgPool": AvgPool, "Dropout": Dropout}
EXPECTED = "expected the .npz file written by Network.save(path)"


def npz_path(path):
    """The path save() writes: ``path`` itself if it ends in .npz, else path + ".npz"."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def save(net, path):
    """Write ``net`` to ``path`` (".npz" added when missing), atomically. Returns the path written."""
    path = npz_path(path)
    arrays, shared = {}, {}
    for parameter in net.parameters():
        arrays[parameter.name] = parameter.value
        for layer, name in parameter.places[1:]:
            shared[f"{name}_{net.layers.index(layer) + 1}"] = parameter.name
    architecture = {"format": FILE_FORMAT, "loss": net.loss.name, "dtype": str(net.dtype),
                    "layers": [layer.config() for layer in net.layers], "shared": shared,
                    "metadata": net.metadata}
    arrays["architecture"] = np.array(json.dumps(architecture))
    with atomic_file(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def read_arrays(path):
    """Every array of the .npz archive at ``path``; a ValueError if it is not one."""
    not_a_network = f"{path} is not a saved backprop-edu network"
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path} ({EXPECTED})")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory: {EXPECTED}")
    if not zipfile.is_zipfile(path):  # text, empty, truncated, .npy, ...
        raise ValueError(f"{not_a_network}: it is not an .npz (zip) archive; {EXPECTED}")
    try:
        with open(path, "rb") as f:
            data = np.load(f, allow_pickle=False)
            if not hasattr(data, "files"):
                raise ValueError("it holds a single array, not an .npz archive")
            with data:
                return {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{not_a_network} ({error}); {EXPECTED}") from None


def build_layer(l, config, kinds, dtype):
    """Layer ``l`` from its config: kinds[config["type"]](**the other entries)."""
    config = dict(config)
    kind = config.pop("type", None)
    if kind not in kinds:
        raise ValueError(f"layer {l} has the unknown type {kind!r}: for a layer class of your "
                         f"own, pass it: Network.load(path, layers={{{kind!r}: {kind}}})")
    if kinds[kind] in (Dense, Residual):
        config.setdefault("dtype", dtype)  # version 1 kept the dtype for the whole network only
        if kinds[kind] is Residual and "width" not in config:
            config["width"] = config.pop("n_in")
            config.pop("n_out")
    return kinds[kind](**config)


def load(path, layer_types=None):
    """(layers, loss, metadata) of the network saved at ``path`` (or ``path`` + ".npz")."""
    if not os.path.exists(path) and os.path.exists(npz_path(path)):
        path = npz_path(path)
    path = os.fspath(path)
    arrays = read_arrays(path)
    kinds = {**KNOWN_LAYERS, **(layer_types or {})}
    try:
        architecture = json.loads(str(arrays["architecture"]))
        if not isinstance(architecture, dict) or \
                architecture.get("format") not in (FILE_FORMAT,) + OLDER_FORMATS:
            raise ValueError(f"its architecture is not in the format {FILE_FORMAT!r}")
        layers = [build_layer(l, config, kinds, architecture["dtype"])
                  for l, config in enumerate(architecture["layers"], start=1)]
        shared = architecture.get("shared", {})
        for l, layer in enumerate(layers, start=1):
            for name in layer.params:
                key = f"{name}_{l}"
                if key in shared:  # the same array as an earlier layer's
                    first, first_l = shared[key].rsplit("_", 1)
                    setattr(layer, name, getattr(layers[int(first_l) - 1], first))
                    continue
                theta, saved = getattr(layer, name), arrays[key]
                if saved.shape != theta.shape:
                    raise ValueError(f"layer {l}'s {name} has shape {saved.shape}, but the layer "
                                     f"needs {theta.shape}")
                theta[...] = saved
        return layers, architecture["loss"], architecture.get("metadata")
    except KeyError as error:
        raise ValueError(f"{path} is not a saved backprop-edu network: it has no {error} entry; "
                         f"{EXPECTED}") from None
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise ValueError(f"{path} is not a saved backprop-edu network ({error}); "
                         f"{EXPECTED}") from None
