# mistake: wraps sklearn's KMeans instead of writing Lloyd's algorithm
# expect: the spec forbids sklearn.cluster
import numpy as np
from sklearn.cluster import KMeans as SkKMeans


def kmeans_plusplus(X, k, rng):
    X = np.asarray(X, dtype=float)
    chosen = [int(rng.integers(len(X)))]
    d2 = ((X - X[chosen[0]]) ** 2).sum(1)
    for _ in range(1, k):
        chosen.append(int(rng.choice(len(X), p=d2 / d2.sum())))
        d2 = np.minimum(d2, ((X - X[chosen[-1]]) ** 2).sum(1))
    return np.array(chosen)


def assign(X, centers):
    return np.argmin(((np.asarray(X)[:, None] - np.asarray(centers)[None]) ** 2).sum(-1), axis=1)


def lloyd(X, centers, max_iter=300):
    km = SkKMeans(len(centers), init=np.asarray(centers), n_init=1, algorithm="lloyd", tol=0.0,
                  max_iter=max_iter).fit(X)
    return km.cluster_centers_, km.labels_, km.inertia_, km.n_iter_


class KMeans:
    def __init__(self, n_clusters=8, n_init=10, max_iter=300, random_state=0):
        self.model = SkKMeans(n_clusters, n_init=n_init, max_iter=max_iter,
                              random_state=random_state)

    def fit(self, X):
        self.model.fit(X)
        self.cluster_centers_, self.labels_ = self.model.cluster_centers_, self.model.labels_
        self.inertia_, self.n_iter_ = self.model.inertia_, self.model.n_iter_
        return self

    def predict(self, X):
        return self.model.predict(X)
