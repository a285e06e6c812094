//! HTML of the diagnosis parts of a run: the per-class transfer table with its misalignment heat map
//! and pulls, the galleries (thumbnails embedded as `data:` URIs), the comparison with the source-only
//! baseline, the discriminator's view; and the summary of every run against its baseline shown under
//! the study tables.

use std::fmt::Write as _;

use crate::markup::html_escape;
use crate::report::diagnosis::{BaselineComparison, DiscriminatorView, Gallery, GalleryImage};
use crate::report::input::{pair_arrow, RunOutcome};
use crate::report::selfcontained::inline_svg;
use crate::report::table::{format_cell, MISSING};

/// Pulls listed under the transfer table.
const PULLS_SHOWN: usize = 6;

fn pct(v: Option<f64>) -> String {
    format_cell(v.map(|x| x * 100.0), 1)
}

fn td(text: String) -> String {
    if text == MISSING {
        format!("<td class=\"num missing\">{text}</td>")
    } else {
        format!("<td class=\"num\">{text}</td>")
    }
}

fn class_name(names: &[String], c: Option<usize>) -> String {
    match c {
        Some(c) => names.get(c).cloned().unwrap_or_else(|| c.to_string()),
        None => MISSING.into(),
    }
}

/// The per-class transfer table of the run's pair, its misalignment heat map and the strongest pulls.
pub(super) fn transfer_section(r: &RunOutcome) -> String {
    let (Some(p), Some(e)) = (r.pair_transfer(), r.eval()) else {
        return String::new();
    };
    let t = &p.transfer;
    let names = &e.class_names;
    let mut s = format!(
        "<h4>Per-class transfer</h4>\n<p class=\"sub\">For each class: accuracy in each domain; the share of a \
         target image's {k} nearest source images that have its class (same-class source neighbours); the source class most of \
         its target images land nearest to, by the majority of those {k} neighbours and by the nearest source \
         centroid (with the share of images); class-conditional RBF MMD² and the domain silhouette of the class \
         (higher: the class's two domains are still apart).</p>\n<div class=\"scroll\"><table class=\"transfer\">\
         <thead><tr><th>Class</th><th class=\"num\">n source</th><th class=\"num\">n target</th>\
         <th class=\"num\">Source acc. (%)</th><th class=\"num\">Target acc. (%)</th>\
         <th class=\"num\">Same-class source neighbours (%)</th><th>Nearest source class (kNN)</th>\
         <th>Nearest source class (centroid)</th><th class=\"num\">MMD²</th>\
         <th class=\"num\">Domain silhouette</th></tr></thead>\n<tbody>\n",
        k = t.k
    );
    for c in &t.classes {
        let own = |nc: Option<usize>, share: Option<f64>| {
            let text = format!("{} ({}%)", class_name(names, nc), pct(share));
            if nc.is_some() && nc != Some(c.class) {
                format!("<td class=\"pulled\">{}</td>", html_escape(&text))
            } else {
                format!("<td>{}</td>", html_escape(&text))
            }
        };
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th>{}{}{}{}{}{}{}{}{}</tr>",
            html_escape(&class_name(names, Some(c.class))),
            td(c.n_source.to_string()),
            td(c.n_target.to_string()),
            td(pct(c.source_accuracy)),
            td(pct(c.target_accuracy)),
            td(pct(c.knn_agreement)),
            own(c.knn_nearest_class, c.knn_nearest_share),
            own(c.centroid_nearest_class, c.centroid_nearest_share),
            td(format_cell(c.mmd2_rbf, 3)),
            td(format_cell(c.domain_silhouette, 3)),
        );
    }
    s.push_str("</tbody></table></div>\n");
    let title = format!(
        "Misalignment: target class × majority class of its {} nearest source images",
        t.k
    );
    if let Ok(svg) = crate::plot::confusion_heatmap_svg(&t.misalignment, names, &title)
        .map_err(|e| e.to_string())
        .and_then(|x| inline_svg(&x))
    {
        let _ = writeln!(
            s,
            "<div class=\"charts\"><div role=\"img\" aria-label=\"{}\">{svg}</div></div>",
            html_escape(&format!("{title}: {} {}", r.name, pair_arrow(&r.pair)))
        );
    }
    if !t.pulls.is_empty() {
        s.push_str("<p><strong>Pulled classes</strong> (share of the target class whose nearest source images mostly have another class):</p>\n<ol class=\"pulls\">");
        for pl in t.pulls.iter().take(PULLS_SHOWN) {
            let _ = write!(
                s,
                "<li>target <strong>{}</strong> is pulled into source <strong>{}</strong>: {} ({}%)</li>",
                html_escape(&class_name(names, Some(pl.target_class))),
                html_escape(&class_name(names, Some(pl.source_class))),
                crate::text::count(pl.count as usize, "image"),
                pct(Some(pl.share))
            );
        }
        s.push_str("</ol>\n");
    }
    s
}

fn caption(im: &GalleryImage) -> String {
    let mut lines = vec![format!("<b>{}</b>", html_escape(&im.class))];
    if let Some(p) = &im.predicted {
        let conf = im
            .confidence
            .map(|c| format!(" {}%", format_cell(Some(c * 100.0), 0)))
            .unwrap_or_default();
        lines.push(format!("→ {}{conf}", html_escape(p)));
    }
    if let Some(d) = im.distance {
        lines.push(format!("d {}", format_cell(Some(d), 2)));
    }
    lines.join("<br>")
}

/// One thumbnail with its caption; the path is the tooltip.
fn tile(im: &GalleryImage, class: &str) -> String {
    let img = match &im.thumbnail {
        Some(uri) => format!(
            "<img src=\"{uri}\" alt=\"{}\" loading=\"lazy\">",
            html_escape(&format!("{} image {} ({})", im.domain, im.path, im.class))
        ),
        None => "<span class=\"nothumb\">no image</span>".to_string(),
    };
    format!(
        "<figure class=\"tile {class}\" title=\"{}\">{img}<figcaption>{}</figcaption></figure>",
        html_escape(&format!("{}: {}", im.domain, im.path)),
        caption(im)
    )
}

/// The galleries: confidently wrong target images with their nearest source images, and medoids.
pub(super) fn gallery_section(g: &Gallery, csv_link: Option<&str>) -> String {
    let mut s = String::from("<h4>Confidently wrong target images</h4>\n");
    let link = csv_link
        .map(|l| {
            format!(
                " Paths of every image shown: <a href=\"{}\">{}</a>.",
                html_escape(l),
                html_escape(l)
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "<p class=\"sub\">{} of {} target images are wrong; the {} the model is most sure of, each followed by its {} nearest \
         source images in the embedding space (class, the model's prediction and confidence, Euclidean distance d). \
         Neighbours of the predicted class suggest the target image was pulled into it.{link}</p>",
        g.n_wrong_total,
        g.n_target,
        g.wrong.len(),
        g.k
    );
    if g.wrong.is_empty() {
        s.push_str("<p>No wrong target image (or the model has no logits).</p>\n");
    }
    for w in &g.wrong {
        s.push_str("<div class=\"gallery-row\">");
        s.push_str(&tile(&w.image, "query"));
        s.push_str("<span class=\"arrow\">nearest source:</span>");
        for n in &w.neighbours {
            s.push_str(&tile(n, "neighbour"));
        }
        s.push_str("</div>\n");
    }
    s.push_str("<h4>Most typical image per class (medoids)</h4>\n<p class=\"sub\">Per class, the source image (left) and the target image (right) with the smallest summed embedding distance to the other images of their class in their domain (d: mean distance).</p>\n<div class=\"medoids\">\n");
    for m in &g.medoids {
        let cell = |im: &Option<GalleryImage>| match im {
            Some(im) => tile(im, "medoid"),
            None => {
                format!("<figure class=\"tile\"><span class=\"nothumb\">{MISSING}</span></figure>")
            }
        };
        let _ = writeln!(
            s,
            "<div class=\"medoid-class\"><div class=\"cls\">{}</div><div class=\"gallery-row\">{}{}</div></div>",
            html_escape(&m.class),
            cell(&m.source),
            cell(&m.target)
        );
    }
    s.push_str("</div>\n");
    s
}

fn ci(b: &BaselineComparison) -> String {
    match b.difference_ci {
        Some((lo, hi)) => format!("{} to {}", pct(Some(lo)), pct(Some(hi))),
        None => MISSING.into(),
    }
}

/// The run against its source-only baseline.
pub(super) fn baseline_section(b: &BaselineComparison) -> String {
    let base = match &b.baseline_id {
        Some(id) => format!(
            "<a href=\"#run-{}\">{}</a>",
            html_escape(id),
            html_escape(&b.baseline)
        ),
        None => html_escape(&b.baseline),
    };
    let mut s = format!(
        "<h4>Against the source-only baseline</h4>\n<p>On the same {} target images: accuracy {}% (baseline {base}: {}%), \
         difference <strong>{}</strong> points, {}% paired bootstrap interval {}; McNemar exact p = {} \
         ({} images right only with this model, {} only with the baseline).</p>\n",
        b.n,
        pct(Some(b.accuracy_run)),
        pct(Some(b.accuracy_baseline)),
        format_cell(Some(b.difference * 100.0), 1),
        format_cell(Some(b.level * 100.0), 0),
        ci(b),
        crate::text::p_value(b.p_value),
        b.run_only,
        b.baseline_only
    );
    if !b.overlap.is_empty() {
        let parts: Vec<String> = b
            .overlap
            .iter()
            .map(|(d, k, v)| format!("{} {} (k = {k})", html_escape(d), format_cell(*v, 3)))
            .collect();
        let _ = writeln!(
            s,
            "<p class=\"sub\">Mean kNN Jaccard overlap of the two embedding spaces (1 = same neighbourhoods): {}.</p>",
            parts.join(", ")
        );
    }
    s.push_str("<div class=\"scroll\"><table class=\"deltas\"><thead><tr><th>Class</th><th class=\"num\">n</th><th class=\"num\">Baseline (%)</th><th class=\"num\">This model (%)</th><th class=\"num\">Δ (points)</th></tr></thead><tbody>\n");
    for c in &b.per_class {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th>{}{}{}{}</tr>",
            html_escape(&c.class),
            td(c.n.to_string()),
            td(pct(c.baseline)),
            td(pct(c.run)),
            td(format_cell(c.delta.map(|x| x * 100.0), 1))
        );
    }
    s.push_str("</tbody></table></div>\n");
    for (what, list) in [
        ("Fixed (baseline wrong, this model right)", &b.fixed),
        ("Broken (baseline right, this model wrong)", &b.broken),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(s, "<p class=\"sub\">{what}; caption: class → baseline's → this model's prediction:</p>\n<div class=\"gallery-row\">");
        for im in list {
            s.push_str(&tile(im, "change"));
        }
        s.push_str("</div>\n");
    }
    s
}

/// The discriminator's view: figure, separation numbers, and per epoch.
pub(super) fn discriminator_section(d: &DiscriminatorView) -> String {
    let l = &d.last;
    let mut s = format!(
        "<h4>Domain discriminator</h4>\n<p>The model's own discriminator on {} source and {} target images: \
         AUROC target vs source {} (0.5: cannot tell the domains apart, the aim of adversarial training), \
         separability |2·AUROC − 1| = {}, balanced accuracy at p = 0.5 {}%, mean p(target) {} on the source and {} on the target.</p>\n",
        l.n_source,
        l.n_target,
        format_cell(l.auroc, 3),
        format_cell(l.separability, 3),
        pct(Some(l.balanced_accuracy)),
        format_cell(Some(l.mean_p_source), 3),
        format_cell(Some(l.mean_p_target), 3),
    );
    if let Some(svg) = d.svg.as_deref().and_then(|x| inline_svg(x).ok()) {
        let _ = writeln!(
            s,
            "<figure><div class=\"svg\" role=\"img\" aria-label=\"Domain discriminator histograms\">{svg}</div>\
             <figcaption>Histograms of the discriminator's p(target) per domain{}</figcaption></figure>",
            if d.epochs.len() >= 2 {
                "; right: its AUROC per checkpoint"
            } else {
                ""
            }
        );
    }
    if !d.epochs.is_empty() {
        s.push_str("<div class=\"scroll\"><table class=\"epochs\"><thead><tr><th>Epoch</th><th class=\"num\">AUROC</th><th class=\"num\">Separability</th><th class=\"num\">Balanced acc. (%)</th><th class=\"num\">Mean p(target) source</th><th class=\"num\">Mean p(target) target</th></tr></thead><tbody>\n");
        for (e, x) in &d.epochs {
            let _ = writeln!(
                s,
                "<tr><th scope=\"row\">{e}</th>{}{}{}{}{}</tr>",
                td(format_cell(x.auroc, 3)),
                td(format_cell(x.separability, 3)),
                td(pct(Some(x.balanced_accuracy))),
                td(format_cell(Some(x.mean_p_source), 3)),
                td(format_cell(Some(x.mean_p_target), 3)),
            );
        }
        s.push_str("</tbody></table></div>\n");
    }
    s
}

/// Everything of the diagnosis of one finished run, in order.
pub(super) fn run_sections(r: &RunOutcome, run_id: &str) -> String {
    let mut s = transfer_section(r);
    let Some(d) = r.results().map(|x| &x.diagnosis) else {
        return s;
    };
    if let Some(b) = &d.baseline {
        s.push_str(&baseline_section(b));
    }
    if let Some(g) = &d.gallery {
        let link = g
            .csv
            .as_ref()
            .map(|_| crate::layout::gallery_csv_name(run_id));
        s.push_str(&gallery_section(g, link.as_deref()));
    }
    if let Some(x) = &d.discriminator {
        s.push_str(&discriminator_section(x));
    }
    if !d.notices.is_empty() {
        s.push_str("<ul class=\"notices\">");
        for n in &d.notices {
            let _ = write!(s, "<li>{}</li>", html_escape(n));
        }
        s.push_str("</ul>\n");
    }
    s
}
