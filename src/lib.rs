//! dannscope: inspect how well a domain-adaptation (DANN) model aligned its domains.
//!
//! Data flows one way through the stages, one module each:
//! [`dataset`] → [`preprocess`] → [`engine`] → [`store`] → {[`metrics`], [`tsne`] → [`plot`]} → [`report`].

pub mod error;
pub mod dataset;
pub mod split;
pub mod config;
pub mod model;
pub mod preprocess;
pub mod engine;
pub mod store;
pub mod embed;
pub mod metrics;
pub mod tsne;
pub mod plot;
pub mod report;
pub mod demo;

pub use error::{Error, Result};
