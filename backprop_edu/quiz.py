"""The worked example as a drill: eleven quantities to compute by hand, in order, each checked.

    example = worked_example()                 # or random_example(seed): other small integers
    for question in questions(example):
        answer = parse_answer("[3, -2]")       # numbers, fractions, vectors, matrices
        verdict = question.check(answer)       # right?  if not, the most likely mistake

The order is the order of the calculation: a1, h1, ŷ, J (forward), then ∂J/∂ŷ, ∇W2,
∇b2, ∂J/∂h1, δ⁽¹⁾, ∇W1, ∇b1 (backward, BP1 to BP4). Every right value is read from the
real network (backprop_edu.example runs it). The wrong values are the typical slips
(forgot φ′, forgot the transpose, used the wrong h, ...), computed here from the
example's own numbers: an answer that equals one of them gets that explanation.

An answer is read without eval: numbers (3, -2.5, 1e-3), fractions (5/2), vectors
([3, -2], (3, -2) or 3, -2) and matrices ([[5, -5/2], [0, 0]]). An integer must be
exact; any other entry may be off by a relative 1e-3 (0.731 for σ(1) = 0.7310586).

What is left out: asking and printing (`backprop-edu example --quiz` does that).
"""

import re
from fractions import Fraction
from typing import NamedTuple

import numpy as np

RELATIVE_TOLERANCE = 1e-3
FORMAT = "a number (5/2, -3, 0.75), a vector [3, -2] or a matrix [[5, -5/2], [0, 0]]"


# -- reading an answer --------------------------------------------------------------

NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
TOKEN = re.compile(rf"\s*(?:({NUMBER}(?:\s*/\s*{NUMBER})?)|([\[\]\(\),]))")
CLOSING = {"[": "]", "(": ")"}


class AnswerError(ValueError):
    """An answer that cannot be read; the message says what was expected."""


def tokens(text):
    """'[5, -5/2]' -> ['[', 5.0, ',', -2.5, ']']: numbers (a fraction is one number) and
    brackets and commas; anything else is an AnswerError."""
    text = text.replace("−", "-").replace("–", "-")  # a minus sign copied from the docs
    found, position = [], 0
    while text[position:].strip():
        match = TOKEN.match(text, position)
        if match is None:
            bad = text[position:].strip()[:12]
            raise AnswerError(f"cannot read {bad!r}: write {FORMAT}")
        number, symbol = match.groups()
        found.append(symbol if symbol else fraction_value(number))
        position = match.end()
    if not found:
        raise AnswerError(f"type an answer: {FORMAT}")
    return found


def fraction_value(text):
    """'-5/2' -> -2.5, '1e-3' -> 0.001; a zero denominator or an overflow is an AnswerError."""
    numerator, _, denominator = text.partition("/")
    try:
        value = Fraction(numerator.strip())
        if denominator:
            value /= Fraction(denominator.strip())
        value = float(value)
    except (ZeroDivisionError, OverflowError):
        raise AnswerError(f"{text.strip()} is not a finite number: write {FORMAT}") from None
    if not np.isfinite(value):
        raise AnswerError(f"{text.strip()} is not a finite number: write {FORMAT}")
    return value


def parse_answer(text):
    """A student's answer -> a float ndarray (shape (), (n,) or (r, c)); AnswerError if unreadable.

    '5/2' -> 2.5;  '[3, -2]', '(3, -2)', '3, -2' and '3 -2' -> [3, -2];
    '[[5, -5/2], [0, 0]]' -> a 2 × 2 matrix. Nothing is evaluated: only numbers, brackets
    and commas are read.
    """
    items = tokens(text)
    position = 0

    def sequence(closing):
        """Values up to ``closing`` (None: the end), separated by commas or spaces."""
        nonlocal position
        values, expect_value = [], True
        while position < len(items):
            item = items[position]
            if item == closing:
                position += 1
                return values
            if item == ",":
                if expect_value:
                    raise AnswerError(f"a comma without a number before it: write {FORMAT}")
                expect_value, position = True, position + 1
            elif item in CLOSING.values():
                raise AnswerError(f"an unmatched {item!r}: write {FORMAT}")
            else:
                values.append(value())
                expect_value = False
        if closing is not None:
            raise AnswerError(f"a missing {closing!r}: write {FORMAT}")
        return values

    def value():
        nonlocal position
        item = items[position]
        position += 1
        if item in CLOSING:
            return sequence(CLOSING[item])
        return item

    values = sequence(None)
    answer = values[0] if len(values) == 1 else values
    return as_array(answer)


def as_array(answer):
    """Nested lists of numbers -> an ndarray, if they form a number, a vector or a matrix."""
    def shape(value):
        if not isinstance(value, list):
            return ()
        if not value:
            raise AnswerError(f"an empty bracket: write {FORMAT}")
        shapes = {shape(entry) for entry in value}
        if len(shapes) != 1:
            raise AnswerError(f"rows of different lengths, or numbers mixed with rows: "
                              f"write {FORMAT}")
        return (len(value),) + shapes.pop()

    if len(shape(answer)) > 2:
        raise AnswerError(f"brackets nested three deep: write {FORMAT}")
    return np.array(answer, dtype=np.float64)


# -- comparing ------------------------------------------------------------------------

def close(answer, expected):
    """Every entry equal: exactly where the expected entry is an integer, else within a
    relative 1e-3. Both arrays of the same shape."""
    expected = np.asarray(expected, dtype=np.float64)
    integer = expected == np.round(expected)
    exact_ok = answer == expected
    near_ok = np.abs(answer - expected) <= RELATIVE_TOLERANCE * np.abs(expected)
    return bool(np.all(np.where(integer, exact_ok, near_ok)))


def describe_shape(value):
    """'a number', 'a vector of 2 numbers', 'a 1×2 matrix'."""
    value = np.asarray(value)
    if value.ndim == 0:
        return "a number"
    if value.ndim == 1:
        return f"a vector of {value.size} numbers"
    return f"a {value.shape[0]}×{value.shape[1]} matrix"


def shaped_like(answer, expected):
    """The answer in the expected shape, when it is the same thing written another way: a
    vector as a row or a column, a number as [n], a row matrix [[a, b]] as [a, b].
    None when the shapes differ in earnest (a 2 × 1 answer for a 1 × 2 matrix)."""
    expected = np.asarray(expected)
    if answer.shape == expected.shape:
        return answer
    if expected.ndim == 0 and answer.size == 1:
        return answer.reshape(())
    if expected.ndim == 1 and answer.ndim == 2 and 1 in answer.shape \
            and answer.size == expected.size:
        return answer.ravel()
    if expected.ndim == 2 and expected.shape[0] == 1 and answer.ndim == 1 \
            and answer.size == expected.size:
        return answer.reshape(expected.shape)
    return None


class Verdict(NamedTuple):
    """How an answer fared: right or not, and the likely mistake (None if unknown)."""

    right: bool
    mistake: str = None


class Question(NamedTuple):
    """One quantity to compute.

    key:      a plain name ("grad_W1")
    symbol:   the textbook's name ("∇W1")
    equation: the equation to use ("BP3: ∇W1 = δ⁽¹⁾ xᵀ")
    value:    the right value, read from the network (a float ndarray)
    mistakes: [(explanation, wrong value), ...], the typical slips, most likely first
    """

    key: str
    symbol: str
    equation: str
    value: np.ndarray
    mistakes: list

    def shape_error(self, answer):
        """None if the answer has the right shape (or one that says the same), else the
        one line to ask again with."""
        if shaped_like(answer, self.value) is not None:
            return None
        if answer.ndim == 2 and answer.T.shape == self.value.shape:
            return None  # the transpose: judged by check() (it is a mistake, not a typo)
        return (f"{self.symbol} is {describe_shape(self.value)}, you typed "
                f"{describe_shape(answer)}: write {FORMAT}")

    def check(self, answer):
        """The Verdict on ``answer`` (an ndarray whose shape_error is None)."""
        shaped = shaped_like(answer, self.value)
        if shaped is None:  # a matrix with rows and columns swapped
            transposed = answer.T
            hint = (f"you wrote it transposed: {self.symbol} has the shape of what it is the "
                    f"gradient of ({describe_shape(self.value)[2:]})")
            return Verdict(False, hint if close(transposed, self.value) else
                           self.likely_mistake(transposed) or hint)
        if close(shaped, self.value):
            return Verdict(True)
        return Verdict(False, self.likely_mistake(shaped))

    def likely_mistake(self, answer):
        """The explanation of the first typical wrong value the answer equals, or None."""
        for explanation, wrong in self.mistakes:
            if close(answer, wrong):
                return explanation
        return None


# -- the eleven questions ---------------------------------------------------------------

def questions(example):
    """The eleven questions of ``example`` (backprop_edu.example.worked_example), in order.

    A typical wrong value that equals the right one (φ′ = 1 makes "forgot φ′" right) is
    left out, so that a right answer is never explained as a mistake.
    """
    net = example.network
    hidden, output = net.layers
    value = {step.key: np.asarray(step.value, dtype=np.float64) for step in example.steps}
    x, y = example.X[0], float(example.Y[0, 0])
    W1, b1, W2, b2 = hidden.W, hidden.b, output.W, output.b[0]
    a1, h1, y_hat = value["a1"], value["h1"], value["y_hat"]
    grad_y_hat = np.asarray(net.loss_gradient(example.Y)[1][0, 0])  # the loss's ∇_ŷ J
    grad_h1, delta1, delta2 = value["grad_h1"], value["delta1"], value["delta2"]
    phi = example.activation
    wrong_h = "used the wrong h: layer {l}'s input is {right}, not {wrong}"
    forgot_phi_prime = f"forgot φ′(a1): multiply ∂J/∂h1 by {phi}′(a1), elementwise"

    asked = [
        Question("a1", "a1", "a1 = W1 x + b1 (row i of W1 holds unit i's weights)", a1, [
            ("forgot the bias: a1 = W1 x + b1", W1 @ x),
            ("used W1ᵀ instead of W1 (forgot that row i of W1 is unit i): a1 = W1 x + b1",
             W1.T @ x + b1)]),
        Question("h1", "h1", f"h1 = φ(a1) = {phi}(a1), elementwise", h1, [
            ("forgot φ: h1 = φ(a1), not a1", a1)]),
        Question("y_hat", "ŷ", "ŷ = a2 = W2 h1 + b2 (a linear output)", y_hat, [
            ("used the wrong h: ŷ = W2 h1 + b2 with h1 = φ(a1), not a1", W2 @ a1 + b2),
            ("forgot the bias b2", W2 @ h1)]),
        Question("J", "J", "J = ½(ŷ − y)² (one sample: J = L)", value["L"], [
            ("forgot the ½", (y_hat - y) ** 2),
            ("forgot the square", 0.5 * (y_hat - y)),
            ("forgot the ½ and the square", y_hat - y)]),
        Question("grad_y_hat", "∂J/∂ŷ", "∂J/∂ŷ = ŷ − y (the ½ cancels the 2 of the square)",
                 grad_y_hat, [
                     ("the sign: ∂/∂ŷ ½(ŷ − y)² = ŷ − y, not y − ŷ", y - y_hat),
                     ("the ½ cancels the 2: ∂J/∂ŷ = ŷ − y, not 2(ŷ − y)", 2 * (y_hat - y)),
                     ("that is J; its derivative is ŷ − y", value["L"])]),
        Question("grad_W2", "∇W2", "BP3: ∇W2 = δ⁽²⁾ h1ᵀ, with δ⁽²⁾ = ∂J/∂ŷ (BP1, linear output)",
                 value["grad_W2"], [
                     (wrong_h.format(l=2, right="h1 = φ(a1)", wrong="a1"), delta2 * a1[None]),
                     (wrong_h.format(l=2, right="h1", wrong="x"), delta2 * x[None]),
                     ("forgot δ⁽²⁾: ∇W2 = δ⁽²⁾ h1ᵀ", h1[None])]),
        Question("grad_b2", "∇b2", "BP4: ∇b2 = δ⁽²⁾", value["grad_b2"], [
            ("used ŷ: ∇b2 = δ⁽²⁾ = ŷ − y", y_hat),
            ("the bias's own gradient is δ⁽²⁾ itself, not 1 (BP4)", np.asarray(1.0))]),
        Question("grad_h1", "∂J/∂h1", "∂J/∂h1 = W2ᵀ δ⁽²⁾ (what layer 2 hands down)", grad_h1, [
            ("applied φ′(a1) too early: that is δ⁽¹⁾; ∂J/∂h1 = W2ᵀ δ⁽²⁾ comes before φ′",
             delta1),
            ("forgot δ⁽²⁾: ∂J/∂h1 = W2ᵀ δ⁽²⁾", W2[0])]),
        Question("delta1", "δ⁽¹⁾", "BP2: δ⁽¹⁾ = φ′(a1) ⊙ W2ᵀ δ⁽²⁾", delta1, [
            (forgot_phi_prime, grad_h1),
            (f"used φ(a1) = h1 instead of φ′(a1) = {phi}′(a1)", h1 * grad_h1),
            (f"used a1 instead of φ′(a1) = {phi}′(a1)", a1 * grad_h1)]),
        Question("grad_W1", "∇W1", "BP3: ∇W1 = δ⁽¹⁾ xᵀ (rows: layer 1's units, columns: inputs)",
                 value["grad_W1"], [
                     ("forgot the transpose: ∇W1 = δ⁽¹⁾ xᵀ, not x δ⁽¹⁾ᵀ (∇W1 has W1's shape)",
                      np.outer(x, delta1)),
                     (forgot_phi_prime + ": δ⁽¹⁾ = φ′(a1) ⊙ ∂J/∂h1", np.outer(grad_h1, x)),
                     (wrong_h.format(l=1, right="h0 = x", wrong="h1"), np.outer(delta1, h1)),
                     (wrong_h.format(l=1, right="h0 = x", wrong="a1"), np.outer(delta1, a1))]),
        Question("grad_b1", "∇b1", "BP4: ∇b1 = δ⁽¹⁾", value["grad_b1"], [
            (forgot_phi_prime + ": ∇b1 = δ⁽¹⁾ = φ′(a1) ⊙ ∂J/∂h1", grad_h1)]),
    ]
    return [question._replace(mistakes=[(text, np.asarray(wrong, dtype=np.float64))
                                        for text, wrong in question.mistakes
                                        if not close(np.asarray(wrong, dtype=np.float64),
                                                     question.value)])
            for question in asked]
