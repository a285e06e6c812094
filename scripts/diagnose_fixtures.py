#!/usr/bin/env python3
"""Writes the reference fixtures of the diagnosis measures to tests/fixtures/diagnose/.

- transfer_<case>.json (+ .npy inputs): the per-class transfer table, misalignment matrix and pull list
  of a source/target pair, computed here with numpy and scikit-learn (silhouette_score) on float64
  copies of the float32 arrays.
- mcnemar.json: exact McNemar p-values, scipy.stats.binomtest(b, b + c, 0.5).pvalue, for a grid of
  discordant counts (small, unbalanced, large and extreme).
- compare.json (+ .npy inputs): two models' predictions and embeddings of the same images: accuracies,
  per-class deltas, fixed/broken rows, McNemar and the mean kNN Jaccard overlap (numpy).
- validators_<case>.json (+ .npy inputs): the label-free validators of one checkpoint, computed by
  pytorch-adapt 0.0.83 itself: EntropyValidator, IMValidator, SNDValidator, BNMValidator,
  ClassClusterValidator(centroid_init="label_centers") and, over numpy seeds 0-19, its default
  ClassClusterValidator() (k-means++); DeepEmbeddedValidator run for real on the same inputs (its MLP
  discriminators, its weights and errors captured); and the library's cross-fitted DEV recipe on
  exported folds (scikit-learn's StandardScaler + LogisticRegression per fold, pytorch-adapt's own
  get_dev_risk and error function). pytorch-adapt has no ATC: it follows the authors' ATC_helper.py
  (saurabhgarg1996/ATC_code) verbatim, with a stable sort.
- spearman.json: scipy.stats.spearmanr on series with ties.
- gallery.json (+ .npy inputs): the most confidently wrong target images (softmax confidence of the
  arg-max, highest first), their k nearest source rows and Euclidean distances, and the per-class medoid
  (smallest summed Euclidean distance within its class and domain) of each domain (numpy, scikit-learn's
  pairwise_distances).
- discriminator_<case>.json (+ .npy inputs): per-domain histograms of sigmoid(domain logit) (numpy's
  histogram on 20 bins of [0, 1]), AUROC of target vs source (scikit-learn's roc_auc_score) and balanced
  accuracy at 0.5 (balanced_accuracy_score).
  These two use their own generator (seed 20261129), so the earlier fixtures do not change.

Run from the repository root (needs numpy, scipy, scikit-learn and the training stack of
models/requirements.txt, plus pytorch-ignite 0.4.9, which DeepEmbeddedValidator trains with: pytorch-adapt's
`ignite` extra pins it; its metadata asks for torch < 2 but it runs on torch 2.15, so install it with
`pip install --no-deps pytorch-ignite==0.4.9` to keep torch):

    python3 scripts/diagnose_fixtures.py
"""
import json
import os
import tempfile

# DeepEmbeddedValidator reloads its own temporary checkpoints, which hold numpy scalars: allow them
os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"

import numpy as np
import torch
from pytorch_adapt.validators import (BNMValidator, ClassClusterValidator, DeepEmbeddedValidator,
                                      EntropyValidator, IMValidator, SNDValidator)
from pytorch_adapt.validators import deep_embedded_validator as dev_module
from scipy.stats import binomtest, spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (adjusted_mutual_info_score, balanced_accuracy_score, pairwise_distances,
                             roc_auc_score, silhouette_score)
from sklearn.preprocessing import StandardScaler

OUT = os.path.join("tests", "fixtures", "diagnose")


def sq_dists(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)


def vote(neighbour_labels):
    """Majority class; a tie goes to the tied class met first (holding the nearest neighbour)."""
    order, counts = [], {}
    for c in neighbour_labels:
        c = int(c)
        if c not in counts:
            order.append(c)
            counts[c] = 0
        counts[c] += 1
    best = max(counts.values())
    return next(c for c in order if counts[c] == best)


def mmd2_rbf(xs, xt):
    """Unbiased RBF MMD² with sigma² = median squared distance over the pairs of the pooled sample."""
    if len(xs) < 2 or len(xt) < 2:
        return None, None
    x = np.vstack([xs, xt])
    d = sq_dists(x, x)
    sigma2 = float(np.median(d[np.triu_indices(len(x), k=1)]))
    if sigma2 <= 0:
        return None, None
    k = lambda a, b: np.exp(-sq_dists(a, b) / sigma2)
    m, n = len(xs), len(xt)
    kss, ktt = k(xs, xs), k(xt, xt)
    v = ((kss.sum() - np.trace(kss)) / (m * (m - 1)) + (ktt.sum() - np.trace(ktt)) / (n * (n - 1))
         - 2 * k(xs, xt).mean())
    return float(v), sigma2


def domain_silhouette(xs, xt):
    x = np.vstack([xs, xt])
    dom = np.r_[np.zeros(len(xs)), np.ones(len(xt))].astype(int)
    if len(np.unique(dom)) < 2 or len(x) < 3:
        return None
    return float(silhouette_score(x, dom, metric="euclidean"))


def transfer(s, t, n_classes, k):
    xs, xt = s["emb"].astype(np.float64), t["emb"].astype(np.float64)
    ys, yt = s["labels"], t["labels"]
    k = min(k, len(xs))
    d = sq_dists(xt, xs)
    nn = [np.argsort(d[i], kind="stable")[:k] for i in range(len(xt))]
    present = [c for c in range(n_classes) if (ys == c).any()]
    cents = np.array([xs[ys == c].mean(axis=0) for c in present])
    near_cent = [present[int(np.argmin(((cents - x) ** 2).sum(axis=1)))] for x in xt]
    mis = np.zeros((n_classes, n_classes), dtype=np.int64)
    cen = np.zeros((n_classes, n_classes), dtype=np.int64)
    agree = np.zeros(n_classes)
    for i in range(len(xt)):
        mis[yt[i], vote(ys[nn[i]])] += 1
        cen[yt[i], near_cent[i]] += 1
        agree[yt[i]] += (ys[nn[i]] == yt[i]).mean()

    def acc(dom, c):
        pos = dom["labels"] == c
        return float((dom["logits"][pos].argmax(axis=1) == c).mean()) if pos.any() else None

    def mode(row):
        return (int(np.argmax(row)), float(row.max() / row.sum())) if row.sum() > 0 else (None, None)

    classes = []
    for c in range(n_classes):
        nt = int((yt == c).sum())
        kc, ks = mode(mis[c])
        cc, cs = mode(cen[c])
        mmd, sigma2 = mmd2_rbf(xs[ys == c], xt[yt == c])
        classes.append({
            "n_source": int((ys == c).sum()),
            "n_target": nt,
            "source_accuracy": acc(s, c),
            "target_accuracy": acc(t, c),
            "knn_agreement": float(agree[c] / nt) if nt else None,
            "knn_nearest_class": kc,
            "knn_nearest_share": ks,
            "centroid_nearest_class": cc,
            "centroid_nearest_share": cs,
            "mmd2_rbf": mmd,
            "mmd_sigma2": sigma2,
            "domain_silhouette": domain_silhouette(xs[ys == c], xt[yt == c]),
        })
    pulls = []
    for c in range(n_classes):
        for c2 in range(n_classes):
            if c2 != c and mis[c, c2] > 0:
                pulls.append((c, c2, int(mis[c, c2]), float(mis[c, c2] / mis[c].sum())))
    pulls.sort(key=lambda p: (-p[3], -p[2], p[0], p[1]))
    return {
        "k": k,
        "classes": classes,
        "misalignment": mis.tolist(),
        "pulls": [{"target_class": a, "source_class": b, "count": n, "share": sh} for a, b, n, sh in pulls],
    }


def domain(rng, n, means, labels, shift=0.0, noise=1.0, grid=False):
    d = means.shape[1]
    x = means[labels] + shift + noise * rng.normal(size=(n, d))
    if grid:
        x = np.round(x)  # coarse grid: many equal distances
    logits = (x @ means.T) / d + rng.normal(size=(n, len(means)))
    return {"emb": x.astype(np.float32), "logits": logits.astype(np.float32), "labels": labels.astype(np.int64)}


def save_inputs(prefix, doms):
    for tag, dom in doms:
        for key in ["emb", "logits", "labels"]:
            np.save(os.path.join(OUT, f"{prefix}_{tag}_{key}.npy"), dom[key])


def transfer_cases(rng):
    cases = {}
    # 1. pulled: 60% of target class 1 is drawn towards source class 2; everything else shifted a little
    means = 3.0 * rng.normal(size=(4, 8))
    ys = rng.integers(0, 4, 160)
    yt = rng.integers(0, 4, 120)
    s = domain(rng, 160, means, ys, noise=2.0)
    t = domain(rng, 120, means, yt, shift=0.5, noise=2.0)
    moved = (yt == 1) & (rng.random(120) < 0.6)
    t["emb"][moved] += (0.8 * (means[2] - means[1])).astype(np.float32)
    cases["pulled"] = (s, t, 4, 10)
    # 2. sparse: class 3 absent from the target, class 2 has one source point; k larger than usual
    means = 2.0 * rng.normal(size=(4, 6))
    ys = np.r_[rng.choice([0, 1, 3], 70), [2]]
    yt = rng.choice([0, 1, 2], 60)
    cases["sparse"] = (domain(rng, 71, means, ys), domain(rng, 60, means, yt, shift=0.3), 4, 15)
    # 3. grid: embeddings on an integer grid, so neighbour distances and votes tie; 72 + 56 = 128 points,
    #    so the pooled mean (which the library subtracts) is a multiple of 1/128 and every squared
    #    distance stays exact in float64: ties are ties on both sides
    means = 2.0 * rng.normal(size=(3, 4))
    ys = rng.integers(0, 3, 72)
    yt = rng.integers(0, 3, 56)
    cases["grid"] = (domain(rng, 72, means, ys, grid=True), domain(rng, 56, means, yt, shift=0.4, grid=True), 3, 6)
    for case, (s, t, c, k) in cases.items():
        save_inputs(f"transfer_{case}", [("s", s), ("t", t)])
        exp = transfer(s, t, c, k)
        exp.update({"case": case, "n_classes": c, "k_requested": k})
        with open(os.path.join(OUT, f"transfer_{case}.json"), "w") as f:
            json.dump(exp, f, indent=1)
    return list(cases)


def mcnemar_cases():
    pairs = [(0, 1), (1, 0), (0, 5), (1, 4), (3, 3), (2, 9), (9, 2), (10, 11), (7, 30), (30, 7),
             (50, 80), (120, 100), (400, 455), (1000, 1100), (0, 60), (5, 200), (900, 1200), (2500, 2600)]
    out = [{"b": b, "c": c, "p_value": float(binomtest(b, b + c, 0.5).pvalue)} for b, c in pairs]
    with open(os.path.join(OUT, "mcnemar.json"), "w") as f:
        json.dump(out, f, indent=1)


def self_knn(x, k):
    d = sq_dists(x, x)
    np.fill_diagonal(d, np.inf)
    return [set(np.argsort(d[i], kind="stable")[:k].tolist()) for i in range(len(x))]


def compare_case(rng):
    n, n_classes, dim = 150, 5, 12
    y = rng.integers(0, n_classes, n)
    means = 2.0 * rng.normal(size=(n_classes, dim))
    ea = means[y] + rng.normal(size=(n, dim))
    # B: a rotated, noisier version of A's space (neighbourhoods partly kept)
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    eb = ea @ q + 0.8 * rng.normal(size=(n, dim))
    la = (ea @ means.T) / dim + 2.0 * rng.normal(size=(n, n_classes))
    lb = (ea @ means.T) / dim + 1.6 * rng.normal(size=(n, n_classes))
    arrays = {"labels": y.astype(np.int64), "a_emb": ea.astype(np.float32), "b_emb": eb.astype(np.float32),
              "a_logits": la.astype(np.float32), "b_logits": lb.astype(np.float32)}
    for key, v in arrays.items():
        np.save(os.path.join(OUT, f"compare_{key}.npy"), v)
    pa = arrays["a_logits"].argmax(axis=1)
    pb = arrays["b_logits"].argmax(axis=1)
    ok_a, ok_b = pa == y, pb == y
    per_class = []
    for c in range(n_classes):
        m = y == c
        a, b = float(ok_a[m].mean()), float(ok_b[m].mean())
        per_class.append({"n": int(m.sum()), "accuracy_a": a, "accuracy_b": b, "delta": b - a})
    b_, c_ = int((ok_a & ~ok_b).sum()), int((~ok_a & ok_b).sum())
    jac = {}
    for k in (1, 5, 10):
        na = self_knn(arrays["a_emb"].astype(np.float64), k)
        nb = self_knn(arrays["b_emb"].astype(np.float64), k)
        jac[str(k)] = float(np.mean([len(x & z) / len(x | z) for x, z in zip(na, nb)]))
    exp = {
        "n_classes": n_classes,
        "accuracy_a": float(ok_a.mean()),
        "accuracy_b": float(ok_b.mean()),
        "per_class": per_class,
        "fixed": np.flatnonzero(~ok_a & ok_b).tolist(),
        "broken": np.flatnonzero(ok_a & ~ok_b).tolist(),
        "mcnemar_p": float(binomtest(b_, b_ + c_, 0.5).pvalue) if b_ + c_ else 1.0,
        "knn_jaccard": jac,
    }
    with open(os.path.join(OUT, "compare.json"), "w") as f:
        json.dump(exp, f, indent=1)


# ---- pytorch-adapt 0.0.83 itself ---------------------------------------------------------------------

def softmax(logits):
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def target_batch(t):
    """pytorch-adapt's `target_train` dict: float64 copies of the float32 arrays, as the library reads."""
    logits = t64(t["logits"])
    return {"logits": logits, "preds": torch.softmax(logits, dim=1), "features": t64(t["emb"])}


def class_ami_kmeanspp(t, seeds):
    """ClassClusterValidator() with its default start (scikit-learn's k-means++, unseeded: numpy's global
    generator, seeded here once per value)."""
    out = []
    for seed in seeds:
        np.random.seed(seed)
        out.append(float(ClassClusterValidator()(target_train=target_batch(t))))
    return out


def dev_errors(s):
    """DeepEmbeddedValidator's error: torch.nn.CrossEntropyLoss(reduction="none") on the source logits."""
    return torch.nn.CrossEntropyLoss(reduction="none")(t64(s["logits"]), torch.tensor(s["labels"]))


def dev_cross_fitted(s, t, rng, k=5):
    """The library's DEV recipe on exported folds: each fold's discriminator (StandardScaler +
    LogisticRegression, C = 1, source = 1) is fitted on the other folds and weighs the source points of
    its fold by p(target|x)/p(source|x) * N_s/N_t (its training counts); the risk is pytorch-adapt's own
    get_dev_risk over every source point, with its error function."""
    ns, nt = len(s["emb"]), len(t["emb"])
    fold = np.zeros(ns + nt, dtype=int)
    for off, n in [(0, ns), (ns, nt)]:
        perm = rng.permutation(n)
        fold[perm + off] = np.arange(n) % k
    x = np.vstack([s["emb"], t["emb"]]).astype(np.float64)
    y = np.r_[np.ones(ns), np.zeros(nt)].astype(int)
    weights, right = np.zeros(ns), 0
    for f in range(k):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        sc = StandardScaler().fit(x[train])
        clf = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=1000)
        clf.fit(sc.transform(x[train]), y[train])
        right += int((clf.predict(sc.transform(x[test])) == y[test]).sum())
        src = test[test < ns]
        proba = clf.predict_proba(sc.transform(x[src]))  # columns: target (0), source (1)
        n_s, n_t = int((y[train] == 1).sum()), int((y[train] == 0).sum())
        weights[src] = proba[:, 0] / proba[:, 1] * (float(n_s) / n_t)
    error = dev_errors(s)
    risk = float(dev_module.get_dev_risk(t64(weights)[:, None], error[:, None], None))
    return {"folds": fold.tolist(), "k": k, "score": -risk, "risk": risk, "mean_error": float(error.mean()),
            "discriminator_accuracy": right / (ns + nt), "ess": float(weights.sum() ** 2 / (weights ** 2).sum()),
            "n_validation": ns}


def dev_pytorch_adapt(s, t, seed=0):
    """DeepEmbeddedValidator run for real on the same inputs as the library's DEV (source and target of
    one split: src_train = src_val = the source, target_train = the target), seeded (numpy for its
    80/20 split, torch for its MLPs). Its weights are captured from its own get_weights; its risk is
    recomputed from them by its own get_dev_risk, in float64 (the validator itself takes Var(w) of
    float32 weights)."""
    captured = {}
    real_get_weights = dev_module.get_weights

    def capture(*args):
        out = real_get_weights(*args)
        captured["weights"] = out[0].detach().double().reshape(-1)
        return out

    np.random.seed(seed)
    torch.manual_seed(seed)
    dev_module.get_weights = capture
    try:
        with tempfile.TemporaryDirectory() as tmp:
            v = DeepEmbeddedValidator(temp_folder=tmp)
            src = {"features": torch.tensor(s["emb"]), "logits": t64(s["logits"]),
                   "labels": torch.tensor(s["labels"])}
            score = float(v(src_train=src, src_val=src, target_train={"features": torch.tensor(t["emb"])}))
    finally:
        dev_module.get_weights = real_get_weights
    w, error = captured["weights"], dev_errors(s)
    risk64 = float(dev_module.get_dev_risk(w[:, None], error[:, None], None))
    return {"score": score, "risk_float64": risk64, "mean_error": float(v.mean_error),
            "D_accuracy_val": float(v.D_accuracy_val), "D_accuracy_test": float(v.D_accuracy_test),
            "weights": w.tolist(), "errors": error.tolist(),
            "ess": float(w.sum() ** 2 / (w ** 2).sum()), "seed": seed}


# ---- ATC (Garg et al. 2022), the authors' ATC_helper.py ----------------------------------------------

def get_entropy(probs):
    return np.sum(np.multiply(probs, np.log(probs + 1e-20)), axis=1)


def get_max_conf(probs):
    return np.max(probs, axis=-1)


def find_ATC_threshold(scores, labels):
    sorted_idx = np.argsort(scores, kind="stable")  # the authors' default sort is not stable
    sorted_scores = scores[sorted_idx]
    sorted_labels = labels[sorted_idx]
    fp = np.sum(labels == 0)
    fn = 0.0
    min_fp_fn = np.abs(fp - fn)
    thres = 0.0
    for i in range(len(labels)):
        if sorted_labels[i] == 0:
            fp -= 1
        else:
            fn += 1
        if np.abs(fp - fn) < min_fp_fn:
            min_fp_fn = np.abs(fp - fn)
            thres = sorted_scores[i]
    return min_fp_fn, thres


def get_ATC_acc(thres, scores):
    return np.mean(scores >= thres) * 100.0


def atc(s, t, kind):
    score = get_max_conf if kind == "mc" else get_entropy
    val_probs, test_probs = softmax(s["logits"]), softmax(t["logits"])
    val_preds = val_probs.argmax(axis=1)
    correct = s["labels"] == val_preds
    _, thres = find_ATC_threshold(score(val_probs), correct)
    if correct.all():
        thres = -np.inf  # the library starts the walk at -inf (the authors at 0.0; see the docs)
    return float(get_ATC_acc(thres, score(test_probs)) / 100.0)


def validator_cases(rng):
    cases = {}
    means = 3.0 * rng.normal(size=(5, 8))
    ys, yt = rng.integers(0, 5, 90), rng.integers(0, 5, 80)
    cases["clustered"] = (domain(rng, 90, means, ys), domain(rng, 80, means, yt, shift=0.8, noise=1.2))
    means = 0.5 * rng.normal(size=(4, 10))
    ys, yt = rng.integers(0, 4, 70), rng.integers(0, 4, 60)
    s, t = domain(rng, 70, means, ys, noise=1.5), domain(rng, 60, means, yt, shift=0.3, noise=1.5)
    for d in (s, t):
        d["logits"] = (3.0 * rng.normal(size=d["logits"].shape)).astype(np.float32)
    cases["noisy"] = (s, t)
    # class 3 is never predicted on the target: its k-means centre starts at the origin
    means = 2.5 * rng.normal(size=(4, 6))
    ys, yt = rng.integers(0, 4, 60), rng.integers(0, 4, 50)
    s, t = domain(rng, 60, means, ys), domain(rng, 50, means, yt, shift=0.5)
    t["logits"][:, 3] -= 50.0
    cases["unpredicted_class"] = (s, t)
    out = []
    for case, (s, t) in cases.items():
        save_inputs(f"validators_{case}", [("s", s), ("t", t)])
        tb = target_batch(t)
        exp = {
            "case": case,
            "entropy": float(EntropyValidator()(target_train=tb)),
            "im": float(IMValidator()(target_train=tb)),
            "snd": float(SNDValidator()(target_train=tb)),
            "bnm": float(BNMValidator()(target_train=tb)),
            "class_ami": float(ClassClusterValidator(centroid_init="label_centers")(target_train=tb)),
            "class_ami_kmeanspp": class_ami_kmeanspp(t, range(20)),
            "dev": dev_cross_fitted(s, t, rng),
            "dev_pytorch_adapt": dev_pytorch_adapt(s, t),
            "atc_mc": atc(s, t, "mc"),
            "atc_ne": atc(s, t, "ne"),
        }
        with open(os.path.join(OUT, f"validators_{case}.json"), "w") as f:
            json.dump(exp, f, indent=1)
        out.append(case)
    series = [([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), ([0.1, 0.4, 0.4, 0.2, 0.9, 0.9], [3, 1, 2, 2, 5, 4]),
              (rng.normal(size=12).tolist(), rng.normal(size=12).tolist())]
    with open(os.path.join(OUT, "spearman.json"), "w") as f:
        json.dump([{"x": x, "y": y, "rho": float(spearmanr(x, y).statistic)} for x, y in series], f, indent=1)
    return out


# ---- galleries and the discriminator view -------------------------------------------------------------
def softmax64(logits):
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def medoids(x, y, n_classes):
    out = []
    for c in range(n_classes):
        rows = np.flatnonzero(y == c)
        if len(rows) == 0:
            out.append(None)
            continue
        d = pairwise_distances(x[rows].astype(np.float64))
        sums = d.sum(axis=1)
        best = int(np.argmin(sums))  # first minimum: the lower row
        n = len(rows)
        out.append({"row": int(rows[best]), "n": n, "mean_distance": float(sums[best] / (n - 1)) if n > 1 else 0.0})
    return out


def gallery_case(rng):
    n_classes, dim, n_wrong, k = 5, 10, 7, 4
    means = 2.5 * rng.normal(size=(n_classes, dim))
    ys = rng.integers(0, n_classes, 90)
    yt = np.r_[rng.integers(0, n_classes - 1, 69), [0]]  # class 4 absent from the target
    s = domain(rng, 90, means, ys, noise=1.5)
    t = domain(rng, 70, means, yt, shift=0.6, noise=1.8)
    for tag, dom in [("s", s), ("t", t)]:
        for key in ["emb", "logits", "labels"]:
            np.save(os.path.join(OUT, f"gallery_{tag}_{key}.npy"), dom[key])
    p = softmax64(t["logits"])
    pred = p.argmax(axis=1)
    conf = p[np.arange(len(pred)), pred]
    wrong = np.flatnonzero(pred != t["labels"])
    order = wrong[np.lexsort((wrong, -conf[wrong]))][:n_wrong]
    d = pairwise_distances(t["emb"].astype(np.float64), s["emb"].astype(np.float64))
    picks = []
    for r in order:
        nn = np.argsort(d[r], kind="stable")[:k]
        picks.append({"row": int(r), "label": int(t["labels"][r]), "predicted": int(pred[r]),
                      "confidence": float(conf[r]),
                      "neighbours": [{"row": int(j), "label": int(s["labels"][j]), "distance": float(d[r, j])}
                                     for j in nn]})
    exp = {"n_classes": n_classes, "n_wrong": n_wrong, "k": k, "n_wrong_total": int(len(wrong)), "wrong": picks,
           "source_medoids": medoids(s["emb"], s["labels"], n_classes),
           "target_medoids": medoids(t["emb"], t["labels"], n_classes)}
    with open(os.path.join(OUT, "gallery.json"), "w") as f:
        json.dump(exp, f, indent=1)


def discriminator_cases(rng):
    cases = {
        "apart": (rng.normal(-1.5, 1.0, 150), rng.normal(1.0, 1.2, 110)),
        "mixed": (rng.normal(0.1, 0.3, 90), rng.normal(0.0, 0.3, 130)),
        # saturated logits and values on bin edges (p = 0.5 exactly, logit 0)
        "edges": (np.r_[rng.normal(-6, 4, 60), [0.0, 0.0, -40.0]], np.r_[rng.normal(5, 4, 50), [0.0, 40.0]]),
    }
    for case, (zs, zt) in cases.items():
        zs, zt = zs.astype(np.float32), zt.astype(np.float32)
        np.save(os.path.join(OUT, f"discriminator_{case}_s.npy"), zs)
        np.save(os.path.join(OUT, f"discriminator_{case}_t.npy"), zt)
        ps = 1.0 / (1.0 + np.exp(-zs.astype(np.float64)))
        pt = 1.0 / (1.0 + np.exp(-zt.astype(np.float64)))
        y = np.r_[np.zeros(len(zs)), np.ones(len(zt))]
        score = np.r_[zs, zt].astype(np.float64)
        auc = float(roc_auc_score(y, score))
        exp = {
            "bins": 20,
            "source_hist": np.histogram(ps, bins=20, range=(0.0, 1.0))[0].tolist(),
            "target_hist": np.histogram(pt, bins=20, range=(0.0, 1.0))[0].tolist(),
            "mean_p_source": float(ps.mean()),
            "mean_p_target": float(pt.mean()),
            "auroc": auc,
            "separability": abs(2 * auc - 1),
            "balanced_accuracy": float(balanced_accuracy_score(y, (np.r_[ps, pt] >= 0.5).astype(int))),
        }
        with open(os.path.join(OUT, f"discriminator_{case}.json"), "w") as f:
            json.dump(exp, f, indent=1)
    return list(cases)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240917)
    names = transfer_cases(rng)
    mcnemar_cases()
    compare_case(rng)
    vnames = validator_cases(rng)
    rng2 = np.random.default_rng(20261129)
    gallery_case(rng2)
    dnames = discriminator_cases(rng2)
    print(f"wrote transfer cases {names}, mcnemar.json, compare.json, validator cases {vnames}, "
          f"spearman.json, gallery.json and discriminator cases {dnames} to {OUT}")


if __name__ == "__main__":
    main()
