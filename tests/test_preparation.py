"""Data preparation: the split drawn first from the Generator, training-split statistics only,
the metadata a saved model needs, and new data prepared the same way."""

import numpy as np
import pytest

from backprop_edu import datasets
from backprop_edu.errors import ParameterError
from backprop_edu.preparation import predictions, prepare, prepare_for_model, resolve_data
from conftest import write


def test_prepare_is_the_split_then_standardisation_with_the_training_rows_only():
    digits = datasets.load("digits")
    rng, by_hand = np.random.default_rng(7), np.random.default_rng(7)
    X, y, train_rows, val_rows, metadata = prepare(digits, 0.2, rng)
    expected_train, expected_val = datasets.split(len(digits.X), 0.2, by_hand)
    mean, std = datasets.standardisation(digits.X[expected_train])
    np.testing.assert_array_equal(train_rows, expected_train)
    np.testing.assert_array_equal(val_rows, expected_val)
    np.testing.assert_array_equal(X, datasets.standardise(digits.X, mean, std))
    np.testing.assert_array_equal(y, digits.y)
    assert rng.random() == by_hand.random()  # the split was the only draw
    assert metadata == {"task": "classification", "data": "digits", "target": "label",
                        "features": list(digits.features), "feature_mean": mean.tolist(),
                        "feature_std": std.tolist(), "classes": list(digits.classes)}


def test_regression_targets_are_standardised_and_mapped_back(tmp_path):
    rows = "".join(f"{x},{10 * x + 100}\n" for x in range(20))
    dataset = datasets.load(write(tmp_path, "r.csv", "x,price\n" + rows), "price", "regression")
    X, y, train_rows, _, metadata = prepare(dataset, 0.25, np.random.default_rng(0))
    assert metadata["target_mean"] == pytest.approx(dataset.y[train_rows].mean())
    assert y[train_rows].mean() == pytest.approx(0) and y[train_rows].std() == pytest.approx(1)
    back = predictions(metadata, y[:, None])
    np.testing.assert_allclose(back, dataset.y)
    X_new, y_new = prepare_for_model(metadata, dataset.name)
    np.testing.assert_array_equal(X_new, X)
    np.testing.assert_array_equal(y_new, y)


def test_new_data_for_a_saved_model_by_column_name_with_class_names(tmp_path):
    train_csv = write(tmp_path, "a.csv", "h,animal,w\n1,cat,5\n2,dog,6\n3,cat,7\n4,dog,9\n")
    dataset = datasets.load(train_csv, "animal")
    _, _, _, _, metadata = prepare(dataset, 0.0, np.random.default_rng(0))
    new = write(tmp_path, "new.csv", "w,id,h,animal\n6,0,2,dog\n5,1,1,cat\n")
    X, y = prepare_for_model(metadata, new, target="animal")
    mean, std = np.array(metadata["feature_mean"]), np.array(metadata["feature_std"])
    np.testing.assert_allclose(X, (np.array([[2, 6], [1, 5]]) - mean) / std)
    assert y.tolist() == [1, 0]
    assert prepare_for_model(metadata, new, with_target=False)[1] is None
    assert predictions(metadata, np.array([[0.1, 0.9], [2.0, -1.0]])).tolist() == ["dog", "cat"]


def test_a_single_class_in_the_training_split_and_a_missing_csv_name_the_parameter(tmp_path):
    path = write(tmp_path, "two.csv", "a,y\n1,x\n2,z\n")
    with pytest.raises(ParameterError, match="single class; use more data or a smaller "
                                             "val_split") as error:
        prepare(datasets.load(path, "y"), 0.5, np.random.default_rng(0))
    assert error.value.parameter == "val_split"
    with pytest.raises(ParameterError, match=r"give data: the CSV file to use \(with the "
                                             r"columns a\)"):
        resolve_data({"data": path, "features": ["a"]})
    assert resolve_data({"data": "moons", "features": ["x1", "x2"]}) == "moons"
    with pytest.raises(ParameterError, match="target is only for a CSV file"):
        prepare_for_model({"data": "moons", "features": ["x1", "x2"]}, "moons", target="y")
