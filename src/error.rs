//! Library error type.
//!
//! Each stage keeps its own typed error ([`crate::metrics::MetricsError`], [`crate::tsne::TsneError`],
//! [`crate::plot::PlotError`], [`crate::engine::EngineError`], [`crate::demo::DemoError`], ...), and
//! [`Error`] wraps them with `#[from]`, so that the cause chain shown to a user (`caused by: ...`) is the
//! real one and a caller can match on the variant (the engine fallback matches
//! [`crate::engine::EngineError::NoLibrary`] and [`crate::engine::EngineError::LibraryLoad`]).
//! Library messages describe what was expected and found; they never name command-line flags.
use std::path::PathBuf;

/// Errors returned by the dannscope library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Input that does not match what was expected.
    #[error("{0}")]
    Invalid(String),
    /// The thread that decodes a domain's images panicked (a defect, not bad input); `message` is
    /// the panic's text.
    #[error(
        "domain \"{domain}\": the image-decoding thread stopped on an internal error: {message}"
    )]
    DecodeThread {
        /// The domain being embedded.
        domain: String,
        /// The panic's message.
        message: String,
    },
    /// A name that would become part of an output path but is not safe there.
    #[error(transparent)]
    Name(#[from] crate::layout::name::NameError),
    /// A pair that is not `SOURCE-TARGET`.
    #[error(transparent)]
    Pair(#[from] crate::dataset::pair::PairError),
    /// The inference engine could not be opened or run.
    #[error(transparent)]
    Engine(#[from] crate::engine::error::EngineError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::error::MetricsError),
    /// The t-SNE map could not be computed.
    #[error(transparent)]
    Tsne(#[from] crate::tsne::params::TsneError),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] crate::plot::error::PlotError),
    /// A training log could not be read.
    #[error(transparent)]
    TrainingLog(#[from] crate::traininglog::TrainingLogError),
    /// The explore page could not be built or written.
    #[error(transparent)]
    Explore(#[from] crate::explore::error::ExploreError),
    /// Shards could not be chosen or merged.
    #[error(transparent)]
    Shard(#[from] crate::shard::error::ShardError),
    /// The demo data could not be generated.
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    /// A step failed for a reason given by the wrapped error; `context` says which step.
    #[error("{context}")]
    Context {
        /// What was being done.
        context: String,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// Wrap this error with what was being done, keeping it as the cause.
    pub fn context(self, context: impl Into<String>) -> Error {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The message and every cause, joined with `": "` (for one-line notes such as a failed run).
    pub fn chain_text(&self) -> String {
        let mut s = self.to_string();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(self);
        while let Some(c) = cur {
            let t = c.to_string();
            if !s.ends_with(&t) {
                s.push_str(": ");
                s.push_str(&t);
            }
            cur = c.source();
        }
        s
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Add context to a library result.
pub trait ResultExt<T> {
    /// Wrap the error with what was being done (see [`Error::context`]).
    fn context_with(self, f: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn context_with(self, f: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| e.into().context(f()))
    }
}

impl From<crate::atomic::FileError> for Error {
    fn from(e: crate::atomic::FileError) -> Self {
        Error::Io {
            path: e.path,
            source: e.source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_text_lists_every_cause_once() {
        let inner = Error::Invalid("bad row 3".into());
        let e = inner
            .context("reading splits.csv")
            .context("opening the project");
        assert_eq!(
            e.chain_text(),
            "opening the project: reading splits.csv: bad row 3"
        );
        // A transparent wrapper does not repeat its cause.
        let m = Error::from(crate::tsne::TsneError::TooFewPoints { found: 2 });
        assert_eq!(m.chain_text(), "t-SNE needs at least 5 points, found 2");
    }
}
