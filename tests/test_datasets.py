"""The shipped data, the 2-D generators, and reading a user's CSV (every malformed file)."""

import signal
import time

import numpy as np
import pytest

from backprop_edu import datasets
from backprop_edu.errors import ParameterError
from conftest import write


# -- shipped data ------------------------------------------------------------------

def test_digits_is_the_uci_test_set_with_64_pixels_and_10_classes():
    digits = datasets.load("digits")
    assert digits.X.shape == (1797, 64)
    assert digits.classes == tuple(str(k) for k in range(10))
    assert digits.X.min() == 0 and digits.X.max() == 16
    assert np.all(digits.X == np.round(digits.X))
    assert np.bincount(digits.y).min() >= 170  # about 180 of each digit
    # the first row of the UCI file is a 0 (its label is the last value of the row)
    assert digits.y[0] == 0 and digits.X[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_the_shipped_csv_has_a_header_so_it_reads_as_a_user_csv():
    path = datasets.DATA_DIR / "digits.csv"
    assert path.read_text().splitlines()[0].startswith("pixel_0,pixel_1,")
    as_csv = datasets.load(str(path), target="label")
    assert np.array_equal(as_csv.X, datasets.load("digits").X)
    assert (datasets.DATA_DIR / "README.md").read_text().count("CC BY 4.0") >= 1


@pytest.mark.parametrize("name, n, k", [("xor", 400, 2), ("moons", 400, 2), ("circles", 400, 2),
                                        ("spirals", 600, 3)])
def test_generated_sets_are_2d_fixed_and_balanced(name, n, k):
    first, again = datasets.load(name), datasets.load(name)
    assert first.X.shape == (n, 2) and len(first.classes) == k
    assert np.array_equal(first.X, again.X) and np.array_equal(first.y, again.y)
    assert np.all(np.abs(np.bincount(first.y) - n / k) <= n / k * 0.2)


def test_generators_follow_their_seed():
    X1, y1 = datasets.make_moons(100, rng=1)
    X2, _ = datasets.make_moons(100, rng=2)
    assert np.array_equal(X1, datasets.make_moons(100, rng=1)[0]) and not np.array_equal(X1, X2)


def test_xor_labels_are_the_xor_of_the_signs_without_noise():
    X, y = datasets.make_xor(200, noise=0.0, rng=0)
    assert np.array_equal(y, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int))


def test_circles_inner_ring_is_class_1_without_noise():
    X, y = datasets.make_circles(100, noise=0.0, factor=0.5, rng=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radius[y == 0], 1.0) and np.allclose(radius[y == 1], 0.5)


def test_summary_lists_every_shipped_set_with_its_shape():
    rows = {row[0]: row[1:4] for row in datasets.summary()}
    assert rows == {"digits": (1797, 64, 10), "iris": (150, 4, 3), "xor": (400, 2, 2),
                    "moons": (400, 2, 2), "circles": (400, 2, 2), "spirals": (600, 2, 3)}


def test_iris_is_fishers_data_and_every_data_set_writes_a_csv_that_reads_back(tmp_path):
    iris = datasets.load("iris")
    assert iris.classes == ("setosa", "versicolor", "virginica") and iris.target == "species"
    assert np.bincount(iris.y).tolist() == [50, 50, 50]
    assert iris.X.mean(axis=0).round(3).tolist() == [5.843, 3.057, 3.758, 1.199]  # Fisher's
    assert iris.X[34].tolist() == [4.9, 3.1, 1.5, 0.2]  # sample 35 as in the paper, not UCI's
    for name in datasets.SHIPPED:
        data = datasets.load(name)
        path = tmp_path / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            datasets.write_csv(data, f)
        again = datasets.load(path, target=data.target)
        assert np.array_equal(again.X, data.X) and again.features == data.features
        assert [again.classes[k] for k in again.y] == [data.classes[k] for k in data.y]
    assert (tmp_path / "iris.csv").read_text().splitlines()[1] == "5.1,3.5,1.4,0.2,setosa"


# -- a user's CSV --------------------------------------------------------------------

def test_string_labels_become_classes_and_features_keep_their_order(tmp_path):
    path = write(tmp_path, "data.csv", "b,species,a\n1,cat,2\n3,dog,4\n5,cat,6\n\n")
    data = datasets.load(path, target="species")
    assert data.features == ("b", "a") and data.classes == ("cat", "dog")
    assert data.X.tolist() == [[1, 2], [3, 4], [5, 6]] and data.y.tolist() == [0, 1, 0]


def test_numeric_labels_sort_as_numbers_not_text():
    classes, y = datasets.class_names(np.array(["10", "2", "1", "2"]))
    assert classes == ("1", "2", "10") and y.tolist() == [2, 1, 0, 1]


def test_regression_targets_stay_real(tmp_path):
    path = write(tmp_path, "data.csv", "x,y\n1,0.5\n2,1.5\n")
    data = datasets.load(path, target="y", task="regression")
    assert data.task == "regression" and data.y.tolist() == [0.5, 1.5] and data.n_outputs == 1


@pytest.mark.parametrize("text, target, message", [
    ("", "y", "is empty"),
    ("a,b,y\n", "y", "no data rows"),
    ("just one column\n1\n", "y", "single column"),
    ("a,b,y\n1,2,x\n3,4\n", "y", "line 3 of"),
    ("a,b,y\n1,2,x\n3,oops,z\n", "y", "line 3, column 'b'"),
    ("a,b,y\n1,2,x\n3,,z\n", "y", "an empty cell"),
    ("a,b,y\n1,2,x\n3,nan,z\n", "y", "line 3, column 'b' of"),
    ("a,b,y\n1,inf,x\n3,4,z\n", "y", "finite"),
    ("a,b,y\n1,2,x\n3,4,z\n", "label", "its columns are a, b, y"),
    ("a,b,y\n1,2,x\n3,4,x\n", "y", "single class"),
    ("a,b,y\n1,2,0.25\n3,4,1.75\n", "y", "use task='regression'"),
    ("a,a,y\n1,2,x\n3,4,z\n", "y", "repeats the column name"),
    ("a,b,y\n1,2,\n3,4,z\n", "y", "empty target"),
])
def test_every_malformed_csv_gets_a_one_line_message(tmp_path, text, target, message):
    path = write(tmp_path, "data.csv", text)
    with pytest.raises(ValueError) as error:
        datasets.load(path, target=target)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_nan_message_names_the_row_and_the_column(tmp_path):
    path = write(tmp_path, "data.csv", "a,b,y\n1,2,x\n3,4,z\n5,NaN,x\n")
    with pytest.raises(ValueError, match=r"line 4, column 'b' of .* holds NaN"):
        datasets.load(path, target="y")


def test_missing_file_binary_file_and_unknown_name(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        datasets.load(str(tmp_path / "nope.csv"), target="y")
    binary = tmp_path / "model.csv"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00\x81binary")
    with pytest.raises(ValueError, match="not a CSV file"):
        datasets.load(str(binary), target="y")
    with pytest.raises(ValueError, match="expected one of digits, iris, xor, moons, circles, "
                                         "spirals, mnist, fashion-mnist"):
        datasets.load("emnist")
    with pytest.raises(ValueError, match="target is only for a CSV"):
        datasets.load("digits", target="label")


def test_for_model_picks_the_trained_columns_by_name(tmp_path):
    path = write(tmp_path, "data.csv", "id,b,a\n7,1,2\n8,3,4\n")
    X, targets = datasets.for_model(path, ["a", "b"])
    assert X.tolist() == [[2, 1], [4, 3]] and targets is None
    with pytest.raises(ValueError, match="lacks the column"):
        datasets.for_model(path, ["a", "c"])


def test_encode_maps_names_to_the_training_classes_and_rejects_new_ones():
    assert datasets.encode(["dog", "cat", "dog"], ("cat", "dog")).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="'bird' were not seen in training"):
        datasets.encode(["bird"], ("cat", "dog"))


def test_split_and_standardisation():
    rng = np.random.default_rng(0)
    train, val = datasets.split(10, 0.3, rng)
    assert len(val) == 3 and sorted(np.concatenate([train, val]).tolist()) == list(range(10))
    X = np.array([[1.0, 5.0], [3.0, 5.0]])
    mean, std = datasets.standardisation(X)
    assert mean.tolist() == [2, 5] and std.tolist() == [1, 1]  # constant column: std 1
    assert datasets.standardise(X, mean, std).tolist() == [[-1, 0], [1, 0]]


def test_bom_crlf_spaces_and_quotes_around_cells_are_read_as_plain_values(tmp_path):
    path = tmp_path / "windows.csv"
    path.write_bytes('\ufeff x , "y"\r\n 1.5 , "cat"\r\n2,  "dog, big" \r\n\r\n'.encode("utf-8"))
    data = datasets.load(path, target="y")
    assert data.features == ("x",) and data.classes == ("cat", "dog, big")
    assert data.X.tolist() == [[1.5], [2.0]] and data.y.tolist() == [0, 1]


def test_values_too_large_to_standardise_name_their_column():
    X = np.array([[1.0, 1e308], [2.0, -1.5e308], [3.0, 0.0]])
    with pytest.raises(ValueError, match="column 'b' holds values too large to standardise"):
        datasets.standardisation(X, ["a", "b"])
    mean, std = np.zeros(2), np.array([1.0, 1e-10])
    with pytest.raises(ValueError, match="column 'b' holds values too large"):
        datasets.standardise(X, mean, std, ["a", "b"])


def test_ctrl_c_while_parsing_numbers_is_not_swallowed():
    """numpy's own string cast drops a KeyboardInterrupt raised while it runs (the run would go
    on after Ctrl-C); the parser of CSV cells, to_floats, must let it through."""
    if not hasattr(signal, "setitimer"):
        pytest.skip("signal.setitimer (an interval timer) exists on POSIX systems only")
    cells = np.random.default_rng(0).random((40_000, 10)).astype(str)
    started = time.perf_counter()
    assert datasets.to_floats(cells).tolist() == cells.astype(np.float64).tolist()
    duration = (time.perf_counter() - started) / 2  # roughly one of the two parses

    def ctrl_c(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, ctrl_c)
    try:
        for fraction in (0.2, 0.5):
            with pytest.raises(KeyboardInterrupt):
                signal.setitimer(signal.ITIMER_REAL, fraction * duration)
                datasets.to_floats(cells)
                time.sleep(1 + duration)  # if the parse was over before the alarm, it comes here
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_bad_argument_is_named_as_python_names_it_and_the_cli_can_name_its_flag(tmp_path):
    """The message names the parameter (target, val_split), never a flag; naming(flag) rewrites
    the parameter only, not a column or a file that happens to be called target."""
    path = write(tmp_path, "target.csv", "a,target,y\n1,2,x\n3,4,z\n")
    with pytest.raises(ParameterError) as error:
        datasets.load(path)
    assert str(error.value) == (f"a CSV needs target, the column to predict; the columns of "
                                f"{path} are a, target, y")
    assert error.value.naming("--target") == (f"a CSV needs --target, the column to predict; "
                                              f"the columns of {path} are a, target, y")
    with pytest.raises(ParameterError) as error:
        datasets.split(10, 0.99, np.random.default_rng(0))
    assert "--" not in str(error.value) and error.value.parameter == "val_split"
    assert error.value.naming("--val-split") == (
        "10 samples leave nothing to train on with --val-split 0.99: use a smaller --val-split")
