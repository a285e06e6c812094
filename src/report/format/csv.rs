//! CSV: the table layout as comma-separated values (tables only, no document).

use super::layout::{self, Align, Cell, Layout, Row, TableSyntax};
use crate::report::effect::EffectTable;
use crate::report::exporter::Exporter;
use crate::report::outline::StudyOutline;
use crate::report::table::CohesionTable;

/// CSV of the table layout: `model,metric,<pair>...,average`, values in percent at full precision,
/// missing cells empty. Renders tables only; the report's tidy numbers are `results.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvExporter;

/// Lines of CSV written by the `csv` crate: a field is quoted only when it holds a comma, quote or
/// line break (quotes doubled), every line ends in `\n`.
fn csv_lines<I, R>(records: I) -> String
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in records {
        w.write_record(r)
            .expect("writing CSV to memory cannot fail");
    }
    let bytes = w.into_inner().expect("flushing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

fn csv_num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x}"))
        .unwrap_or_default()
}

impl TableSyntax for CsvExporter {
    fn begin(&self, _: &Layout<'_>) -> String {
        String::new()
    }

    fn head(&self, c: &Cell<'_>, _: Align) -> String {
        match c {
            Cell::Head(_, key) => key.to_string(),
            Cell::Measure(m) => m.to_string(),
            Cell::Pair(p) => p.to_string(),
            _ => String::new(),
        }
    }

    fn header(&self, _: &Layout<'_>, cells: Vec<String>) -> String {
        csv_lines([cells])
    }

    fn divider(&self, _: &[Align]) -> String {
        String::new()
    }

    fn cell(&self, _: &Layout<'_>, _: &Row<'_>, _: usize, c: &Cell<'_>) -> Option<String> {
        Some(match c {
            // Every line names its model: a CSV row stands alone.
            Cell::Model(b, _) => b.model.to_string(),
            Cell::Metric(m) => m.key().to_string(),
            Cell::Num(v, _) | Cell::Average(v) | Cell::WithInterval(v, _, _) | Cell::Delta(v) => {
                csv_num(*v)
            }
            Cell::Text(x, _) => x.to_string(),
            Cell::Estimate(r, i) => csv_num(r.values[*i]),
            Cell::Head(..) | Cell::Measure(_) | Cell::Pair(_) => self.head(c, Align::Left),
        })
    }

    fn row(&self, _: &Layout<'_>, _: &Row<'_>, cells: Vec<String>) -> String {
        csv_lines([cells])
    }

    fn end(&self, _: &Layout<'_>) -> String {
        String::new()
    }
}

impl Exporter for CsvExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        layout::render(&layout::study(t), self)
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        layout::render(&layout::cohesion(t), self)
    }

    fn effect(&self, t: &EffectTable) -> String {
        layout::render(&layout::effect(t, None), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cohesion_rows_hold_every_value_at_full_precision_without_intervals() {
        let t = crate::report::table::scalable_table();
        assert_eq!(
            CsvExporter.cohesion(&t),
            "model,pair,silhouette_source,mmd2_linear\nm,R-P,0.12721,39.5\nm,R-P,0.2,1\n"
        );
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(
            csv_lines([["plain", "a,b", "say \"hi\"", "x\ny", ""]]),
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\n"
        );
        assert_eq!(csv_num(Some(87.5)), "87.5");
        assert_eq!(csv_num(Some(f64::NAN)), "");
        assert_eq!(csv_num(None), "");
    }
}
