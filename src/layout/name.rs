//! Names that become path components: what is accepted, and the error for what is not.

/// Longest name accepted as one path component, in bytes (file systems allow 255; the rest is left for
/// extensions and temporary-file suffixes).
pub const MAX_NAME_BYTES: usize = 200;

/// A name that cannot be used as a path component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?}{}: {reason}; names used in output paths must be one non-empty path component (no '/', '\\', NUL or control characters, not '.' or '..', not starting with '.', at most {MAX_NAME_BYTES} bytes)", origin.as_deref().map(|o| format!(" (from {o})")).unwrap_or_default())]
pub struct NameError {
    /// What the name is (e.g. "domain name").
    pub what: &'static str,
    /// The offending value.
    pub value: String,
    /// Where it came from (e.g. the manifest file), when known.
    pub origin: Option<String>,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Check that `value` is safe as one path component under the output root.
pub fn check_name<'a>(
    what: &'static str,
    value: &'a str,
    origin: Option<&str>,
) -> Result<&'a str, NameError> {
    let reason = if value.is_empty() {
        Some("it is empty")
    } else if value == "." || value == ".." {
        Some("it names a folder, not a file")
    } else if value.starts_with('.') {
        Some("a leading '.' is reserved for temporary files")
    } else if value.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if value.contains('\0') {
        Some("it contains a NUL character")
    } else if value.chars().any(char::is_control) {
        Some("it contains a control character")
    } else if value.len() > MAX_NAME_BYTES {
        Some("it is too long")
    } else {
        None
    };
    match reason {
        None => Ok(value),
        Some(reason) => Err(NameError {
            what,
            value: value.chars().take(80).collect(),
            origin: origin.map(str::to_string),
            reason,
        }),
    }
}

/// File name of a run's explore page in the report folder.
pub fn explore_page_name(run_id: &str) -> String {
    format!("explore-{run_id}.html")
}

/// File name of a run's gallery CSV in the report folder.
pub fn gallery_csv_name(run_id: &str) -> String {
    format!("gallery-{run_id}.csv")
}
