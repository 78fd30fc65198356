//! Audio in → exact duration.
