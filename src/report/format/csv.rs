//! CSV: the table layout as comma-separated values (tables only, no document).

use crate::report::effect::{EffectCell, EffectTable, EFFECT_COLUMNS};
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

impl Exporter for CsvExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        let mut header = vec!["model".to_string(), "metric".to_string()];
        header.extend(t.pairs.iter().cloned());
        header.push("average".to_string());
        let rows = t.models.iter().flat_map(|b| {
            b.lines.iter().map(move |l| {
                let mut r = vec![b.model.to_string(), l.metric.key().to_string()];
                r.extend(l.cells.iter().map(|c| csv_num(*c)));
                r.push(csv_num(l.average));
                r
            })
        });
        csv_lines(std::iter::once(header).chain(rows))
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        let mut header = vec!["model".to_string(), "pair".to_string()];
        header.extend(t.metrics.iter().cloned());
        let rows = t.rows.iter().map(|r| {
            let mut f = vec![r.model.clone(), r.pair.clone()];
            f.extend(r.values.iter().map(|v| csv_num(*v)));
            f
        });
        csv_lines(std::iter::once(header).chain(rows))
    }

    fn effect(&self, t: &EffectTable) -> String {
        let header: Vec<String> = EFFECT_COLUMNS.iter().map(|(_, k)| k.to_string()).collect();
        let rows = t.rows.iter().map(|r| {
            r.cells()
                .into_iter()
                .map(|c| match c {
                    EffectCell::Text(x) => x,
                    EffectCell::Num(v, _) => csv_num(v),
                })
                .collect::<Vec<String>>()
        });
        csv_lines(std::iter::once(header).chain(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
