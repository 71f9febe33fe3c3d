//! Embedded adapters for `gantry serve`: everything on one machine, in the data dir.

pub mod signer;
