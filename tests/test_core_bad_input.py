"""Bad input a new user is likely to try: each is refused with one line naming what was wrong
and what was expected, never a numpy traceback, a warning or a silently wrong number."""

import warnings

import numpy as np
import pytest

from backprop_edu import Adam, Dense, Momentum, Network, SGD, gradcheck


@pytest.fixture(autouse=True)
def warnings_are_errors():
    """A refused input must not also emit a RuntimeWarning or leak a file (ResourceWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def regression_net():
    return Network([Dense(3, 4, activation="tanh", rng=0),
                    Dense(4, 2, activation="identity", rng=1)])


def classifier():
    return Network([Dense(3, 4, activation="tanh", rng=0),
                    Dense(4, 3, activation="identity", rng=1)], loss="softmax_cross_entropy")


X = np.arange(15.0).reshape(5, 3) / 10


# -- X --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_x_is_refused_naming_the_row(bad):
    X_bad = X.copy()
    X_bad[3, 1] = bad
    with pytest.raises(ValueError, match=r"X has NaN or infinite values \(the first in X\[3\]\): "
                                         "expected finite numbers"):
        regression_net().forward(X_bad)


def test_rows_of_different_lengths_are_refused_as_x():
    with pytest.raises(ValueError, match="X is not an array: expected a 2-D array of numbers, "
                                         "samples × features, every row of the same length"):
        regression_net().forward([[1, 2, 3], [1, 2]])


def test_lists_and_bools_are_accepted_as_x_and_give_the_numbers_they_stand_for():
    net = regression_net()
    expected = net.forward(np.array([[1.0, 0.0, 1.0]]))
    assert np.array_equal(net.forward([[1, 0, 1]]), expected)
    assert np.array_equal(net.forward(np.array([[True, False, True]])), expected)


# -- Y and labels ---------------------------------------------------------------------------


def test_nan_in_y_is_refused_instead_of_giving_a_nan_loss():
    net = regression_net()
    net.forward(X)
    Y = np.zeros((5, 2))
    Y[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"Y has NaN or infinite values \(the first in Y\[2\]\)"):
        net.backward(Y)


@pytest.mark.parametrize("bad, shown", [(1.5, "1.5"), (np.inf, "inf"), (np.nan, "nan")])
def test_labels_that_are_not_whole_numbers_are_refused_naming_the_label(bad, shown):
    net = classifier()
    net.forward(X)
    with pytest.raises(ValueError, match=rf"must be whole numbers 0..2, got Y\[1\] = {shown}"):
        net.backward(np.array([0, bad, 2, 1, 0]))


def test_a_wrong_number_of_targets_is_reported_in_the_shape_given():
    net = Network([Dense(3, 1, activation="identity", rng=0)])
    net.forward(X)
    with pytest.raises(ValueError, match=r"Y has shape \(3,\) but the network needs targets of "
                                         r"shape \(5, 1\) for the 5 samples"):
        net.backward(np.zeros(3))


def test_whole_float_labels_are_the_integer_labels():
    net = classifier()
    net.forward(X)
    J_int = net.backward(np.array([0, 2, 2, 1, 0]))
    assert net.backward(np.array([0.0, 2.0, 2.0, 1.0, 0.0])) == J_int


@pytest.mark.parametrize("row", [[2.0, 0.0, 0.0], [-1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
def test_cross_entropy_targets_that_are_not_distributions_are_refused(row):
    """J = log Σ e^a − yᵀa and δ = softmax(a) − y hold only when Σ_k y_k = 1 and y ≥ 0."""
    net = classifier()
    net.forward(X)
    Y = np.eye(3)[[0, 1, 2, 1, 0]]
    Y[4] = row
    with pytest.raises(ValueError, match=r"Y\[4\] is .* cross-entropy expects one-hot rows"):
        net.backward(Y)


def test_soft_targets_summing_to_one_are_accepted():
    net = classifier()
    net.forward(X)
    Y = np.full((5, 3), 1 / 3)
    J = net.backward(Y)
    a = net.output  # a_L, one column per sample
    log_softmax = a - np.log(np.exp(a).sum(axis=0))
    assert J == pytest.approx(-np.mean((Y.T * log_softmax).sum(axis=0)), rel=1e-12)


# -- building a network ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [None, ["half_mse"], 3])
def test_a_loss_that_is_not_a_name_lists_the_known_ones(name):
    with pytest.raises(ValueError, match="unknown loss .*: expected one of half_mse, "
                                         "softmax_cross_entropy"):
        Network([Dense(2, 2)], loss=name)


def test_an_activation_that_is_not_a_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown activation .*: expected one of identity, relu"):
        Dense(2, 2, activation=["relu"])


def test_a_bad_rng_says_what_it_may_be():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, an int seed or "
                                        "None, got 'abc'"):
        Dense(2, 2, rng="abc")


def test_a_single_layer_must_come_in_a_list():
    with pytest.raises(TypeError, match=r"layers must be a list of layers, e.g. "
                                        r"Network\(\[Dense\(2, 1\)\]\)"):
        Network(Dense(2, 1))


def test_mixed_dtypes_say_how_to_fix_it():
    with pytest.raises(TypeError, match="one dtype.*create every layer with the same dtype="):
        Network([Dense(2, 3), Dense(3, 1, dtype=np.float32)])


@pytest.mark.parametrize("W, got", [
    (np.zeros((3, 2)), "shape \\(3, 2\\) and dtype float64"),
    (np.zeros((2, 2), np.int64), "shape \\(2, 2\\) and dtype int64"),
    (np.zeros((2, 2), np.float32), "shape \\(2, 2\\) and dtype float32"),
    ([[1.0, 2.0], [3.0, 4.0]], "a list"),
])
def test_a_replaced_w_of_the_wrong_shape_or_dtype_is_refused(W, got):
    net = Network([Dense(2, 2, activation="identity")])
    net.layers[0].W = W
    with pytest.raises(ValueError, match=rf"W must be an array of shape \(2, 2\) and dtype "
                                         rf"float64, got {got}; set it in place: "
                                         rf"layer.W\[...\] = values"):
        net.forward(np.ones((1, 2)))


def test_a_replaced_w_of_the_right_shape_and_dtype_is_used():
    net = Network([Dense(2, 1, activation="identity")])
    net.layers[0].W = np.array([[2.0, -3.0]])
    assert net.forward(np.array([[1.0, 1.0]])).tolist() == [[-1.0]]


# -- optimisers and gradcheck ---------------------------------------------------------------


@pytest.mark.parametrize("make, message", [
    (lambda net: SGD(net.layers, lr=0.1), "SGD updates a Network's parameters: pass the Network"),
    (lambda net: SGD(net, lr="0.1"), "lr \\(the learning rate η\\) must be a number, got '0.1'"),
    (lambda net: SGD(net, lr=None), "lr \\(the learning rate η\\) must be a number, got None"),
    (lambda net: Momentum(net, lr=0.1, momentum="0.9"), "momentum \\(μ\\) must be a number"),
])
def test_optimiser_settings_of_the_wrong_type_are_refused(make, message):
    with pytest.raises(TypeError, match=message):
        make(regression_net())


@pytest.mark.parametrize("eps", [0, -1e-8])
def test_adam_eps_must_be_positive(eps):
    with pytest.raises(ValueError, match="eps \\(ε\\) must be a small positive number"):
        Adam(regression_net(), eps=eps)


def test_gradcheck_refuses_a_zero_step_or_no_entries():
    net, Y = regression_net(), np.zeros((5, 2))
    with pytest.raises(ValueError, match="eps \\(the step ε\\) must be a small positive number"):
        gradcheck(net, X, Y, eps=0)
    with pytest.raises(ValueError, match="max_entries must be a positive integer, got 0"):
        gradcheck(net, X, Y, max_entries=0)


# -- loading --------------------------------------------------------------------------------


def write(path, content):
    path.write_bytes(content)
    return path


def saved_network_bytes(tmp_path):
    regression_net().save(tmp_path / "good.npz")
    return (tmp_path / "good.npz").read_bytes()


@pytest.mark.parametrize("make", [
    lambda tmp: write(tmp / "notes.npz", b"hello world\n"),
    lambda tmp: write(tmp / "empty.npz", b""),
    lambda tmp: write(tmp / "half.npz", saved_network_bytes(tmp)[:400]),
    lambda tmp: write(tmp / "cut.npz", saved_network_bytes(tmp)[:-30]),
], ids=["text", "empty", "truncated", "end-cut-off"])
def test_a_file_that_is_not_an_npz_archive_is_refused(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(ValueError, match=f"{path} is not a saved backprop-edu network: it is "
                                         r"not an \.npz \(zip\) archive; expected the \.npz file "
                                         r"written by Network\.save\(path\)"):
        Network.load(path)


def test_a_single_array_file_is_refused(tmp_path):
    np.save(tmp_path / "array.npy", np.arange(3))
    with pytest.raises(ValueError, match="is not a saved backprop-edu network"):
        Network.load(tmp_path / "array.npy")


def test_an_npz_of_other_arrays_says_what_is_missing(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="is not a saved backprop-edu network: it has no "
                                         "'architecture' entry"):
        Network.load(tmp_path / "other.npz")


@pytest.mark.parametrize("architecture, message", [
    ("[1, 2]", "its architecture is not in the format"),
    ('{"format": "backprop-edu network, version 1", "loss": "half_mse", "dtype": "float64", '
     '"layers": [{"type": "Conv", "n_in": 2}]}', "layer 1 has the unknown type 'Conv'"),
])
def test_an_npz_with_a_foreign_architecture_is_refused(tmp_path, architecture, message):
    np.savez(tmp_path / "odd.npz", architecture=np.array(architecture))
    with pytest.raises(ValueError, match=f"is not a saved backprop-edu network.*{message}"):
        Network.load(tmp_path / "odd.npz")


def test_a_directory_or_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is a directory: expected the .npz file"):
        Network.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file: .*missing.npz"):
        Network.load(tmp_path / "missing.npz")
