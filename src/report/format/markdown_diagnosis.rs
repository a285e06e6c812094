//! Markdown of the diagnosis parts of a run: the per-class transfer table, the comparison with the
//! source-only baseline, the discriminator's numbers and the gallery as a list with a link to its CSV.

use std::fmt::Write as _;

use super::escape::markdown_escape;
use crate::report::input::RunOutcome;
use crate::report::table::{format_cell, MISSING};

fn pct(v: Option<f64>) -> String {
    format_cell(v.map(|x| x * 100.0), 1)
}

fn name(names: &[String], c: Option<usize>) -> String {
    match c {
        Some(c) => markdown_escape(&names.get(c).cloned().unwrap_or_else(|| c.to_string())),
        None => MISSING.into(),
    }
}

/// Everything of the diagnosis of one finished run, in order.
pub(super) fn run_sections(r: &RunOutcome, run_id: &str) -> String {
    let mut s = String::new();
    if let (Some(p), Some(e)) = (r.pair_transfer(), r.eval()) {
        let names = &e.class_names;
        let _ = writeln!(
            s,
            "#### Per-class transfer\n\n| Class | Source acc. (%) | Target acc. (%) | Same-class source neighbours (%, k = {}) | Nearest source class (kNN) | Nearest source class (centroid) | MMD² | Domain silhouette |\n|---|---:|---:|---:|---|---|---:|---:|",
            p.transfer.k
        );
        for c in &p.transfer.classes {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} ({}%) | {} ({}%) | {} | {} |",
                name(names, Some(c.class)),
                pct(c.source_accuracy),
                pct(c.target_accuracy),
                pct(c.knn_agreement),
                name(names, c.knn_nearest_class),
                pct(c.knn_nearest_share),
                name(names, c.centroid_nearest_class),
                pct(c.centroid_nearest_share),
                format_cell(c.mmd2_rbf, 3),
                format_cell(c.domain_silhouette, 3)
            );
        }
        s.push('\n');
        for pl in p.transfer.pulls.iter().take(3) {
            let _ = writeln!(
                s,
                "- target {} is pulled into source {}: {} ({}%)",
                name(names, Some(pl.target_class)),
                name(names, Some(pl.source_class)),
                crate::text::count(pl.count as usize, "image"),
                pct(Some(pl.share))
            );
        }
        if !p.transfer.pulls.is_empty() {
            s.push('\n');
        }
    }
    let Some(d) = r.results().map(|x| &x.diagnosis) else {
        return s;
    };
    if let Some(b) = &d.baseline {
        let ci = b
            .difference_ci
            .map(|(lo, hi)| format!("{} to {}", pct(Some(lo)), pct(Some(hi))))
            .unwrap_or_else(|| MISSING.into());
        let _ = writeln!(
            s,
            "**Against the source-only baseline** ({}): on the same {} target images {}% vs {}%, difference {} points \
             ({}% paired bootstrap interval {ci}), McNemar exact p = {} ({} right only with this model, {} only with the baseline).\n",
            markdown_escape(&b.baseline),
            b.n,
            pct(Some(b.accuracy_run)),
            pct(Some(b.accuracy_baseline)),
            format_cell(Some(b.difference * 100.0), 1),
            format_cell(Some(b.level * 100.0), 0),
            crate::text::p_value(b.p_value),
            b.run_only,
            b.baseline_only
        );
    }
    if let Some(x) = &d.discriminator {
        let _ = write!(
            s,
            "**Domain discriminator**: AUROC target vs source {}, separability {}, balanced accuracy {}%.",
            format_cell(x.last.auroc, 3),
            format_cell(x.last.separability, 3),
            pct(Some(x.last.balanced_accuracy))
        );
        if !x.epochs.is_empty() {
            let per: Vec<String> = x
                .epochs
                .iter()
                .map(|(e, v)| format!("{e}: {}", format_cell(v.auroc, 3)))
                .collect();
            let _ = write!(s, " AUROC per epoch: {}.", per.join(", "));
        }
        s.push_str("\n\n");
    }
    if let Some(g) = &d.gallery {
        let _ = writeln!(
            s,
            "**Most confidently wrong target images** ({} of {} wrong; all paths: [{f}]({f})):\n",
            g.n_wrong_total,
            g.n_target,
            f = crate::layout::gallery_csv_name(run_id)
        );
        for w in &g.wrong {
            let nn: Vec<String> = w
                .neighbours
                .iter()
                .map(|n| markdown_escape(&n.class))
                .collect();
            let _ = writeln!(
                s,
                "- `{}`: {} → {} ({}%); nearest source classes: {}",
                w.image.path.replace('`', "'"),
                markdown_escape(&w.image.class),
                markdown_escape(w.image.predicted.as_deref().unwrap_or(MISSING)),
                pct(w.image.confidence),
                nn.join(", ")
            );
        }
        s.push('\n');
    }
    for n in &d.notices {
        let _ = writeln!(s, "- {}", markdown_escape(n));
    }
    s
}
