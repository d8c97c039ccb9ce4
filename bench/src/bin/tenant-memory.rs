//! Memory and handles per idle tenant (issue 13): N databases open in one process, each
//! with one connection and one prepared (and once executed) statement, Strata beside
//! SQLite (rusqlite) in the same run.
//!
//! ```text
//! cargo run --release -p strata-bench --bin tenant-memory -- [--tenants 10000]
//!     [--io shared-uring|shared-syscall|per-database] [--out docs/bench/tenant-memory]
//! ```
//! Each engine runs in a child process of its own (this binary re-executed with
//! `--child`), so its resident set is measured alone: RSS after opening the tenants minus
//! RSS before, divided by N; also open file descriptors and threads per tenant. The
//! tenants' files (a table of 20 rows each, WAL mode) are made first by SQLite, in a
//! temporary directory, and are the same for both engines. Strata's tenants share one
//! IO (`--io shared-*`, as `strata-runtime`'s loops do) or each make their own
//! (`per-database`: `Database::open`'s default, an io_uring per database).
//!
//! Prints a table and writes `tenant-memory.csv` into `--out`. An engine that cannot open
//! all tenants (a file-descriptor limit) is reported as failed, with the reason.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Bytes, file descriptors and threads per open idle tenant: Strata vs SQLite")]
struct Args {
    /// Tenants (databases) opened.
    #[arg(long, default_value_t = 10_000)]
    tenants: usize,
    /// Strata's IO: one shared io_uring, one shared syscall backend, or one per database.
    #[arg(long, default_value = "shared-uring")]
    io: String,
    /// Where the CSV goes.
    #[arg(long, default_value = "docs/bench/tenant-memory")]
    out: PathBuf,
    /// Internal: run one engine on an existing directory and print one result line.
    #[arg(long, hide = true)]
    child: Option<String>,
    #[arg(long, hide = true)]
    dir: Option<PathBuf>,
}

/// `(resident bytes, threads)` of this process, from /proc/self/status.
fn rss_and_threads() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:") * 1024, field("Threads:"))
}

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

fn tenant_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("t{i}.db"))
}

const QUERY: &str = "SELECT v FROM t WHERE id = ?1";

fn make_tenants(dir: &Path, n: usize) {
    for i in 0..n {
        let c = rusqlite::Connection::open(tenant_path(dir, i)).expect("create tenant");
        c.execute_batch(
            "PRAGMA synchronous=OFF; PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
             INSERT INTO t SELECT i, printf('value %d', i) FROM n;",
        )
        .expect("fill tenant");
        if i % 2000 == 1999 {
            eprintln!("  made {} tenants", i + 1);
        }
    }
}

/// Opens every tenant with `engine` and prints `bytes_per_tenant fds_per_tenant threads`.
fn child(engine: &str, io_kind: &str, dir: &Path, n: usize) {
    let (rss0, _) = rss_and_threads();
    let fds0 = open_fds();
    let mut keep_strata = Vec::new();
    let mut keep_sqlite = Vec::new();
    match engine {
        "strata" => {
            let shared: Option<Arc<dyn strata::io::IO>> = match io_kind {
                "shared-uring" => Some(Arc::new(
                    strata::io::UringIo::new().expect("io_uring available"),
                )),
                "shared-syscall" => Some(Arc::new(strata::io::SyscallIo::new())),
                _ => None,
            };
            for i in 0..n {
                let mut opts = strata::OpenOptions::new();
                if let Some(io) = &shared {
                    opts = opts.io(io.clone());
                }
                let db = opts.open(tenant_path(dir, i)).expect("strata opens tenant");
                let conn = db.connect();
                let mut stmt = conn.prepare(QUERY).expect("prepare");
                let v: String = stmt.query_row([7i64], |r| r.get(0)).expect("query");
                assert_eq!(v, "value 7");
                keep_strata.push((db, conn, stmt));
            }
        }
        _ => {
            for i in 0..n {
                let conn = rusqlite::Connection::open(tenant_path(dir, i)).expect("open");
                {
                    let mut stmt = conn.prepare_cached(QUERY).expect("prepare");
                    let v: String = stmt.query_row([7i64], |r| r.get(0)).expect("query");
                    assert_eq!(v, "value 7");
                }
                keep_sqlite.push(conn);
            }
        }
    }
    let (rss1, threads) = rss_and_threads();
    let fds1 = open_fds();
    println!(
        "RESULT {} {} {}",
        rss1.saturating_sub(rss0) / n as u64,
        (fds1.saturating_sub(fds0)) as f64 / n as f64,
        threads
    );
    drop(keep_strata);
    drop(keep_sqlite);
}

fn main() {
    let args = Args::parse();
    if let (Some(engine), Some(dir)) = (&args.child, &args.dir) {
        child(engine, &args.io, dir, args.tenants);
        return;
    }
    let tmp = tempfile::tempdir().expect("temporary directory");
    eprintln!(
        "making {} tenant databases in {}",
        args.tenants,
        tmp.path().display()
    );
    make_tenants(tmp.path(), args.tenants);
    let exe = std::env::current_exe().expect("own path");
    let mut rows = Vec::new();
    for engine in ["sqlite", "strata"] {
        eprintln!("opening {} tenants with {engine}", args.tenants);
        let out = Command::new(&exe)
            .args(["--tenants", &args.tenants.to_string(), "--io", &args.io])
            .args(["--child", engine, "--dir"])
            .arg(tmp.path())
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
            // E.g. SQLite in WAL mode holds 3 descriptors per tenant (database, WAL,
            // shared memory): 10,000 tenants need more than a 20,000 limit allows.
            let err = String::from_utf8_lossy(&out.stderr);
            let why = err
                .lines()
                .find(|l| l.contains("open") || l.contains("panicked"))
                .unwrap_or("failed")
                .to_string();
            eprintln!("{engine} failed: {}\n{err}", out.status);
            rows.push((engine, "failed".into(), why, "-".into()));
            continue;
        };
        let f: Vec<&str> = line.split_whitespace().collect();
        rows.push((engine, f[0].to_string(), f[1].to_string(), f[2].to_string()));
    }
    let label = |e: &str| {
        if e == "strata" {
            format!("strata ({})", args.io)
        } else {
            "sqlite (rusqlite)".to_string()
        }
    };
    println!(
        "{} idle tenants (a database, a connection, a prepared statement each)",
        args.tenants
    );
    println!(
        "{:<26} {:>16} {:>12} {:>8}",
        "engine", "bytes/tenant", "fds/tenant", "threads"
    );
    let mut csv = String::from("engine,tenants,bytes_per_tenant,fds_per_tenant,threads\n");
    for (e, bytes, fds, threads) in &rows {
        println!("{:<26} {:>16} {:>12} {:>8}", label(e), bytes, fds, threads);
        csv.push_str(&format!(
            "{},{},{bytes},{fds},{threads}\n",
            label(e),
            args.tenants
        ));
    }
    if let (Ok(sqlite), Ok(strata)) = (rows[0].1.parse::<f64>(), rows[1].1.parse::<f64>()) {
        println!(
            "ratio strata/sqlite bytes per tenant: {:.2}",
            strata / sqlite.max(1.0)
        );
    }
    if std::fs::create_dir_all(&args.out).is_ok() {
        let path = args.out.join("tenant-memory.csv");
        if let Ok(mut f) = std::fs::File::create(&path) {
            let _ = f.write_all(csv.as_bytes());
        }
    }
}
