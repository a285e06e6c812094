//! model stage (placeholder until implemented).
