//! Explore page: one offline HTML file where every dot of the joint t-SNE map is an image.
//!
//! [`build_page`] turns a source → target pair (map coordinates, labels, paths, optional logits and
//! discriminator output, and the original embeddings) into a single HTML file that needs nothing
//! else: it opens from `file://`, makes no network request, and can be mailed. Each point carries a
//! thumbnail (packed into JPEG atlas pages, decoded by the browser only when first shown), its path,
//! domain, true and predicted class with confidence, right/wrong and discriminator output. A click
//! lists the point's `k` nearest source and target rows in the original D-dimensional embedding space,
//! computed here, not on the 2-D map: exact ([`knn_among`]) below
//! [`ExploreParams::approx_threshold`] rows of a domain, approximate (NN-descent,
//! [`knn_among_auto`]) from it on; the page says which.
//!
//! Front end (`assets/explore/`): a hand-written WebGL point renderer (GLSL 100, so it runs on
//! WebGL 2 or 1) that draws source points as filled discs and target points as open triangles (the
//! shapes of the static figures) in one `drawArrays` call, with a canvas-2D renderer that stamps
//! the same markers into an `ImageData` buffer (and, on maps too large to draw in a frame, an evenly
//! strided subset while the view moves). The 2-D path is used when WebGL is missing or
//! software-only (SwiftShader, llvmpipe), where it measured 15× faster. About 1,100 lines of
//! JavaScript with no dependency: a scatter library (regl-scatterplot, deck.gl) would have to be
//! bundled into every file with its dependencies and has no path without WebGL. Numbers and format are in `docs/explore.md`.
//!
//! Data layout inside the file: a JSON `<script>` with names and column offsets (strings escaped so
//! no `</script>` can appear), one base64 `<script>` holding every numeric column (little-endian,
//! 4-byte aligned: coordinates, labels, predictions, confidences, discriminator output, flags,
//! thumbnail slots, neighbour indices and distances), and one base64 JPEG per atlas page. The same
//! input always gives the same bytes.

pub(crate) mod error;
mod knn;
mod thumbs;

use std::path::Path;

use ndarray::ArrayView2;
use serde_json::json;

pub use error::ExploreError;
pub use knn::{knn_among, knn_among_auto, NeighbourLists, NO_NEIGHBOUR};
pub use thumbs::{select_thumbnails, thumbnail_jpeg};

use crate::plot::{class_color, SOURCE_COLOR, TAB10, TARGET_COLOR};
use plotters::style::RGBColor;

const TEMPLATE: &str = include_str!("../../assets/explore/explore.html");
const CSS: &str = include_str!("../../assets/explore/explore.css");
const JS: &str = include_str!("../../assets/explore/explore.js");

/// Marks a row without a thumbnail in [`ExplorePage::thumbnail_of`].
pub const NO_THUMBNAIL: u32 = u32::MAX;

/// Everything shown on the page, one entry per point. Rows are the rows of the joint map (source
/// rows, then target rows, by convention; only `is_target` decides the domain).
#[derive(Debug, Clone)]
pub struct ExploreInput<'a> {
    /// Page title (model, domain pair, split).
    pub title: String,
    /// Display name of the source domain.
    pub source_name: String,
    /// Display name of the target domain.
    pub target_name: String,
    /// Class names, indexed by label.
    pub class_names: &'a [String],
    /// Joint 2-D map, `[N, 2]`.
    pub coords: ArrayView2<'a, f32>,
    /// `true` for target rows.
    pub is_target: &'a [bool],
    /// True class of every row.
    pub labels: &'a [u32],
    /// Image path of every row, relative to the data root, `/`-separated.
    pub paths: &'a [String],
    /// Classifier logits, `[N, C]`: give the predicted class (first maximum) and the softmax
    /// confidence.
    pub logits: Option<ArrayView2<'a, f32>>,
    /// Discriminator output per row: the probability that the row comes from the target domain.
    pub domain_prob: Option<&'a [f32]>,
    /// Original embeddings, `[N, D]`, for the nearest-neighbour lists.
    pub embedding: ArrayView2<'a, f32>,
}

/// How the page is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExploreParams {
    /// Neighbours listed per domain (default 10).
    pub k: usize,
    /// Longest side of a thumbnail in pixels, 16..=255 (default 80).
    pub thumb_px: u32,
    /// Most thumbnails in the file (default 20,000); above it a seeded subset stratified by
    /// domain × class gets one ([`select_thumbnails`]).
    pub max_thumbnails: usize,
    /// Seed of that subset and of the approximate neighbour search.
    pub seed: u64,
    /// Rows of a domain from which its neighbour lists are approximate (NN-descent) instead of
    /// exact; default [`crate::neighbours::APPROX_THRESHOLD`] (100,000).
    pub approx_threshold: usize,
    /// JPEG quality of the atlas pages, 1..=100 (default 80).
    pub thumb_quality: u8,
}

impl Default for ExploreParams {
    fn default() -> Self {
        ExploreParams {
            k: 10,
            thumb_px: 80,
            max_thumbnails: 20_000,
            seed: 0,
            approx_threshold: crate::neighbours::APPROX_THRESHOLD,
            thumb_quality: 80,
        }
    }
}

/// A built page and what went into it.
#[derive(Debug, Clone)]
pub struct ExplorePage {
    /// The whole HTML file.
    pub html: String,
    /// Points on the map.
    pub n_points: usize,
    /// Points with a thumbnail.
    pub n_thumbnails: usize,
    /// Size of `html` in bytes.
    pub bytes: usize,
    /// Nearest source rows of every row (in the embedding space).
    pub nearest_source: NeighbourLists,
    /// Nearest target rows of every row.
    pub nearest_target: NeighbourLists,
    /// Thumbnail slot of every row, or [`NO_THUMBNAIL`].
    pub thumbnail_of: Vec<u32>,
}

fn check(input: &ExploreInput, params: &ExploreParams) -> Result<(), ExploreError> {
    let n = input.coords.nrows();
    if n == 0 {
        return Err(ExploreError::Empty);
    }
    if input.class_names.is_empty() {
        return Err(ExploreError::NoClasses);
    }
    if input.coords.ncols() != 2 {
        return Err(ExploreError::Columns {
            what: "coords",
            expected: 2,
            got: input.coords.ncols(),
        });
    }
    let rows = [
        ("is_target", input.is_target.len()),
        ("labels", input.labels.len()),
        ("paths", input.paths.len()),
        ("embedding", input.embedding.nrows()),
        ("logits", input.logits.map_or(n, |l| l.nrows())),
        ("domain_prob", input.domain_prob.map_or(n, <[f32]>::len)),
    ];
    for (what, got) in rows {
        if got != n {
            return Err(ExploreError::Rows {
                what,
                expected: n,
                got,
            });
        }
    }
    let c = input.class_names.len();
    if let Some(l) = input.logits {
        if l.ncols() != c {
            return Err(ExploreError::Columns {
                what: "logits",
                expected: c,
                got: l.ncols(),
            });
        }
    }
    if let Some(row) = input.labels.iter().position(|&l| l as usize >= c) {
        return Err(ExploreError::Label {
            row,
            label: input.labels[row],
            classes: c,
        });
    }
    let first_bad = |a: &ArrayView2<f32>| {
        a.rows()
            .into_iter()
            .position(|r| r.iter().any(|v| !v.is_finite()))
    };
    for (what, a) in [
        ("coords", Some(&input.coords)),
        ("embedding", Some(&input.embedding)),
        ("logits", input.logits.as_ref()),
    ] {
        if let Some(row) = a.and_then(first_bad) {
            return Err(ExploreError::NonFinite { what, row });
        }
    }
    if let Some(row) = input
        .domain_prob
        .and_then(|p| p.iter().position(|v| !v.is_finite()))
    {
        return Err(ExploreError::NonFinite {
            what: "domain_prob",
            row,
        });
    }
    if !(16..=255).contains(&params.thumb_px) {
        return Err(ExploreError::Param(format!(
            "thumbnail size {} px is outside 16..=255",
            params.thumb_px
        )));
    }
    if !(1..=100).contains(&params.thumb_quality) {
        return Err(ExploreError::Param(format!(
            "JPEG quality {} is outside 1..=100",
            params.thumb_quality
        )));
    }
    Ok(())
}

/// Predicted class (first maximum) and softmax confidence of one row of logits.
fn predict(row: ndarray::ArrayView1<f32>) -> (u32, f32) {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    let m = f64::from(row[best]);
    let z: f64 = row.iter().map(|&v| (f64::from(v) - m).exp()).sum();
    (best as u32, (1.0 / z) as f32)
}

fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Numeric columns packed into one buffer, each 4-byte aligned.
struct Columns {
    bytes: Vec<u8>,
    index: serde_json::Map<String, serde_json::Value>,
}

impl Columns {
    fn push(&mut self, name: &str, kind: &str, count: usize, data: Vec<u8>) {
        self.index
            .insert(name.into(), json!([self.bytes.len(), count, kind]));
        self.bytes.extend_from_slice(&data);
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
    fn f32(&mut self, name: &str, v: impl IntoIterator<Item = f32>) {
        let data: Vec<u8> = v.into_iter().flat_map(f32::to_le_bytes).collect();
        self.push(name, "f32", data.len() / 4, data);
    }
    fn u32(&mut self, name: &str, v: impl IntoIterator<Item = u32>) {
        let data: Vec<u8> = v.into_iter().flat_map(u32::to_le_bytes).collect();
        self.push(name, "u32", data.len() / 4, data);
    }
    fn u8(&mut self, name: &str, v: Vec<u8>) {
        let n = v.len();
        self.push(name, "u8", n, v);
    }
}

/// Build the explore page.
///
/// `thumbs(i)` returns the decoded image of row `i` (the caller loads `<data root>/<paths[i]>`), or
/// `None` when it cannot be read: that point then has no thumbnail but keeps its fields. It is called
/// once for each row chosen by [`select_thumbnails`], from several threads. The output depends only
/// on the inputs (same input, same bytes).
pub fn build_page(
    input: &ExploreInput,
    params: &ExploreParams,
    thumbs: &(dyn Fn(usize) -> Option<image::RgbImage> + Sync),
) -> Result<ExplorePage, ExploreError> {
    check(input, params)?;
    let n = input.coords.nrows();
    let c = input.class_names.len();

    let source: Vec<usize> = (0..n).filter(|&i| !input.is_target[i]).collect();
    let target: Vec<usize> = (0..n).filter(|&i| input.is_target[i]).collect();
    let knn = |refs: &[usize]| {
        knn_among_auto(
            input.embedding,
            refs,
            params.k,
            params.approx_threshold,
            params.seed,
        )
    };
    let nearest_source = knn(&source)?;
    let nearest_target = knn(&target)?;

    let chosen = select_thumbnails(
        input.is_target,
        input.labels,
        params.max_thumbnails,
        params.seed,
    );
    let atlas = thumbs::Atlas::new(params.thumb_px);
    let pages = thumbs::build_pages(
        &chosen,
        atlas,
        params.thumb_px,
        params.thumb_quality,
        thumbs,
    )?;
    let mut thumbnail_of = vec![NO_THUMBNAIL; n];
    let mut sizes = Vec::with_capacity(chosen.len() * 2);
    for (t, (&row, &(w, h))) in chosen
        .iter()
        .zip(pages.iter().flat_map(|p| &p.sizes))
        .enumerate()
    {
        if w > 0 {
            thumbnail_of[row] = t as u32;
        }
        sizes.extend([w, h]);
    }
    let n_thumbnails = thumbnail_of.iter().filter(|&&t| t != NO_THUMBNAIL).count();

    // Paths: folders deduplicated in order of first appearance, file names per row.
    let mut dirs: Vec<&str> = Vec::new();
    let mut dir_index = std::collections::HashMap::new();
    let mut dir_of = Vec::with_capacity(n);
    let mut files = Vec::with_capacity(n);
    for p in input.paths {
        let cut = p.rfind('/').map_or(0, |k| k + 1);
        let (dir, file) = p.split_at(cut);
        let next = dirs.len() as u32;
        let d = *dir_index.entry(dir).or_insert_with(|| {
            dirs.push(dir);
            next
        });
        dir_of.push(d);
        files.push(file);
    }

    let mut cols = Columns {
        bytes: Vec::new(),
        index: serde_json::Map::new(),
    };
    cols.f32("coords", input.coords.iter().copied());
    cols.u32("label", input.labels.iter().copied());
    if let Some(logits) = input.logits {
        let (pred, conf): (Vec<u32>, Vec<f32>) = logits.rows().into_iter().map(predict).unzip();
        cols.u32("pred", pred);
        cols.f32("conf", conf);
    }
    if let Some(p) = input.domain_prob {
        cols.f32("disc", p.iter().copied());
    }
    cols.u8(
        "flags",
        input.is_target.iter().map(|&t| u8::from(t)).collect(),
    );
    cols.u32("dir", dir_of);
    cols.u32("thumb", thumbnail_of.iter().copied());
    cols.u8("thumb_wh", sizes);
    cols.u32("nn_source", nearest_source.idx.iter().copied());
    cols.f32("nn_source_dist", nearest_source.dist.iter().copied());
    cols.u32("nn_target", nearest_target.idx.iter().copied());
    cols.f32("nn_target_dist", nearest_target.dist.iter().copied());

    let meta = json!({
        "format": 1,
        "title": input.title,
        "source": input.source_name,
        "target": input.target_name,
        "classes": input.class_names,
        "n": n,
        "dim": input.embedding.ncols(),
        "k_source": nearest_source.k,
        "k_target": nearest_target.k,
        "nn_method_source": nearest_source.method.name(),
        "nn_method_target": nearest_target.method.name(),
        "disc_label": "p(target)",
        "colors": {
            "classes": (0..c).map(|i| hex(class_color(i, c))).collect::<Vec<_>>(),
            "source": hex(SOURCE_COLOR),
            "target": hex(TARGET_COLOR),
            "right": hex(TAB10[2]),
            "wrong": hex(TAB10[3]),
        },
        "dirs": dirs,
        "files": files,
        "columns": cols.index,
        "thumbs": {
            "count": n_thumbnails,
            "cell": atlas.cell,
            "cols": atlas.cols,
            "per_page": atlas.per_page(),
            "pages": pages.len(),
            "mime": "image/jpeg",
        },
    });

    let mut data = String::new();
    data.push_str("<script type=\"application/json\" id=\"ds-meta\">");
    data.push_str(&crate::markup::script_json(&meta));
    data.push_str("</script>\n<script type=\"application/octet-stream\" id=\"ds-bin\">");
    data.push_str(&crate::markup::base64_encode(&cols.bytes));
    data.push_str("</script>\n");
    for (p, page) in pages.iter().enumerate() {
        data.push_str(&format!("<script type=\"text/plain\" id=\"ds-t{p}\">"));
        data.push_str(&crate::markup::base64_encode(&page.jpeg));
        data.push_str("</script>\n");
    }

    let html = fill_template(&crate::markup::html_escape(&input.title), &data);
    Ok(ExplorePage {
        bytes: html.len(),
        html,
        n_points: n,
        n_thumbnails,
        nearest_source,
        nearest_target,
        thumbnail_of,
    })
}

/// The template with its four slots filled (each slot's text is inserted once and never rescanned).
fn fill_template(title: &str, data: &str) -> String {
    let mut out = String::with_capacity(TEMPLATE.len() + CSS.len() + JS.len() + data.len());
    let mut rest = TEMPLATE;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let slot = &rest[start + 2..start + len];
        let value = match slot {
            "TITLE" => title,
            "CSS" => CSS,
            "DATA" => data,
            "JS" => JS,
            _ => &rest[start..start + len + 2],
        };
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Write a built page to `path` atomically (temporary file in the same folder, then rename; mode
/// 0644). Returns the file size in bytes.
pub fn write_page(path: &Path, page: &ExplorePage) -> Result<u64, ExploreError> {
    crate::atomic::write_bytes(path, page.html.as_bytes())?;
    Ok(page.html.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predictions_take_the_first_maximum() {
        let l = ndarray::array![1.0f32, 3.0, 3.0, -1.0];
        let (p, c) = predict(l.view());
        assert_eq!(p, 1);
        let z = (-2.0f64).exp() + 1.0 + 1.0 + (-4.0f64).exp();
        assert!((f64::from(c) - 1.0 / z).abs() < 1e-6);
    }

    #[test]
    fn assets_hold_no_closing_script_tag() {
        let js = JS.to_ascii_lowercase();
        assert!(!js.contains("</script") && !js.contains("<script") && !js.contains("<!--"));
        assert!(!CSS.to_ascii_lowercase().contains("</style"));
        for slot in ["{{TITLE}}", "{{CSS}}", "{{DATA}}", "{{JS}}"] {
            assert_eq!(TEMPLATE.matches(slot).count(), 1, "{slot}");
        }
    }
}
