//! tsne stage (placeholder until implemented).
