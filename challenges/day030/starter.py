"""Day 30: a scikit-learn Pipeline (ColumnTransformer + model) on mixed data, and an honest
cross-validation of it."""

from sklearn.compose import ColumnTransformer  # noqa: F401
from sklearn.impute import SimpleImputer  # noqa: F401
from sklearn.linear_model import LogisticRegression  # noqa: F401
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: F401
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: F401
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: F401

NUMERIC = [0, 1, 2]  # age, income, tenure: floats with np.nan gaps
CATEGORICAL = [3, 4]  # city (with np.nan gaps), plan
HIGH_CARDINALITY = [5]  # postcode: hundreds of values


def build_pipeline():
    """An UNFITTED sklearn.pipeline.Pipeline from the raw (n, 6) object array to a classifier
    with predict_proba. Deterministic: fix random_state in any randomised step."""
    # TODO: ColumnTransformer([...numbers..., ...categories...]) then a classifier
    raise NotImplementedError("build_pipeline")


def cv_score(X, y):
    """Mean ROC AUC of build_pipeline() over StratifiedKFold(5, shuffle=True,
    random_state=0), with every step fitted inside the training folds only."""
    # TODO
    raise NotImplementedError("cv_score")
