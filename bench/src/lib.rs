//! # strata-bench: benchmarks of Strata against SQLite
//!
//! - [`multitenant`]: the Limbo paper's experiment (EdgeSys '24, Figure 3): many tenants,
//!   each with its own ~1 MiB database, each running `SELECT * FROM users LIMIT 100`
//!   repeatedly; tail latency per engine (`sqlite-threads`, `sqlite-pool`, `strata`) and
//!   cache setting (warm, cold). Binary: `multitenant`.
//! - [`micro`]: single-operation cases (point selects, scans, aggregates, inserts, upsert,
//!   cold start) run on Strata and on SQLite in the same process. Used by the criterion
//!   bench `benches/micro.rs` and by the `ratios` binary.
//! - [`server_load`]: `N` namespaces × `M` HTTP clients against an in-process
//!   `strata-server` (reads and single-row upserts), beside the same statements
//!   submitted straight to a `strata_runtime::Runtime`. Binary: `server-load`.
//! - [`report`]: latency summaries, the CSV, the text table and the SVG plot.
//! - [`counting`]: an IO wrapper that counts operations (to check that the cold setting
//!   really reads through the IO backend; never used in timed runs).
//!
//! Nothing here is timed in tests: the tests check row counts, the scheduler and the
//! writers.

pub mod counting;
pub mod micro;
pub mod multitenant;
pub mod report;
pub mod server_load;

/// Number of cores the benchmarks size their pools and event loops by.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A value read from a row, folded into a checksum so the compiler cannot drop the read.
pub fn fold_sqlite(v: rusqlite::types::ValueRef<'_>) -> u64 {
    use rusqlite::types::ValueRef as V;
    match v {
        V::Null => 1,
        V::Integer(i) => i as u64,
        V::Real(r) => r.to_bits(),
        V::Text(t) | V::Blob(t) => t.len() as u64 + t.first().copied().unwrap_or(0) as u64,
    }
}

/// Same as [`fold_sqlite`] for a Strata value.
pub fn fold_strata(v: strata::ValueRef<'_>) -> u64 {
    use strata::ValueRef as V;
    match v {
        V::Null => 1,
        V::Integer(i) => i as u64,
        V::Real(r) => r.to_bits(),
        V::Text(t) | V::Blob(t) => t.len() as u64 + t.first().copied().unwrap_or(0) as u64,
    }
}

/// A small deterministic generator (SplitMix64) so both engines see the same keys.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
