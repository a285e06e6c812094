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
//! | `class_ami` | AMI of k-means clusters of target embeddings vs pseudo-labels | pytorch-adapt `ClassClusterValidator` |
//! | `dev` | `−` DEV risk: importance-weighted source validation loss with control variate | pytorch-adapt `DeepEmbeddedValidator` |
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
pub use clustering::{adjusted_mutual_info, class_ami, kmeans, KMeansParams};
pub use combined::{label_free_validators, spearman, ValidatorParams, VALIDATORS};
pub use confidence::{bnm, entropy_score, singular_values};
pub use dev::{dev, dev_on_split, dev_risk, Dev, DevParams};

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

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
    fn spearman_with_ties() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((r - 0.9486832980505138).abs() < 1e-12, "{r}");
    }
}
