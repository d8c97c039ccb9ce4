//! Smoke test of the server-load benchmark's code path: 2 namespaces × 2 clients × 20
//! requests (half of them upserts), over HTTP against an in-process server and in
//! process on a runtime. Every request must succeed, every read return its 100 rows and
//! every upsert change one row; the namespaces must pass SQLite's integrity check
//! afterwards. No timing is asserted (the wall-clock cap is far out of reach).

use std::time::Duration;

use strata_bench::multitenant::{build_template, ROWS_PER_QUERY};
use strata_bench::server_load::{namespace_name, run, LoadConfig, LoadResult, Mode};

fn check_result(r: &LoadResult, cfg: &LoadConfig) {
    let name = r.mode.name();
    assert_eq!(r.reads.first_error, None, "{name}: a read failed");
    assert_eq!(r.writes.first_error, None, "{name}: an upsert failed");
    assert_eq!(r.reads.errors + r.writes.errors, 0, "{name}");
    let planned = (cfg.namespaces * cfg.clients_per_namespace * cfg.requests_per_client) as u64;
    assert_eq!(r.planned, planned, "{name}");
    assert!(!r.capped, "{name}: stopped by the wall-clock cap");
    assert_eq!(r.reads.ok + r.writes.ok, planned, "{name}");
    // With 50% writes over 80 requests both kinds occur (seeded, deterministic).
    assert!(
        r.reads.ok > 0 && r.writes.ok > 0,
        "{name}: {} reads, {} writes",
        r.reads.ok,
        r.writes.ok
    );
    assert_eq!(r.reads.rows, r.reads.ok * ROWS_PER_QUERY as u64, "{name}");
    assert_eq!(r.reads.histogram.len(), r.reads.ok, "{name}");
    assert_eq!(r.writes.histogram.len(), r.writes.ok, "{name}");
    assert_eq!(r.all().len(), planned, "{name}");
}

#[test]
fn server_load_runs_every_request_over_http_and_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.db");
    // 64 KiB keeps the test quick; the table still has hundreds of rows.
    let rows = build_template(&template, 64 << 10).unwrap();
    assert!(rows > ROWS_PER_QUERY * 2, "{rows}");
    let cfg = LoadConfig {
        namespaces: 2,
        clients_per_namespace: 2,
        requests_per_client: 20,
        warmup_requests: 1,
        write_percent: 50,
        max_wall: Duration::from_secs(3600),
        loops: 2,
        server_threads: 2,
        client_threads: 1,
        seed: 3,
        reuse_connections: false,
        sync_normal: false,
    };
    for mode in [Mode::Http, Mode::InProcess] {
        let db_dir = dir.path().join(format!("db-{}", mode.name()));
        let r = run(mode, &cfg, &template, rows, &db_dir).unwrap();
        assert_eq!(r.mode, mode);
        check_result(&r, &cfg);
        // The upserts went through the engine into files SQLite reads back intact.
        for i in 0..cfg.namespaces {
            let path = db_dir.join(format!("{}.db", namespace_name(i)));
            let conn = rusqlite::Connection::open(&path).unwrap();
            let ok: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ok, "ok", "{}: {}", mode.name(), path.display());
            let n: i64 = conn
                .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                .unwrap();
            assert!(n as usize >= rows, "{}: {n} rows", mode.name());
        }
    }
}
