//! store stage (placeholder until implemented).
