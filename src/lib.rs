//! dannscope: inspect how well a domain-adaptation (DANN) model aligned its domains.
//!
//! Data flows one way through the stages, one module each:
//! [`dataset`] → [`preprocess`] → [`engine`] → [`store`] → {[`metrics`], [`tsne`] → [`plot`]} → [`report`].
//! [`explore`] writes the interactive, offline map of a joint t-SNE (every dot an image).

pub mod batch;
pub mod config;
pub mod dataset;
pub mod demo;
pub mod embed;
pub mod engine;
pub mod error;
pub mod explore;
pub mod jobs;
pub mod metrics;
pub mod model;
pub mod plot;
pub mod preprocess;
pub mod project;
pub mod report;
pub mod split;
pub mod store;
pub mod tsne;

pub use error::{Error, Result};
