//! plot stage (placeholder until implemented).
