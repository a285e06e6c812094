//! Label-free validators: scores that rank checkpoints without target labels, oriented so that higher
//! is better (as pytorch-adapt's validators), and the helpers to judge them against the truth (Spearman
//! correlation).
//!
//! | name | score | source |
//! |---|---|---|
//! | `entropy` | `−mean_i H(p_i)` on target softmax | pytorch-adapt `EntropyValidator` |
//! | `im` | `H(mean_i p_i) − mean_i H(p_i)` | pytorch-adapt `IMValidator` |
//! | `snd` | soft neighbourhood density of target softmax rows, `T = 0.05` | pytorch-adapt `SNDValidator` |
//! | `bnm` | `‖softmax(logits)‖_* / N` (nuclear norm) | pytorch-adapt `BNMValidator` |
//! | `class_ami` | AMI of k-means clusters (k-means++ or pseudo-label centres) of target embeddings vs pseudo-labels | pytorch-adapt `ClassClusterValidator` |
//! | `dev` | `−` DEV risk: importance-weighted source loss with control variate, weights cross-fitted | pytorch-adapt `DeepEmbeddedValidator` |
//! | `atc_mc`, `atc_ne` | ATC estimate of target accuracy (max confidence / negative entropy) | Garg et al. 2022 |
//!
//! Deviations from the references (seeded, deterministic) are documented on each function and in
//! `docs/metrics.md`.

mod atc;
mod clustering;
mod combined;
mod common;
mod confidence;
mod dev;

pub use atc::{atc, atc_scores, atc_threshold, AtcScore};
pub use clustering::{
    adjusted_mutual_info, class_ami, kmeans, kmeans_plus_plus, ClassAmiInit, KMeansParams,
    DEFAULT_CLASS_AMI_INIT,
};
pub use combined::{
    is_random, label_free_validators, spearman, ValidatorParams, ValidatorScore, Verdict,
    VALIDATORS,
};
pub use confidence::{bnm, entropy_score, singular_values};
pub use dev::{
    dev, dev_folds, dev_on_folds, dev_risk, effective_sample_size, Dev, DevParams,
    DEFAULT_DEV_FOLDS, SMALL_ESS,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::DomainData;
    use ndarray::{array, Array1, Array2};

    #[test]
    fn singular_values_of_a_known_matrix() {
        // [[3, 0], [4, 5]] has singular values √45 and √5
        let a = array![[3.0, 0.0], [4.0, 5.0]];
        let mut s = singular_values(&a);
        s.sort_by(f64::total_cmp);
        assert!((s[0] - 5f64.sqrt()).abs() < 1e-12 && (s[1] - 45f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn ami_of_identical_and_independent_labelings() {
        let a = [0, 0, 1, 1, 2, 2];
        assert!((adjusted_mutual_info(&a, &[5, 5, 3, 3, 4, 4]).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(adjusted_mutual_info(&[0, 0], &[1, 1]).unwrap(), 1.0);
    }

    #[test]
    fn atc_threshold_matches_source_accuracy() {
        let scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
        let correct = [false, false, true, false, true, true, true, true];
        // 3 wrong: the threshold leaves 5 points at or above it
        let t = atc_threshold(&scores, &correct);
        assert_eq!(t, 0.3);
        // every point right: no threshold, everything counts
        assert_eq!(atc_threshold(&scores, &[true; 8]), f64::NEG_INFINITY);
    }

    #[test]
    fn dev_folds_are_stratified_seeded_and_checked() {
        let f = dev_folds(10, 7, 3, 5).unwrap();
        assert_eq!(f, dev_folds(10, 7, 3, 5).unwrap());
        assert_ne!(f, dev_folds(10, 7, 3, 6).unwrap());
        for (lo, hi, sizes) in [(0, 10, [4, 3, 3]), (10, 17, [3, 2, 2])] {
            for (k, &want) in sizes.iter().enumerate() {
                assert_eq!(f[lo..hi].iter().filter(|&&x| x == k).count(), want);
            }
        }
        assert!(dev_folds(10, 7, 1, 0).is_err());
        assert!(dev_folds(10, 2, 3, 0).is_err());
    }

    #[test]
    fn effective_sample_size_of_known_weights() {
        assert_eq!(effective_sample_size(&[2.0; 8]), 8.0);
        assert_eq!(effective_sample_size(&[0.0, 0.0, 5.0]), 1.0);
        // (1 + 3)² / (1 + 9)
        assert!((effective_sample_size(&[1.0, 3.0]) - 1.6).abs() < 1e-15);
        assert_eq!(effective_sample_size(&[]), 0.0);
    }

    /// Two classes, `n` points per domain: source rows at ±3 (right or wrong by `wrong`), target
    /// rows shifted by 1.
    /// Source embedding, logits, labels; target embedding, logits.
    type TwoClass = (
        Array2<f32>,
        Array2<f32>,
        Array1<i64>,
        Array2<f32>,
        Array2<f32>,
    );

    fn two_class(n: usize, wrong: usize, scale: f32) -> TwoClass {
        let label = |i: usize| (i % 2) as i64;
        let emb = |shift: f32| {
            Array2::from_shape_fn((n, 2), |(i, j)| {
                let c = if label(i) == 0 { -3.0 } else { 3.0 };
                c + shift + 0.1 * ((i * 7 + j * 3) % 11) as f32
            })
        };
        let logits = |flip: usize| {
            Array2::from_shape_fn((n, 2), |(i, j)| {
                let y = if i < flip { 1 - label(i) } else { label(i) };
                if j as i64 == y {
                    scale * (1.0 + 0.01 * (i % 5) as f32)
                } else {
                    0.0
                }
            })
        };
        let labels = Array1::from_shape_fn(n, label);
        (emb(0.0), logits(wrong), labels, emb(1.0), logits(0))
    }

    fn verdicts(v: &[ValidatorScore]) -> Vec<(&str, Verdict)> {
        v.iter().map(|s| (s.name.as_str(), s.verdict)).collect()
    }

    #[test]
    fn structural_degeneracies_are_reported_not_ranked() {
        // every source point right: both ATC variants are 1 and not informative
        let (se, sl, sy, te, tl) = two_class(24, 0, 4.0);
        let ty = Array1::zeros(24);
        let src = DomainData::new(se.view(), Some(sl.view()), sy.view());
        let tgt = DomainData::new(te.view(), Some(tl.view()), ty.view());
        let v = label_free_validators(&src, &tgt, &ValidatorParams::default()).unwrap();
        for s in &v[6..] {
            assert_eq!((s.value, s.verdict), (Some(1.0), Verdict::NotInformative));
            assert!(s.reason.as_deref().unwrap().contains("every source point"));
            assert_eq!(s.ranked(), None);
        }
        assert!(
            v[..6].iter().all(|s| s.verdict == Verdict::Informative),
            "{:?}",
            verdicts(&v)
        );
        assert_eq!(v[5].dev.as_ref().unwrap().folds, DEFAULT_DEV_FOLDS);
        // one source point wrong: ATC ranks again
        let (se, sl, sy, ..) = two_class(24, 1, 4.0);
        let src = DomainData::new(se.view(), Some(sl.view()), sy.view());
        let v = label_free_validators(&src, &tgt, &ValidatorParams::default()).unwrap();
        assert!(v[6..].iter().all(|s| s.verdict == Verdict::Informative));
        // certain predictions (entropy 0) and a single predicted class on the target
        let one_hot = Array2::from_shape_fn((24, 2), |(_, j)| if j == 0 { 2000.0 } else { 0.0 });
        let tgt = DomainData::new(te.view(), Some(one_hot.view()), ty.view());
        let v = label_free_validators(&src, &tgt, &ValidatorParams::default()).unwrap();
        let by = |n: &str| v.iter().find(|s| s.name == n).unwrap();
        assert_eq!(by("entropy").verdict, Verdict::NotInformative);
        assert_eq!(by("entropy").value, Some(0.0));
        assert_eq!(by("class_ami").verdict, Verdict::NotInformative);
        assert!(by("class_ami")
            .reason
            .as_deref()
            .unwrap()
            .contains("one class"));
        assert_eq!(by("bnm").verdict, Verdict::Informative);
        // no target logits: every validator undefined, with the reason
        let tgt = DomainData::new(te.view(), None, ty.view());
        let v = label_free_validators(&src, &tgt, &ValidatorParams::default()).unwrap();
        assert!(v
            .iter()
            .all(|s| s.verdict == Verdict::Undefined && s.value.is_none()));
    }

    #[test]
    fn kmeans_plus_plus_starts_from_rows_one_per_cluster() {
        // three tight, far-apart clusters of 5 points
        let x = Array2::from_shape_fn((15, 2), |(i, j)| {
            (i / 5) as f64 * 100.0 + 0.01 * (i % 5) as f64 + j as f64
        });
        for seed in 0..10 {
            let c = kmeans_plus_plus(x.view(), 3, seed);
            assert_eq!(c, kmeans_plus_plus(x.view(), 3, seed));
            let mut clusters: Vec<usize> = c
                .outer_iter()
                .map(|r| {
                    let i = x.outer_iter().position(|row| row == r).expect("a data row");
                    i / 5
                })
                .collect();
            clusters.sort_unstable();
            assert_eq!(clusters, vec![0, 1, 2], "seed {seed}");
        }
        let init: ClassAmiInit = "kmeans++".parse().unwrap();
        assert_eq!(
            (init, init.to_string()),
            (ClassAmiInit::KMeansPlusPlus, "kmeans++".into())
        );
        assert!("random".parse::<ClassAmiInit>().is_err());
    }

    #[test]
    fn spearman_with_ties() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((r - 0.9486832980505138).abs() < 1e-12, "{r}");
    }
}
