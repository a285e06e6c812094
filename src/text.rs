//! Small helpers for the words of messages: counts with the right plural, labels not repeated,
//! p-values that never read as zero.

/// `n` and the noun, plural unless `n` is 1: `count(1, "image")` is `1 image`, `count(3, "class")` is
/// `3 classes`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {}", plural(noun))
    }
}

/// The English plural of the nouns these messages use (`image` → `images`, `class` → `classes`,
/// `epoch` → `epochs`).
pub fn plural(noun: &str) -> String {
    if ["s", "x", "sh"].iter().any(|e| noun.ends_with(e)) {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// `label: message`, unless the message already starts with the label (an error that names its own
/// measure is not prefixed with it again).
pub fn labelled(label: &str, message: &str) -> String {
    if message.starts_with(label) {
        message.to_string()
    } else {
        format!("{label}: {message}")
    }
}

/// A p-value as every output shows it: four decimals from 1e-4 up, scientific notation below (so that
/// 3.7e-8 never reads as `0.0000`).
pub fn p_value(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn p_values_below_1e4_are_scientific() {
        assert_eq!(super::p_value(3.7e-8), "3.7e-8");
        assert_eq!(super::p_value(0.0), "0.0e0");
        assert_eq!(super::p_value(0.00012), "0.0001");
        assert_eq!(super::p_value(0.0771), "0.0771");
        assert_eq!(super::p_value(1.0), "1.0000");
    }

    use super::*;

    #[test]
    fn counts_are_singular_for_one() {
        assert_eq!(count(1, "image"), "1 image");
        assert_eq!(count(0, "image"), "0 images");
        assert_eq!(count(2, "class"), "2 classes");
        assert_eq!(count(12, "checkpoint"), "12 checkpoints");
        assert_eq!(count(2, "epoch"), "2 epochs");
    }

    #[test]
    fn labels_are_not_repeated() {
        assert_eq!(
            labelled("mmd2_rbf", "mmd2_rbf: needs at least 2 points, found 1"),
            "mmd2_rbf: needs at least 2 points, found 1"
        );
        assert_eq!(
            labelled("domain silhouette", "undefined"),
            "domain silhouette: undefined"
        );
    }
}
