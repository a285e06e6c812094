//! embed stage (placeholder until implemented).
