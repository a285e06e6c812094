"""dannscope.metrics, validators and compare against the scikit-learn / numpy / pytorch-adapt values of
the committed fixtures (scripts/metrics_fixtures.py, scripts/diagnose_fixtures.py), against scikit-learn
and pytorch-adapt run here, and their answers to bad input."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, silhouette_score

import dannscope
from conftest import FIXTURES, domain, load_json, need

METRICS = FIXTURES / "metrics"
DIAGNOSE = FIXTURES / "diagnose"
CASES = ["structured", "random", "ties", "missing_class", "one_class"]


def close(got, want, tol, what):
    if want is None:
        assert got is None, (what, got)
    else:
        assert got is not None and abs(got - want) <= tol, (what, got, want)


@pytest.mark.parametrize("case", CASES)
def test_classification_matches_sklearn_fixtures(case):
    exp = load_json(METRICS / f"{case}.json")
    for tag in ("s", "t"):
        d = domain(METRICS, f"{case}_{tag}")
        want = exp["source" if tag == "s" else "target"]
        r = dannscope.metrics.classification(d["logits"], d["labels"], n_classes=exp["n_classes"],
                                             n_resamples=200)
        close(r["accuracy"], want["accuracy"], 1e-12, f"{case} {tag} accuracy")
        close(r["auroc"], want["auroc"], 1e-9, f"{case} {tag} auroc")
        assert r["confusion"] == want["confusion"]
        for c, (pc, auc) in enumerate(zip(r["per_class"], want["per_class_auroc"])):
            close(pc.get("auroc"), auc, 1e-9, f"{case} {tag} class {c} auroc")
        if r["accuracy_ci"] is not None:
            ci = r["accuracy_ci"]
            assert ci["lower"] <= r["accuracy"] <= ci["upper"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("precision, tol", [("float64", 1e-9), ("float32", 1e-6)])
def test_cohesion_matches_numpy_and_sklearn_fixtures(case, precision, tol):
    exp = load_json(METRICS / f"{case}.json")
    s, t = domain(METRICS, f"{case}_s"), domain(METRICS, f"{case}_t")
    m = dannscope.metrics.cohesion(s["emb"], s["labels"], t["emb"], t["labels"],
                                   source_logits=s["logits"], target_logits=t["logits"],
                                   precision=precision)
    for key in ("silhouette_source", "silhouette_target", "silhouette_joint", "silhouette_domain",
                "mmd2_rbf"):
        close(m[key]["value"], exp[key], tol, f"{case} {key}")
        iv = m[key]["interval"]
        assert m[key]["mode"] == "exact"
        if m[key]["value"] is None:
            assert iv is None, (case, key)
        else:
            assert iv["method"] == "percentile bootstrap over points", (case, key)
            assert iv["level"] == 0.95 and iv["repeats"] == 1000
    for key, tol2 in (("mmd2_linear", 1e-9), ("knn_transfer_accuracy", 1e-12),
                      ("domain_knn_purity", 1e-12), ("information_maximization", 1e-10),
                      ("snd", 1e-10)):
        close(m[key]["value"], exp[key], tol2, f"{case} {key}")
    for key, v in m.items():
        assert (v["value"] is None) == (v["reason"] is not None), (key, v)


def test_silhouette_and_auroc_equal_sklearn_run_here():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 4, 300)
    x = (rng.normal(size=(300, 16)) + 1.5 * y[:, None]).astype(np.float32)
    m = dannscope.metrics.cohesion(x, y, x[:100] + 0.1, y[:100], precision="float64")
    want = silhouette_score(x.astype(np.float64), y)
    assert abs(m["silhouette_source"]["value"] - want) <= 1e-9
    alone = dannscope.metrics.silhouette_score(x, y, precision="float64")
    assert alone == m["silhouette_source"]["value"]
    assert abs(dannscope.metrics.silhouette_score(x, y) - want) <= 1e-6
    logits = (np.eye(4)[y] + rng.normal(size=(300, 4))).astype(np.float32)
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    r = dannscope.metrics.classification(logits, y, n_resamples=0)
    assert abs(r["auroc"] - roc_auc_score(y, p, multi_class="ovr", average="macro")) <= 1e-12
    assert r["accuracy"] == float((logits.argmax(1) == y).mean())
    assert r["accuracy_ci"] is None


def test_scalable_mode_reports_an_interval():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    x = (rng.normal(size=(400, 8)) + 2.0 * y[:, None]).astype(np.float32)
    exact = dannscope.metrics.cohesion(x, y, x, y, mode="exact")
    est = dannscope.metrics.cohesion(x, y, x, y, mode="scalable", anchors=100, repeats=5)
    s = est["silhouette_source"]
    assert s["mode"] == "scalable" and s["interval"]["lower"] <= s["value"] <= s["interval"]["upper"]
    assert abs(s["value"] - exact["silhouette_source"]["value"]) < 0.05


def test_exact_intervals_follow_the_spread_of_the_terms():
    # The silhouette's interval is a bootstrap over the points' coefficients: about
    # ±1.96 sd/sqrt(n) around their mean, with scikit-learn's silhouette_samples as the terms;
    # the kNN transfer accuracy's is that of a proportion over the target points.
    from sklearn.metrics import silhouette_samples
    rng = np.random.default_rng(1)
    ys, yt = rng.integers(0, 4, 500), rng.integers(0, 4, 300)
    xs = (rng.normal(size=(500, 6)) + 1.5 * ys[:, None]).astype(np.float32)
    xt = (rng.normal(size=(300, 6)) + 1.5 * yt[:, None] + 0.7).astype(np.float32)
    m = dannscope.metrics.cohesion(xs, ys, xt, yt)
    terms = silhouette_samples(xs.astype(np.float64), ys)
    half = 1.96 * terms.std(ddof=1) / np.sqrt(len(terms))
    iv = m["silhouette_source"]["interval"]
    assert iv["lower"] <= m["silhouette_source"]["value"] <= iv["upper"]
    assert abs((iv["upper"] - iv["lower"]) / 2 - half) < 0.15 * half, (iv, half)
    acc = m["knn_transfer_accuracy"]["value"]
    half = 1.96 * np.sqrt(acc * (1 - acc) / 300)
    iv = m["knn_transfer_accuracy"]["interval"]
    assert abs((iv["upper"] - iv["lower"]) / 2 - half) < 0.15 * half, (iv, half)
    for key, v in m.items():
        if v["value"] is not None:
            assert v["interval"]["lower"] <= v["value"] <= v["interval"]["upper"], (key, v)
    off = dannscope.metrics.cohesion(xs, ys, xt, yt, n_resamples=0)
    assert all(v["interval"] is None for v in off.values())
    assert {k: v["value"] for k, v in off.items()} == {k: v["value"] for k, v in m.items()}


@pytest.mark.parametrize("case", ["clustered", "noisy", "unpredicted_class"])
def test_validators_match_pytorch_adapt_fixtures(case):
    exp = load_json(DIAGNOSE / f"validators_{case}.json")
    s, t = domain(DIAGNOSE, f"validators_{case}_s"), domain(DIAGNOSE, f"validators_{case}_t")
    v = dannscope.validators(s["emb"], s["labels"], s["logits"], t["emb"], t["logits"])
    for key in ("entropy", "im", "snd", "bnm"):
        close(v[key]["value"], exp[key], 1e-12, f"{case} {key}")
    if v["class_ami"]["verdict"] != "undefined":
        close(v["class_ami"]["value"], exp["class_ami"], 1e-9, f"{case} class_ami")
    close(v["atc_mc"]["value"], exp["atc_mc"], 1e-12, f"{case} atc_mc")
    assert set(v) == {"entropy", "im", "snd", "bnm", "class_ami", "dev", "atc_mc", "atc_ne"}


def test_validators_equal_pytorch_adapt_run_here():
    torch = need("torch")
    validators = need("pytorch_adapt.validators")
    rng = np.random.default_rng(3)
    logits = (3 * rng.normal(size=(200, 5))).astype(np.float32)
    emb = rng.normal(size=(200, 8)).astype(np.float32)
    ours = dannscope.validators(emb, rng.integers(0, 5, 200), logits, emb, logits)
    batch = {"logits": torch.from_numpy(logits), "preds": torch.softmax(torch.from_numpy(logits), 1)}
    for key, cls in (("entropy", validators.EntropyValidator), ("im", validators.IMValidator),
                     ("snd", validators.SNDValidator), ("bnm", validators.BNMValidator)):
        theirs = float(cls()(target_train=batch))
        close(ours[key]["value"], theirs, 1e-5, key)


def test_compare_matches_its_fixture():
    exp = load_json(DIAGNOSE / "compare.json")
    a_l, b_l = np.load(DIAGNOSE / "compare_a_logits.npy"), np.load(DIAGNOSE / "compare_b_logits.npy")
    a_e, b_e = np.load(DIAGNOSE / "compare_a_emb.npy"), np.load(DIAGNOSE / "compare_b_emb.npy")
    y = np.load(DIAGNOSE / "compare_labels.npy")
    r = dannscope.compare(a_l, b_l, y, emb_a=a_e, emb_b=b_e, n_classes=exp["n_classes"])
    close(r["accuracy_a"], exp["accuracy_a"], 1e-12, "accuracy_a")
    close(r["accuracy_b"], exp["accuracy_b"], 1e-12, "accuracy_b")
    assert r["fixed"] == exp["fixed"] and r["broken"] == exp["broken"]
    close(r["mcnemar"]["p_value"], exp["mcnemar_p"], 1e-12, "mcnemar p")
    close(r["knn_jaccard"], exp["knn_jaccard"]["10"], 1e-12, "knn jaccard")


def test_results_do_not_depend_on_threads():
    d = domain(METRICS, "structured_s")
    one = dannscope.metrics.classification(d["logits"], d["labels"], n_jobs=1)
    two = dannscope.metrics.classification(d["logits"], d["labels"], n_jobs=2)
    assert one == two


def test_bad_input_is_named():
    d = domain(METRICS, "structured_s")
    x, y, lg = d["emb"], d["labels"], d["logits"]
    with pytest.raises(TypeError, match="labels must hold integer class indices, found dtype float64"):
        dannscope.metrics.classification(lg, y.astype(np.float64))
    with pytest.raises(ValueError, match=r"logits: expected a 2-D array \[N, D\], found shape"):
        dannscope.metrics.classification(lg[:, 0], y)
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"source embedding: non-finite value NaN at row 2, column 1 \(expected finite numbers\)"):
        dannscope.metrics.cohesion(bad, y, x, y)
    with pytest.raises(ValueError, match="target labels: expected"):
        dannscope.metrics.cohesion(x, y, x, y[:-1])
    with pytest.raises(ValueError, match="needs at least 1"):
        dannscope.metrics.cohesion(x, y, x[:0], y[:0])
    with pytest.raises(ValueError, match="target embedding"):
        dannscope.metrics.cohesion(x, y, x[:, :3], y)
    with pytest.raises(ValueError):
        dannscope.metrics.cohesion(x, y, x, y, mode="fast")
    lgn = lg.copy()
    lgn[0, 0] = np.inf
    with pytest.raises(ValueError, match="non-finite value inf at row 0, column 0"):
        dannscope.metrics.classification(lgn, y)
    with pytest.raises(ValueError, match="level"):
        dannscope.metrics.classification(lg, y, level=1.5)
    # a strided view is read correctly (converted once)
    assert dannscope.metrics.classification(lg[::2], y[::2], n_resamples=0)["n"] == len(y[::2])
