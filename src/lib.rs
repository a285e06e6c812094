//! dannscope: inspect how well a domain-adaptation (DANN) model aligned its domains.
//!
//! Data flows one way through the stages, one module each:
//! [`dataset`] → [`preprocess`] → [`engine`] → [`store`] → {[`metrics`], [`tsne`] → [`plot`]} → [`report`].
//! [`settings`] holds what a command resolved from its flags and `dannscope.toml`; [`pipeline`] holds
//! the jobs that chain the stages; [`layout`] owns every output path; [`atomic`] is the one way files
//! are written; [`explore`] renders the interactive, offline map of a joint t-SNE (every dot an
//! image). `docs/architecture.md` is the map.

pub mod atomic;
pub mod cli;
pub mod config;
pub mod dataset;
pub mod demo;
pub mod engine;
pub mod error;
pub mod explore;
pub mod layout;
pub mod markup;
pub mod metrics;
pub mod model;
pub mod neighbours;
pub mod phase_log;
pub mod pipeline;
pub mod plot;
pub mod preprocess;
pub mod project;
pub mod report;
pub mod settings;
pub mod shard;
pub mod split;
pub mod store;
pub mod text;
pub mod traininglog;
pub mod tsne;

pub use error::{Error, Result};
