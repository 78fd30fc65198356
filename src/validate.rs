//! Validation of a chapter list against the audio and platform rules.
