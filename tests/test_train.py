"""The training loop: per-epoch records, per-layer norms read from the layers, divergence, seeds."""

import copy
import re

import numpy as np
import pytest

from backprop_edu import Residual
from backprop_edu.optim import SGD, Adam
from backprop_edu import build_network
from backprop_edu.train import Diverged, divergence, evaluate, train, train_epochs


def blobs(m=60, n=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(m) % k
    X = rng.standard_normal((m, n)) + 3.0 * np.eye(k, n)[y]
    return X, y


def test_one_full_batch_epoch_reports_the_gradients_backward_computes():
    """With batch = all samples and one epoch, the record holds exactly the first step's numbers."""
    X, y = blobs()
    net = build_network([3, 5, 4, 3], "tanh", rng=0)
    reference = copy.deepcopy(net)
    J = reference.compute_loss(X, y)
    reference.forward(X)
    reference.backward(y)
    (record,) = train(net, SGD(net, lr=0.1), X, y, epochs=1, batch_size=len(X), rng=0)
    assert record["train_loss"] == pytest.approx(J, rel=1e-12)
    for l, layer in enumerate(reference.layers):
        assert record["grad_W_norm"][l] == pytest.approx(np.linalg.norm(layer.grad_W), rel=1e-12)
        assert record["grad_b_norm"][l] == pytest.approx(np.linalg.norm(layer.grad_b), rel=1e-12)
        per_sample = np.linalg.norm(layer.delta, axis=0)  # ‖δ_i^(l)‖, one per column
        assert record["delta_norm"][l] == pytest.approx(per_sample.mean(), rel=1e-12)
    predicted = reference.output.argmax(axis=0)
    assert record["train_accuracy"] == pytest.approx(np.mean(predicted == y))


def test_norms_are_the_mean_over_the_epochs_batches():
    """Two batches of 30: the epoch's ‖∇W_l‖ is the mean of the two batches' norms."""
    X, y = blobs()
    net = build_network([3, 4, 3], "relu", rng=1)
    shadow = copy.deepcopy(net)
    order = np.arange(60)
    np.random.default_rng(5).shuffle(order)  # the shuffle train_epochs will do with rng=5
    expected_W, expected_loss = np.zeros(2), 0.0
    shadow_opt = SGD(shadow, lr=0.05)
    for batch in (order[:30], order[30:]):
        shadow.forward(X[batch])
        expected_loss += shadow.backward(y[batch]) / 2
        expected_W += [np.linalg.norm(layer.grad_W) / 2 for layer in shadow.layers]
        shadow_opt.step()
    (record,) = train(net, SGD(net, lr=0.05), X, y, epochs=1, batch_size=30, rng=5)
    assert record["grad_W_norm"] == pytest.approx(expected_W.tolist(), rel=1e-12)
    assert record["train_loss"] == pytest.approx(expected_loss, rel=1e-12)
    assert np.array_equal(net.layers[0].W, shadow.layers[0].W)  # the very same steps


def test_validation_metrics_match_evaluate_after_the_epoch():
    X, y = blobs(90)
    net = build_network([3, 8, 3], rng=2)
    records = train(net, Adam(net, lr=0.02), X[:60], y[:60], X[60:], y[60:], epochs=5,
                    batch_size=16, rng=0)
    loss, accuracy = evaluate(net, X[60:], y[60:])
    assert records[-1]["val_loss"] == loss and records[-1]["val_accuracy"] == accuracy
    assert [r["epoch"] for r in records] == [1, 2, 3, 4, 5]
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    assert accuracy > 0.85


def test_same_seed_gives_bit_identical_records_and_another_seed_does_not():
    X, y = blobs()

    def run(seed):
        net = build_network([3, 6, 3], rng=seed)
        records = train(net, SGD(net, lr=0.1), X, y, X[:10], y[:10], epochs=3, batch_size=7,
                        rng=seed)
        return [{k: v for k, v in r.items() if k != "seconds"} for r in records]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_a_huge_learning_rate_raises_diverged_naming_epoch_and_batch():
    X, y = blobs()
    net = build_network([3, 16, 3], rng=0)
    seen = []
    with pytest.raises(Diverged) as error:
        for record in train_epochs(net, SGD(net, lr=1e6), X * 100, y, epochs=50, batch_size=10,
                                   rng=0):
            seen.append(record)
    diverged = error.value
    assert diverged.epoch == len(seen) + 1 and 1 <= diverged.batch <= 6
    assert f"epoch {diverged.epoch}, batch {diverged.batch} of 6" in str(diverged)
    assert diverged.last_norms is None or all(np.isfinite(diverged.last_norms))


def test_a_loss_a_million_times_the_first_batch_s_is_divergence_though_finite():
    X, y = blobs()
    net = build_network([3, 16, 3], rng=0)
    with pytest.raises(Diverged) as error:
        train(net, SGD(net, lr=50), X, y, epochs=50, batch_size=10, rng=0)
    diverged = error.value
    message = str(diverged)
    assert "the loss grew to" in message and diverged.lr == 50
    assert "try lr=5 or smaller (10× smaller; more may be needed)" in message
    assert not re.search(r"\d{5}", message), message     # every number in 3 digits
    # the limit: 1e6 × max(J of the first batch, 1), and nothing below it diverges
    assert divergence(1.99e6, 1e6 * max(2.0, 1), []) is None
    assert divergence(2.01e6, 1e6 * max(2.0, 1), []) is not None
    assert divergence(0.9e6, 1e6 * max(0.001, 1), []) is None    # a tiny first loss: floor 1
    assert divergence(1.6e138, 1e6, []).startswith("the loss grew to 1.6e+138")
    assert divergence(float("nan"), None, []) == "the loss became nan"
    assert divergence(1.0, 1e6, [(float("inf"), 1.0, 1.0)]) == "a gradient norm overflowed to inf"


def test_regression_targets_and_half_mse_on_labels():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2))
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 0]])
    net = build_network([2, 8, 2], "tanh", loss="half_mse", rng=0)
    records = train(net, SGD(net, lr=0.1), X, Y, X, Y, epochs=30, batch_size=10, rng=0)
    assert records[-1]["train_accuracy"] is None and records[-1]["val_accuracy"] is None
    assert records[-1]["val_loss"] < 0.1 * records[0]["val_loss"]
    # integer labels with half_mse: one-hot targets, accuracy still reported (Nielsen's set-up)
    X, y = blobs()
    net = build_network([3, 8, 3], "sigmoid", loss="half_mse", rng=0)
    records = train(net, SGD(net, lr=0.5), X, y, X, y, epochs=20, batch_size=10, rng=0)
    assert records[-1]["val_accuracy"] > 0.9


def test_max_steps_stops_inside_an_epoch():
    X, y = blobs()
    net = build_network([3, 4, 3], rng=0)
    calls = []
    records = train(net, SGD(net, lr=0.1), X, y, epochs=10, batch_size=10, rng=0,
                    on_batch=calls.append, max_steps=8)
    assert len(records) == 2 and calls == [1, 2, 3, 4, 5, 6, 1, 2]


def test_float32_training_stays_float32():
    X, y = blobs()
    net = build_network([3, 8, 3], dtype=np.float32, rng=0)
    records = train(net, SGD(net, lr=0.1), X, y, X, y, epochs=3, batch_size=16, rng=0)
    assert net.layers[0].W.dtype == np.float32 and net.layers[0].delta.dtype == np.float32
    assert all(np.isfinite(records[-1]["delta_norm"]))


def test_build_network_output_is_linear_and_residual_replaces_square_hidden_layers():
    net = build_network([4, 8, 8, 8, 2], "sigmoid", residual=True, rng=0)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "Residual", "Residual", "Dense"]
    assert [layer.activation.name for layer in net.layers] == ["sigmoid"] * 3 + ["identity"]
    assert isinstance(net.layers[1], Residual)
    plain = build_network([4, 8, 8, 8, 2], "sigmoid", rng=0)
    assert not any(isinstance(layer, Residual) for layer in plain.layers)
