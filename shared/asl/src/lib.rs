//! Local ASL executor (being written).
