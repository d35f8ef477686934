"""The input gradient put to use: ∂J/∂x in raw units against finite differences and PyTorch,
saliency, the fast gradient sign method, and its accuracy against ε on a trained digits model."""

import numpy as np
import pytest

from backprop_edu import (SGD, AvgPool, Dense, Dropout, MaxPool, Network, build_network,
                          datasets)
from backprop_edu import adversarial
from backprop_edu.train import evaluate, train_epochs


def raw_problem(seed, dropout=False, loss="softmax_cross_entropy"):
    """A random network with pooling (and dropout) on standardised features, and raw data
    in 0..16 with the statistics in the network's metadata."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 17, (9, 6)).astype(float)
    mean, std = X.mean(axis=0), X.std(axis=0) + 0.5
    layers = [Dense(6, 8, activation="tanh", rng=rng), MaxPool(2),
              Dense(4, 4, activation="relu", rng=rng), AvgPool(2),
              Dense(2, 3, activation="identity", rng=rng)]
    if dropout:
        layers.insert(3, Dropout(0.5, rng=rng))
    for layer in layers:
        if "b" in layer.params:
            layer.b[...] = rng.standard_normal(layer.n_out)
    net = Network(layers, loss=loss,
                  metadata={"feature_mean": mean.tolist(), "feature_std": std.tolist()})
    return net, X, rng.integers(0, 3, 9), mean, std


def per_sample_loss(net, x, y, mean, std):
    """J_i at the raw input x (one sample), as predict sees the network (an inference pass)."""
    return net.compute_loss(((x - mean) / std)[None, :], np.array([y]))


@pytest.mark.parametrize("dropout", [False, True])
def test_the_raw_input_gradient_matches_finite_differences_of_each_samples_loss(dropout):
    net, X, y, mean, std = raw_problem(1, dropout)
    grad = adversarial.input_gradient(net, X, y)
    eps = 1e-6
    fd = np.zeros_like(X)
    for i, j in np.ndindex(X.shape):
        step = np.zeros(X.shape[1])
        step[j] = eps
        fd[i, j] = (per_sample_loss(net, X[i] + step, y[i], mean, std)
                    - per_sample_loss(net, X[i] - step, y[i], mean, std)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-10)


def test_the_input_gradient_is_grad_X_times_m_divided_by_std():
    net, X, y, mean, std = raw_problem(2)
    grad = adversarial.input_gradient(net, X, y)
    net.forward((X - mean) / std)
    net.backward(y, input_gradient=True)
    np.testing.assert_allclose(grad, len(X) * net.grad_X / std, rtol=1e-14)
    assert (np.sign(grad) == np.sign(net.grad_X)).all()    # the 1/m does not change a sign


def test_the_raw_input_gradient_agrees_with_pytorch_on_random_networks():
    torch = pytest.importorskip("torch", reason="PyTorch (the gradient oracle) is not installed")
    F = torch.nn.functional
    for seed in range(3):
        net, X, y, mean, std = raw_problem(10 + seed)
        x = torch.tensor(X, requires_grad=True)
        h = (x - torch.tensor(mean)) / torch.tensor(std)
        for layer in net.layers:
            if isinstance(layer, Dense):
                a = h @ torch.tensor(layer.W).T + torch.tensor(layer.b)
                h = {"tanh": torch.tanh, "relu": torch.relu}.get(layer.activation.name,
                                                                 lambda a: a)(a)
            else:
                pool = F.max_pool1d if isinstance(layer, MaxPool) else F.avg_pool1d
                h = pool(h[:, None, :], layer.k)[:, 0, :]
        J_sum = F.cross_entropy(h, torch.tensor(y), reduction="sum")  # Σ_i J_i
        J_sum.backward()                                    # row i of x.grad: ∂J_i/∂x_i
        np.testing.assert_allclose(adversarial.input_gradient(net, X, y), x.grad.numpy(),
                                   rtol=1e-10, atol=1e-14)


def test_dropout_is_left_out_of_the_input_gradient_as_it_is_at_evaluation():
    net, X, y, _, _ = raw_problem(3, dropout=True)
    without = Network([layer for layer in net.layers if not isinstance(layer, Dropout)],
                      loss=net.loss.name, metadata=net.metadata)
    first = adversarial.input_gradient(net, X, y)
    np.testing.assert_array_equal(first, adversarial.input_gradient(net, X, y))
    np.testing.assert_array_equal(first, adversarial.input_gradient(without, X, y))


def test_saliency_is_each_samples_own_absolute_gradient():
    net, X, y, _, _ = raw_problem(4)
    maps = adversarial.saliency(net, X, y)
    np.testing.assert_allclose(maps, np.abs(adversarial.input_gradient(net, X, y)))
    np.testing.assert_allclose(maps[2:3], adversarial.saliency(net, X[2:3], y[2:3]), rtol=1e-12)


def test_a_half_mse_classifier_gets_its_gradient_from_one_hot_targets():
    net, X, y, mean, std = raw_problem(5, loss="half_mse")
    grad = adversarial.input_gradient(net, X, y)
    net.forward((X - mean) / std)
    net.backward(np.eye(3)[y], input_gradient=True)
    np.testing.assert_allclose(grad, len(X) * net.grad_X / std, rtol=1e-14)


def test_fgsm_steps_every_pixel_by_epsilon_uphill_and_stays_within_the_pixel_range():
    net, X, y, _, _ = raw_problem(6)
    grad = adversarial.input_gradient(net, X, y)
    X_adv = adversarial.fgsm(net, X, y, 3)
    np.testing.assert_array_equal(X_adv, np.clip(X + 3 * np.sign(grad), 0, 16))
    assert X_adv.min() >= 0 and X_adv.max() <= 16 and np.abs(X_adv - X).max() == 3
    np.testing.assert_array_equal(adversarial.fgsm(net, X, y, 0), X)
    small = adversarial.fgsm(net, X, y, 1e-4)            # a small step raises each J_i
    for i in range(len(X)):
        assert net.compute_loss(adversarial.standardised(net, small[i:i + 1]), y[i:i + 1]) > \
            net.compute_loss(adversarial.standardised(net, X[i:i + 1]), y[i:i + 1])


@pytest.mark.parametrize("epsilon, error, message", [
    (-1, ValueError, r"epsilon must be a number ≥ 0 .* got -1"),
    (float("nan"), ValueError, "got nan"),
    (float("inf"), ValueError, "got inf"),
    ("2", TypeError, "got '2'"),
    (True, TypeError, "got True"),
])
def test_a_bad_epsilon_is_one_line(epsilon, error, message):
    net, X, y, _, _ = raw_problem(7)
    for call in (lambda: adversarial.fgsm(net, X, y, epsilon),
                 lambda: adversarial.accuracy_against_epsilon(net, X, y, [0, epsilon])):
        with pytest.raises(error, match=message) as raised:
            call()
        assert "\n" not in str(raised.value)


def test_inputs_outside_the_pixel_range_or_metadata_for_another_width_are_refused():
    net, X, y, _, _ = raw_problem(8)
    with pytest.raises(ValueError, match=r"X holds values from -1 to 16, outside the valid range "
                                         r"\[0, 16\]: give X in its raw units"):
        adversarial.fgsm(net, np.vstack([X, -np.ones(6)]), np.append(y, 0), 1)
    with pytest.raises(ValueError, match="low < high"):
        adversarial.fgsm(net, X, y, 1, low=16, high=0)
    net.metadata["feature_std"] = [1.0] * 5
    with pytest.raises(ValueError, match=r"holds 6 feature means and 5 standard deviations, "
                                         r"but its first layer takes n_in=6 features"):
        adversarial.input_gradient(net, X, y)


@pytest.fixture(scope="module")
def digits_model():
    """A small digits classifier trained as `backprop-edu train` does, and its held-out digits."""
    digits = datasets.load("digits")
    rng = np.random.default_rng(0)
    train, val = datasets.split(len(digits.X), 0.2, rng)
    mean, std = datasets.standardisation(digits.X[train])
    X = datasets.standardise(digits.X, mean, std)
    net = build_network([64, 32, 10], rng=rng, metadata={"feature_mean": mean.tolist(),
                                                         "feature_std": std.tolist()})
    for _ in train_epochs(net, SGD(net, lr=0.1), X[train], digits.y[train], epochs=8, rng=rng):
        pass
    return net, digits.X[val], digits.y[val], X[val]


def test_fgsm_accuracy_at_zero_is_the_clean_accuracy_and_falls_as_epsilon_grows(digits_model):
    net, X_raw, y, X_standardised = digits_model
    records = adversarial.accuracy_against_epsilon(net, X_raw, y, [0, 0.5, 1, 2, 4])
    assert [record["epsilon"] for record in records] == [0, 0.5, 1, 2, 4]
    accuracies = [record["accuracy"] for record in records]
    assert accuracies[0] == evaluate(net, X_standardised, y)[1]      # exactly, not nearly
    assert accuracies[0] > 0.9
    assert all(later <= earlier + 0.02 for earlier, later in zip(accuracies, accuracies[1:]))
    assert accuracies[3] < accuracies[0] / 2                         # ε = 2 of 16 levels
