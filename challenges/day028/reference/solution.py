"""Day 28 reference: classification metrics from counts (numpy only)."""

import numpy as np

AVERAGES = (None, "binary", "micro", "macro", "weighted")


def _labels(y_true, y_pred, labels):
    if labels is not None:
        return np.asarray(labels)
    return np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))


def confusion_matrix(y_true, y_pred, labels=None):
    """C[i, j] = number of samples whose true label is labels[i] and predicted labels[j]."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {len(y_true)} samples, y_pred {len(y_pred)}")
    labels = _labels(y_true, y_pred, labels)
    index = {label: k for k, label in enumerate(labels.tolist())}
    C = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true.tolist(), y_pred.tolist(), strict=True):
        if t in index and p in index:  # samples outside `labels` are not counted
            C[index[t], index[p]] += 1
    return C


def _divide(num, den, zero_division):
    """num / den elementwise, with zero_division wherever den == 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def precision_recall_f1(y_true, y_pred, average=None, labels=None, pos_label=1,
                        zero_division=0.0):
    """Precision, recall and F1 per label (average=None) or averaged."""
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if average == "binary":
        present = _labels(y_true, y_pred, None)
        if len(present) > 2:
            raise ValueError(f"average='binary' needs two classes, found {len(present)}")
        if len(present) == 2 and pos_label not in present:
            raise ValueError(f"pos_label={pos_label!r} is not one of the labels {present}")
        labels = [pos_label]
    labels = _labels(y_true, y_pred, labels)
    C = confusion_matrix(y_true, y_pred, labels=labels)
    # the full confusion matrix would also count samples outside `labels`: use sums per label
    tp = np.diag(C).astype(float)
    pred = np.array([np.sum(y_pred == lab) for lab in labels], dtype=float)
    true = np.array([np.sum(y_true == lab) for lab in labels], dtype=float)
    if average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
    precision = _divide(tp, pred, zero_division)
    recall = _divide(tp, true, zero_division)
    # F1 = 2PR / (P + R) = 2tp / (true + pred): undefined only when there is nothing at all
    f1 = _divide(2 * tp, true + pred, zero_division)
    if average is None:
        return precision, recall, f1
    # weighted by support; with no true sample of any label, scikit-learn's plain mean
    weights = true if average == "weighted" and true.sum() > 0 else None
    return tuple(float(np.average(m, weights=weights)) for m in (precision, recall, f1))


def roc_curve(y_true, y_score):
    """False- and true-positive rates at every distinct threshold, highest first.

    Thresholds are [inf, distinct scores in decreasing order]; a sample is predicted
    positive when its score >= the threshold."""
    y_true, y_score = np.asarray(y_true).astype(bool), np.asarray(y_score, dtype=float)
    n_pos, n_neg = y_true.sum(), (~y_true).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC needs both positive and negative samples")
    order = np.argsort(-y_score, kind="stable")
    scores, hits = y_score[order], y_true[order]
    last_of_tie = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1]  # one point per score
    tps = np.cumsum(hits)[last_of_tie]
    fps = (last_of_tie + 1) - tps
    fpr = np.r_[0.0, fps / n_neg]
    tpr = np.r_[0.0, tps / n_pos]
    return fpr, tpr, np.r_[np.inf, scores[last_of_tie]]


def roc_auc(y_true, y_score):
    """Area under the ROC curve by the trapezoid rule: a tie between a positive and a
    negative counts one half (the Mann–Whitney statistic)."""
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
