//! The comparison of each finished report run with its source-only baseline: which run is its baseline
//! ([`baseline_of`]), the comparison on the same target images ([`super::compare`]) and thumbnails of
//! some fixed and broken images, recorded in the run's diagnosis ([`attach_baselines`]).

use std::path::PathBuf;

use super::compare::{self, ModelComparison};
use super::diagnose::thumbnails;
use super::embed::Event;
use super::map;
use super::Workspace;
use crate::dataset::Pair;
use crate::error::Result;
use crate::layout::with_ext;
use crate::plot::{self, ColorBy, EvolutionFrame, EvolutionStyle};
use crate::report::{run_ids, BaselineComparison, ClassDelta, GalleryImage, RunOutcome, RunStatus};

/// Fixed and broken images shown with thumbnails in a baseline comparison (each).
const CHANGES_SHOWN: usize = 6;

/// Index of the baseline of run `i` among `runs`: the finished run named by its `baseline` key on the
/// same pair, else the one finished run of group `baseline` on the same pair. Errors when a named
/// baseline is missing; `Ok(None)` when the run is a baseline or has none.
pub fn baseline_of(runs: &[RunOutcome], i: usize) -> std::result::Result<Option<usize>, String> {
    let r = &runs[i];
    if r.is_baseline() || r.failed() {
        return Ok(None);
    }
    let same_pair = |j: &usize| *j != i && runs[*j].pair == r.pair && !runs[*j].failed();
    match &r.run.baseline {
        Some(want) => (0..runs.len())
            .filter(same_pair)
            .find(|&j| runs[j].name == *want)
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "baseline \"{want}\" is not a finished run on {}: no comparison",
                    r.pair
                )
            }),
        None => {
            let found: Vec<usize> = (0..runs.len())
                .filter(same_pair)
                .filter(|&j| runs[j].is_baseline())
                .collect();
            Ok((found.len() == 1).then(|| found[0]))
        }
    }
}

fn summary(
    c: &ModelComparison,
    baseline: &RunOutcome,
    baseline_id: &str,
    json: PathBuf,
) -> BaselineComparison {
    let change = |x: &compare::ImageChange| GalleryImage {
        path: x.path.clone(),
        domain: c.target.clone(),
        class: x.class.clone(),
        predicted: Some(format!("{} → {}", x.predicted_a, x.predicted_b)),
        confidence: None,
        distance: None,
        thumbnail: None,
    };
    BaselineComparison {
        baseline: baseline.name.clone(),
        baseline_id: Some(baseline_id.to_string()),
        n: c.n_target,
        accuracy_baseline: c.accuracy_a,
        accuracy_run: c.accuracy_b,
        difference: c.difference,
        difference_ci: c.difference_ci.as_ref().map(|i| (i.lower, i.upper)),
        level: c.settings.level,
        baseline_only: c.mcnemar.a_only,
        run_only: c.mcnemar.b_only,
        p_value: c.mcnemar.p_value,
        per_class: c
            .per_class
            .iter()
            .map(|p| ClassDelta {
                class: p.class.clone(),
                n: p.n,
                baseline: p.accuracy_a,
                run: p.accuracy_b,
                delta: p.delta,
            })
            .collect(),
        overlap: c
            .space_overlap
            .iter()
            .map(|o| (o.domain.clone(), o.k, o.mean_jaccard))
            .collect(),
        fixed: c.fixed.iter().take(CHANGES_SHOWN).map(change).collect(),
        broken: c.broken.iter().take(CHANGES_SHOWN).map(change).collect(),
        json: Some(json),
    }
}

/// Draw run `i`'s joint map beside its baseline `j`'s (one shared axis range, the baseline left),
/// each titled with its target accuracy on the images of comparison `c`; written next to run `i`'s
/// map as `<S>-<T>_versus_baseline.{png,svg}`. Returns the PNG and SVG paths.
fn draw_versus(
    runs: &[RunOutcome],
    i: usize,
    j: usize,
    c: &BaselineComparison,
) -> Result<(PathBuf, PathBuf)> {
    let missing = |what: &str| crate::Error::Invalid(format!("{what} has no stored joint map"));
    let (run, base) = (
        runs[i].results().ok_or_else(|| missing(&runs[i].name))?,
        runs[j].results().ok_or_else(|| missing(&runs[j].name))?,
    );
    let npz =
        |r: &crate::report::RunResults, name: &str| r.map_npz.clone().ok_or_else(|| missing(name));
    let (run_npz, base_npz) = (npz(run, &runs[i].name)?, npz(base, &runs[j].name)?);
    let (bc, bt, bl) = map::read_drawn(&base_npz)?;
    let (rc, rt, rl) = map::read_drawn(&run_npz)?;
    let title = |name: &str, acc: f64| format!("{name} · target {:.1} %", 100.0 * acc);
    let frames = [
        EvolutionFrame {
            coords: bc.view(),
            is_target: &bt,
            labels: &bl,
            title: title(&runs[j].label(), c.accuracy_baseline),
        },
        EvolutionFrame {
            coords: rc.view(),
            is_target: &rt,
            labels: &rl,
            title: title(&runs[i].label(), c.accuracy_run),
        },
    ];
    let style = EvolutionStyle {
        class_names: run.eval.class_names.clone(),
        source_name: run.source.clone(),
        target_name: run.target.clone(),
        title: String::new(),
        color_by: ColorBy::Class,
    };
    let stem = run_npz
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = run_npz.with_file_name(format!("{stem}_versus_baseline"));
    let (png, svg) = (with_ext(&out, "png"), with_ext(&out, "svg"));
    plot::side_by_side(&frames, &style, &svg, &png)?;
    Ok((png, svg))
}

/// Compare every finished non-baseline run with its baseline ([`baseline_of`]) on the same target
/// images and record the result (or why there is none) in the run's diagnosis; `pairs[i]` is the pair
/// of `runs[i]`.
pub fn attach_baselines(
    ws: &mut Workspace,
    runs: &mut [RunOutcome],
    pairs: &[Pair],
    on_event: &(dyn Fn(Event) + Sync),
) {
    let ids = run_ids(runs);
    for i in 0..runs.len() {
        let j = match baseline_of(runs, i) {
            Ok(Some(j)) => j,
            Ok(None) => continue,
            Err(note) => {
                if let RunStatus::Done(d) = &mut runs[i].status {
                    d.diagnosis.notices.push(note);
                }
                continue;
            }
        };
        let baseline_name = runs[j].name.clone();
        let result = (|| -> Result<BaselineComparison> {
            let a = ws.settings.model(&runs[j].run.model).load()?;
            let b = ws.settings.model(&runs[i].run.model).load()?;
            let (c, base) = compare::compare(ws, &a, &b, &pairs[i], on_event)?;
            let mut out = summary(&c, &runs[j], &ids[j], with_ext(&base, "json"));
            let root = ws
                .project()
                .map(|p| p.root.clone())
                .unwrap_or_else(|| PathBuf::from("."));
            for list in [&mut out.fixed, &mut out.broken] {
                let paths: Vec<String> = list.iter().map(|x| x.path.clone()).collect();
                for (x, t) in list
                    .iter_mut()
                    .zip(thumbnails(&root, &paths, &b.preprocess))
                {
                    x.thumbnail = t;
                }
            }
            Ok(out)
        })();
        let figure = result.as_ref().ok().map(|c| draw_versus(runs, i, j, c));
        if let RunStatus::Done(d) = &mut runs[i].status {
            match figure {
                Some(Ok((png, svg))) => {
                    d.versus_png = Some(png);
                    d.versus_svg = Some(svg);
                }
                Some(Err(e)) => d.diagnosis.notices.push(format!(
                    "map beside baseline {baseline_name} left out: {}",
                    e.chain_text()
                )),
                None => {}
            }
            match result {
                Ok(c) => d.diagnosis.baseline = Some(c),
                Err(e) => d.diagnosis.notices.push(format!(
                    "comparison with baseline {baseline_name}: {}",
                    e.chain_text()
                )),
            }
        }
    }
}
