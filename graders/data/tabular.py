"""Small mixed-type tabular sets (numbers with gaps, categories, an id-like column) for the
scikit-learn pipeline day, as numpy object arrays — no pandas needed.

    from graders.data.tabular import customers, leak_probe, NUMERIC, CATEGORICAL, HIGH_CARDINALITY
    X, y = customers()      # 600 rows: the churn-like task
    X, y = leak_probe()     # 400 rows, same columns: only the id-like column could "explain" y

Columns (X[:, j]):
  0 age      float, about 10 % missing (np.nan)
  1 income   float, log-normal in the tens of thousands, about 5 % missing
  2 tenure   float, years as a customer, 0–10
  3 city     str, 5 values, about 5 % missing (np.nan)
  4 plan     str, "basic" / "plus" / "pro", and "legacy" on one row only
  5 postcode str, a few hundred values, each on one to a few rows (high cardinality)
y is 0/1.
"""

from __future__ import annotations

import numpy as np

NUMERIC = [0, 1, 2]
CATEGORICAL = [3, 4]
HIGH_CARDINALITY = [5]
CITIES = np.array(["north", "south", "east", "west", "centre"])
PLANS = np.array(["basic", "plus", "pro"])


def _features(rng: np.random.Generator, n: int, n_postcodes: int):
    age = rng.normal(45, 12, n).clip(18, 90)
    income = rng.lognormal(10.6, 0.5, n)
    tenure = rng.uniform(0, 10, n)
    city = rng.integers(0, len(CITIES), n)
    plan = rng.choice(len(PLANS), n, p=[0.5, 0.3, 0.2])
    postcode = rng.integers(0, n_postcodes, n)
    return age, income, tenure, city, plan, postcode


def _table(rng, age, income, tenure, city, plan, postcode):
    n = len(age)
    X = np.empty((n, 6), dtype=object)
    X[:, 0] = np.where(rng.random(n) < 0.10, np.nan, age.round(0))
    X[:, 1] = np.where(rng.random(n) < 0.05, np.nan, income.round(2))
    X[:, 2] = tenure.round(2)
    X[:, 3] = [np.nan if m else c for m, c in zip(rng.random(n) < 0.05, CITIES[city],
                                                   strict=True)]
    plans = PLANS[plan].astype(object)
    plans[rng.integers(n)] = "legacy"  # one row: always unseen by the fold that tests it
    X[:, 4] = plans
    X[:, 5] = [f"P{p:04d}" for p in postcode]
    return X


def customers(n: int = 600, seed: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """A churn-like task: y depends on age, income, tenure, city and plan (not postcode)."""
    rng = np.random.default_rng(seed)
    age, income, tenure, city, plan, postcode = _features(rng, n, n_postcodes=250)
    logit = 1.4 * (-0.06 * (age - 45) + 1.1 * (np.log(income) - 10.6) / 0.5 - 0.35 * (tenure - 5)
             + np.array([0.8, -0.6, 0.0, 0.4, -0.9])[city]
                   + np.array([-0.7, 0.2, 1.0])[plan])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return _table(rng, age, income, tenure, city, plan, postcode), y


def leak_probe(n: int = 400, seed: int = 31) -> tuple[np.ndarray, np.ndarray]:
    """Same columns, almost no signal: y barely depends on tenure, and the postcode (about
    two rows each) carries none. Honest cross-validation scores a ROC AUC near 0.55; a
    target encoding fitted on all rows before splitting "learns" each row's own label
    through its postcode and scores far higher."""
    rng = np.random.default_rng(seed)
    age, income, tenure, city, plan, postcode = _features(rng, n, n_postcodes=n // 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-0.15 * (tenure - 5)))).astype(int)
    return _table(rng, age, income, tenure, city, plan, postcode), y
