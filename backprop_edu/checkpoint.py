"""Gradient checkpointing: keep the input of every k-th layer, recompute the rest in backward.

A training pass keeps in every layer what its backward will need (a Dense layer:
h_{l−1}, a_l and h_l), so the memory of training grows with the depth L. Checkpointing
keeps less and computes more:

    net = Network(layers, loss, checkpoint_every=k)

cuts the L layers into segments of k layers, from the top (the lowest may be shorter):

    ... | layers L−2k+1..L−k | layers L−k+1..L, the top segment (with the output layer)

    forward    every layer computes as in a plain training pass, but below the top
               segment each layer lets go of its values (``forget()``) once it has
               computed its output. Only the input of each segment's first layer is
               kept: the checkpoint, the very array the first pass made.
               The top segment keeps its values: backward starts there.
    backward   BP1 and the top segment as usual. Before the highest layer of a lower
               segment runs its backward, the segment runs forward again from its
               checkpoint (a training pass: its layers hold h_{l−1}, a_l, h_l again),
               and the segment above, whose backward is done, lets go of its values.

Memory after the forward pass: about L/k checkpoints and the top segment's values,
instead of every layer's; during backward, one more segment's. The price: every layer
below the top segment, L − k of them, runs forward twice. With k ≈ √L both terms are
about √L layers. k = L is a plain training pass (one segment, nothing recomputed).

The gradients are the plain pass's, bit for bit. A recomputed segment starts from the
very array the first pass gave it, so every product sees the same numbers in the same
memory layout (a transposed view multiplies differently from a contiguous copy, in
the last bits); and a layer that draws random numbers in a training pass draws the
same ones again (below). Two optional members of the layer protocol (docs/layers.md)
serve checkpointing:

    forget()   let go of what the last training pass kept (Dense has it). A layer
               without it keeps its values: its gradients are still right, it just
               saves no memory.
    rng        the numpy Generator a layer draws from in a training pass (dropout's
               mask). Its state, rng.bit_generator.state, is saved before the layer's
               first forward and put back before the recomputation, so the same mask
               comes out; afterwards every generator is set back to where the first
               pass left it, so the next step draws what it would draw without
               checkpointing.

What is left out: choosing the cuts by memory rather than by count, nested
checkpointing, and the backward pass's own arrays (δ^(l) and ∂J/∂h_{l−1}, which every
layer keeps for you to read): checkpointing leaves those as they are.
"""

import numpy as np

from backprop_edu.errors import ParameterError


def check_interval(every, depth):
    """k, the number of layers per segment: a whole number from 1 to the depth L."""
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)):
        raise TypeError(f"checkpoint_every must be a whole number of layers from 1 to {depth}, "
                        f"got {every!r}")
    if not 1 <= every <= depth:
        raise ParameterError("checkpoint_every", "checkpoint_every must lie between 1 and the "
                             "number of layers ({depth}), got {every}: it keeps the input of "
                             "every k-th layer", depth=depth, every=every)
    return int(every)


def segment_starts(depth, every):
    """Where each segment begins, as 0-based layer indices, cut from the top: the top
    segment is the last k layers, the lowest may be shorter. L = 9, k = 4: [0, 1, 5]."""
    return [0] + list(range(depth - every, 0, -every))[::-1]


def generator_of(layer):
    """The numpy Generator a layer draws random numbers from (its ``rng``), or None."""
    rng = getattr(layer, "rng", None)
    return rng if isinstance(rng, np.random.Generator) else None


def let_go(layer):
    """Ask a layer to let go of its training pass's values, if it knows how (``forget``)."""
    forget = getattr(layer, "forget", None)
    if forget is not None:
        forget()


class Checkpoints:
    """The checkpoints of a network's last training pass, and the recomputation from them.

    Checkpoints(layers, every=2) on 5 layers: segments [1], [2, 3], [4, 5] (the top
    segment); the first pass keeps h_0 and h_1 and the values of layers 4 and 5.
    Network makes one when it is given checkpoint_every and calls ``forward`` and
    ``before_backward``.
    """

    def __init__(self, layers, every):
        self.layers = layers
        self.every = check_interval(every, len(layers))
        self.starts = segment_starts(len(layers), self.every)
        self.ends = self.starts[1:] + [len(layers)]  # one past each segment's last layer
        self.top = self.starts[-1]                   # the first layer of the top segment
        self.clear()

    def clear(self):
        """Forget the last pass's checkpoints."""
        self.inputs = {}      # segment start s -> the input of layer s, as the first pass made it
        self.rng_before = {}  # layer index -> its generator's state before its first forward
        self.rng_after = []   # [(generator, its state after the first pass)], one per generator
        self.holding = set()  # the starts of the segments whose layers hold their values

    def recomputed_layers(self):
        """How many layers run forward twice in a training step: those below the top segment."""
        return self.top

    def forward(self, H, training=True):
        """H_0 -> H_L. A training pass keeps the checkpoints and the top segment's values."""
        self.clear()
        if not training:  # an inference pass: the plain one, nothing kept
            for layer in self.layers:
                H = layer.forward(H, training=False)
            return H
        generators = {}
        for l, layer in enumerate(self.layers):
            if l in self.starts:
                self.inputs[l] = H  # a checkpoint: the segment's input, the same array
            rng = generator_of(layer)
            if rng is not None:
                self.rng_before[l] = rng.bit_generator.state
                generators[id(rng)] = rng
            H = layer.forward(H, training=True)
            if l < self.top:
                let_go(layer)       # recomputed before its backward
        self.rng_after = [(rng, rng.bit_generator.state) for rng in generators.values()]
        self.holding = {self.top}
        return H

    def before_backward(self, l):
        """Called before layer l's backward (0-based): at the highest layer of a lower segment,
        the segment above lets go of its values and this segment runs forward again."""
        if l + 1 not in self.ends or l >= self.top:
            return
        start, above = self.starts[self.ends.index(l + 1)], l + 1
        if above != self.top and above in self.holding:  # its backward is done
            for layer in self.layers[above:self.ends[self.starts.index(above)]]:
                let_go(layer)
            self.holding.discard(above)
        if start not in self.holding:
            self.recompute(start)

    def recompute(self, start):
        """Run the segment that begins at layer ``start`` forward again, from its checkpoint:
        the same input array, the same random numbers, so the same values, bit for bit."""
        H = self.inputs[start]
        for l in range(start, self.ends[self.starts.index(start)]):
            if l in self.rng_before:
                generator_of(self.layers[l]).bit_generator.state = self.rng_before[l]
            H = self.layers[l].forward(H, training=True)
        for rng, state in self.rng_after:  # where the first pass left every generator
            rng.bit_generator.state = state
        self.holding.add(start)
