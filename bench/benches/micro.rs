//! Criterion micro benchmarks: every case of `strata_bench::micro` on SQLite and on
//! Strata (io_uring) in the same run; set `STRATA_BENCH_SYSCALL=1` to add Strata on
//! syscalls. Sizes: `STRATA_BENCH_ROWS`, `STRATA_BENCH_INSERT_ROWS`,
//! `STRATA_BENCH_UPSERT_KEYS`. The big database is built once per process.
//!
//! ```text
//! cargo bench -p strata-bench --bench micro [-- FILTER]
//! ```

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use strata_bench::micro::{Case, Engine, Fixture, Sizes};

fn micro(c: &mut Criterion) {
    let sizes = Sizes::from_env();
    let fx = Fixture::new(sizes);
    for m in fx.cross_check() {
        eprintln!("RESULT MISMATCH: {m}");
    }
    let mut engines = vec![Engine::Sqlite, Engine::Strata];
    if std::env::var_os("STRATA_BENCH_SYSCALL").is_some() {
        engines.push(Engine::StrataSyscall);
    }
    for case in Case::ALL {
        let mut g = c.benchmark_group(case.name());
        let slow = matches!(
            case,
            Case::ScanCountSum | Case::GroupBy | Case::Insert100kTx
        );
        g.sample_size(if slow { 10 } else { 30 });
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(if slow { 4 } else { 2 }));
        for &engine in &engines {
            let mut run = fx.runner(case, engine);
            g.bench_function(engine.name(), |b| b.iter_custom(|iters| run(iters)));
        }
        g.finish();
    }
}

criterion_group!(benches, micro);
criterion_main!(benches);
