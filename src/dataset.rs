//! dataset stage (placeholder until implemented).
