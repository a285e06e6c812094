//! `dannscope._native`: the native module of the Python package. It holds the command line
//! ([`run_cli`], the same entry as the `dannscope` binary) and thin wrappers over the library's t-SNE,
//! placement and metrics. Arrays arrive as float32 / int64 NumPy arrays (the Python layer converts and
//! checks dtypes and ranks once) and are borrowed as `ndarray` views without a copy; the GIL is released
//! while the library works. Library errors become `ValueError` with the library's message, the same text
//! the CLI prints for the same fault. Reports travel as JSON text (shortest round-trip floats), so the
//! Python dictionaries hold exactly the values that the CLI writes to its JSON files.

use std::ffi::OsString;
use std::path::PathBuf;

use dannscope::metrics::compare::{compare_predictions, knn_jaccard, predictions, CompareParams};
use dannscope::metrics::validators::{label_free_validators, ValidatorParams};
use dannscope::metrics::{check_finite, MetricsError};
use dannscope::metrics::{
    classification_report, cohesion as cohesion_report, silhouette_score, ClassificationParams,
    CohesionMode, CohesionParams, DomainData, Precision, ScaleParams,
};
use dannscope::plot::{tsne_figure, tsne_figure_svg, TsneFigure};
use dannscope::tsne::{
    fit_parts, transform, Init, LearningRate, Method, NegativeGradient, TransformParams, TsneParams,
};
use ndarray::{Array2, ArrayView1, ArrayView2};
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// A library error as a Python `ValueError` carrying the library's message.
fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A C-contiguous NumPy matrix as the library's `ndarray` view, without a copy. (rust-numpy's own
/// `as_array` returns another `ndarray` major version than the library's, so the view is built from the
/// data slice; the Python layer makes every array C-contiguous before the call.)
fn view2<'a>(a: &'a PyReadonlyArray2<'_, f32>, what: &str) -> PyResult<ArrayView2<'a, f32>> {
    let shape = a.shape();
    let data = a
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{what} must be C-contiguous")))?;
    ArrayView2::from_shape((shape[0], shape[1]), data).map_err(value_error)
}

/// A contiguous NumPy vector as the library's `ndarray` view, without a copy.
fn view1<'a>(a: &'a PyReadonlyArray1<'_, i64>, what: &str) -> PyResult<ArrayView1<'a, i64>> {
    Ok(ArrayView1::from(slice1(a, what)?))
}

/// The labels of `a` as a slice, or an error naming `what` when they are not contiguous.
fn slice1<'a>(a: &'a PyReadonlyArray1<'_, i64>, what: &str) -> PyResult<&'a [i64]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err(format!("{what} must be contiguous")))
}

/// One domain's arrays (`role` is "source" or "target", naming the arrays in errors).
fn domain<'a>(
    role: &str,
    emb: &'a PyReadonlyArray2<'_, f32>,
    logits: Option<&'a PyReadonlyArray2<'_, f32>>,
    labels: ArrayView1<'a, i64>,
) -> PyResult<DomainData<'a>> {
    Ok(DomainData::new(
        view2(emb, &format!("{role}_emb"))?,
        logits
            .map(|l| view2(l, &format!("{role}_logits")))
            .transpose()?,
        labels,
    ))
}

/// A map `[N, 2]` handed to Python.
type Map<'py> = Bound<'py, PyArray2<f32>>;

/// An owned `[N, 2]` map as a new NumPy array.
fn to_numpy<'py>(py: Python<'py>, a: Array2<f32>) -> PyResult<Map<'py>> {
    let (n, c) = a.dim();
    let v: Vec<f32> = a.iter().copied().collect();
    PyArray1::from_vec(py, v).reshape([n, c])
}

/// Runs `f` on `n_jobs` threads (rayon's global pool, one thread per core, when `None`).
fn with_threads<T: Send>(n_jobs: Option<usize>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    match n_jobs {
        None => Ok(f()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| PyRuntimeError::new_err(format!("cannot start {n} threads: {e}")))?;
            Ok(pool.install(f))
        }
    }
}

/// Runs the library call `f` without the GIL on `n_jobs` threads; its result as JSON, its error as a
/// `ValueError`.
fn json_of<T, E>(
    py: Python<'_>,
    n_jobs: Option<usize>,
    f: impl FnOnce() -> Result<T, E> + Send,
) -> PyResult<String>
where
    T: serde::Serialize + Send,
    E: std::fmt::Display + Send,
{
    let out = py
        .detach(|| with_threads(n_jobs, f))?
        .map_err(value_error)?;
    serde_json::to_string(&out).map_err(value_error)
}

/// The `dannscope` command line on `args` (program name first); returns the exit status.
#[pyfunction]
fn run_cli(py: Python<'_>, args: Vec<OsString>) -> u8 {
    py.detach(|| dannscope::cli::run_from(args))
}

/// The library's version (the CLI's `--version`).
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn parse_negative_gradient(s: &str) -> PyResult<NegativeGradient> {
    match s {
        "auto" => Ok(NegativeGradient::Auto),
        "bh" | "barnes-hut" | "barnes_hut" => Ok(NegativeGradient::BarnesHut),
        "fft" => Ok(NegativeGradient::Fft),
        _ => Err(PyValueError::new_err(format!(
            "invalid t-SNE parameter negative_gradient_method: expected \"auto\", \"bh\" or \"fft\", found {s:?}"
        ))),
    }
}

fn parse_neighbors(s: &str) -> PyResult<Method> {
    match s {
        "auto" => Ok(Method::Auto),
        "exact" => Ok(Method::Exact),
        "approx" | "approximate" => Ok(Method::Approximate),
        _ => Err(PyValueError::new_err(format!(
            "invalid t-SNE parameter neighbors: expected \"auto\", \"exact\" or \"approx\", found {s:?}"
        ))),
    }
}

fn parse_precision(s: &str) -> PyResult<Precision> {
    match s {
        "f32" | "float32" => Ok(Precision::F32),
        "f64" | "float64" => Ok(Precision::F64),
        other => Err(PyValueError::new_err(format!(
            "invalid precision: expected \"float32\" or \"float64\", found {other:?}"
        ))),
    }
}

/// A joint t-SNE of the row blocks `parts` (one block, or several of the same width fitted as one
/// set). Returns the map `[N, 2]`, its KL divergence, the perplexity used and the notices.
#[pyfunction]
#[pyo3(signature = (parts, *, perplexity, n_iter, early_exaggeration_iter, early_exaggeration,
    exaggeration, learning_rate, theta, negative_gradient_method, init, init_map, seed, n_jobs,
    neighbors, pca_dims))]
#[allow(clippy::too_many_arguments)]
fn tsne<'py>(
    py: Python<'py>,
    parts: Vec<PyReadonlyArray2<'py, f32>>,
    perplexity: f64,
    n_iter: usize,
    early_exaggeration_iter: usize,
    early_exaggeration: f64,
    exaggeration: f64,
    learning_rate: Option<f64>,
    theta: f64,
    negative_gradient_method: &str,
    init: &str,
    init_map: Option<PyReadonlyArray2<'py, f32>>,
    seed: u64,
    n_jobs: Option<usize>,
    neighbors: &str,
    pca_dims: Option<usize>,
) -> PyResult<(Map<'py>, f64, f64, Vec<String>)> {
    let init = match (init, init_map) {
        ("pca", None) => Init::Pca,
        ("random", None) => Init::Random,
        ("given", Some(m)) => Init::Given(view2(&m, "init")?.to_owned()),
        (other, _) => {
            return Err(PyValueError::new_err(format!(
                "invalid t-SNE parameter init: expected \"pca\", \"random\" or an [N, 2] array, found {other:?}"
            )))
        }
    };
    let params = TsneParams::new()
        .perplexity(perplexity)
        .n_iter(n_iter)
        .early_exaggeration_iter(early_exaggeration_iter)
        .early_exaggeration(early_exaggeration)
        .exaggeration(exaggeration)
        .learning_rate(learning_rate.map_or(LearningRate::Auto, LearningRate::Fixed))
        .theta(theta)
        .negative_gradient(parse_negative_gradient(negative_gradient_method)?)
        .init(init)
        .seed(seed)
        .neighbours(parse_neighbors(neighbors)?)
        .pca_dims(pca_dims);
    let views = parts
        .iter()
        .map(|p| view2(p, "X"))
        .collect::<PyResult<Vec<_>>>()?;
    let out = py
        .detach(|| with_threads(n_jobs, || fit_parts(&views, &params)))?
        .map_err(value_error)?;
    Ok((
        to_numpy(py, out.coords)?,
        out.kl_divergence,
        out.perplexity,
        out.notices,
    ))
}

/// Places the rows of `new` into `reference_map`, the map of `reference_data` (openTSNE's
/// `transform`). Returns the positions `[M, 2]` and the perplexity used.
#[pyfunction]
#[pyo3(signature = (reference_map, reference_data, new, *, perplexity, k, learning_rate,
    early_exaggeration, early_exaggeration_iter, exaggeration, n_iter, momentum, max_grad_norm,
    n_jobs))]
#[allow(clippy::too_many_arguments)]
fn place<'py>(
    py: Python<'py>,
    reference_map: PyReadonlyArray2<'py, f32>,
    reference_data: PyReadonlyArray2<'py, f32>,
    new: PyReadonlyArray2<'py, f32>,
    perplexity: f64,
    k: usize,
    learning_rate: f64,
    early_exaggeration: f64,
    early_exaggeration_iter: usize,
    exaggeration: f64,
    n_iter: usize,
    momentum: f64,
    max_grad_norm: f64,
    n_jobs: Option<usize>,
) -> PyResult<(Map<'py>, f64)> {
    let params = TransformParams {
        perplexity,
        k,
        learning_rate,
        early_exaggeration,
        early_exaggeration_iter,
        exaggeration,
        n_iter,
        momentum,
        max_grad_norm,
    };
    let m = view2(&reference_map, "reference_map")?;
    let d = view2(&reference_data, "X_ref")?;
    let x = view2(&new, "X_new")?;
    let placed = py
        .detach(|| with_threads(n_jobs, || transform(d, m, x, &params)))?
        .map_err(value_error)?;
    Ok((to_numpy(py, placed.coords)?, placed.perplexity))
}

/// The classification report of one domain as JSON (the object `metrics.json` holds per domain).
#[pyfunction]
#[pyo3(signature = (logits, labels, *, n_classes, n_resamples, level, seed, class_names, n_jobs))]
#[allow(clippy::too_many_arguments)]
fn classification(
    py: Python<'_>,
    logits: PyReadonlyArray2<'_, f32>,
    labels: PyReadonlyArray1<'_, i64>,
    n_classes: usize,
    n_resamples: usize,
    level: f64,
    seed: u64,
    class_names: Vec<String>,
    n_jobs: Option<usize>,
) -> PyResult<String> {
    let params = ClassificationParams::default()
        .n_resamples(n_resamples)
        .level(level)
        .seed(seed)
        .class_names(&class_names);
    let (l, y) = (view2(&logits, "logits")?, view1(&labels, "labels")?);
    json_of(py, n_jobs, || {
        classification_report(l, y, n_classes, &params)
    })
}

/// Every cohesion measure of a source/target pair as JSON (the object `metrics.json` holds per pair).
#[pyfunction]
#[pyo3(signature = (source_emb, source_labels, source_logits, target_emb, target_labels,
    target_logits, *, seed, knn_k, purity_k, mode, threshold, anchors, repeats, level, n_resamples,
    ci_level, precision, n_jobs))]
#[allow(clippy::too_many_arguments)]
fn cohesion(
    py: Python<'_>,
    source_emb: PyReadonlyArray2<'_, f32>,
    source_labels: PyReadonlyArray1<'_, i64>,
    source_logits: Option<PyReadonlyArray2<'_, f32>>,
    target_emb: PyReadonlyArray2<'_, f32>,
    target_labels: PyReadonlyArray1<'_, i64>,
    target_logits: Option<PyReadonlyArray2<'_, f32>>,
    seed: u64,
    knn_k: usize,
    purity_k: usize,
    mode: &str,
    threshold: usize,
    anchors: usize,
    repeats: usize,
    level: f64,
    n_resamples: usize,
    ci_level: f64,
    precision: &str,
    n_jobs: Option<usize>,
) -> PyResult<String> {
    let mode = CohesionMode::parse(mode).ok_or_else(|| {
        PyValueError::new_err(format!(
            "invalid mode: expected \"auto\", \"exact\" or \"scalable\", found {mode:?}"
        ))
    })?;
    let precision = parse_precision(precision)?;
    let params = CohesionParams {
        ci_level,
        ..CohesionParams::default()
    }
    .seed(seed)
    .n_resamples(n_resamples)
    .knn_k(knn_k)
    .purity_k(purity_k)
    .precision(precision)
    .scale(ScaleParams {
        mode,
        threshold,
        anchors,
        repeats,
        level,
    });
    let source = domain(
        "source",
        &source_emb,
        source_logits.as_ref(),
        view1(&source_labels, "source_labels")?,
    )?;
    let target = domain(
        "target",
        &target_emb,
        target_logits.as_ref(),
        view1(&target_labels, "target_labels")?,
    )?;
    json_of(py, n_jobs, || cohesion_report(&source, &target, &params))
}

/// The mean silhouette of the rows of `x` by `labels` (Euclidean, scikit-learn's `silhouette_score`):
/// the exact computation behind the cohesion report's silhouettes.
#[pyfunction]
#[pyo3(signature = (x, labels, *, precision, n_jobs))]
fn silhouette(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f32>,
    labels: PyReadonlyArray1<'_, i64>,
    precision: &str,
    n_jobs: Option<usize>,
) -> PyResult<f64> {
    let precision = parse_precision(precision)?;
    let x = view2(&x, "X")?;
    let y = slice1(&labels, "labels")?;
    py.detach(|| with_threads(n_jobs, || silhouette_score(&[x], y, precision)))?
        .map_err(value_error)
}

/// The label-free validators of one checkpoint (`dannscope select`'s scores) as JSON. `params` is a
/// JSON object of `ValidatorParams` (`seed`, `class_ami_init`, `dev.folds`, ...).
#[pyfunction]
#[pyo3(signature = (source_emb, source_labels, source_logits, target_emb, target_logits, *, params,
    n_jobs))]
#[allow(clippy::too_many_arguments)]
fn validators(
    py: Python<'_>,
    source_emb: PyReadonlyArray2<'_, f32>,
    source_labels: PyReadonlyArray1<'_, i64>,
    source_logits: Option<PyReadonlyArray2<'_, f32>>,
    target_emb: PyReadonlyArray2<'_, f32>,
    target_logits: Option<PyReadonlyArray2<'_, f32>>,
    params: &str,
    n_jobs: Option<usize>,
) -> PyResult<String> {
    let params: ValidatorParams = serde_json::from_str(params).map_err(value_error)?;
    let source = domain(
        "source",
        &source_emb,
        source_logits.as_ref(),
        view1(&source_labels, "source_labels")?,
    )?;
    // Target labels are never read by a label-free validator.
    let no_labels = vec![0i64; target_emb.shape()[0]];
    let target = domain(
        "target",
        &target_emb,
        target_logits.as_ref(),
        ArrayView1::from(&no_labels),
    )?;
    json_of(py, n_jobs, || {
        label_free_validators(&source, &target, &params)
    })
}

/// The default `ValidatorParams` as JSON (the Python wrapper fills in what it is given).
#[pyfunction]
fn validator_defaults() -> PyResult<String> {
    serde_json::to_string(&ValidatorParams::default()).map_err(value_error)
}

/// Two models on the same images as JSON: accuracy difference with its paired bootstrap interval,
/// McNemar's exact test, per-class deltas, the images fixed and broken (`dannscope compare`), and, with
/// both embeddings, `knn_jaccard`: the mean kNN overlap of the two embedding spaces.
#[pyfunction]
#[pyo3(signature = (logits_a, logits_b, labels, emb_a, emb_b, *, n_classes, n_resamples, level,
    seed, k, n_jobs))]
#[allow(clippy::too_many_arguments)]
fn compare(
    py: Python<'_>,
    logits_a: PyReadonlyArray2<'_, f32>,
    logits_b: PyReadonlyArray2<'_, f32>,
    labels: PyReadonlyArray1<'_, i64>,
    emb_a: Option<PyReadonlyArray2<'_, f32>>,
    emb_b: Option<PyReadonlyArray2<'_, f32>>,
    n_classes: usize,
    n_resamples: usize,
    level: f64,
    seed: u64,
    k: usize,
    n_jobs: Option<usize>,
) -> PyResult<String> {
    let params = CompareParams {
        n_resamples,
        level,
        seed,
        k,
        ..CompareParams::default()
    };
    let (la, lb) = (view2(&logits_a, "logits_a")?, view2(&logits_b, "logits_b")?);
    let y = view1(&labels, "labels")?;
    let embeddings = match (&emb_a, &emb_b) {
        (Some(a), Some(b)) => Some((view2(a, "emb_a")?, view2(b, "emb_b")?)),
        _ => None,
    };
    let out = py.detach(|| {
        with_threads(n_jobs, || -> Result<_, MetricsError> {
            check_finite(la, "model A logits")?;
            check_finite(lb, "model B logits")?;
            let c = compare_predictions(y, &predictions(la), &predictions(lb), n_classes, &params)?;
            let j = match embeddings {
                Some((a, b)) => Some(knn_jaccard(a, b, params.k, params.precision)?),
                None => None,
            };
            Ok((c, j))
        })
    })?;
    let (c, j) = out.map_err(value_error)?;
    let mut v = serde_json::to_value(&c).map_err(value_error)?;
    if let Some(j) = j {
        v["knn_jaccard"] = serde_json::json!(j);
    }
    serde_json::to_string(&v).map_err(value_error)
}

/// Draws the joint t-SNE figure (`dannscope tsne`'s) of `coords`: written to `svg` and `png` when
/// both are given, returned as an SVG document otherwise.
#[pyfunction]
#[pyo3(signature = (coords, labels, is_target, *, class_names, source_name, target_name, title,
    subtitle, svg, png))]
#[allow(clippy::too_many_arguments)]
fn plot_tsne(
    py: Python<'_>,
    coords: PyReadonlyArray2<'_, f32>,
    labels: Vec<u32>,
    is_target: Vec<bool>,
    class_names: Vec<String>,
    source_name: String,
    target_name: String,
    title: String,
    subtitle: Option<String>,
    svg: Option<PathBuf>,
    png: Option<PathBuf>,
) -> PyResult<Option<String>> {
    let fig = TsneFigure {
        coords: view2(&coords, "coords")?,
        is_target: &is_target,
        labels: &labels,
        class_names: &class_names,
        source_name,
        target_name,
        title,
        subtitle,
    };
    match (svg, png) {
        (Some(s), Some(p)) => py
            .detach(|| tsne_figure(&fig, &s, &p))
            .map(|()| None)
            .map_err(value_error),
        _ => py
            .detach(|| tsne_figure_svg(&fig))
            .map(Some)
            .map_err(value_error),
    }
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(tsne, m)?)?;
    m.add_function(wrap_pyfunction!(place, m)?)?;
    m.add_function(wrap_pyfunction!(classification, m)?)?;
    m.add_function(wrap_pyfunction!(cohesion, m)?)?;
    m.add_function(wrap_pyfunction!(silhouette, m)?)?;
    m.add_function(wrap_pyfunction!(validators, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(plot_tsne, m)?)?;
    m.add_function(wrap_pyfunction!(validator_defaults, m)?)?;
    Ok(())
}
