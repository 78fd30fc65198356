//! Rendering diagnostics for people and CI.
