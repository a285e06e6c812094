//! `index.html`: one self-contained page (inline CSS, inline SVG, bitmaps as `data:` URIs).

use std::fmt::Write as _;

use super::exporters::{Exporter, HtmlExporter};
use super::figures::{inline_svg, Figures, Kind};
use super::table::{format_cell, CohesionTable, StudyTable, MISSING};
use super::{pair_arrow, ReportInput, RunOutcome};
use crate::metrics::eval::DomainResult;

/// Escapes `& < > " '` for HTML text and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0b5cad;--bad:#b42318}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:#fff;font:16px/1.5 -apple-system,"Segoe UI","Helvetica Neue",Arial,"DejaVu Sans",sans-serif}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 24px}
header{padding-top:32px;border-bottom:1px solid var(--line)}
h1{font-size:2rem;margin:0 0 4px}
h2{font-size:1.45rem;margin:40px 0 12px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1.2rem;margin:28px 0 8px}
h4{font-size:1rem;margin:20px 0 6px;color:var(--muted)}
.sub{color:var(--muted);margin:0 0 16px}
nav.toc{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 20px;margin:20px 0}
nav.toc h2{font-size:1rem;border:0;margin:8px 0 4px}
nav.toc ol{margin:4px 0 8px;padding-left:22px}
nav.toc ol ol{font-size:.92rem}
a{color:var(--accent);text-decoration:none}
a:hover{text-decoration:underline}
table{border-collapse:collapse;margin:8px 0 20px;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0}
th,td{padding:4px 10px;text-align:left;vertical-align:top}
thead th{border-top:2px solid var(--ink);border-bottom:1px solid var(--ink)}
tbody tr:last-child th,tbody tr:last-child td{border-bottom:2px solid var(--ink)}
table.study tr.first th,table.study tr.first td{border-top:1px solid var(--line)}
.num{text-align:right}
.avg{font-weight:600}
.missing{color:var(--muted)}
.failed,.badge{color:var(--bad);font-weight:600}
.badge{font-size:.8rem;border:1px solid var(--bad);border-radius:4px;padding:0 6px;vertical-align:middle}
.tag{font-size:.8rem;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:0 6px;vertical-align:middle}
.scroll{overflow-x:auto}
article.run{border-top:1px solid var(--line);padding-top:4px}
article.run.failed{border-left:4px solid var(--bad);padding-left:12px}
pre.error{white-space:pre-wrap;background:#fff5f5;border:1px solid #f3c5c5;border-radius:6px;padding:10px;color:var(--bad)}
figure{margin:12px 0}
figcaption{color:var(--muted);font-size:.9rem}
figure svg,figure img,.charts svg{max-width:100%;height:auto}
.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.charts>div{flex:1 1 420px;min-width:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.88em}
ul.notices{color:var(--muted);font-size:.92rem}
footer{color:var(--muted);font-size:.85rem;padding:24px;border-top:1px solid var(--line);margin-top:40px}
"#;

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

fn domain_rows(r: &RunOutcome) -> String {
    let mut s = String::new();
    for (name, role) in [(&r.source, "source"), (&r.target, "target")] {
        let Some(d) = r.domain(name) else { continue };
        let c = d.classification.as_ref();
        let ci = |i: Option<&crate::metrics::BootstrapInterval>| match i {
            Some(i) => format!("{}–{}", pct(Some(i.lower)), pct(Some(i.upper))),
            None => MISSING.into(),
        };
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{role}</td>{}{}{}{}{}</tr>",
            html_escape(name),
            num_td(d.n.to_string()),
            num_td(pct(c.map(|c| c.accuracy))),
            num_td(ci(c.and_then(|c| c.accuracy_ci.as_ref()))),
            num_td(pct(c.and_then(|c| c.auroc))),
            num_td(ci(c.and_then(|c| c.auroc_ci.as_ref()))),
        );
    }
    if s.is_empty() {
        return s;
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
    let classes = r
        .eval
        .as_ref()
        .map(|e| e.class_names.clone())
        .unwrap_or_default();
    let label = format!("{} {}: {}", r.name, pair_arrow(&r.pair), d.domain);
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

fn run_article(r: &RunOutcome, id: &str, figs: &[super::figures::Figure; 3]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<article class=\"run{}\" id=\"run-{id}\">\n<h3>{} <span class=\"tag\">{}</span> <span class=\"tag\">{}</span>{}</h3>",
        if r.failed() { " failed" } else { "" },
        html_escape(&r.name),
        html_escape(&pair_arrow(&r.pair)),
        html_escape(&r.group),
        if r.failed() {
            " <span class=\"badge\">failed</span>"
        } else {
            ""
        }
    );
    s.push_str("<dl class=\"facts\">");
    let _ = write!(
        s,
        "<dt>Run</dt><dd><code>{}</code></dd><dt>Model</dt><dd><code>{}</code></dd>",
        html_escape(id),
        html_escape(&r.run.model.display().to_string())
    );
    if let Some(h) = &r.model_sha256 {
        let _ = write!(
            s,
            "<dt>SHA-256</dt><dd><code>{}</code></dd>",
            html_escape(h)
        );
    }
    if !r.source.is_empty() || !r.target.is_empty() {
        let _ = write!(
            s,
            "<dt>Source → target</dt><dd>{} → {}</dd>",
            html_escape(&r.source),
            html_escape(&r.target)
        );
    }
    s.push_str("</dl>\n");
    if let Some(e) = &r.error {
        let _ = writeln!(
            s,
            "<p class=\"failed\">This run failed:</p>\n<pre class=\"error\">{}</pre>\n</article>",
            html_escape(e)
        );
        return s;
    }
    s.push_str(&domain_rows(r));
    for (k, f) in Kind::ALL.iter().zip(figs) {
        if *k != Kind::Tsne {
            continue;
        }
        if let Some(h) = &f.html {
            let _ = writeln!(
                s,
                "<figure>{h}<figcaption>{} of {} ({})</figcaption></figure>",
                k.title(),
                html_escape(&r.name),
                html_escape(&pair_arrow(&r.pair))
            );
        }
    }
    for (name, role) in [(&r.source, "source"), (&r.target, "target")] {
        if role == "target" && r.target == r.source {
            continue;
        }
        if let Some(d) = r.domain(name) {
            s.push_str(&domain_charts(r, d, role));
        }
    }
    s.push_str(&run_cohesion(r));
    for (k, f) in Kind::ALL.iter().zip(figs) {
        if *k == Kind::Tsne {
            continue;
        }
        if let Some(h) = &f.html {
            let _ = writeln!(
                s,
                "<h4>{}</h4>\n<figure>{h}<figcaption>{} of {} ({})</figcaption></figure>",
                k.title(),
                k.title(),
                html_escape(&r.name),
                html_escape(&pair_arrow(&r.pair))
            );
        }
    }
    if let Some(e) = &r.eval {
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

/// The whole `index.html`.
pub(super) fn document(
    input: &ReportInput,
    ids: &[String],
    tables: &[StudyTable],
    cohesion: &CohesionTable,
    figs: &Figures,
) -> String {
    let n_failed = input.runs.iter().filter(|r| r.failed()).count();
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        html_escape(&input.title)
    );
    let _ = writeln!(
        s,
        "<header><h1>{}</h1><p class=\"sub\">Split <strong>{}</strong> · {} run{} · {}</p></header>",
        html_escape(&input.title),
        html_escape(&input.split),
        input.runs.len(),
        if input.runs.len() == 1 { "" } else { "s" },
        if n_failed == 0 {
            "none failed".to_string()
        } else {
            format!("<span class=\"failed\">{n_failed} failed</span>")
        }
    );
    s.push_str("<main>\n<nav class=\"toc\"><h2>Contents</h2><ol>\n");
    s.push_str(
        "<li><a href=\"#results\">Results</a></li>\n<li><a href=\"#cohesion\">Cohesion</a></li>\n",
    );
    s.push_str("<li><a href=\"#runs\">Runs</a><ol>\n");
    for (r, id) in input.runs.iter().zip(ids) {
        let _ = writeln!(
            s,
            "<li><a href=\"#run-{id}\">{} · {}</a>{}</li>",
            html_escape(&r.name),
            html_escape(&pair_arrow(&r.pair)),
            if r.failed() {
                " <span class=\"failed\">failed</span>"
            } else {
                ""
            }
        );
    }
    s.push_str("</ol></li>\n");
    if n_failed > 0 {
        s.push_str("<li><a href=\"#failed\">Failed runs</a></li>\n");
    }
    if !figs.warnings.is_empty() {
        s.push_str("<li><a href=\"#warnings\">Warnings</a></li>\n");
    }
    s.push_str("<li><a href=\"#settings\">Settings</a></li>\n</ol></nav>\n");

    s.push_str("<section id=\"results\">\n<h2>Results</h2>\n");
    if tables.is_empty() {
        s.push_str("<p>No run produced results.</p>\n");
    }
    for t in tables {
        s.push_str("<div class=\"scroll\">");
        s.push_str(&HtmlExporter.table(t));
        s.push_str("</div>\n");
    }
    let _ = writeln!(
        s,
        "<p class=\"sub\">Accuracy and macro one-vs-rest AUROC of the target domain of each pair, in %. \
         The average is taken over all pairs of the table and shown only when every pair has a value; \
         {MISSING} marks a missing value.</p>\n</section>"
    );

    s.push_str("<section id=\"cohesion\">\n<h2>Cohesion</h2>\n");
    if cohesion.rows.is_empty() {
        s.push_str("<p>No cohesion measures.</p>\n");
    } else {
        s.push_str("<div class=\"scroll\">");
        s.push_str(&HtmlExporter.cohesion(cohesion));
        s.push_str("</div>\n");
    }
    s.push_str("</section>\n<section id=\"runs\">\n<h2>Runs</h2>\n");
    for ((r, id), f) in input.runs.iter().zip(ids).zip(&figs.runs) {
        s.push_str(&run_article(r, id, f));
    }
    s.push_str("</section>\n");

    if n_failed > 0 {
        s.push_str("<section id=\"failed\">\n<h2>Failed runs</h2>\n<ul>\n");
        for (r, id) in input.runs.iter().zip(ids).filter(|(r, _)| r.failed()) {
            let _ = writeln!(
                s,
                "<li><a href=\"#run-{id}\"><strong>{}</strong> · {}</a>: <span class=\"failed\">{}</span></li>",
                html_escape(&r.name),
                html_escape(&pair_arrow(&r.pair)),
                html_escape(r.error.as_deref().unwrap_or(""))
            );
        }
        s.push_str("</ul>\n</section>\n");
    }
    if !figs.warnings.is_empty() {
        s.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n<ul>\n");
        for w in &figs.warnings {
            let _ = writeln!(s, "<li>{}</li>", html_escape(w));
        }
        s.push_str("</ul>\n</section>\n");
    }

    s.push_str("<section id=\"settings\">\n<h2>Settings</h2>\n<table class=\"settings\"><tbody>\n");
    let _ = writeln!(
        s,
        "<tr><th scope=\"row\">split</th><td>{}</td></tr>",
        html_escape(&input.split)
    );
    for (k, v) in &input.settings {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            html_escape(k),
            html_escape(v)
        );
    }
    s.push_str("</tbody></table>\n<h3>Models</h3>\n<div class=\"scroll\"><table class=\"models\"><thead><tr><th>Run</th><th>Pair</th><th>Group</th><th>Model file</th><th>SHA-256</th></tr></thead><tbody>\n");
    for r in &input.runs {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            html_escape(&r.name),
            html_escape(&pair_arrow(&r.pair)),
            html_escape(&r.group),
            html_escape(&r.run.model.display().to_string()),
            html_escape(r.model_sha256.as_deref().unwrap_or(MISSING))
        );
    }
    s.push_str("</tbody></table></div>\n</section>\n</main>\n");
    let _ = writeln!(
        s,
        "<footer>dannscope {}</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    s
}

#[cfg(test)]
mod tests {
    use super::html_escape;

    #[test]
    fn escapes() {
        assert_eq!(
            html_escape(r#"<b a="x">&'"#),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
