//! demo stage (placeholder until implemented).
