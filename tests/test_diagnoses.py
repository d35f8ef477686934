"""The wrong answers a class hands in, as files through the sandbox, each get their diagnosis.

Every row below is a small file a student could write, with one typical mistake. It is
graded as `backprop-edu exercises check` grades it (sandbox.check_file: a separate,
limited process), and the verdict must name the mistake. Every diagnosis that an
exercise's MISTAKES list holds is reached by at least one row, and every exercise has at
least three. The checks run two at a time (each is a process of its own).
"""

import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from backprop_edu.exercises import EXERCISES, get_exercise
from backprop_edu.exercises.exercise import solution_source
from backprop_edu.grader.sandbox import check_file

SOFTMAX = """
def softmax(a):
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)
"""

# (exercise, words the diagnosis must contain, the student's file after `import numpy as np`)
SUBMISSIONS = [
    # bp1_mse
    ("bp1_mse", "wrong sign", "def bp1_mse(y_hat, y):\n    return y - y_hat\n"),
    ("bp1_mse", "the loss ½(ŷ − y)² of each entry",
     "def bp1_mse(y_hat, y):\n    return 0.5 * (y_hat - y) ** 2\n"),
    ("bp1_mse", "without the ½", "def bp1_mse(y_hat, y):\n    return 2 * (y_hat - y)\n"),
    ("bp1_mse", "you divided by m",
     "def bp1_mse(y_hat, y):\n    return (y_hat - y) / y.shape[1]\n"),
    ("bp1_mse", "you averaged over the batch",
     "def bp1_mse(y_hat, y):\n    return np.mean(y_hat - y, axis=1)\n"),
    ("bp1_mse", "you summed over the batch",
     "def bp1_mse(y_hat, y):\n    return np.sum(y_hat - y, axis=1)\n"),
    # bp1_softmax
    ("bp1_softmax", "normalises the rows", """
def bp1_softmax(a, labels):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    delta = e / e.sum(axis=1, keepdims=True)
    delta[labels, np.arange(a.shape[1])] -= 1
    return delta
"""),
    ("bp1_softmax", "without subtracting the one-hot target",
     SOFTMAX + "\ndef bp1_softmax(a, labels):\n    return softmax(a)\n"),
    ("bp1_softmax", "you forgot the softmax", """
def bp1_softmax(a, labels):
    delta = a.copy()
    delta[labels, np.arange(a.shape[1])] -= 1
    return delta
"""),
    ("bp1_softmax", "you divided by m", SOFTMAX + """
def bp1_softmax(a, labels):
    delta = softmax(a)
    delta[labels, np.arange(a.shape[1])] -= 1
    return delta / a.shape[1]
"""),
    ("bp1_softmax", "you subtracted the labels themselves",
     SOFTMAX + "\ndef bp1_softmax(a, labels):\n    return softmax(a) - labels\n"),
    ("bp1_softmax", "delta[labels] -= 1 subtracts 1 from whole rows", SOFTMAX + """
def bp1_softmax(a, labels):
    delta = softmax(a)
    delta[labels] -= 1
    return delta
"""),
    ("bp1_softmax", "your one-hot matrix is m × n_out", SOFTMAX + """
def bp1_softmax(a, labels):
    return softmax(a) - np.eye(a.shape[0])[labels]
"""),
    ("bp1_softmax", "subtract the max", """
def bp1_softmax(a, labels):
    e = np.exp(a)
    delta = e / e.sum(axis=0)
    delta[labels, np.arange(a.shape[1])] -= 1
    return delta
"""),
    # sigmoid_prime
    ("sigmoid_prime", "you returned σ(a) itself",
     "def sigmoid_prime(a):\n    return 1 / (1 + np.exp(-a))\n"),
    ("sigmoid_prime", "you computed a(1 − a)", "def sigmoid_prime(a):\n    return a * (1 - a)\n"),
    ("sigmoid_prime", "you computed σ(a)(1 + σ(a))",
     "def sigmoid_prime(a):\n    h = 1 / (1 + np.exp(-a))\n    return h * (1 + h)\n"),
    ("sigmoid_prime", "you computed 1 − σ(a)², tanh's pattern",
     "def sigmoid_prime(a):\n    h = 1 / (1 + np.exp(-a))\n    return 1 - h ** 2\n"),
    # tanh_prime
    ("tanh_prime", "square tanh(a), not a", "def tanh_prime(a):\n    return 1 - a ** 2\n"),
    ("tanh_prime", "you returned tanh(a) itself", "def tanh_prime(a):\n    return np.tanh(a)\n"),
    ("tanh_prime", "you computed 1 − tanh(a): the derivative is 1 − tanh(a)², with a square",
     "def tanh_prime(a):\n    return 1 - np.tanh(a)\n"),
    ("tanh_prime", "you squared inside the tanh",
     "def tanh_prime(a):\n    return 1 - np.tanh(a ** 2)\n"),
    ("tanh_prime", "you computed sech(a) = 1/cosh(a)",
     "def tanh_prime(a):\n    return 1 / np.cosh(a)\n"),
    # bp2: ⊙ written as @, in the three ways a class writes it
    ("bp2", "⊙ is `*`, not `@`", """
def bp2(W_next, delta_next, a):
    return (1 - np.tanh(a) ** 2) @ (W_next.T @ delta_next)
"""),
    ("bp2", "⊙ is `*`, not `@`", """
def bp2(W_next, delta_next, a):
    return np.dot(1 - np.tanh(a) ** 2, np.dot(W_next.T, delta_next))
"""),
    ("bp2", "⊙ is `*`, not `@`", """
def bp2(W_next, delta_next, a):
    return (1 - np.tanh(a) ** 2).T @ (W_next.T @ delta_next)
"""),
    ("bp2", "you left out φ'(a_l)",
     "def bp2(W_next, delta_next, a):\n    return W_next.T @ delta_next\n"),
    ("bp2", "you multiplied by φ(a_l) = tanh(a_l), not by its derivative",
     "def bp2(W_next, delta_next, a):\n    return np.tanh(a) * (W_next.T @ delta_next)\n"),
    ("bp2", "you computed φ' from a_l itself, 1 − a_l²",
     "def bp2(W_next, delta_next, a):\n    return (1 - a ** 2) * (W_next.T @ delta_next)\n"),
    ("bp2", "you computed 1 − tanh(a_l), without the square",
     "def bp2(W_next, delta_next, a):\n    return (1 - np.tanh(a)) * (W_next.T @ delta_next)\n"),
    ("bp2", "you squared inside the tanh", """
def bp2(W_next, delta_next, a):
    return (1 - np.tanh(a ** 2)) * (W_next.T @ delta_next)
"""),
    ("bp2", "you computed (1 − tanh(a_l))²", """
def bp2(W_next, delta_next, a):
    return (1 - np.tanh(a)) ** 2 * (W_next.T @ delta_next)
"""),
    ("bp2", "you used W_{l+1} where BP2 needs its transpose", """
def bp2(W_next, delta_next, a):
    return (1 - np.tanh(a) ** 2) * (W_next @ delta_next)
"""),
    ("bp2", "the sigmoid's derivative", """
def bp2(W_next, delta_next, a):
    s = 1 / (1 + np.exp(-a))
    return s * (1 - s) * (W_next.T @ delta_next)
"""),
    ("bp2", "you divided by m", """
def bp2(W_next, delta_next, a):
    return (1 - np.tanh(a) ** 2) * (W_next.T @ delta_next) / a.shape[1]
"""),
    # bp3_bp4
    ("bp3_bp4", "forgot the 1/m",
     "def bp3_bp4(delta, h_prev):\n    return delta @ h_prev.T, delta.sum(axis=1)\n"),
    ("bp3_bp4", "you computed H δᵀ", """
def bp3_bp4(delta, h_prev):
    return h_prev @ delta.T / delta.shape[1], delta.mean(axis=1)
"""),
    ("bp3_bp4", "you computed Δᵀ H", """
def bp3_bp4(delta, h_prev):
    return delta.T @ h_prev / delta.shape[1], delta.mean(axis=1)
"""),
    ("bp3_bp4", "over the wrong axis", """
def bp3_bp4(delta, h_prev):
    return delta @ h_prev.T / delta.shape[1], delta.mean(axis=0)
"""),
    ("bp3_bp4", "the number of rows, delta.shape[0]", """
def bp3_bp4(delta, h_prev):
    m = delta.shape[0]
    return delta @ h_prev.T / m, delta.sum(axis=1) / m
"""),
    ("bp3_bp4", "np.mean(delta, axis=1), without keepdims", """
def bp3_bp4(delta, h_prev):
    return delta @ h_prev.T / delta.shape[1], delta.mean(axis=1, keepdims=True)
"""),
    ("bp3_bp4", "return the outputs in the order (grad_W, grad_b)", """
def bp3_bp4(delta, h_prev):
    return delta.mean(axis=1), delta @ h_prev.T / delta.shape[1]
"""),
]

BACKWARD_2LAYER = """
def backward_2layer(W1, b1, W2, b2, X, Y):
    m = X.shape[1]
    a1 = W1 @ X + {bias}
    h1 = 1 / (1 + np.exp(-a1))
    delta2 = W2 @ h1 + b2[:, None] - Y
    delta1 = {phi_prime} * ({W2T} @ delta2)
    return delta1 @ X.T / m, delta1.mean(axis=1), delta2 @ h1.T / m, delta2.mean(axis=1)
"""


def backward_2layer(bias="b1[:, None]", phi_prime="h1 * (1 - h1)", W2T="W2.T"):
    return BACKWARD_2LAYER.format(bias=bias, phi_prime=phi_prime, W2T=W2T)


FINITE_DIFFERENCE = """
def numerical_gradient(W, X, Y, eps):
    grad = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        original = W[index]
        W[index] = original + eps
        plus = loss(W, X, Y)
        W[index] = original - eps
        minus = loss(W, X, Y)
        {restore}
        grad[index] = {difference}
    return grad
"""


def finite_difference(difference="(plus - minus) / (2 * eps)", restore="W[index] = original"):
    given = "def loss(W, X, Y):\n    return 0.5 * np.sum((np.tanh(W @ X) - Y) ** 2) / X.shape[1]\n"
    return given + FINITE_DIFFERENCE.format(difference=difference, restore=restore)


TIED = """
def tied_autoencoder(W, b, c, X):
    m = X.shape[1]
    h = 1 / (1 + np.exp(-(W @ X + b[:, None])))
    delta_out = W.T @ h + c[:, None] - X
    delta_h = {phi_prime}({back} @ delta_out)
    encoder = delta_h @ X.T / m
    decoder = {decoder}
    return {grad_W}, delta_h.mean(axis=1), delta_out.mean(axis=1)
"""


def tied(phi_prime="h * (1 - h) * ", back="W", decoder="(delta_out @ h.T / m).T",
         grad_W="encoder + decoder"):
    return TIED.format(phi_prime=phi_prime, back=back, decoder=decoder, grad_W=grad_W)


RESIDUAL = """
def residual_block(W, b, h_prev, grad_h):
    m = h_prev.shape[1]
    a = W @ h_prev + b[:, None]
    delta = {phi_prime}grad_h
    return {grad_h_prev}, delta @ h_prev.T / m, delta.mean(axis=1)
"""


def residual(grad_h_prev="grad_h + W.T @ delta", phi_prime="(1 - np.tanh(a) ** 2) * "):
    return RESIDUAL.format(grad_h_prev=grad_h_prev, phi_prime=phi_prime)


JVP_VJP = """
def jvp(W1, b1, W2, b2, x, v):
    return {jvp}


def vjp(W1, b1, W2, b2, x, u):
    d = 1 - np.tanh(W1 @ x + b1) ** 2
    return W1.T @ (d * (W2.T @ u))
"""

SUBMISSIONS += [
    ("backward_2layer", "miss φ'", backward_2layer(phi_prime="1")),
    ("backward_2layer", "not by σ'(a_1) = h_1(1 − h_1)", backward_2layer(phi_prime="h1")),
    ("backward_2layer", "you computed σ' from a_1 itself",
     backward_2layer(phi_prime="a1 * (1 - a1)")),
    ("backward_2layer", "you used tanh's derivative 1 − h_1²",
     backward_2layer(phi_prime="(1 - h1 ** 2)")),
    ("backward_2layer", "you used W_2 where it needs W_2ᵀ", backward_2layer(W2T="W2")),
    ("backward_2layer", "your forward pass forgot the bias", backward_2layer(bias="0")),
    ("backward_2layer", "forgot the 1/m", backward_2layer().replace(" / m", "")
     .replace(".mean(axis=1)", ".sum(axis=1)")),
    ("gradient_check", "you returned the exact (backprop) gradient", """
def numerical_gradient(W, X, Y, eps):
    h = np.tanh(W @ X)
    return ((1 - h ** 2) * (h - Y)) @ X.T / X.shape[1]
"""),
    ("gradient_check", "one-sided difference", finite_difference(
        restore="W[index] = original", difference="(plus - loss(W, X, Y)) / eps")),
    ("gradient_check", "you did not put each entry back", finite_difference(restore="pass")),
    ("gradient_check", "write `/ (2 * eps)`",
     finite_difference(difference="(plus - minus) / 2 * eps")),
    ("gradient_check", "a factor 2 is off", finite_difference(difference="(plus - minus) / eps")),
    ("tied_autoencoder", "only the encoder's contribution", tied(grad_W="encoder")),
    ("tied_autoencoder", "only the decoder's contribution", tied(grad_W="decoder")),
    ("tied_autoencoder", "without transposing it", tied(decoder="delta_out @ h.T / m")),
    ("tied_autoencoder", "your δ_h misses σ'", tied(phi_prime="")),
    ("tied_autoencoder", "(Wᵀ)ᵀ = W, not Wᵀ", tied(back="W.T")),
    ("max_pool", "as average pooling does", """
def max_pool_backward(x, grad_out, size):
    return np.repeat(grad_out / size, size, axis=0)
"""),
    ("max_pool", "you copied the gradient to every entry of the window", """
def max_pool_backward(x, grad_out, size):
    return np.repeat(grad_out, size, axis=0)
"""),
    ("max_pool", "without multiplying it by grad_out", """
def max_pool_backward(x, grad_out, size):
    n, m = x.shape
    windows = x.reshape(n // size, size, m)
    return (windows == windows.max(axis=1, keepdims=True)).reshape(n, m) * 1.0
"""),
    ("avg_pool", "you forgot the 1/size", """
def avg_pool_backward(x, grad_out, size):
    return np.repeat(grad_out, size, axis=0)
"""),
    ("avg_pool", "your windows are interleaved", """
def avg_pool_backward(x, grad_out, size):
    return np.tile(grad_out / size, (size, 1))
"""),
    ("avg_pool", "the whole gradient to the first entry of each window", """
def avg_pool_backward(x, grad_out, size):
    grad_x = np.zeros((grad_out.shape[0], size, grad_out.shape[1]))
    grad_x[:, 0, :] = grad_out
    return grad_x.reshape(x.shape)
"""),
    ("residual_block", "misses the identity path", residual(grad_h_prev="W.T @ delta")),
    ("residual_block", "misses the branch", residual(grad_h_prev="grad_h")),
    ("residual_block", "you used W_l where the backward pass needs W_lᵀ",
     residual(grad_h_prev="grad_h + W @ delta")),
    ("residual_block", "you left out φ'(a_l)", residual(phi_prime="")),
    ("jvp_vjp", "you left out φ'(a_1)", JVP_VJP.format(jvp="W2 @ (W1 @ v)")),
    ("jvp_vjp", "you went the other way", JVP_VJP.format(
        jvp="W1.T @ ((1 - np.tanh(W1 @ x + b1) ** 2) * (W2.T @ v))")),
    ("jvp_vjp", "your tangent picked up the biases", JVP_VJP.format(
        jvp="W2 @ ((1 - np.tanh(W1 @ x + b1) ** 2) * (W1 @ v + b1)) + b2")),
]


def source(body):
    return "import numpy as np\n\n" + textwrap.dedent(body).lstrip("\n")


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    """Every submission graded through the sandbox, two at a time -> {row index: Verdict}."""
    folder = tmp_path_factory.mktemp("submissions")

    def grade(i):
        name, _, body = SUBMISSIONS[i]
        path = folder / f"{i}_{name}.py"
        path.write_text(source(body))
        return check_file(get_exercise(name), str(path))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(enumerate(pool.map(grade, range(len(SUBMISSIONS)))))


@pytest.mark.parametrize("i", range(len(SUBMISSIONS)),
                         ids=[f"{name}: {words[:40]}" for name, words, _ in SUBMISSIONS])
def test_a_typical_wrong_file_gets_its_diagnosis(verdicts, i):
    name, words, body = SUBMISSIONS[i]
    verdict = verdicts[i]
    assert not verdict.passed, source(body)
    assert verdict.status in ("wrong", "error"), verdict.text()
    assert words in (verdict.detail.get("diagnosis") or ""), verdict.text()
    assert f"Diagnosis: {verdict.detail['diagnosis']}" in verdict.text()


def test_every_mistake_of_every_exercise_is_submitted_above_and_there_are_three_each():
    for name, exercise in EXERCISES.items():
        diagnoses = {diagnosis for diagnosis, _ in exercise.MISTAKES}
        assert len(diagnoses) >= 3, f"{name} names fewer than three mistakes"
        words = [w for n, w, _ in SUBMISSIONS if n == name]
        assert len(words) >= 3, f"{name} has fewer than three wrong submissions here"
        for diagnosis in diagnoses:
            assert any(w in diagnosis for w in words), f"{name}: no submission for {diagnosis}"


def test_the_commonest_wrong_bp2_is_told_that_the_product_is_elementwise(verdicts):
    """(1 − tanh²(a)) @ (Wᵀ δ): numpy raises on every case but the 1×1 one, which passes by
    luck and is not counted."""
    verdict = verdicts[next(i for i, (n, w, b) in enumerate(SUBMISSIONS)
                            if n == "bp2" and "@ (W_next.T @ delta_next)" in b and ".T @" not in
                            b.split("return")[1][:30])]
    assert verdict.status == "error" and "gufunc" in verdict.message
    assert verdict.detail["diagnosis"].startswith("⊙ is `*`, not `@`")
    assert verdict.cases_passed == 0 and verdict.detail["passed_1x1_cases"] == [1]
    assert "0 of 5 cases passed (case 1 is not counted: its arrays are 1×1" in verdict.text()


def test_a_right_answer_counts_its_1x1_cases(tmp_path):
    path = tmp_path / "bp2.py"
    path.write_text(solution_source(get_exercise("bp2")))
    verdict = check_file(get_exercise("bp2"), str(path))
    assert verdict.passed and verdict.cases_passed == verdict.cases == 5
    assert "passed_1x1_cases" not in verdict.detail
