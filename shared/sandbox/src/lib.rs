//! Local build runner (being written).
