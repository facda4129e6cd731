"""Day 28 grader: precision / recall / F1 (per label, micro, macro, weighted) and ROC-AUC.

Oracle: scikit-learn's metrics (which the solution may not use), on seeded random labels
and on hand-made cases with tied scores and every zero-division situation.
"""

import numpy as np
import pytest
from sklearn import metrics as sk

from graders import expect, forbid

SKLEARN_METRICS = [f"sklearn.metrics.{name}" for name in (
    "precision_recall_fscore_support", "precision_score", "recall_score", "f1_score",
    "fbeta_score", "confusion_matrix", "multilabel_confusion_matrix", "classification_report",
    "roc_curve", "roc_auc_score", "auc", "accuracy_score")]
EXACT = dict(rtol=1e-12, atol=1e-15, oracle="sklearn.metrics")


def call(fn, *args, **kwargs):
    """Run the learner's function with scikit-learn's metrics made to refuse."""
    with forbid.calls(*SKLEARN_METRICS):
        return fn(*args, **kwargs)


def oracle_prf(y_true, y_pred, **kwargs):
    return sk.precision_recall_fscore_support(y_true, y_pred, **kwargs)[:3]


def check_prf(solution, y_true, y_pred, case, **kwargs):
    got = call(solution.precision_recall_f1, np.asarray(y_true).copy(), np.asarray(y_pred).copy(),
               **kwargs)
    assert isinstance(got, tuple) and len(got) == 3, (
        "precision_recall_f1 must return a tuple (precision, recall, f1)")
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    want = oracle_prf(y_true, y_pred, **kwargs)
    for name, g, w in zip(("precision", "recall", "F1"), got, want, strict=True):
        expect.close(g, w, what=f"{name} for {case} ({args})", **EXACT)


def random_case(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    n = int(rng.integers(5, 60))
    return rng.integers(0, k, n), rng.integers(0, k + 1, n)  # y_pred may hold an extra label


def test_no_sklearn_metrics(solution_dir):
    forbid.assert_not_used(solution_dir, ["sklearn.metrics"], why="day 28 computes the metrics")


# ---- confusion matrix ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_confusion_matrix_matches_sklearn(solution, seed):
    y_true, y_pred = random_case(seed)
    got = call(solution.confusion_matrix, y_true.copy(), y_pred.copy())
    expect.close(got, sk.confusion_matrix(y_true, y_pred),
                 what="confusion_matrix (rows = true labels, columns = predicted, labels = the "
                      "sorted union of both)", rtol=0, atol=0, oracle="sklearn")
    labels = [3, 0, 7]  # a chosen order, a label that never occurs, others left out
    got = call(solution.confusion_matrix, y_true.copy(), y_pred.copy(), labels=labels)
    expect.close(got, sk.confusion_matrix(y_true, y_pred, labels=labels),
                 what=f"confusion_matrix with labels={labels}", rtol=0, atol=0, oracle="sklearn")


def test_confusion_matrix_of_string_labels(solution):
    y_true = np.array(["cat", "dog", "dog", "bird", "cat", "dog"])
    y_pred = np.array(["dog", "dog", "cat", "bird", "cat", "bird"])
    expect.close(call(solution.confusion_matrix, y_true, y_pred),
                 sk.confusion_matrix(y_true, y_pred), what="confusion_matrix of string labels",
                 rtol=0, atol=0, oracle="sklearn")


def test_confusion_matrix_is_an_int_array(solution):
    got = np.asarray(call(solution.confusion_matrix, np.array([0, 1, 1]), np.array([0, 1, 0])))
    assert np.issubdtype(got.dtype, np.integer), (
        f"confusion_matrix returned dtype {got.dtype}; the spec asks for an int array of counts")


def test_mismatched_lengths_raise(solution):
    expect.raises(ValueError, solution.confusion_matrix, [0, 1, 1], [0, 1],
                  what="confusion_matrix", why="3 true labels and 2 predictions")


# ---- precision, recall, F1 -------------------------------------------------------------------


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("seed", range(5))
def test_averages_match_sklearn(solution, seed, average):
    y_true, y_pred = random_case(10 + seed)
    for zero_division in (0.0, 1.0):
        check_prf(solution, y_true, y_pred, f"random labels #{seed}", average=average,
                  zero_division=zero_division)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_explicit_labels_select_and_order_the_classes(solution, average):
    y_true, y_pred = random_case(42)
    for labels in ([4, 0, 2], [1], [0, 1, 2, 3, 4, 5, 6, 7]):
        check_prf(solution, y_true, y_pred, "random labels", average=average, labels=labels)


ZERO_DIVISION_CASES = {
    # a class that is never predicted: its precision is 0/0
    "class 2 never predicted": ([0, 1, 2, 2, 1, 0], [0, 1, 1, 0, 1, 0]),
    # a class that is predicted but never true: its recall is 0/0
    "class 2 never true": ([0, 1, 1, 0, 1, 0], [0, 1, 2, 2, 1, 0]),
    # tp = 0 with both sums positive: P = R = 0 and F1 = 0, whatever zero_division says
    "class 1 always wrong": ([0, 1, 1, 0, 2, 2], [1, 0, 0, 0, 2, 2]),
    # nothing right at all
    "every prediction wrong": ([0, 0, 1, 1], [1, 1, 0, 0]),
}


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("case", list(ZERO_DIVISION_CASES))
def test_zero_division_cases(solution, case, average):
    y_true, y_pred = (np.array(a) for a in ZERO_DIVISION_CASES[case])
    for zero_division in (0.0, 1.0):
        check_prf(solution, y_true, y_pred, case, average=average, zero_division=zero_division)


@pytest.mark.parametrize("average", [None, "macro", "weighted"])
def test_labels_absent_from_the_data(solution, average):
    y_true, y_pred = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    for zero_division in (0.0, 1.0):
        check_prf(solution, y_true, y_pred, "a label in neither y_true nor y_pred",
                  average=average, labels=[0, 1, 5], zero_division=zero_division)
        check_prf(solution, y_true, y_pred, "labels with no true sample at all",
                  average=average, labels=[5, 6], zero_division=zero_division)
        # every weight is 0 and the per-label values differ: "weighted" is their plain mean
        check_prf(solution, np.array([0, 1, 0]), np.array([2, 1, 0]),
                  "labels never true, one predicted (every weight 0)", average=average,
                  labels=[2, 3], zero_division=zero_division)


def test_binary_average_and_pos_label(solution):
    rng = np.random.default_rng(5)
    y_true, y_pred = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    for pos_label in (1, 0):
        check_prf(solution, y_true, y_pred, "binary labels", average="binary",
                  pos_label=pos_label)
    words = np.array(["ham", "spam"])
    check_prf(solution, words[y_true], words[y_pred], "string labels", average="binary",
              pos_label="spam")
    check_prf(solution, np.zeros(6, int), np.array([0, 0, 0, 1, 0, 0]),
              "no positive in y_true", average="binary", zero_division=1.0)
    check_prf(solution, y_true, y_pred, "labels=[0], which binary mode ignores",
              average="binary", labels=[0])
    for zero_division in (0.0, 1.0):
        try:
            check_prf(solution, np.zeros(4, int), np.zeros(4, int),
                      "one label only, pos_label=1 absent", average="binary",
                      zero_division=zero_division)
        except ValueError as exc:
            pytest.fail(f"one label only (all 0) with pos_label=1 raised ValueError({exc}); "
                        "with a single distinct label an absent pos_label is scored by the "
                        "zero-division rules, as scikit-learn does", pytrace=False)


def test_binary_average_on_three_classes_raises(solution):
    expect.raises(ValueError, lambda: solution.precision_recall_f1([0, 1, 2], [0, 1, 1],
                                                                   average="binary"),
                  what="precision_recall_f1(average='binary')", why="three classes")
    expect.raises(ValueError, lambda: solution.precision_recall_f1([0, 1, 1], [0, 1, 2],
                                                                   average="binary"),
                  what="precision_recall_f1(average='binary')",
                  why="a third label that only y_pred holds (count both y_true and y_pred)")
    expect.raises(ValueError, lambda: solution.precision_recall_f1([0, 1, 0], [0, 0, 1],
                                                                   average="binary",
                                                                   pos_label=2),
                  what="precision_recall_f1(average='binary', pos_label=2)",
                  why="pos_label=2 is neither of the two labels 0 and 1")


@pytest.mark.parametrize("average", ["samples", "Macro", "mean"])
def test_unknown_average_raises(solution, average):
    expect.raises(ValueError, lambda: solution.precision_recall_f1([0, 1, 1], [0, 1, 0],
                                                                   average=average),
                  what="precision_recall_f1", why=f"average={average!r}")


# ---- ROC -------------------------------------------------------------------------------------

ROC_CASES = {
    "continuous scores": lambda rng: (rng.integers(0, 2, 80), rng.random(80)),
    "scores with many ties": lambda rng: (rng.integers(0, 2, 80), rng.integers(0, 5, 80) / 4),
    "boolean labels": lambda rng: (rng.random(40) < 0.3, rng.normal(size=40)),
    "all scores equal": lambda rng: (np.array([0, 1, 1, 0, 1]), np.full(5, 0.7)),
    "perfectly separated": lambda rng: (np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])),
    "perfectly reversed": lambda rng: (np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.8, 0.9])),
    "a positive tied with a negative": lambda rng: (np.array([0, 1, 0, 1]),
                                                    np.array([0.2, 0.5, 0.5, 0.9])),
}


@pytest.mark.parametrize("case", list(ROC_CASES))
def test_roc_curve_matches_sklearn(solution, case):
    y_true, y_score = ROC_CASES[case](np.random.default_rng(len(case)))
    got = call(solution.roc_curve, y_true.copy(), y_score.copy())
    assert isinstance(got, tuple) and len(got) == 3, (
        "roc_curve must return (fpr, tpr, thresholds)")
    want = sk.roc_curve(y_true, y_score, drop_intermediate=False)
    for name, g, w in zip(("fpr", "tpr", "thresholds"), got, want, strict=True):
        what = (f"roc_curve {name} for {case} (one point per distinct score, highest first, "
                "after the start point (0, 0) with threshold inf)")
        g = expect.array(g, what)
        assert g.shape == w.shape, f"{what} has shape {g.shape}, expected {w.shape}"
        assert np.array_equal(np.isinf(g), np.isinf(w)), f"{what}: inf where it should not be"
        finite = np.isfinite(w)
        expect.close(g[finite], w[finite], what=what, **EXACT)


@pytest.mark.parametrize("case", list(ROC_CASES))
def test_roc_auc_matches_sklearn(solution, case):
    y_true, y_score = ROC_CASES[case](np.random.default_rng(len(case)))
    got = call(solution.roc_auc, y_true.copy(), y_score.copy())
    expect.close(got, sk.roc_auc_score(y_true, y_score),
                 what=f"roc_auc for {case} (a tie between a positive and a negative counts 1/2)",
                 **EXACT)


def test_roc_auc_with_one_class_raises(solution):
    expect.raises(ValueError, solution.roc_auc, np.ones(5, int), np.arange(5.0),
                  what="roc_auc", why="labels that are all positive (AUC is undefined)")


def test_the_inputs_are_left_as_they_were(solution):
    """The spec says: do not modify the inputs (a metric that sorts its scores in place
    corrupts the caller's data)."""
    rng = np.random.default_rng(28)
    y_true = rng.integers(0, 3, 40)
    y_pred = rng.integers(0, 3, 40)
    binary = (y_true == 1).astype(int)
    scores = rng.random(40)
    calls = [("confusion_matrix", (y_true, y_pred), {}),
             ("precision_recall_f1", (y_true, y_pred), {"average": "macro"}),
             ("roc_curve", (binary, scores), {}),
             ("roc_auc", (binary, scores), {})]
    for name, args, kwargs in calls:
        before = [a.copy() for a in args]
        getattr(solution, name)(*args, **kwargs)
        for i, (was, now) in enumerate(zip(before, args, strict=True)):
            assert np.array_equal(was, now), (
                f"{name} modified its argument {i + 1} in place: work on a copy")
