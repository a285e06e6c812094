"""dannscope.tsne and dannscope.place against openTSNE's fixtures and scikit-learn's trustworthiness,
their reproducibility, and their answers to bad input."""
import numpy as np
import pytest
from sklearn.manifold import trustworthiness

import dannscope
from conftest import FIXTURES, load_json

TSNE = FIXTURES / "tsne"
TRANSFORM = FIXTURES / "transform"


def blobs(n=150, d=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    return (rng.normal(size=(n, d)) + 4.0 * y[:, None]).astype(np.float32), y


def test_quality_matches_opentsne_on_digits():
    x = np.load(TSNE / "digits50.npy")
    ref = load_json(TSNE / "reference.json")["opentsne_digits50"]
    y = dannscope.tsne(x)
    assert y.shape == (x.shape[0], 2) and y.dtype == np.float32
    ours = trustworthiness(x, y, n_neighbors=10)
    theirs = trustworthiness(x, np.load(TSNE / "opentsne_digits50.npy"), n_neighbors=10)
    assert abs(theirs - ref["trustworthiness_k10"]) < 1e-5  # the fixture's own figure
    assert ours >= theirs - 0.01, (ours, theirs)


def test_same_seed_same_bytes_at_any_thread_count():
    x, _ = blobs()
    for method in ("bh", "fft"):
        a = dannscope.tsne(x, seed=3, n_iter=60, negative_gradient_method=method, n_jobs=1)
        b = dannscope.tsne(x, seed=3, n_iter=60, negative_gradient_method=method, n_jobs=2)
        c = dannscope.tsne(x, seed=3, n_iter=60, negative_gradient_method=method)
        assert a.tobytes() == b.tobytes() == c.tobytes(), method
    other = dannscope.tsne(x, seed=4, n_iter=60)
    assert other.tobytes() != c.tobytes()


def test_any_layout_and_real_dtype_give_the_float32_result():
    x, _ = blobs(80, 6)
    want = dannscope.tsne(x, n_iter=50)
    fortran = np.asfortranarray(x)
    strided = np.repeat(x, 2, axis=1)[:, ::2]
    assert not strided.flags.c_contiguous and not fortran.flags.c_contiguous
    for variant in (fortran, strided, x.astype(np.float64), x.tolist()):
        assert dannscope.tsne(variant, n_iter=50).tobytes() == want.tobytes()
    ints = dannscope.tsne(np.rint(x).astype(np.int32), n_iter=50)
    assert ints.tobytes() == dannscope.tsne(np.rint(x), n_iter=50).tobytes()


def test_blocks_are_fitted_as_one_set():
    x, _ = blobs(120, 8)
    whole = dannscope.tsne(x, n_iter=60)
    parts = dannscope.tsne([x[:70], x[70:]], n_iter=60)
    assert parts.tobytes() == whole.tobytes()


def test_given_initial_layout_is_used():
    x, _ = blobs(60, 5)
    init = np.random.default_rng(1).normal(scale=1e-4, size=(60, 2))
    a = dannscope.tsne(x, init=init, n_iter=0, early_exaggeration_iter=0)
    np.testing.assert_array_equal(a, init.astype(np.float32))
    r = dannscope.tsne(x, init="random", n_iter=30)
    assert r.tobytes() != dannscope.tsne(x, n_iter=30).tobytes()


def test_placement_agrees_with_opentsne():
    ref_x, ref_map = np.load(TRANSFORM / "ref_x.npy"), np.load(TRANSFORM / "ref_map.npy")
    new_x, theirs = np.load(TRANSFORM / "new_x.npy"), np.load(TRANSFORM / "opentsne_placed.npy")
    summary = load_json(TRANSFORM / "summary.json")
    ref_labels = np.load(TRANSFORM / "ref_labels.npy")
    placed = dannscope.place(ref_map, ref_x, new_x)
    assert placed.shape == (new_x.shape[0], 2)
    d2 = ((placed[:, None, :] - ref_map[None, :, :]) ** 2).sum(-1)
    nearest = ref_labels[d2.argmin(1)]
    agree = (nearest == np.array(summary["nearest_reference_class"])).mean()
    assert agree >= 0.95, agree
    med = np.median(np.hypot(*(placed - theirs).T))
    assert med <= 0.005 * summary["map_extent"], med


@pytest.mark.parametrize("bad, error, text", [
    (np.array([["a", "b"]] * 10), TypeError, "X must hold real numbers"),
    (np.zeros(10, dtype=np.float32), ValueError, "expected a 2-D array [N, D], found shape (10,)"),
    (np.zeros((3, 4), dtype=np.float32), ValueError, "t-SNE needs at least 5 points, found 3"),
    (np.zeros((0, 4), dtype=np.float32), ValueError, "t-SNE needs at least 5 points, found 0"),
    (np.zeros((10, 0), dtype=np.float32), ValueError, "t-SNE input must have at least 1 column"),
    (np.ones((10, 3), dtype=np.complex64), TypeError, "found dtype complex64"),
])
def test_bad_input_is_named(bad, error, text):
    with pytest.raises(error) as e:
        dannscope.tsne(bad)
    assert text in str(e.value)


def test_nan_is_named_by_row_and_column():
    x, _ = blobs(40, 4)
    x[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"row 7, column 2 is not finite \(found NaN\)"):
        dannscope.tsne(x)
    x[7, 2] = np.inf
    with pytest.raises(ValueError, match=r"row 7, column 2 is not finite \(found inf\)"):
        dannscope.tsne(x)


@pytest.mark.parametrize("kwargs, text", [
    ({"perplexity": 0}, "invalid t-SNE parameter perplexity: expected a finite number > 0, found 0"),
    ({"learning_rate": -1.0}, "invalid t-SNE parameter learning_rate"),
    ({"negative_gradient_method": "exact"}, "negative_gradient_method"),
    ({"init": "spectral"}, "invalid t-SNE parameter init"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"init": np.zeros((3, 2))}, "expected shape"),
])
def test_bad_parameters_are_named(kwargs, text):
    x, _ = blobs(40, 4)
    with pytest.raises(ValueError) as e:
        dannscope.tsne(x, **kwargs)
    assert text in str(e.value)


def test_place_names_mismatched_inputs():
    x, _ = blobs(40, 4)
    y = dannscope.tsne(x, n_iter=20)
    with pytest.raises(ValueError, match=r"points to place: expected shape 4 columns \(as the reference data\), found 5 columns"):
        dannscope.place(y, x, np.zeros((3, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=r"reference map: expected shape \[40, 2\]"):
        dannscope.place(y[:30], x, x[:3])
