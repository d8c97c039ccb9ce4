//! Strata public API (being written).
