"""MaxPool, AvgPool and Dropout: their routing by hand, against finite differences and PyTorch,
their widths, their masks, saving and loading, and their bad input."""

import importlib

import numpy as np
import pytest

from backprop_edu import AvgPool, Dense, Dropout, MaxPool, Network, build_network, gradcheck
from backprop_edu.optim import SGD
from backprop_edu.plots import decision_grid
from backprop_edu.train import train_epochs


def routed_net(rng, pool=MaxPool, p=0.4, dtype=np.float64):
    """4 → 12 (tanh) → pool 2 → 6 → dropout → 6 (tanh) → pool 3 → 2 → 3 (identity)."""
    layers = [Dense(4, 12, activation="tanh", rng=rng, dtype=dtype), pool(2),
              Dropout(p, rng=rng), Dense(6, 6, activation="tanh", rng=rng, dtype=dtype),
              pool(3), Dense(2, 3, activation="identity", rng=rng, dtype=dtype)]
    for layer in layers:
        if "b" in layer.params:
            layer.b[...] = rng.standard_normal(layer.n_out)
    return Network(layers, loss="softmax_cross_entropy")


def fix_masks(net):
    """Keep the masks the last training pass drew, for every training pass from now on."""
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.fixed_mask = layer.mask


def finite_difference_input_gradient(net, X, Y, eps=1e-6):
    """(J(X + ε e_i) − J(X − ε e_i)) / 2ε for every entry of X, by training passes."""
    fd = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[i] += eps
        Xm[i] -= eps
        fd[i] = (net.compute_loss(Xp, Y, training=True)
                 - net.compute_loss(Xm, Y, training=True)) / (2 * eps)
    return fd


# -- the routing, by hand ------------------------------------------------------------------


def test_max_pool_takes_each_windows_max_and_sends_the_gradient_to_the_winner_only():
    layer = MaxPool(2, n_in=6)
    h_prev = np.array([[1., -1.], [3., -2.],     # window 0: sample 0's winner is unit 1,
                       [5., 0.], [4., 0.],       # window 1: a tie in sample 1: the first wins
                       [-7., 2.], [-6., 9.]])
    np.testing.assert_array_equal(layer.forward(h_prev), [[3., -1.], [5., 0.], [-6., 9.]])
    np.testing.assert_array_equal(layer.winner, [[1, 0], [0, 0], [1, 1]])
    grad = layer.backward(np.array([[10., 20.], [30., 40.], [50., 60.]]))
    np.testing.assert_array_equal(grad, [[0., 20.], [10., 0.], [30., 40.], [0., 0.],
                                         [0., 0.], [50., 60.]])
    assert layer.grad_h_prev is grad


def test_avg_pool_takes_each_windows_mean_and_shares_the_gradient_equally():
    layer = AvgPool(3, n_in=6)
    h_prev = np.arange(12.).reshape(6, 2)
    np.testing.assert_array_equal(layer.forward(h_prev), [[2., 3.], [8., 9.]])
    grad = layer.backward(np.array([[3., 6.], [9., 12.]]))
    np.testing.assert_array_equal(grad, [[1., 2.]] * 3 + [[3., 4.]] * 3)


def test_dropout_scales_the_kept_units_and_routes_the_gradient_through_them_only():
    layer = Dropout(0.75, n_in=3, rng=0)
    layer.fixed_mask = np.array([[1, 0], [0, 0], [1, 1]])
    h = layer.forward(np.array([[1., 2.], [3., 4.], [5., 6.]]))
    np.testing.assert_array_equal(h, [[4., 0.], [0., 0.], [20., 24.]])     # M ⊙ h / (1 − p)
    grad = layer.backward(np.ones((3, 2)))
    np.testing.assert_array_equal(grad, [[4., 0.], [0., 0.], [4., 4.]])


# -- against finite differences ------------------------------------------------------------


@pytest.mark.parametrize("pool", [MaxPool, AvgPool])
def test_the_gradients_through_pooling_and_dropout_match_finite_differences(pool):
    rng = np.random.default_rng(1)
    net = routed_net(rng, pool)
    X, y = rng.standard_normal((7, 4)), rng.integers(0, 3, 7)
    net.forward(X)
    fix_masks(net)
    result = gradcheck(net, X, y)
    assert [row.layer for row in result.rows] == [1, 4, 6]
    assert result.ok(1e-6), str(result)
    net.forward(X)
    net.backward(y, input_gradient=True)
    np.testing.assert_allclose(net.grad_X, finite_difference_input_gradient(net, X, y),
                               rtol=1e-6, atol=1e-10)


def test_a_network_that_starts_with_pooling_hands_the_input_gradient_through_it():
    rng = np.random.default_rng(2)
    net = Network([AvgPool(2, n_in=6), Dense(3, 4, activation="tanh", rng=rng), MaxPool(2),
                   Dense(2, 2, activation="identity", rng=rng)], loss="half_mse")
    X, Y = rng.standard_normal((5, 6)), rng.standard_normal((5, 2))
    net.forward(X)
    net.backward(Y)
    assert net.layers[0].grad_h_prev is None and net.grad_X is None
    net.backward(Y, input_gradient=True)
    np.testing.assert_allclose(net.grad_X, finite_difference_input_gradient(net, X, Y),
                               rtol=1e-6, atol=1e-10)


# -- against PyTorch ---------------------------------------------------------------------


def test_pooling_and_dropout_agree_with_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch (the gradient oracle) is not installed")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    n, m, k, p = 12, 5, 3, 0.3
    h_prev, mask = rng.standard_normal((n, m)), rng.random((n, m)) >= p
    x = torch.tensor(h_prev.T[:, None, :], requires_grad=True)  # (m, 1 channel, n units)
    for layer, torch_out in [(MaxPool(k, n_in=n), lambda x: F.max_pool1d(x, k)),
                             (AvgPool(k, n_in=n), lambda x: F.avg_pool1d(x, k)),
                             (Dropout(p, n_in=n), lambda x: x * torch.tensor(mask.T[:, None, :])
                              / (1 - p))]:
        layer.fixed_mask = mask
        out = torch_out(x)
        grad_h = rng.standard_normal((out.shape[2], m))
        x.grad = None
        (out * torch.tensor(grad_h.T[:, None, :])).sum().backward()  # ∂/∂x of Σ g ⊙ out
        np.testing.assert_allclose(layer.forward(h_prev), out.detach().numpy()[:, 0, :].T,
                                   rtol=1e-12)
        np.testing.assert_allclose(layer.backward(grad_h), x.grad.numpy()[:, 0, :].T,
                                   rtol=1e-12)


def test_a_network_with_pooling_and_dropout_agrees_with_pytorch_on_every_gradient():
    torch = pytest.importorskip("torch", reason="PyTorch (the gradient oracle) is not installed")
    F = torch.nn.functional
    rng = np.random.default_rng(4)
    for pool, torch_pool in [(MaxPool, F.max_pool1d), (AvgPool, F.avg_pool1d)]:
        net = routed_net(rng, pool)
        X, y = rng.standard_normal((9, 4)), rng.integers(0, 3, 9)
        net.forward(X)
        J = net.backward(y, input_gradient=True)

        x = torch.tensor(X, requires_grad=True)
        h, weights = x, []
        for layer in net.layers:
            if isinstance(layer, Dense):
                W, b = torch.tensor(layer.W, requires_grad=True), torch.tensor(layer.b)
                weights.append(W)
                a = h @ W.T + b
                h = torch.tanh(a) if layer.activation.name == "tanh" else a
            elif isinstance(layer, Dropout):
                h = h * torch.tensor(layer.mask.T) / (1 - layer.p)
            else:
                h = torch_pool(h[:, None, :], layer.k)[:, 0, :]
        J_torch = F.cross_entropy(h, torch.tensor(y))
        J_torch.backward()
        assert J == pytest.approx(J_torch.item(), rel=1e-12)
        np.testing.assert_allclose(net.grad_X, x.grad.numpy(), rtol=1e-10, atol=1e-14)
        dense = [layer for layer in net.layers if isinstance(layer, Dense)]
        for layer, W in zip(dense, weights):
            np.testing.assert_allclose(layer.grad_W, W.grad.numpy(), rtol=1e-10, atol=1e-14)


# -- widths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layer, n_out", [(MaxPool(4), 3), (AvgPool(2), 6), (Dropout(0.5), 12)])
def test_a_layer_created_without_its_width_takes_the_width_of_the_layer_below(layer, n_out):
    assert layer.n_in is None
    net = Network([Dense(3, 12, rng=0), layer, Dense(n_out, 2, activation="identity", rng=1)])
    assert (layer.n_in, layer.n_out) == (12, n_out)
    assert net.forward(np.ones((4, 3))).shape == (4, 2)


@pytest.mark.parametrize("pool", [MaxPool, AvgPool])
def test_a_window_that_does_not_divide_the_width_is_one_line_naming_both_numbers(pool):
    with pytest.raises(ValueError, match=r"k=3\) cannot pool n_in=8 units: 8 is not a multiple "
                                         r"of 3; choose a k that divides 8 \(2, 4, 8\)"):
        pool(3, n_in=8)
    with pytest.raises(ValueError, match=r"n_in=10 units: 10 is not a multiple of 4"):
        Network([Dense(2, 10), pool(4), Dense(2, 1)])


@pytest.mark.parametrize("make, error, message", [
    (lambda: MaxPool(0), ValueError, "k must be a positive integer, got 0"),
    (lambda: AvgPool(2.5), TypeError, "k must be a positive integer, got 2.5"),
    (lambda: MaxPool(2, n_in=-4), ValueError, "n_in must be a positive integer, got -4"),
    (lambda: Dropout(1), ValueError, r"p \(the probability of dropping a unit\) must lie in "
                                     r"\[0, 1\), got 1"),
    (lambda: Dropout(-0.1), ValueError, r"must lie in \[0, 1\), got -0.1"),
    (lambda: Dropout(float("nan")), ValueError, r"must lie in \[0, 1\), got nan"),
    (lambda: Dropout("0.5"), TypeError, r"must be a number in \[0, 1\), got '0.5'"),
    (lambda: Dropout(0.5, rng=-1), TypeError, "rng must be a non-negative int seed"),
    (lambda: Dropout(0.5, rng="seed"), TypeError, "rng must be a non-negative int seed"),
])
def test_bad_settings_are_refused_with_one_line(make, error, message):
    with pytest.raises(error, match=message) as raised:
        make()
    assert "\n" not in str(raised.value)


def test_before_its_passes_a_layer_says_which_pass_makes_what_is_read():
    layer = MaxPool(2, n_in=4)
    with pytest.raises(AttributeError, match=r"MaxPool.winner does not exist yet: a training "
                                             r"pass keeps it"):
        layer.winner
    with pytest.raises(AttributeError, match=r"grad_h_prev does not exist yet: backward"):
        layer.grad_h_prev
    with pytest.raises(AttributeError, match=r"Dropout.mask does not exist yet"):
        Dropout(0.5, n_in=3).mask


# -- dropout's masks ------------------------------------------------------------------------


def test_dropout_draws_a_fresh_mask_at_every_training_pass_and_is_the_identity_at_evaluation():
    layer = Dropout(0.25, n_in=400, rng=7)
    h_prev = np.ones((400, 50))
    first = layer.forward(h_prev)
    mask = layer.mask
    assert mask.dtype == bool and mask.shape == (400, 50)
    assert abs(mask.mean() - 0.75) < 0.01              # each unit kept with probability 1 − p
    assert first.mean() == pytest.approx(1, abs=0.02)   # inverted: the mean is kept
    np.testing.assert_array_equal(first[mask], 1 / 0.75)
    layer.forward(h_prev)
    assert (layer.mask != mask).mean() > 0.3            # a new mask
    assert layer.forward(h_prev, training=False) is h_prev
    assert "mask" not in vars(layer)                    # an inference pass keeps nothing


def test_a_fixed_mask_stays_fixed_across_training_passes_until_set_back_to_none():
    rng = np.random.default_rng(5)
    net = routed_net(rng, p=0.5)
    drop = net.layers[2]
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    net.forward(X)
    drop.fixed_mask = drop.mask
    J = net.compute_loss(X, y, training=True)
    for _ in range(3):
        assert net.compute_loss(X, y, training=True) == J
        np.testing.assert_array_equal(drop.mask, drop.fixed_mask)
    drop.fixed_mask = None
    assert {net.compute_loss(X, y, training=True) for _ in range(3)} != {J}


def test_a_fixed_mask_shared_by_the_batch_broadcasts_and_a_wrong_one_is_one_line():
    layer = Dropout(0.5, n_in=3, rng=0)
    layer.fixed_mask = np.array([[True], [False], [True]])
    np.testing.assert_array_equal(layer.forward(np.ones((3, 4))), [[2] * 4, [0] * 4, [2] * 4])
    layer.fixed_mask = np.ones((3, 5))
    with pytest.raises(ValueError, match=r"fixed_mask has shape \(3, 5\), but this pass has 3 "
                                         r"units × 4 samples: .* or set fixed_mask = None"):
        layer.forward(np.ones((3, 4)))
    layer.fixed_mask = np.full((3, 4), 0.5)
    with pytest.raises(ValueError, match=r"fixed_mask must hold 0/1"):
        layer.forward(np.ones((3, 4)))


def test_a_dropout_seeded_from_a_generator_is_reproducible():
    masks = []
    for _ in range(2):
        layer = Dropout(0.5, n_in=5, rng=np.random.default_rng(11))
        layer.forward(np.ones((5, 3)))
        masks.append(layer.mask)
    np.testing.assert_array_equal(*masks)
    assert Dropout(0.5).seed != Dropout(0.5).seed       # None: fresh entropy


# -- dtype, training, saving ----------------------------------------------------------------


@pytest.mark.parametrize("pool", [MaxPool, AvgPool])
def test_routing_layers_keep_float32(pool):
    rng = np.random.default_rng(6)
    net = routed_net(rng, pool, dtype=np.float32)
    assert net.forward(rng.standard_normal((5, 4))).dtype == np.float32
    net.backward(rng.integers(0, 3, 5), input_gradient=True)
    assert net.grad_X.dtype == np.float32
    assert all(layer.grad_h_prev.dtype == np.float32 for layer in net.layers[1:])


def test_a_network_with_pooling_and_dropout_trains_and_records_no_norms_for_them():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    net = routed_net(rng, MaxPool, p=0.2)
    records = list(train_epochs(net, SGD(net, lr=0.3), X, y, X, y, epochs=15, batch_size=16,
                                rng=0))
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    assert records[-1]["val_accuracy"] > 0.7
    for norms in (records[-1]["grad_W_norm"], records[-1]["delta_norm"]):
        assert [norm is None for norm in norms] == [False, True, True, False, True, False]


@pytest.mark.parametrize("layer", [MaxPool(2, n_in=6), AvgPool(3), Dropout(0.3, rng=4)])
def test_config_rebuilds_the_layer(layer):
    config = layer.config()
    kind = config.pop("type")
    again = {"MaxPool": MaxPool, "AvgPool": AvgPool, "Dropout": Dropout}[kind](**config)
    assert again.config() == layer.config() and type(again) is type(layer)


def test_a_saved_network_with_pooling_and_dropout_loads_and_draws_the_same_masks(tmp_path):
    rng = np.random.default_rng(9)
    net = routed_net(rng, MaxPool, p=0.5)
    X = rng.standard_normal((6, 4))
    path = net.save(tmp_path / "routed")
    assert net.layers[2].config() == {"type": "Dropout", "p": 0.5, "n_in": 6,
                                      "rng": net.layers[2].seed}
    first, second = Network.load(path), Network.load(path)
    assert [type(layer) for layer in first.layers] == [type(layer) for layer in net.layers]
    np.testing.assert_array_equal(first.predict(X), net.predict(X))
    np.testing.assert_array_equal(first.forward(X, training=False), net.forward(X, training=False))
    np.testing.assert_array_equal(first.forward(X), second.forward(X))  # same seed, same masks
    np.testing.assert_array_equal(first.layers[2].mask, second.layers[2].mask)



@pytest.mark.parametrize("pool, name", [(MaxPool, "max_pool"), (AvgPool, "avg_pool")])
def test_the_pooling_exercises_reference_routes_as_the_layers_do(pool, name):
    exercise = importlib.import_module(f"backprop_edu.exercises.{name}")
    rng = np.random.default_rng(12)
    x, grad_out = rng.standard_normal((12, 5)), rng.standard_normal((4, 5))
    layer = pool(3, n_in=12)
    np.testing.assert_array_equal(layer.forward(x), getattr(exercise, name)(x, 3))
    np.testing.assert_array_equal(layer.backward(grad_out),
                                  getattr(exercise, f"{name}_backward")(x, grad_out, 3))


# -- the builder -----------------------------------------------------------------------------


def test_build_network_writes_pooling_between_the_widths_and_dropout_after_hidden_layers():
    net = build_network([64, 64, "maxpool2", 32, "avgpool4", 10], dropout=0.2, rng=0)
    assert [repr(layer) for layer in net.layers] == [
        "Dense(64, 64, activation='relu')", "MaxPool(2, n_in=64)", "Dropout(0.2, n_in=32)",
        "Dense(32, 32, activation='relu')", "AvgPool(4, n_in=32)", "Dropout(0.2, n_in=8)",
        "Dense(8, 10, activation='identity')"]
    same = build_network([64, 64, "maxpool2", 32, "avgpool4", 10], dropout=0.2, rng=0)
    assert [layer.seed for layer in same.layers if isinstance(layer, Dropout)] == \
        [layer.seed for layer in net.layers if isinstance(layer, Dropout)]
    plain = build_network([64, 64, 10], rng=0)
    assert len(plain.layers) == 2                         # no pooling, no dropout: as before


@pytest.mark.parametrize("widths, dropout, message", [
    ([64, 64, "maxpool3", 10], 0, r"MaxPool\(k=3\) cannot pool n_in=64 units"),
    ([64, "minpool2", 10], 0, r"holds 'minpool2', which is neither a width"),
    (["maxpool2", 64, 10], 0, "must start with the input width and end with the output width"),
    ([64, 64, 10], 1.0, r"must lie in \[0, 1\), got 1.0"),
])
def test_build_network_refuses_what_it_cannot_build(widths, dropout, message):
    with pytest.raises(ValueError, match=message):
        build_network(widths, dropout=dropout)


def test_decision_regions_of_a_network_with_dropout_do_not_change_from_call_to_call():
    net = build_network([2, 16, 2], dropout=0.5, rng=0)
    X = np.random.default_rng(0).standard_normal((20, 2))
    np.testing.assert_array_equal(decision_grid(net, X, resolution=30)[2],
                                  decision_grid(net, X, resolution=30)[2])
