"""Day 30 grader: a scikit-learn Pipeline with a ColumnTransformer on mixed data, and a
cross-validation without leakage.

Oracles: an honest cross-validation of the learner's own build_pipeline() run here
(StratifiedKFold(5, shuffle=True, random_state=0), ROC AUC), which cv_score must
reproduce; and a leak probe (graders.data.tabular.leak_probe) on which preprocessing fitted
to all rows before splitting — a target encoding above all — visibly inflates the score.
"""

import pytest
from sklearn.base import clone, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from graders.data.tabular import customers, leak_probe

AUC_MIN = 0.83
INFLATION = 0.02
EXACT = 1e-9


def honest_score(pipeline, X, y):
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    try:
        return float(cross_val_score(clone(pipeline), X, y, cv=folds, scoring="roc_auc",
                                     error_score="raise").mean())
    except ValueError as exc:
        raise AssertionError(
            f"cross-validating build_pipeline() failed on a fold: {exc} — impute missing "
            "values, and let the encoder ignore categories a training fold never saw") from None


@pytest.fixture(scope="module")
def pipeline(solution):
    pipe = solution.build_pipeline()
    assert isinstance(pipe, Pipeline), (
        f"build_pipeline must return a sklearn.pipeline.Pipeline, got {type(pipe).__name__}")
    return pipe


@pytest.fixture(scope="module")
def honest(pipeline):
    X, y = customers()
    return honest_score(pipeline, X, y)


def test_pipeline_is_unfitted_and_ends_in_a_classifier(pipeline):
    steps = [step for _, step in pipeline.steps]
    assert any(isinstance(s, ColumnTransformer) for s in steps), (
        "the pipeline must prepare the mixed columns with a ColumnTransformer step")
    assert is_classifier(steps[-1]) and hasattr(steps[-1], "predict_proba"), (
        "the pipeline's last step must be a classifier with predict_proba")
    with pytest.raises(NotFittedError):
        check_is_fitted(steps[-1])
    clone(pipeline)  # a pipeline that cannot be cloned cannot be cross-validated


def test_cross_validated_auc_reaches_the_target(honest, record_metric):
    record_metric("honest CV ROC AUC (customers)", honest, target=f">= {AUC_MIN}",
                  verdict="PASS" if honest >= AUC_MIN else "FAIL")
    assert honest >= AUC_MIN, (
        f"5-fold ROC AUC of build_pipeline() on customers() is {honest:.3f} < {AUC_MIN}: use the "
        "numbers (imputed, scaled) and the categories (imputed, one-hot encoded)")


def test_cv_score_is_an_honest_cross_validation(solution, honest):
    X, y = customers()
    got = float(solution.cv_score(X.copy(), y.copy()))
    assert abs(got - honest) <= EXACT, (
        f"cv_score(X, y) = {got:.6f}, but cross-validating build_pipeline() with every step "
        f"fitted inside the training folds gives {honest:.6f}: preprocessing fitted on all "
        "rows before splitting leaks the test folds into training (or the folds/scoring "
        "differ from StratifiedKFold(5, shuffle=True, random_state=0) and ROC AUC)")


def test_leak_probe_is_not_inflated(solution, pipeline, record_metric):
    X, y = leak_probe()
    got = float(solution.cv_score(X.copy(), y.copy()))
    fair = honest_score(pipeline, X, y)
    record_metric("cv_score on the leak probe", got, target=f"<= honest {fair:.3f} + {INFLATION}")
    assert got <= fair + INFLATION, (
        f"on the leak probe (its postcode column carries no signal), cv_score reports ROC AUC "
        f"{got:.3f}, an honest cross-validation {fair:.3f}: the score is inflated by leakage — "
        "something (a target encoding?) was fitted on all rows, test folds included")
    assert abs(got - fair) <= EXACT, (
        f"on the leak probe cv_score = {got:.6f}, honest cross-validation {fair:.6f}: fit every "
        "preprocessing step inside the folds")
