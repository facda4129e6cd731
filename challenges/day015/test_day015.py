"""Day 15 grader: CART on iris / wine / breast cancer, against sklearn's DecisionTreeClassifier.

Greedy trees have ties (two features that split a node equally well), and sklearn breaks
them with a random feature order. So the grader checks what does not depend on ties:
- impurities and the root split's impurity decrease, exactly;
- every node of your tree: its class counts, a midpoint threshold, and a gain equal to the
  best gain sklearn finds on that node's samples (any tied split is accepted);
- the stopping rules (max_depth, purity, min_samples_split);
- predictions vs sklearn only where sklearn's tree is unambiguous (the same for 10 seeds).
"""

from functools import cache

import numpy as np
import pytest

from graders import expect, forbid

FORBIDDEN = ["sklearn.tree", "sklearn.ensemble"]
GAIN_TOL = 1e-9
# what sklearn's tree fit calls: refused while the learner's code runs
TREE_BUILDERS = ("sklearn.tree._classes.DepthFirstTreeBuilder",
                 "sklearn.tree._classes.BestFirstTreeBuilder")


@cache
def dataset(name):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def impurity(counts, criterion):
    p = np.asarray(counts, dtype=float)
    p = p[p > 0] / p.sum()
    return 1 - np.sum(p**2) if criterion == "gini" else -np.sum(p * np.log2(p))


@cache
def sk_tree(name, criterion, max_depth, seed=0):
    from sklearn.tree import DecisionTreeClassifier

    Xtr, _, ytr, _ = dataset(name)
    return DecisionTreeClassifier(criterion=criterion, max_depth=max_depth,
                                  random_state=seed).fit(Xtr, ytr)


def sk_root_gain(tree):
    t = tree.tree_
    if t.node_count == 1:
        return 0.0
    n = t.n_node_samples
    left, right = t.children_left[0], t.children_right[0]
    return t.impurity[0] - (n[left] * t.impurity[left] + n[right] * t.impurity[right]) / n[0]


def sk_best_gain(X, y, criterion):
    from sklearn.tree import DecisionTreeClassifier

    return sk_root_gain(DecisionTreeClassifier(criterion=criterion, max_depth=1,
                                               random_state=0).fit(X, y))


_fits = {}


def fitted(solution, name, criterion, max_depth):
    key = (name, criterion, max_depth)
    if key not in _fits:
        Xtr, _, ytr, _ = dataset(name)
        with forbid.calls(*TREE_BUILDERS):
            _fits[key] = solution.DecisionTree(criterion=criterion, max_depth=max_depth).fit(
                Xtr.copy(), ytr.copy())
    return _fits[key]


def test_no_library_tree(solution_dir):
    forbid.assert_not_used(solution_dir, FORBIDDEN, why="the tree is yours to build")


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
def test_impurity_formulas(solution, criterion):
    fn = getattr(solution, criterion)
    cases = [([0, 0, 0, 0], 0.0 if criterion == "gini" else 0.0),
             (["a", "b"], 0.5 if criterion == "gini" else 1.0),
             ([1, 1, 2, 3], 0.625 if criterion == "gini" else 1.5),
             ([7, 7, 7, 9, 9, 5], None)]
    for y, want in cases:
        if want is None:
            want = impurity(np.unique(y, return_counts=True)[1], criterion)
        expect.close(fn(np.array(y)), want, rtol=1e-12, atol=1e-12, what=f"{criterion}({y})",
                     oracle="the closed form" + (" (entropy is in bits: log base 2)"
                                                 if criterion == "entropy" else ""))
    for name in ("iris", "wine", "breast_cancer"):
        _, _, ytr, _ = dataset(name)
        want = sk_tree(name, criterion, 1).tree_.impurity[0]
        expect.close(fn(ytr), want, rtol=1e-9, atol=1e-12, what=f"{criterion} of the {name} labels",
                     oracle=f"sklearn's tree root impurity (criterion='{criterion}')")


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer"])
def test_best_split_of_the_root(solution, name, criterion):
    Xtr, _, ytr, _ = dataset(name)
    got = solution.best_split(Xtr.copy(), ytr.copy(), criterion)
    assert got is not None and len(got) == 3, "best_split must return (feature, threshold, gain)"
    feature, threshold, gain = int(got[0]), float(got[1]), float(got[2])
    want = sk_root_gain(sk_tree(name, criterion, 1))
    expect.close(gain, want, rtol=0, atol=GAIN_TOL, oracle="sklearn's root split",
                 what=f"best_split's gain (impurity decrease) on {name}, {criterion}")
    # the split returned must achieve the gain it reports
    left = Xtr[:, feature] <= threshold
    counts = lambda m: np.unique(ytr[m], return_counts=True)[1]  # noqa: E731
    n = len(ytr)
    achieved = impurity(counts(np.ones(n, bool)), criterion) - (
        left.sum() * impurity(counts(left), criterion)
        + (~left).sum() * impurity(counts(~left), criterion)) / n
    expect.close(achieved, gain, rtol=0, atol=GAIN_TOL, oracle="the gain best_split reported",
                 what=f"the gain of splitting {name} at feature {feature} <= {threshold:.6g} "
                      "(weight each child's impurity by its share of the samples)")
    x = Xtr[:, feature]
    lo, hi = x[left].max(), x[~left].min()
    expect.close(threshold, (lo + hi) / 2, rtol=1e-9, atol=1e-12, oracle="the midpoint",
                 what=f"the threshold on {name}: the midpoint between the neighbouring values "
                      f"{lo:.6g} and {hi:.6g}")
    choices = {(int(sk_tree(name, criterion, 1, s).tree_.feature[0])) for s in range(10)}
    if len(choices) == 1:  # unambiguous: the feature must be sklearn's
        assert feature in choices, (
            f"best_split chose feature {feature} on {name}; the best (and only best) is "
            f"{choices.pop()}"
        )


def test_best_split_with_repeated_and_constant_values(solution):
    # cutting between the two equal 1.0 values would look perfect, but x <= 1.0 sends
    # all three of them left: the only real cut is between 1.0 and 2.0
    X = np.array([[1.0], [1.0], [1.0], [2.0], [2.0]])
    y = np.array([0, 0, 1, 1, 1])
    got = solution.best_split(X, y, "gini")
    assert got is not None and len(got) == 3, "best_split must return (feature, threshold, gain)"
    want_gain = 0.48 - 3 / 5 * (1 - (2 / 3) ** 2 - (1 / 3) ** 2)
    expect.close([got[1], got[2]], [1.5, want_gain], rtol=1e-12, atol=1e-12,
                 oracle="the cut between 1.0 and 2.0 (cut only between distinct values)",
                 what="best_split's (threshold, gain) for x = [1, 1, 1, 2, 2], y = [0, 0, 1, 1, 1]")
    rng = np.random.default_rng(5)
    X = np.c_[np.full(40, 3.0), rng.normal(size=40), np.full(40, -1.0)]
    y = (X[:, 1] > 0.3).astype(int)
    got = solution.best_split(X, y, "gini")
    assert got is not None and int(got[0]) == 1, f"only feature 1 varies; best_split gave {got}"
    got = solution.best_split(np.ones((6, 2)), np.array([0, 1, 0, 1, 0, 1]), "gini")
    assert got is None, f"best_split of all-constant features must return None, got {got}"


def test_best_split_breaks_ties_by_feature_then_threshold(solution):
    # thresholds 0.5 and 2.5 of x = [0, 1, 2, 3] give the same gain bit for bit (mirror images)
    got = solution.best_split(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 1, 1, 0]),
                              "gini")
    assert got is not None and float(got[1]) == 0.5, (
        f"best_split gave {got} where the cuts at 0.5 and 2.5 tie: take the smallest threshold")
    # two identical features: the same cut on both, so the lower feature index wins
    X = np.repeat(np.arange(4.0)[:, None], 2, axis=1)
    got = solution.best_split(X, np.array([0, 0, 1, 1]), "entropy")
    assert got is not None and int(got[0]) == 0 and float(got[1]) == 1.5, (
        f"best_split gave {got} where features 0 and 1 tie: take the lowest feature index")


def test_min_samples_split_is_used(solution):
    Xtr, _, ytr, _ = dataset("iris")
    with forbid.calls(*TREE_BUILDERS):
        tree = solution.DecisionTree(min_samples_split=30).fit(Xtr.copy(), ytr.copy())
    stack = [tree.root_]
    while stack:
        node = stack.pop()
        if node.feature is not None:
            n = int(np.sum(node.counts))
            assert n >= 30, (
                f"a node of {n} samples was split with min_samples_split=30: a node with fewer "
                "than min_samples_split samples is a leaf")
            stack += [node.left, node.right]


DEEP = [("iris", "entropy", None), ("wine", "gini", None), ("breast_cancer", "gini", 5),
        ("breast_cancer", "entropy", 3)]


@pytest.mark.parametrize("name,criterion,max_depth", DEEP)
def test_every_node_is_a_greedy_cart_split(solution, name, criterion, max_depth):
    Xtr, _, ytr, _ = dataset(name)
    tree = fitted(solution, name, criterion, max_depth)
    classes = np.unique(ytr)
    assert np.array_equal(np.asarray(tree.classes_), classes), (
        f"classes_ is {tree.classes_}, expected the sorted labels {classes}"
    )
    where = f"{name} ({criterion}, max_depth={max_depth})"
    stack = [(tree.root_, np.arange(len(ytr)), 0, "root")]
    while stack:
        node, idx, depth, path = stack.pop()
        counts = np.array([np.sum(ytr[idx] == c) for c in classes])
        expect.close(node.counts, counts, rtol=0, atol=0, oracle="the training samples there",
                     what=f"counts at node {path} of {where}")
        if node.feature is None:
            assert max_depth is None or depth <= max_depth, (
                f"{where}: leaf {path} is at depth {depth} > max_depth (the root is depth 0)"
            )
            splittable = np.count_nonzero(counts) > 1 and np.ptp(Xtr[idx], axis=0).max() > 0
            assert not splittable or (max_depth is not None and depth >= max_depth), (
                f"{where}: node {path} at depth {depth} is impure ({counts.tolist()}) but "
                "was not split (grow until pure or max_depth; the root is depth 0)"
            )
            continue
        assert max_depth is None or depth < max_depth, (
            f"{where}: node {path} at depth {depth} was split; max_depth={max_depth} "
            "(the root is depth 0, so leaves may sit at depth max_depth)"
        )
        assert np.count_nonzero(counts) > 1, f"{where}: node {path} is pure but was split"
        x = Xtr[idx, int(node.feature)]
        left = x <= node.threshold
        assert 0 < left.sum() < len(idx), f"{where}: node {path} sends every sample one way"
        lo, hi = x[left].max(), x[~left].min()
        expect.close(node.threshold, (lo + hi) / 2, rtol=1e-9, atol=1e-12, oracle="the midpoint",
                     what=f"threshold at node {path} of {where} (between {lo:.6g} and {hi:.6g})")
        n = len(idx)
        gain = impurity(counts, criterion) - sum(
            m.sum() * impurity([np.sum(ytr[idx][m] == c) for c in classes], criterion)
            for m in (left, ~left)) / n
        best = sk_best_gain(Xtr[idx], ytr[idx], criterion)
        expect.close(gain, best, rtol=0, atol=GAIN_TOL, oracle="sklearn's best split of that node",
                     what=f"the impurity decrease at node {path} of {where} "
                          f"(feature {node.feature} <= {node.threshold:.6g})")
        stack.append((node.left, idx[left], depth + 1, path + ".L"))
        stack.append((node.right, idx[~left], depth + 1, path + ".R"))


UNAMBIGUOUS = [("iris", "gini", 2), ("wine", "gini", 2), ("wine", "entropy", 2),
               ("breast_cancer", "entropy", 2)]


@pytest.mark.parametrize("name,criterion,max_depth", UNAMBIGUOUS)
def test_predictions_match_sklearn(solution, name, criterion, max_depth):
    Xtr, Xte, ytr, _ = dataset(name)
    tree = fitted(solution, name, criterion, max_depth)
    sk = sk_tree(name, criterion, max_depth)
    runs = np.array([sk_tree(name, criterion, max_depth, s).predict(Xte) for s in range(10)])
    sure = np.all(runs == runs[0], axis=0)
    assert sure.mean() > 0.9, "grader: sklearn's tree is too ambiguous here"
    pred = np.asarray(tree.predict(Xte))
    wrong = np.flatnonzero(pred[sure] != runs[0][sure])
    assert wrong.size == 0, (
        f"{name} ({criterion}, max_depth={max_depth}): {wrong.size} of {sure.sum()} held-out "
        f"predictions differ from sklearn's tree of the same depth"
    )
    expect.close(tree.predict_proba(Xtr), sk.predict_proba(Xtr), rtol=0, atol=1e-12,
                 what=f"predict_proba on the training set ({name}, {criterion}, "
                      f"max_depth={max_depth})", oracle="sklearn's tree")
    assert tree.get_depth() == sk.get_depth(), (
        f"get_depth() is {tree.get_depth()}, sklearn's tree has depth {sk.get_depth()} "
        f"(max_depth={max_depth}; the root is depth 0)"
    )


def test_labels_are_returned_as_given(solution):
    from sklearn.datasets import load_iris

    iris = load_iris()
    y = iris.target_names[iris.target]  # strings
    with forbid.calls(*TREE_BUILDERS):
        tree = solution.DecisionTree(max_depth=2).fit(iris.data, y)
    pred = np.asarray(tree.predict(iris.data[::10]))
    assert pred.dtype.kind in "UO" and set(pred) <= set(iris.target_names), (
        f"predict must return the labels given to fit (here strings), got {pred[:4]}"
    )
    assert np.mean(pred == y[::10]) > 0.9, "a depth-2 tree should get iris about 95 % right"
    proba = np.asarray(tree.predict_proba(iris.data[:5]))
    assert proba.shape == (5, 3), f"predict_proba must be (n, n_classes), got {proba.shape}"
    expect.close(proba.sum(axis=1), np.ones(5), what="rows of predict_proba", oracle="1")
