//! One glossary of the measures a report shows: each key (as in `results.csv` and the JSON files) with
//! the name tables, slides and figures use, a one-line meaning and which direction is better.
//! Machine formats (CSV, JSON) keep the keys.

/// Which direction of a measure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Higher values are better.
    Higher,
    /// Lower values are better.
    Lower,
}

impl Better {
    /// `higher` or `lower`.
    pub fn word(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
        }
    }
}

/// One measure of the glossary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// The key in `results.csv` and the JSON files.
    pub key: &'static str,
    /// The name in tables, slides and figures.
    pub name: &'static str,
    /// What it says, in one line.
    pub meaning: &'static str,
    /// Which direction is better.
    pub better: Better,
}

const fn m(
    key: &'static str,
    name: &'static str,
    meaning: &'static str,
    better: Better,
) -> Measure {
    Measure {
        key,
        name,
        meaning,
        better,
    }
}

/// Every measure a report shows, in the order of the cohesion table.
pub const GLOSSARY: &[Measure] = &[
    m("accuracy", "Accuracy (%)", "share of images whose predicted class is their true class", Better::Higher),
    m("auroc", "Macro AUROC (%)", "mean over classes of the one-vs-rest area under the ROC curve of the class probabilities", Better::Higher),
    m("silhouette_source", "Silhouette, source classes", "how tight and separate the source classes are in the embedding (−1 to 1)", Better::Higher),
    m("silhouette_target", "Silhouette, target classes", "how tight and separate the target classes are in the embedding (−1 to 1)", Better::Higher),
    m("silhouette_joint", "Silhouette, classes across domains", "how tight the classes are with source and target images pooled (−1 to 1)", Better::Higher),
    m("silhouette_domain", "Silhouette of the domains", "how far apart the two domains are as clusters (−1 to 1; near 0 or below = mixed)", Better::Lower),
    m("proxy_a_distance", "Proxy A-distance", "how well a linear classifier tells the domains apart (0 = not at all, 2 = perfectly)", Better::Lower),
    m("mmd2_rbf", "MMD² (Gaussian kernel)", "distance between the source and target embedding distributions", Better::Lower),
    m("mmd2_linear", "MMD² (linear kernel)", "squared distance between the source and target embedding means, unbiased", Better::Lower),
    m("knn_transfer_accuracy", "Target accuracy of a source kNN (share)", "share of target images whose 5 nearest source images vote for their true class", Better::Higher),
    m("class_agreement", "Same-class source neighbours (%)", "per class, the share of a target image's nearest source images that have its class, averaged over classes", Better::Higher),
    m("information_maximization", "Information maximisation", "confident and diverse target predictions (entropy of the mean prediction minus mean entropy)", Better::Higher),
    m("snd", "Soft neighbourhood density", "how densely target predictions cluster (mean entropy of soft neighbourhoods)", Better::Higher),
    m("domain_knn_purity", "Own-domain neighbours (share)", "share of each image's 10 nearest neighbours from its own domain (about the domain's share when mixed, 1 = separated)", Better::Lower),
];

/// The glossary entry of `key`, if it has one.
pub fn measure(key: &str) -> Option<&'static Measure> {
    GLOSSARY.iter().find(|m| m.key == key)
}

/// The display name of `key`: the glossary's, else the key with `_` as spaces.
pub fn display_name(key: &str) -> String {
    measure(key).map_or_else(|| key.replace('_', " "), |m| m.name.to_string())
}

/// The key of a display name given by [`display_name`] (for readers of rendered tables).
pub fn key_of(name: &str) -> String {
    GLOSSARY
        .iter()
        .find(|m| m.name == name)
        .map_or_else(|| name.replace(' ', "_"), |m| m.key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_names_are_unique_and_round_trip() {
        for (i, a) in GLOSSARY.iter().enumerate() {
            for b in &GLOSSARY[i + 1..] {
                assert_ne!(a.key, b.key);
                assert_ne!(a.name, b.name);
            }
            assert_eq!(key_of(&display_name(a.key)), a.key);
        }
        assert_eq!(display_name("new_measure"), "new measure");
        assert_eq!(key_of("new measure"), "new_measure");
    }

    #[test]
    fn docs_metrics_lists_every_measure_as_the_code_names_it() {
        let docs = include_str!("../../docs/metrics.md");
        for m in GLOSSARY {
            let row = format!(
                "| {} | `{}` | {} | {} |",
                m.name,
                m.key,
                m.meaning,
                m.better.word()
            );
            assert!(docs.contains(&row), "docs/metrics.md lacks {row}");
        }
    }

    #[test]
    fn the_two_knn_measures_have_names_that_tell_them_apart() {
        let a = display_name("knn_transfer_accuracy");
        let b = display_name("class_agreement");
        assert!(
            !a.contains("agreement") && !b.contains("accuracy"),
            "{a} / {b}"
        );
    }
}
