//! report stage (placeholder until implemented).
