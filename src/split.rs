//! split stage (placeholder until implemented).
