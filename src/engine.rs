//! engine stage (placeholder until implemented).
