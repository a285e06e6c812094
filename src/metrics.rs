//! metrics stage (placeholder until implemented).
