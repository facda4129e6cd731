"""Day 28: classification metrics from counts (numpy only; no sklearn.metrics)."""

import numpy as np  # noqa: F401


def confusion_matrix(y_true, y_pred, labels=None):
    """(L, L) integer array: entry [i, j] counts samples with true label labels[i] and
    predicted label labels[j]. labels defaults to the sorted union of y_true and y_pred.
    ValueError if y_true and y_pred differ in length."""
    # TODO
    raise NotImplementedError("confusion_matrix")


def precision_recall_f1(y_true, y_pred, average=None, labels=None, pos_label=1,
                        zero_division=0.0):
    """(precision, recall, f1).

    average=None: three float arrays, one value per label (in the order of labels).
    average in "micro", "macro", "weighted", "binary": three floats.
    zero_division (0.0 or 1.0) replaces a ratio whose denominator is 0.
    """
    # TODO
    raise NotImplementedError("precision_recall_f1")


def roc_curve(y_true, y_score):
    """(fpr, tpr, thresholds) at every distinct score, highest threshold first, after the
    start point (0, 0) with threshold inf. y_true is binary (0/1 or bool)."""
    # TODO
    raise NotImplementedError("roc_curve")


def roc_auc(y_true, y_score):
    """Area under the ROC curve (a float); ValueError if y_true has only one class."""
    # TODO
    raise NotImplementedError("roc_auc")
