//! # simulator: deterministic simulation of Strata's storage engine
//!
//! One seed decides a whole run: the simulated disk's latencies, completion order, faults
//! and power losses ([`sim_io::SimIo`]), and the workload's tenants, transactions and
//! scheduling ([`workload`]). A run reports which checks ran and how often, and ends with a
//! digest of its trace; the same seed always gives byte-identical output, so any failure
//! replays exactly from the command line it prints.
//!
//! Determinism rules for code here: no wall clock, no threads, no `HashMap` iteration that
//! can influence behaviour (use `BTreeMap`), every random draw from a seeded `ChaCha8Rng`.

pub mod oracle;
pub mod plan;
pub mod replication;
pub mod savepoint;
pub mod sim_io;
pub mod sql_sim;
pub mod sqlgen;
pub mod trace;
pub mod workload;

pub use sim_io::{CrashMode, FaultConfig, FaultRecord, SimIo, SimIoOptions, SimStats};
pub use workload::{
    decode_page, page_image, run, Checks, DbState, FaultMode, RunConfig, RunReport,
};
