//! Micro benchmark cases (see `benches/micro.rs`).
