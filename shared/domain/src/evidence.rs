//! The Black Box evidence chain (issue 4).
