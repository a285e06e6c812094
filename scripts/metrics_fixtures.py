#!/usr/bin/env python3
"""Writes the reference fixtures of the metrics stage to tests/fixtures/metrics/.

Each case has a source (s) and a target (t) domain stored as float32 embeddings and logits and int64
labels (.npy), plus <case>.json with the expected values computed here with scikit-learn and numpy
(on float64 copies of the float32 arrays). Run from the repository root:

    python3 scripts/metrics_fixtures.py
"""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score, silhouette_score
from sklearn.preprocessing import StandardScaler

OUT = os.path.join("tests", "fixtures", "metrics")


def softmax(logits):
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def classification(logits, labels, n_classes):
    pred = logits.argmax(axis=1)
    prob = softmax(logits)
    per_auc, per_acc = [], []
    for c in range(n_classes):
        pos = labels == c
        per_acc.append(float((pred[pos] == c).mean()) if pos.any() else None)
        if pos.any() and (~pos).any():
            per_auc.append(float(roc_auc_score(pos.astype(int), prob[:, c])))
        else:
            per_auc.append(None)
    defined = [a for a in per_auc if a is not None]
    macro = float(np.mean(defined)) if defined else None
    if len(np.unique(labels)) == n_classes:
        # every class present: scikit-learn's multiclass call must agree with the per-class mean
        ovr = roc_auc_score(labels, prob, multi_class="ovr", average="macro", labels=list(range(n_classes)))
        assert abs(ovr - macro) < 1e-12, (ovr, macro)
    return {
        "accuracy": float(accuracy_score(labels, pred)),
        "auroc": macro,
        "per_class_auroc": per_auc,
        "per_class_accuracy": per_acc,
        "confusion": confusion_matrix(labels, pred, labels=list(range(n_classes))).tolist(),
    }


def silhouette(x, labels):
    k = len(np.unique(labels))
    if k < 2 or k > len(labels) - 1:
        return None
    return float(silhouette_score(x, labels, metric="euclidean"))


def sq_dists(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)


def mmd2(kss, ktt, kst):
    m, n = kss.shape[0], ktt.shape[0]
    return ((kss.sum() - np.trace(kss)) / (m * (m - 1)) + (ktt.sum() - np.trace(ktt)) / (n * (n - 1))
            - 2 * kst.mean())


def knn_transfer(xs, ys, xt, yt, k):
    d = sq_dists(xt, xs)
    hits = 0
    for i in range(len(xt)):
        nb = np.argsort(d[i], kind="stable")[:k]
        order, counts = [], {}
        for j in nb:
            c = int(ys[j])
            if c not in counts:
                order.append(c)
                counts[c] = 0
            counts[c] += 1
        best = max(counts.values())
        vote = next(c for c in order if counts[c] == best)  # first met = holds the nearest neighbour
        hits += vote == yt[i]
    return hits / len(xt)


def purity(xs, xt, k):
    x = np.vstack([xs, xt])
    dom = np.r_[np.zeros(len(xs)), np.ones(len(xt))]
    d = sq_dists(x, x)
    np.fill_diagonal(d, np.inf)
    shares = [(dom[np.argsort(d[i], kind="stable")[:k]] == dom[i]).mean() for i in range(len(x))]
    return float(np.mean(shares))


def information_maximization(logits):
    p = softmax(logits)

    def h(q):
        q = q[q > 0]
        return -(q * np.log(q)).sum()

    return float(h(p.mean(axis=0)) - np.mean([h(r) for r in p]))


def snd(logits, temperature=0.05):
    p = softmax(logits)
    p = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    sim = p @ p.T
    n = len(p)
    sim = sim[~np.eye(n, dtype=bool)].reshape(n, n - 1) / temperature
    sim = sim - sim.max(axis=1, keepdims=True)
    q = np.exp(sim)
    q /= q.sum(axis=1, keepdims=True)
    ent = -(q * np.log(np.where(q > 0, q, 1.0))).sum(axis=1)
    return float(ent.mean())


def proxy_a(xs, xt, rng, c=1.0, test_fraction=0.2):
    """Same recipe as the library: stratified split (indices exported), StandardScaler on the training
    rows, L2 logistic regression (source = 1) with intercept, threshold at decision 0."""
    train, test = [], []
    for off, n in [(0, len(xs)), (len(xs), len(xt))]:
        perm = rng.permutation(n)
        nt = min(max(int(round(n * test_fraction)), 1), n - 1)
        test += (perm[:nt] + off).tolist()
        train += (perm[nt:] + off).tolist()
    train, test = sorted(train), sorted(test)
    x = np.vstack([xs, xt])
    y = np.r_[np.ones(len(xs)), np.zeros(len(xt))].astype(int)
    sc = StandardScaler().fit(x[train])
    clf = LogisticRegression(C=c, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    clf.fit(sc.transform(x[train]), y[train])
    dec = clf.decision_function(sc.transform(x[test]))
    err = float(((dec > 0).astype(int) != y[test]).mean())
    return {
        "train": train,
        "test": test,
        "c": c,
        "value": 2 * (1 - 2 * err),
        "test_error": err,
        "coef": clf.coef_[0].tolist(),
        "intercept": float(clf.intercept_[0]),
    }


def expected(case, s, t, n_classes, rng):
    xs, xt = s["emb"].astype(np.float64), t["emb"].astype(np.float64)
    xj = np.vstack([xs, xt])
    yj = np.r_[s["labels"], t["labels"]]
    dom = np.r_[np.zeros(len(xs)), np.ones(len(xt))].astype(int)
    dj = sq_dists(xj, xj)
    iu = np.triu_indices(len(xj), k=1)
    sigma2 = float(np.median(dj[iu]))
    rbf = lambda d: np.exp(-d / sigma2)
    lin = mmd2(xs @ xs.T, xt @ xt.T, xs @ xt.T)
    return {
        "case": case,
        "n_classes": n_classes,
        "source": classification(s["logits"], s["labels"], n_classes),
        "target": classification(t["logits"], t["labels"], n_classes),
        "silhouette_source": silhouette(xs, s["labels"]),
        "silhouette_target": silhouette(xt, t["labels"]),
        "silhouette_joint": silhouette(xj, yj),
        "silhouette_domain": silhouette(xj, dom),
        "mmd2_linear": float(lin),
        "rbf_sigma2": sigma2,
        "mmd2_rbf": float(mmd2(rbf(sq_dists(xs, xs)), rbf(sq_dists(xt, xt)), rbf(sq_dists(xs, xt)))),
        "knn_transfer_accuracy": float(knn_transfer(xs, s["labels"], xt, t["labels"], 5)),
        "domain_knn_purity": purity(xs, xt, 10),
        "information_maximization": information_maximization(t["logits"]),
        "snd": snd(t["logits"]),
        "proxy_a": proxy_a(xs, xt, rng),
    }


def domain(rng, n, d, n_classes, means=None, shift=0.0, noise=1.0, labels=None, logit_scale=1.0):
    y = rng.integers(0, n_classes, n) if labels is None else labels
    if means is None:
        x = rng.normal(size=(n, d))
        logits = rng.normal(size=(n, n_classes))
    else:
        x = means[y] + shift + noise * rng.normal(size=(n, d))
        logits = logit_scale * (x @ means.T) / d + rng.normal(size=(n, n_classes))
    return {"emb": x.astype(np.float32), "logits": logits.astype(np.float32), "labels": y.astype(np.int64)}


def save(case, s, t, exp):
    for tag, dom in [("s", s), ("t", t)]:
        for key in ["emb", "logits", "labels"]:
            np.save(os.path.join(OUT, f"{case}_{tag}_{key}.npy"), dom[key])
    with open(os.path.join(OUT, f"{case}.json"), "w") as f:
        json.dump(exp, f, indent=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240601)
    cases = {}

    # 1. random: no structure at all (AUROC near 0.5, silhouettes near 0)
    cases["random"] = (domain(rng, 120, 16, 5), domain(rng, 100, 16, 5), 5)

    # 2. structured: class clusters, target shifted; logits follow the clusters
    means = 3.0 * rng.normal(size=(4, 8))
    cases["structured"] = (domain(rng, 150, 8, 4, means), domain(rng, 130, 8, 4, means, shift=1.5), 4)

    # 3. ties: logits on a coarse integer grid, so softmax scores tie within and across classes
    s, t = domain(rng, 90, 12, 3, 2.0 * rng.normal(size=(3, 12))), domain(rng, 80, 12, 3)
    for dom in (s, t):
        dom["logits"] = rng.integers(0, 3, dom["logits"].shape).astype(np.float32)
    cases["ties"] = (s, t, 3)

    # 4. missing class: class 2 never occurs in the target (its AUROC is left out of the macro mean)
    means = 2.0 * rng.normal(size=(5, 10))
    yt = rng.choice(np.array([0, 1, 3, 4]), 110)
    cases["missing_class"] = (domain(rng, 140, 10, 5, means), domain(rng, 110, 10, 5, means, shift=0.5, labels=yt), 5)

    # 5. one class in the target: target silhouette and target AUROC undefined
    means = 2.0 * rng.normal(size=(3, 6))
    cases["one_class"] = (domain(rng, 60, 6, 3, means),
                          domain(rng, 50, 6, 3, means, labels=np.zeros(50, dtype=np.int64)), 3)

    for case, (s, t, c) in cases.items():
        save(case, s, t, expected(case, s, t, c, rng))

    # numpy percentile reference for the bootstrap interval helper
    v = rng.normal(size=37)
    qs = [0.0, 2.5, 25.0, 50.0, 97.5, 100.0]
    with open(os.path.join(OUT, "percentile.json"), "w") as f:
        json.dump({"values": v.tolist(), "q": qs, "expected": [float(np.percentile(v, q)) for q in qs]}, f, indent=1)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
