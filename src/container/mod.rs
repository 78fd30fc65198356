//! One folder per container: how its structure is read, how long its audio is, where its
//! chapters live and how a write is planned.
//!
//! * [`vorbis_comment`]: the `CHAPTERxxx` comments Ogg and FLAC share;
//! * [`flac`]: native FLAC;
//! * [`ogg`]: Ogg Opus and Vorbis.

pub mod flac;
pub mod ogg;
pub mod vorbis_comment;
