//! HTML: one run's article in `index.html` (its numbers, figures and cohesion measures).

use std::fmt::Write as _;

use crate::markup::html_escape;
use crate::metrics::eval::DomainResult;
use crate::report::figures::{Figure, Inline, Kind};
use crate::report::input::{pair_arrow, RunOutcome};
use crate::report::outline::{DomainLine, RunSection};
use crate::report::selfcontained::inline_svg;
use crate::report::table::{format_cell, MISSING};

/// A figure's markup: the inline SVG in a labelled `<div>`, or the bitmap as an `<img>`.
pub(super) fn figure_markup(f: &Figure) -> Option<String> {
    Some(match f.inline.as_ref()? {
        Inline::Svg(svg) => format!(
            "<div class=\"svg\" role=\"img\" aria-label=\"{}\">{svg}</div>",
            html_escape(&f.alt)
        ),
        Inline::DataUri(uri) => format!("<img alt=\"{}\" src=\"{uri}\">", html_escape(&f.alt)),
    })
}

fn pct(v: Option<f64>) -> String {
    format_cell(v.map(|x| x * 100.0), 2)
}

fn num_td(text: String) -> String {
    if text == MISSING {
        format!("<td class=\"num missing\">{text}</td>")
    } else {
        format!("<td class=\"num\">{text}</td>")
    }
}

fn domain_rows(domains: &[DomainLine<'_>]) -> String {
    if domains.is_empty() {
        return String::new();
    }
    let ci = |i: Option<(f64, f64)>| match i {
        Some((lower, upper)) => format!("{}–{}", pct(Some(lower)), pct(Some(upper))),
        None => MISSING.into(),
    };
    let mut s = String::new();
    for d in domains {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td>{}{}{}{}{}</tr>",
            html_escape(d.name),
            d.role,
            num_td(d.result.n.to_string()),
            num_td(pct(d.accuracy)),
            num_td(ci(d.accuracy_ci)),
            num_td(pct(d.auroc)),
            num_td(ci(d.auroc_ci)),
        );
    }
    format!(
        "<div class=\"scroll\"><table class=\"domains\"><thead><tr><th>Domain</th><th>Role</th>\
         <th class=\"num\">n</th><th class=\"num\">Accuracy (%)</th><th class=\"num\">Accuracy CI</th>\
         <th class=\"num\">AUROC (%)</th><th class=\"num\">AUROC CI</th></tr></thead>\n<tbody>\n{s}</tbody></table></div>\n"
    )
}

/// Confusion heat map and per-class bars of one domain, inline; a chart that cannot be drawn is
/// replaced by a note.
fn domain_charts(r: &RunOutcome, d: &DomainResult, role: &str) -> String {
    let Some(c) = &d.classification else {
        return String::new();
    };
    let classes = r.eval().map(|e| e.class_names.clone()).unwrap_or_default();
    let label = format!("{} {}: {}", r.label(), pair_arrow(&r.pair), d.domain);
    let chart = |svg: Result<String, crate::plot::PlotError>, what: &str| match svg
        .map_err(|e| e.to_string())
        .and_then(|s| inline_svg(&s))
    {
        Ok(s) => format!(
            "<div role=\"img\" aria-label=\"{}\">{s}</div>",
            html_escape(&format!("{what} of {label}"))
        ),
        Err(e) => format!(
            "<div><p class=\"missing\">{} unavailable: {}</p></div>",
            html_escape(what),
            html_escape(&e)
        ),
    };
    let heat = chart(
        crate::plot::confusion_heatmap_svg(
            &c.confusion,
            &classes,
            &format!("Confusion matrix: {label}"),
        ),
        "Confusion matrix",
    );
    let values: Vec<(String, Option<f64>)> = c
        .per_class
        .iter()
        .map(|p| {
            (
                classes
                    .get(p.class)
                    .cloned()
                    .unwrap_or_else(|| format!("class {}", p.class)),
                p.accuracy,
            )
        })
        .collect();
    let bars = chart(
        crate::plot::per_class_bars_svg(&values, &format!("Per-class accuracy: {label}")),
        "Per-class accuracy",
    );
    format!(
        "<h4>{} domain: {}</h4>\n<div class=\"charts\">{heat}{bars}</div>\n",
        if role == "source" { "Source" } else { "Target" },
        html_escape(&d.domain)
    )
}

fn run_cohesion(r: &RunOutcome) -> String {
    let Some(p) = r.pair_result() else {
        return String::new();
    };
    let mut s = String::from(
        "<h4>Cohesion</h4>\n<table class=\"measures\"><thead><tr><th>Measure</th><th class=\"num\">Value</th><th>Note</th></tr></thead><tbody>\n",
    );
    for m in &p.cohesion.metrics {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th>{}<td class=\"missing\">{}</td></tr>",
            html_escape(&m.name),
            num_td(format_cell(m.value, 3)),
            html_escape(m.reason.as_deref().unwrap_or(""))
        );
    }
    s.push_str("</tbody></table>\n");
    s
}

pub(super) fn run_article(sec: &RunSection<'_>) -> String {
    let (r, id, figs) = (sec.run, sec.id, sec.figures);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<article class=\"run{}\" id=\"run-{id}\">\n<h3>{} <span class=\"tag\">{}</span> <span class=\"tag\">{}</span>{}</h3>",
        if r.failed() { " failed" } else { "" },
        html_escape(&r.label()),
        html_escape(&pair_arrow(&r.pair)),
        html_escape(&r.group),
        if r.failed() {
            " <span class=\"badge\">failed</span>"
        } else {
            ""
        }
    );
    if let Some(v) = &sec.verdict {
        let _ = writeln!(
            s,
            "<p class=\"verdict {}\">{}</p>",
            v.outcome.key(),
            html_escape(&v.text)
        );
    }
    s.push_str("<dl class=\"facts\">");
    let _ = write!(
        s,
        "<dt>Run</dt><dd><code>{}</code></dd><dt>Model</dt><dd><code>{}</code></dd>",
        html_escape(id),
        html_escape(&r.run.model.display().to_string())
    );
    if r.results().is_some_and(|d| d.explore_html.is_some()) {
        let _ = write!(
            s,
            "<dt>Explore</dt><dd><a href=\"{}\">interactive map: every dot an image, nearest neighbours</a></dd>",
            html_escape(&crate::layout::explore_page_name(id))
        );
    }
    if let Some(h) = r.model_sha256() {
        let _ = write!(
            s,
            "<dt>SHA-256</dt><dd><code>{}</code></dd>",
            html_escape(h)
        );
    }
    if let Some(e) = r.embedding() {
        let _ = write!(s, "<dt>Embedding</dt><dd>{}</dd>", html_escape(e));
    }
    if !r.source().is_empty() || !r.target().is_empty() {
        let _ = write!(
            s,
            "<dt>Source → target</dt><dd>{} → {}</dd>",
            html_escape(r.source()),
            html_escape(r.target())
        );
    }
    s.push_str("</dl>\n");
    if let Some(e) = r.error() {
        let _ = writeln!(
            s,
            "<p class=\"failed\">This run failed:</p>\n<pre class=\"error\">{}</pre>\n</article>",
            html_escape(e)
        );
        return s;
    }
    s.push_str(&domain_rows(&sec.domains));
    // The maps first: the run's own, then beside its baseline's.
    let is_map = |k: &Kind| matches!(k, Kind::Tsne | Kind::Versus);
    for (k, f) in Kind::ALL.iter().zip(figs) {
        if !is_map(k) {
            continue;
        }
        if let Some(h) = figure_markup(f) {
            let _ = writeln!(
                s,
                "<figure>{h}<figcaption>{} of {} ({})</figcaption></figure>",
                k.title(),
                html_escape(&r.label()),
                html_escape(&pair_arrow(&r.pair))
            );
        }
    }
    for d in &sec.domains {
        if d.role == "target" && r.target() == r.source() {
            continue;
        }
        s.push_str(&domain_charts(r, d.result, d.role));
    }
    s.push_str(&run_cohesion(r));
    s.push_str(&super::html_diagnosis::run_sections(r, id));
    for (k, f) in Kind::ALL.iter().zip(figs) {
        if is_map(k) {
            continue;
        }
        if let Some(h) = figure_markup(f) {
            let _ = writeln!(
                s,
                "<h4>{}</h4>\n<figure>{h}<figcaption>{} of {} ({})</figcaption></figure>",
                k.title(),
                k.title(),
                html_escape(&r.label()),
                html_escape(&pair_arrow(&r.pair))
            );
        }
    }
    if let Some(e) = r.eval() {
        if !e.notices.is_empty() {
            s.push_str("<h4>Notices</h4>\n<ul class=\"notices\">");
            for n in &e.notices {
                let _ = write!(s, "<li>{}</li>", html_escape(n));
            }
            s.push_str("</ul>\n");
        }
    }
    s.push_str("</article>\n");
    s
}
