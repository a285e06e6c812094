//! config stage (placeholder until implemented).
