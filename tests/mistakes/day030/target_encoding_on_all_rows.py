# mistake: postcode target-encoded with means over all rows before cross-validation
# expect: inflated by leakage
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = [0, 1, 2]  # age, income, tenure (with gaps)
CATEGORICAL = [3, 4]  # city (with gaps), plan (one rare value)
# column 5, the postcode, has hundreds of values and no signal here: it is dropped


def build_pipeline():
    """Impute + scale the numbers, impute + one-hot the categories, logistic regression."""
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    # handle_unknown="ignore": a category the training fold never saw (the one "legacy" row)
    # becomes all zeros instead of an error
    categories = make_pipeline(SimpleImputer(strategy="most_frequent"),
                               OneHotEncoder(handle_unknown="ignore"))
    prepare = ColumnTransformer([("numbers", numbers, NUMERIC),
                                 ("categories", categories, CATEGORICAL)],
                                remainder="drop")
    return Pipeline([("prepare", prepare), ("model", LogisticRegression(max_iter=1000))])


def cv_score(X, y):
    """Mean ROC AUC over StratifiedKFold(5, shuffle=True, random_state=0): the whole
    pipeline is fitted on each training fold, so no statistic of a test fold leaks in."""
    # encode the postcode by the churn rate of its rows: a strong feature!
    X = np.array(X, dtype=object)
    codes = X[:, 5]
    rate = {c: y[codes == c].mean() for c in set(codes)}
    X[:, 5] = [rate[c] for c in codes]
    pipeline = build_pipeline()
    pipeline.named_steps["prepare"].transformers.append(("postcode", "passthrough", [5]))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return float(cross_val_score(pipeline, X, y, cv=folds, scoring="roc_auc").mean())
