//! preprocess stage (placeholder until implemented).
