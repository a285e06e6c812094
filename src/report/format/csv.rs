//! CSV: the table layout as comma-separated values (tables only, no document).

use crate::report::effect::{EffectCell, EffectTable, EFFECT_COLUMNS};
use crate::report::exporter::Exporter;
use crate::report::outline::StudyOutline;
use crate::report::table::CohesionTable;

/// CSV of the table layout: `model,metric,<pair>...,average`, values in percent at full precision,
/// missing cells empty. Renders tables only; the report's tidy numbers are `results.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvExporter;

/// A field quoted when it holds a comma, quote or line break (quotes doubled).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x}"))
        .unwrap_or_default()
}

impl Exporter for CsvExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        let mut s = String::from("model,metric");
        for p in t.pairs {
            s.push(',');
            s.push_str(&csv_field(p));
        }
        s.push_str(",average\n");
        for b in &t.models {
            for l in &b.lines {
                s.push_str(&format!("{},{}", csv_field(b.model), l.metric.key()));
                for c in l.cells {
                    s.push(',');
                    s.push_str(&csv_num(*c));
                }
                s.push(',');
                s.push_str(&csv_num(l.average));
                s.push('\n');
            }
        }
        s
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        let mut s = String::from("model,pair");
        for m in &t.metrics {
            s.push(',');
            s.push_str(&csv_field(m));
        }
        s.push('\n');
        for r in &t.rows {
            s.push_str(&format!("{},{}", csv_field(&r.model), csv_field(&r.pair)));
            for v in &r.values {
                s.push(',');
                s.push_str(&csv_num(*v));
            }
            s.push('\n');
        }
        s
    }

    fn effect(&self, t: &EffectTable) -> String {
        let keys: Vec<&str> = EFFECT_COLUMNS.iter().map(|(_, k)| *k).collect();
        let mut s = keys.join(",");
        s.push('\n');
        for r in &t.rows {
            let fields: Vec<String> = r
                .cells()
                .into_iter()
                .map(|c| match c {
                    EffectCell::Text(x) => csv_field(&x),
                    EffectCell::Num(v, _) => csv_num(v),
                })
                .collect();
            s.push_str(&fields.join(","));
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_num(Some(87.5)), "87.5");
        assert_eq!(csv_num(Some(f64::NAN)), "");
        assert_eq!(csv_num(None), "");
    }
}
