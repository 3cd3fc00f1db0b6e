"""Accuracy, the confusion matrix and the per-class report, counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit import accuracy, classification_report, confusion_matrix
from mlpkit.metrics import accuracy_from_outputs

Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 0, 2])  # 5 of 7 right


def test_accuracy_from_labels_one_hot_and_scores():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(5 / 7)
    one_hot = np.eye(3)[Y_TRUE]
    scores = np.eye(3)[Y_PRED] * 0.7 + 0.1  # arg-max is the predicted class
    assert accuracy(one_hot, scores) == pytest.approx(5 / 7)
    assert accuracy(Y_TRUE.tolist(), Y_TRUE.tolist()) == 1.0


def test_accuracy_validation():
    with pytest.raises(
        ValueError,
        match=r"y_true and y_pred must have the same length, got 3 "
        r"and 2",
    ):
        accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"accuracy of 0 samples is undefined"):
        accuracy([], [])


def test_confusion_matrix():
    # rows: true class, columns: predicted class
    expected = [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, Y_PRED), expected)
    np.testing.assert_array_equal(confusion_matrix(np.eye(3)[Y_TRUE], Y_PRED), expected)
    padded = confusion_matrix(Y_TRUE, Y_PRED, n_classes=4)
    assert padded.shape == (4, 4) and padded.sum() == 7 and padded[3].sum() == 0
    assert confusion_matrix(Y_TRUE, Y_PRED).dtype == np.int64


def test_confusion_matrix_validation():
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 1\]"):
        confusion_matrix([0, 2], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 2\]"):
        confusion_matrix([0, -1], [0, 1], n_classes=3)
    with pytest.raises(ValueError, match=r"same length, got 2 and 3"):
        confusion_matrix([0, 1], [0, 1, 1])


def test_classification_report():
    report = classification_report(Y_TRUE, Y_PRED, class_names=["cat", "dog", "eel"])
    lines = report.splitlines()
    assert lines[0].split() == ["class", "precision", "recall", "f1", "support"]
    # cat: precision 1/2 (column 0 holds 2), recall 1/2, F1 0.5, support 2
    assert lines[1].split() == ["cat", "0.500", "0.500", "0.500", "2"]
    # dog: precision 2/3, recall 2/2, F1 = 2·(2/3)·1 / (2/3 + 1) = 0.8
    assert lines[2].split() == ["dog", "0.667", "1.000", "0.800", "2"]
    # eel: precision 2/2, recall 2/3, F1 0.8, support 3
    assert lines[3].split() == ["eel", "1.000", "0.667", "0.800", "3"]
    assert lines[4].split() == ["accuracy", f"{5 / 7:.4f}", "7"]


def test_classification_report_class_never_predicted():
    report = classification_report([0, 1], [0, 0])
    # class 1 is never predicted: precision 0 rather than a division by zero
    assert report.splitlines()[2].split() == ["1", "0.000", "0.000", "0.000", "1"]


def test_accuracy_from_network_outputs():
    a = np.array([[0.2, 0.8], [0.9, 0.1]])
    assert accuracy_from_outputs(a, np.array([[0, 1], [0, 1]]), "softmax") == 0.5
    # one output unit: sigmoid thresholded at 0.5, tanh at 0, regression has no accuracy
    single = np.array([[0.7], [0.2], [0.5]])
    assert accuracy_from_outputs(single, np.array([[1], [0], [0]]), "sigmoid") == pytest.approx(
        2 / 3
    )
    assert accuracy_from_outputs(np.array([[-0.3], [0.4]]), np.array([[-1], [1]]), "tanh") == 1.0
    assert np.isnan(accuracy_from_outputs(single, single, "identity"))


def test_accuracy_thresholds_a_single_score_column():
    # one sigmoid output per sample: scores >= 0.5 mean class 1
    assert accuracy([0, 1, 1], [[0.2], [0.7], [0.4]]) == pytest.approx(2 / 3)
    assert accuracy([[0], [1]], [[0], [1]]) == 1.0  # integer columns stay labels


@pytest.mark.parametrize(
    "activation", ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "step"]
)
def test_predict_and_accuracy_from_outputs_follow_one_rule(activation):
    # One output unit: Network.predict and accuracy_from_outputs (the training loop's
    # accuracy) must agree: the same labels, or both "no classes" (ValueError / NaN).
    # Before the rule lived in metrics, an identity output was thresholded at 0 by predict
    # but had no accuracy (NaN), and a ReLU output was thresholded at 0.5 by predict.
    import mlpkit as mk
    from mlpkit.metrics import class_threshold, predicted_classes

    net = mk.Network([mk.Dense(1, 1, activation, dtype=np.float64)])
    net.dense_layers[0].weights = [[1.0]]
    X = np.array([[-0.7], [-0.2], [0.0], [0.3], [0.6], [2.0]])
    a = net.forward(X)
    threshold = class_threshold(activation)
    if threshold is None:
        with pytest.raises(ValueError, match=f"single '{activation}' output unit is a regr"):
            net.predict(X)
        assert np.isnan(accuracy_from_outputs(a, a, activation))
        return
    labels = net.predict(X)
    np.testing.assert_array_equal(labels, predicted_classes(a, activation))
    np.testing.assert_array_equal(labels, (a[:, 0] >= threshold).astype(np.int64))
    # targets on the two sides of the same threshold: predict's labels score 100 %
    targets = np.where(labels == 1, 1.0, 0.0 if threshold == 0.5 else -1.0).reshape(-1, 1)
    assert accuracy_from_outputs(a, targets, activation) == 1.0
    assert accuracy_from_outputs(a, targets[::-1], activation) == np.mean(labels == labels[::-1])


def test_predicted_classes_of_several_outputs_and_bad_shapes():
    from mlpkit.metrics import predicted_classes

    np.testing.assert_array_equal(predicted_classes([[0.1, 0.9], [0.8, 0.2]], "identity"), [1, 0])
    with pytest.raises(ValueError, match=r"a must be network outputs.*\(3,\)"):
        predicted_classes(np.zeros(3), "sigmoid")
