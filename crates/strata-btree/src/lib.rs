//! # strata-btree (API CONTRACT; implementation in progress)

pub mod varint;
