"""Drawing the computational graph (backprop_edu.graph) with matplotlib: boxes and arrows.

    plot_graph(graph, "graph.png")        # .png, .svg or .pdf
    fig = draw_graph(graph)               # the figure, to look at or to test

One box per node, with its formula, its value and its gradient ∂J/∂(node); a node
whose gradient is a sum (a shared W, the input of a residual block) shows each part
and the sum. Every edge is two arrows: grey forward (the value) and red backward (the
gradient), the red one labelled with the equation it carries (BP1..BP4, the hand-down
Wᵀδ, the loss's ∇ŷJ, a residual block's identity path). A 0* is a zero that comes from
φ′(a) = 0. The layout: the chain x, a_1, h_1, ..., ŷ, J on one row, every W above the
a that uses it (between them, for a shared one), every b below, and a residual block's
identity path as a lane under everything.

Every number shown is the graph's own (read from the network by backprop_edu.graph);
this module formats and places them and computes nothing else. The sizes of the boxes
and gaps come from the measured size of their text, so labels never overlap.

What is left out: graphs of more than a handful of layers (graph.MAX_LAYERS), any
interaction; graphviz (matplotlib only, so nothing else needs installing).
"""

import math

import numpy as np

from backprop_edu.example import exact
from backprop_edu.plots import _pyplot, check_figure_path, save_figure

DPI = 110              # the figure's pixels per inch
FONT = 10              # points, for the boxes' numbers and the edge labels
PAD = 0.09             # inches of padding inside a box
MIN_GAP = 0.75         # inches between two columns (more when a label needs it)
ROW_GAP = 0.55         # inches between the rows (more when a label needs it)
MARGIN = 0.3           # inches around everything
SHORT = 3              # a vector of more entries is written as a column
OFFSET = 0.055         # inches between the forward and the backward arrow of an edge
FORWARD, BACKWARD, SUM = "#666666", "#c0392b", "#e67e22"
FILL = {"input": "#dbe9f6", "parameter": "#fdf2d0", "pre-activation": "#e2f0e2",
        "activation": "#dbe9f6", "branch": "#dbe9f6", "output": "#dbe9f6", "loss": "#eeeeee"}
MONO = {"family": "DejaVu Sans Mono", "size": FONT}
TITLE = {"family": "DejaVu Sans", "size": FONT + 0.5, "weight": "bold"}
LABEL = {"family": "DejaVu Sans", "size": FONT - 0.5, "color": BACKWARD}
LEGEND = [
    "grey arrows: forward, the values.  red arrows: backward, the gradients, each labelled with "
    "its equation:",
    "  BP1  δ⁽ᴸ⁾ = φ′(a_L) ⊙ ∂J/∂ŷ               BP3  ∇W_l = δ⁽ˡ⁾ h_{l−1}ᵀ",
    "  BP2  δ⁽ˡ⁾ = φ′(a_l) ⊙ ∂J/∂h_l             BP4  ∇b_l = δ⁽ˡ⁾",
    "  Wᵀδ  ∂J/∂h_{l−1} = W_lᵀ δ⁽ˡ⁾, handed down   ∇ŷJ  the loss's gradient",
]
ZERO_LEGEND = "  0*   zero because φ′(a) = 0 there (a ReLU unit that is off: relu′ = 0)"
SUM_LEGEND = ("  Σ    a value used twice: its gradient is the sum of the parts "
              "(orange box)")


# -- text -----------------------------------------------------------------------------

def number(value, zero=False):
    """One entry: an exact fraction when it is one (5/2), else 4 significant digits;
    '0*' for a zero that comes from φ′ = 0; '—' for an overflowed value (null)."""
    if value is None:
        return "—"
    return exact(value, max_denominator=64, digits=4) + ("*" if zero else "")


def value_lines(value, marks=None):
    """A number, a vector '(3, -2)', or a matrix as one bracketed row per line, aligned."""
    if not isinstance(value, list):
        return [number(value, bool(marks))]
    if not isinstance(value[0], list):
        marks = marks or [False] * len(value)
        return ["(" + ", ".join(number(v, m) for v, m in zip(value, marks)) + ")"]
    marks = marks or [[False] * len(row) for row in value]
    cells = [[number(v, m) for v, m in zip(row, row_marks)]
             for row, row_marks in zip(value, marks)]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
    return ["[ " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)) + " ]"
            for row in cells]


def node_body(node, labels):
    """The lines of a box under its title: 'value', the gradient, and the parts of a sum.

    A vector of more than SHORT entries is written as a column, as the textbook writes
    vectors, with its gradient (and the parts of a sum) in the columns beside it."""
    rows = [("value", node["value"], None)]
    if node["parts"]:
        rows += [(f"from {labels[part['via']]}", part["grad"], part["zero_from_phi_prime"])
                 for part in node["parts"]]
        rows.append((f"Σ {node['grad_symbol']}", node["grad"], node["zero_from_phi_prime"]))
    else:
        rows.append((node["grad_symbol"], node["grad"], node["zero_from_phi_prime"]))
    value = node["value"]
    if isinstance(value, list) and not isinstance(value[0], list) and len(value) > SHORT:
        columns = [[name] + [number(v, bool(m))
                             for v, m in zip(values, marks or [0] * len(values))]
                   for name, values, marks in rows]
        widths = [max(len(cell) for cell in column) for column in columns]
        return "\n".join("  ".join(column[i].ljust(w) for column, w in zip(columns, widths))
                         for i in range(len(columns[0])))
    width = max(len(name) for name, _, _ in rows)
    lines = []
    for name, values, marks in rows:
        lines += [(name if i == 0 else "").ljust(width) + "  " + line
                  for i, line in enumerate(value_lines(values, marks))]
    return "\n".join(lines)


def edge_label(edge):
    """The short label of a backward edge: BP1..BP4, the hand-down (W₂ᵀ δ⁽²⁾), ∇ŷJ, ..."""
    if edge["equation"] == "hand-down":
        return edge["formula"].split("= ", 1)[1]
    return {"loss": "∇ŷJ"}.get(edge["equation"], edge["equation"])


# -- layout -------------------------------------------------------------------------

class Box:
    """A node's box: centre (x, y) and size (w, h), in inches."""

    def __init__(self, node, title, body, size):
        self.node, self.title, self.body = node, title, body
        self.w, self.h = size
        self.x = self.y = 0.0

    def exit(self, start, towards, gap=0.03):
        """Where the segment from ``start`` (inside the box) to ``towards`` leaves the box."""
        (x0, y0), (x1, y1) = start, towards
        dx, dy = x1 - x0, y1 - y0
        steps = []
        if dx:
            steps.append((self.x + math.copysign(self.w / 2 + gap, dx) - x0) / dx)
        if dy:
            steps.append((self.y + math.copysign(self.h / 2 + gap, dy) - y0) / dy)
        t = min(step for step in steps if step >= 0)
        return (x0 + t * dx, y0 + t * dy)


def place(graph, measure):
    """Boxes for every node, and the columns and rows they sit in (all in inches)."""
    labels = {node["id"]: node["label"] for node in graph["nodes"]}
    boxes = {}
    for node in graph["nodes"]:
        title = node["formula"]
        if node["parts"]:
            title += f"\nΣ: the gradients of {len(node['parts'])} paths add"
        body = node_body(node, labels)
        (tw, th), (bw, bh) = measure(title, TITLE), measure(body, MONO)
        boxes[node["id"]] = Box(node, title, body, (max(tw, bw) + 2 * PAD, th + bh + 3 * PAD))

    chain = [n["id"] for n in graph["nodes"] if n["kind"] != "parameter"]
    column = {node_id: float(c) for c, node_id in enumerate(chain)}
    row = {node_id: 0 for node_id in chain}
    for node in graph["nodes"]:
        if node["kind"] == "parameter":  # above (W) or below (b) the a that uses it
            users = [e["to"] for e in graph["edges"]
                     if e["from"] == node["id"] and e["direction"] == "forward"]
            column[node["id"]] = float(np.mean([column[u] for u in users]))
            row[node["id"]] = 1 if node["id"].startswith("W") else -1

    backward = {(e["from"], e["to"]): e for e in graph["edges"] if e["direction"] == "backward"}
    pairs = [(e, backward[(e["to"], e["from"])]) for e in graph["edges"]
             if e["direction"] == "forward"]

    # column widths, and gaps wide enough for the labels of the edges between them
    n_columns = len(chain)
    widths = [0.0] * n_columns
    for node_id, c in column.items():
        if c == int(c):
            widths[int(c)] = max(widths[int(c)], boxes[node_id].w)
    gaps = [MIN_GAP] * n_columns
    for forward, back in pairs:
        cu, cv = column[forward["from"]], column[forward["to"]]
        if row[forward["from"]] == row[forward["to"]] and abs(cu - cv) == 1:
            label_w, _ = measure(edge_label(back), LABEL)
            gaps[int(min(cu, cv))] = max(gaps[int(min(cu, cv))], label_w + 0.35)
    centres, x = [], MARGIN
    for c in range(n_columns):
        centres.append(x + widths[c] / 2)
        x += widths[c] + gaps[c]
    width = x - gaps[-1] + MARGIN
    for node_id, box in boxes.items():
        c = column[node_id]
        low = int(math.floor(c))
        box.x = centres[low] + (c - low) * (centres[min(low + 1, n_columns - 1)] - centres[low])

    # a shared parameter between two far layers may land on another's place: one row further
    taken = []
    for node_id in sorted((i for i in boxes if row[i] != 0),
                          key=lambda i: bool(boxes[i].node["parts"])):  # shared ones last
        box = boxes[node_id]
        while any(r == row[node_id] and left < box.x + box.w / 2 and box.x - box.w / 2 < right
                  for r, left, right in taken):
            row[node_id] += 1 if row[node_id] > 0 else -1
        taken.append((row[node_id], box.x - box.w / 2 - 0.2, box.x + box.w / 2 + 0.2))

    heights = {r: max(boxes[i].h for i in boxes if row[i] == r) for r in set(row.values())}
    label_h = measure("BP3", LABEL)[1]
    row_gap = max(ROW_GAP, label_h + 0.35)
    lanes = [p for p in pairs if p[0]["equation"] == "identity"]
    lane_room = (0.25 + 2 * OFFSET + label_h + 0.15) if lanes else 0.0
    return boxes, row, pairs, width, heights, row_gap, lane_room


# -- drawing ------------------------------------------------------------------------------

def draw_graph(graph, title=None):
    """The figure of ``graph`` (what backprop_edu.graph.computational_graph returns)."""
    plt = _pyplot()
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    fig = plt.figure(dpi=DPI)
    renderer = fig.canvas.get_renderer()

    def measure(text, style):
        artist = fig.text(0, 0, text, **style)
        extent = artist.get_window_extent(renderer)
        artist.remove()
        return extent.width / DPI, extent.height / DPI

    boxes, row, pairs, width, heights, row_gap, lane_room = place(graph, measure)
    zeros = any(n["zero_from_phi_prime"] or any(p["zero_from_phi_prime"]
                                                for p in n["parts"] or [])
                for n in graph["nodes"])
    legend = LEGEND + ([ZERO_LEGEND] if zeros else []) + \
        ([SUM_LEGEND] if graph["sums"] else [])
    legend_w, legend_h = measure("\n".join(legend), {**MONO, "size": FONT - 1})
    if title is None:
        title = (f"The computational graph, one sample: x = {value_lines(graph['x'])[0]}, "
                 f"y = {value_lines(graph['y'])[0]}, J = {number(graph['J'])}")
    title_w, title_h = measure(title, {**TITLE, "size": FONT + 3})

    width = max(width, legend_w + 2 * MARGIN, title_w + 2 * MARGIN)
    y = MARGIN + legend_h + 0.3 + lane_room - row_gap
    for r in sorted(heights):              # the rows bottom up: b's, the chain, W's
        y += row_gap + heights[r] / 2
        for box in boxes.values():
            if row[box.node["id"]] == r:
                box.y = y
        y += heights[r] / 2
    height = y + 0.25 + title_h + MARGIN

    fig.set_size_inches(width, height)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    ax.text(width / 2, height - MARGIN, title, ha="center", va="top",
            **{**TITLE, "size": FONT + 3})
    ax.text(MARGIN, MARGIN, "\n".join(legend), ha="left", va="bottom",
            **{**MONO, "size": FONT - 1})

    for box in boxes.values():
        summed = bool(box.node["parts"])
        ax.add_patch(FancyBboxPatch((box.x - box.w / 2, box.y - box.h / 2), box.w, box.h,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=FILL.get(box.node["kind"], "white"),
                                    edgecolor=SUM if summed else "#333333",
                                    linewidth=2.2 if summed else 1.0))
        top = box.y + box.h / 2 - PAD
        ax.text(box.x, top, box.title, ha="center", va="top", **TITLE)
        title_h = measure(box.title, TITLE)[1]
        ax.text(box.x - box.w / 2 + PAD, top - title_h - PAD, box.body, ha="left", va="top",
                **MONO)

    bottom = min(box.y - box.h / 2 for box in boxes.values())
    for forward, back in pairs:
        u, v = boxes[forward["from"]], boxes[forward["to"]]
        label = edge_label(back)
        if forward["equation"] == "identity":
            lane = bottom - 0.25
            paths = (((u.x + OFFSET, u.y - u.h / 2), (u.x + OFFSET, lane + OFFSET),
                      (v.x - OFFSET, lane + OFFSET), (v.x - OFFSET, v.y - v.h / 2 - 0.03)),
                     ((v.x + OFFSET, v.y - v.h / 2), (v.x + OFFSET, lane - OFFSET),
                      (u.x - OFFSET, lane - OFFSET), (u.x - OFFSET, u.y - u.h / 2 - 0.03)))
            spot, alignment = ((u.x + v.x) / 2, lane - OFFSET - 0.05), ("center", "top")
        else:
            length = math.hypot(v.x - u.x, v.y - u.y)
            dx, dy = (v.x - u.x) / length, (v.y - u.y) / length
            horizontal = abs(dx) > abs(dy)
            if horizontal:   # the forward arrow above, the backward one below, its label under it
                nx, ny = (-dy, dx) if dx > 0 else (dy, -dx)
            else:            # the forward arrow on the left, the backward one right, then its label
                nx, ny = (-dy, dx) if dy > 0 else (dy, -dx)
            a, b = (u.x + nx * OFFSET, u.y + ny * OFFSET), (v.x + nx * OFFSET, v.y + ny * OFFSET)
            c, d = (v.x - nx * OFFSET, v.y - ny * OFFSET), (u.x - nx * OFFSET, u.y - ny * OFFSET)
            paths = ((u.exit(a, b), v.exit(b, a)), (v.exit(c, d), u.exit(d, c)))
            (x0, y0), (x1, y1) = paths[1]
            label_w, label_h = measure(label, LABEL)
            away = 0.07 + (abs(nx) * label_w + abs(ny) * label_h) / 2  # clear of the arrow
            spot = ((x0 + x1) / 2 - nx * away, (y0 + y1) / 2 - ny * away)
            alignment = ("center", "center")
        for path, colour in zip(paths, (FORWARD, BACKWARD)):
            codes = [Path.MOVETO] + [Path.LINETO] * (len(path) - 1)
            ax.add_patch(FancyArrowPatch(path=Path(path, codes), arrowstyle="-|>",
                                         mutation_scale=11, color=colour, linewidth=1.3,
                                         shrinkA=0, shrinkB=0))
        ax.text(*spot, label, ha=alignment[0], va=alignment[1], **LABEL,
                bbox={"boxstyle": "round,pad=0.12", "facecolor": "white",
                      "edgecolor": "none", "alpha": 0.9})
    return fig


def plot_graph(graph, path, title=None):
    """Write the figure of ``graph`` to ``path`` (.png, .svg, .pdf), atomically."""
    check_figure_path(path)
    save_figure(draw_graph(graph, title), path, dpi=DPI)
