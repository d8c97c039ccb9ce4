//! The external sorter under a tiny budget (issue 16): sorts, groupings and index builds
//! far larger than `PRAGMA strata_sorter_budget_kib` give SQLite's results, the sorter's
//! reported memory high-water mark stays under the budget (plus a small constant), the
//! temporary files are created through the IO object and are gone afterwards, a
//! deferred-completion IO (every operation waits) gives the same results, and an I/O
//! error while writing a run fails the statement cleanly.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{sqlite_rows, strata_rows};
use strata::io::{MemoryIo, IO};
use strata::{Connection, OpenOptions};
use strata_io::{Completion, File, IoError, LockKind, OpenFlags};

const BUDGET_KIB: usize = 64;
/// What the sorter may hold past its budget: buffer rounding and one record (the rows
/// here are small).
const SLACK: usize = 16 * 1024;

/// An IO that records the sorter's temporary files (named `<db>-sorter-<hex>`) and can
/// fail their writes.
struct TrackingIo {
    inner: Arc<dyn IO>,
    sorter_files: Mutex<Vec<String>>,
    fail_sorter_writes: Arc<AtomicBool>,
    sorter_writes: Arc<AtomicUsize>,
}

struct TrackedFile {
    inner: Arc<dyn File>,
    fail: Option<Arc<AtomicBool>>,
    writes: Arc<AtomicUsize>,
}

impl IO for TrackingIo {
    fn open_file(&self, path: &str, flags: OpenFlags) -> strata_io::Result<Arc<dyn File>> {
        let inner = self.inner.open_file(path, flags)?;
        let sorter = path.contains("-sorter-");
        if sorter {
            self.sorter_files.lock().unwrap().push(path.to_string());
        }
        Ok(Arc::new(TrackedFile {
            inner,
            fail: sorter.then(|| self.fail_sorter_writes.clone()),
            writes: self.sorter_writes.clone(),
        }))
    }
    fn remove_file(&self, path: &str) -> strata_io::Result<()> {
        self.inner.remove_file(path)
    }
    fn file_exists(&self, path: &str) -> strata_io::Result<bool> {
        self.inner.file_exists(path)
    }
    fn run_once(&self) -> strata_io::Result<()> {
        self.inner.run_once()
    }
    fn now_micros(&self) -> u64 {
        self.inner.now_micros()
    }
    fn random_u64(&self) -> u64 {
        self.inner.random_u64()
    }
}

impl File for TrackedFile {
    fn lock(&self, kind: LockKind) -> strata_io::Result<()> {
        self.inner.lock(kind)
    }
    fn unlock(&self) -> strata_io::Result<()> {
        self.inner.unlock()
    }
    fn pread(&self, offset: u64, c: &Completion) -> strata_io::Result<()> {
        self.inner.pread(offset, c)
    }
    fn pwrite(&self, offset: u64, c: &Completion) -> strata_io::Result<()> {
        if let Some(fail) = &self.fail {
            self.writes.fetch_add(1, Ordering::Relaxed);
            if fail.load(Ordering::Relaxed) {
                // Fails in the completion, as a device error reported later would.
                c.complete(Err(IoError::new(
                    std::io::ErrorKind::Other,
                    "injected write error",
                )));
                return Ok(());
            }
        }
        self.inner.pwrite(offset, c)
    }
    fn sync(&self, c: &Completion) -> strata_io::Result<()> {
        self.inner.sync(c)
    }
    fn truncate(&self, size_bytes: u64, c: &Completion) -> strata_io::Result<()> {
        self.inner.truncate(size_bytes, c)
    }
    fn size_bytes(&self) -> strata_io::Result<u64> {
        self.inner.size_bytes()
    }
}

struct Fixture {
    io: Arc<TrackingIo>,
    ours: Connection,
    theirs: rusqlite::Connection,
}

impl Fixture {
    fn new(memory: MemoryIo) -> Fixture {
        let io = Arc::new(TrackingIo {
            inner: Arc::new(memory),
            sorter_files: Mutex::new(Vec::new()),
            fail_sorter_writes: Arc::new(AtomicBool::new(false)),
            sorter_writes: Arc::new(AtomicUsize::new(0)),
        });
        let db = OpenOptions::new()
            .io(io.clone() as Arc<dyn IO>)
            .open("sorter.db")
            .unwrap();
        let ours = db.connect();
        ours.execute_batch(&format!("PRAGMA strata_sorter_budget_kib = {BUDGET_KIB}"))
            .unwrap();
        let theirs = rusqlite::Connection::open_in_memory().unwrap();
        Fixture { io, ours, theirs }
    }

    /// `t(id INTEGER PRIMARY KEY, a ANY-typed, b TEXT, c REAL)` with `n` rows of mixed
    /// types (integers, reals, texts of mixed case, blobs, NULLs), on both engines.
    fn load(&self, n: usize) {
        let ddl = "CREATE TABLE t(id INTEGER PRIMARY KEY, a, b TEXT, c REAL)";
        self.ours.execute_batch(ddl).unwrap();
        self.theirs.execute_batch(ddl).unwrap();
        let mut x = 0x9e3779b97f4a7c15u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let words = [
            "apple", "Apple", "APPLE", "banana", "Banana", "cherry", "éclair", "",
        ];
        let rows: Vec<(rusqlite::types::Value, String, Option<f64>)> = (0..n)
            .map(|_| {
                use rusqlite::types::Value as R;
                let a = match rnd() % 6 {
                    0 | 1 => R::Integer((rnd() % 100_000) as i64 - 50_000),
                    2 => R::Real((rnd() % 10_000) as f64 / 8.0),
                    3 => R::Text(format!("{}{}", words[(rnd() % 8) as usize], rnd() % 500)),
                    4 => R::Blob(vec![(rnd() % 256) as u8; (rnd() % 4) as usize]),
                    _ => R::Null,
                };
                let b = format!("{}-{}", words[(rnd() % 8) as usize], rnd() % 3000);
                let c = (rnd() % 5 != 0).then(|| (rnd() % 1000) as f64 / 3.0);
                (a, b, c)
            })
            .collect();
        self.ours.execute_batch("BEGIN").unwrap();
        {
            let mut st = self
                .ours
                .prepare("INSERT INTO t(a, b, c) VALUES (?1, ?2, ?3)")
                .unwrap();
            for (a, b, c) in &rows {
                use rusqlite::types::Value as R;
                let a = match a {
                    R::Null => strata::Value::Null,
                    R::Integer(i) => strata::Value::Integer(*i),
                    R::Real(r) => strata::Value::Real(*r),
                    R::Text(t) => strata::Value::Text(t.clone().into_bytes()),
                    R::Blob(b) => strata::Value::Blob(b.clone()),
                };
                st.execute(strata::params![a, b.as_str(), *c]).unwrap();
            }
        }
        self.ours.execute_batch("COMMIT").unwrap();
        let tx = self.theirs.unchecked_transaction().unwrap();
        {
            let mut st = tx
                .prepare("INSERT INTO t(a, b, c) VALUES (?1, ?2, ?3)")
                .unwrap();
            for (a, b, c) in &rows {
                st.execute(rusqlite::params![a, b, c]).unwrap();
            }
        }
        tx.commit().unwrap();
    }

    /// Runs `sql` on both engines; the results must be equal, the sorter must have
    /// spilled (`spills`) or not (`None`: either; the plan decides), and its memory must have stayed under the budget.
    fn check(&self, sql: &str, spills: impl Into<Option<bool>>) -> usize {
        let spills: Option<bool> = spills.into();
        self.ours.reset_sorter_memory_high_water();
        let files_before = self.io.sorter_files.lock().unwrap().len();
        let ours = strata_rows(&self.ours, sql);
        let theirs = sqlite_rows(&self.theirs, sql);
        assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "{sql}: {ours:?} vs {theirs:?}"
        );
        if let (Ok(a), Ok(b)) = (&ours, &theirs) {
            assert_eq!(a.len(), b.len(), "{sql}: row counts");
            if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
                panic!("{sql}: row {i} differs: {:?} vs {:?}", a[i], b[i]);
            }
        } else {
            assert_eq!(ours, theirs, "{sql}");
        }
        let hw = self.ours.sorter_memory_high_water_bytes();
        assert!(
            hw <= BUDGET_KIB * 1024 + SLACK,
            "{sql}: sorter held {hw} bytes, budget {} KiB",
            BUDGET_KIB
        );
        if spills == Some(true) {
            // The accounting sees the records held: a spilling sort fills its budget.
            assert!(hw > BUDGET_KIB * 1024 / 2, "{sql}: high-water {hw} bytes");
        }
        if std::env::var_os("SORTER_BUDGET_VERBOSE").is_some() {
            eprintln!("{sql}: high-water {hw} bytes");
        }
        let files = self.io.sorter_files.lock().unwrap().clone();
        if let Some(spills) = spills {
            assert_eq!(
                files.len() > files_before,
                spills,
                "{sql}: temporary files opened: {}",
                files.len() - files_before
            );
        }
        self.assert_no_temp_files();
        ours.map_or(0, |r| r.len())
    }

    fn assert_no_temp_files(&self) {
        for f in self.io.sorter_files.lock().unwrap().iter() {
            assert!(!self.io.file_exists(f).unwrap(), "{f} was not removed");
        }
    }

    fn both(&self, sql: &str) {
        self.ours.execute_batch(sql).unwrap();
        self.theirs.execute_batch(sql).unwrap();
    }
}

const ROWS: usize = 200_000;

#[test]
fn order_by_under_a_tiny_budget_matches_sqlite() {
    let f = Fixture::new(MemoryIo::new());
    f.load(ROWS);
    // Mixed types (NULL < numbers < text < blob), ties broken by id so that the
    // expected order is total.
    assert_eq!(f.check("SELECT a, id FROM t ORDER BY a, id", true), ROWS);
    f.check("SELECT id, a, b FROM t ORDER BY a DESC, id DESC", true);
    f.check("SELECT b, id FROM t ORDER BY b COLLATE NOCASE, id", true);
    f.check(
        "SELECT b, id FROM t ORDER BY b COLLATE NOCASE DESC, id",
        true,
    );
    f.check(
        "SELECT b, c, id FROM t ORDER BY b COLLATE RTRIM, c, id",
        true,
    );
    f.check("SELECT c, id FROM t ORDER BY c NULLS LAST, id", true);
    f.check("SELECT c, id FROM t ORDER BY c DESC NULLS FIRST, id", true);
    f.check(
        "SELECT c, id FROM t ORDER BY c DESC NULLS LAST, id DESC",
        true,
    );
    // Wide rows: the payload columns ride in the sorter records.
    f.check(
        "SELECT id, a, b, c, b || b || b FROM t ORDER BY c, b, id",
        true,
    );
    // LIMIT/OFFSET after an external sort.
    f.check(
        "SELECT id FROM t ORDER BY b, id LIMIT 10 OFFSET 150000",
        true,
    );
    // A small sort stays in memory: no temporary file.
    f.check("SELECT id FROM t WHERE id < 100 ORDER BY b, id", false);
}

#[test]
fn group_by_and_distinct_aggregates_under_a_tiny_budget_match_sqlite() {
    let f = Fixture::new(MemoryIo::new());
    f.load(ROWS);
    f.check(
        "SELECT b, count(*), sum(c), min(a), max(id) FROM t GROUP BY b ORDER BY b",
        true,
    );
    f.check(
        "SELECT b COLLATE NOCASE AS k, count(*), total(c) FROM t GROUP BY k",
        true,
    );
    f.check("SELECT typeof(a), count(*) FROM t GROUP BY 1", true);
    f.check(
        "SELECT count(DISTINCT a), count(DISTINCT b), count(DISTINCT c) FROM t",
        false,
    );
    f.check("SELECT count(*) FROM (SELECT DISTINCT b FROM t)", false);
    f.check(
        "SELECT b FROM t WHERE id % 3 = 0 UNION SELECT b FROM t WHERE id % 5 = 0 ORDER BY 1",
        None,
    );
    // UNION and DISTINCT use ephemeral indexes, not the sorter.
    f.check(
        "SELECT b FROM t WHERE id % 3 = 0 UNION SELECT b FROM t WHERE id % 5 = 0",
        false,
    );
    f.check("SELECT DISTINCT b FROM t", false);
}

#[test]
fn create_index_under_a_tiny_budget_matches_sqlite() {
    let f = Fixture::new(MemoryIo::new());
    f.load(ROWS);
    f.ours.reset_sorter_memory_high_water();
    let before = f.io.sorter_files.lock().unwrap().len();
    f.both("CREATE INDEX ta ON t(a)");
    f.both("CREATE INDEX tbc ON t(b COLLATE NOCASE DESC, c)");
    assert!(f.io.sorter_files.lock().unwrap().len() >= before + 2);
    let hw = f.ours.sorter_memory_high_water_bytes();
    assert!(
        hw <= BUDGET_KIB * 1024 + SLACK,
        "CREATE INDEX held {hw} bytes"
    );
    f.assert_no_temp_files();
    // The indexes are complete, well formed and used.
    assert_eq!(
        strata_rows(&f.ours, "PRAGMA integrity_check").unwrap(),
        sqlite_rows(&f.theirs, "PRAGMA integrity_check").unwrap()
    );
    f.check("SELECT a, id FROM t INDEXED BY ta ORDER BY a", false);
    f.check(
        "SELECT b, c, id FROM t INDEXED BY tbc WHERE b > 'B' COLLATE NOCASE ORDER BY b COLLATE NOCASE DESC, c",
        false,
    );
    f.check("SELECT count(*) FROM t INDEXED BY ta WHERE a > 100", false);

    // UNIQUE: without duplicates it builds; with duplicates it fails with SQLite's
    // message and leaves nothing behind.
    f.both("CREATE UNIQUE INDEX tu ON t(b, id)");
    f.check("SELECT b, id FROM t INDEXED BY tu ORDER BY b, id", None);
    let ours = f
        .ours
        .execute_batch("CREATE UNIQUE INDEX tdup ON t(b)")
        .unwrap_err();
    let theirs = f
        .theirs
        .execute_batch("CREATE UNIQUE INDEX tdup ON t(b)")
        .unwrap_err();
    assert_eq!(ours.to_string(), common::sqlite_message(theirs));
    f.assert_no_temp_files();
    f.check("SELECT name FROM sqlite_master ORDER BY name", false);
    // NULLs never conflict in a UNIQUE index.
    f.both("CREATE TABLE n(x); INSERT INTO n SELECT CASE WHEN id % 2 THEN NULL ELSE id END FROM t");
    f.both("CREATE UNIQUE INDEX nx ON n(x)");
    f.check(
        "SELECT count(*), count(x) FROM n INDEXED BY nx WHERE x IS NULL OR x > 0",
        false,
    );
    assert_eq!(
        strata_rows(&f.ours, "PRAGMA integrity_check").unwrap(),
        sqlite_rows(&f.theirs, "PRAGMA integrity_check").unwrap()
    );
}

/// CREATE INDEX over first fields of every type with many equal ones (what the sort's
/// and the bulk load's comparison shortcuts see: integer and BINARY text first fields
/// compared without decoding, equal ones decided by the rest, other types and collations
/// by the full comparison), ascending and descending, under the tiny budget: the same
/// index as SQLite's, entry for entry, and a well-formed file.
#[test]
fn create_index_over_mixed_first_fields_matches_sqlite() {
    let f = Fixture::new(MemoryIo::new());
    f.both("CREATE TABLE m(id INTEGER PRIMARY KEY, x, y)");
    f.both(
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 40000) \
         INSERT INTO m(x, y) SELECT CASE i % 6 WHEN 0 THEN i % 97 - 40 WHEN 1 THEN 'k' || (i % 89) \
         WHEN 2 THEN (i % 13) / 4.0 WHEN 3 THEN NULL WHEN 4 THEN x'00ff' || (i % 7) \
         ELSE upper('k' || (i % 31)) END, i % 3 FROM c",
    );
    for ddl in [
        "CREATE INDEX mx ON m(x)",
        "CREATE INDEX mxd ON m(x DESC, y)",
        "CREATE INDEX mxn ON m(x COLLATE NOCASE, y DESC)",
        "CREATE INDEX my ON m(y, x)",
    ] {
        f.both(ddl);
    }
    f.check("SELECT x, id FROM m INDEXED BY mx ORDER BY x", false);
    f.check(
        "SELECT x, y, id FROM m INDEXED BY mxd ORDER BY x DESC, y",
        false,
    );
    f.check(
        "SELECT x, y, id FROM m INDEXED BY mxn ORDER BY x COLLATE NOCASE, y DESC",
        false,
    );
    f.check("SELECT y, x, id FROM m INDEXED BY my ORDER BY y, x", false);
    f.check("SELECT count(*) FROM m INDEXED BY mx WHERE x > 'k5'", false);
    assert_eq!(
        strata_rows(&f.ours, "PRAGMA integrity_check").unwrap(),
        sqlite_rows(&f.theirs, "PRAGMA integrity_check").unwrap()
    );
}

/// Every write and read of the temporary file completes only in `run_once`: the sorter's
/// instructions return `Io` and are run again, and must resume where they were.
#[test]
fn deferred_completion_io_gives_the_same_results() {
    let f = Fixture::new(MemoryIo::new_deferred());
    f.load(60_000);
    f.check("SELECT a, b, id FROM t ORDER BY a DESC, b, id", true);
    f.check("SELECT b, count(*), sum(c) FROM t GROUP BY b", true);
    f.both("CREATE INDEX tb ON t(b, a)");
    f.assert_no_temp_files();
    f.check(
        "SELECT b, a, id FROM t INDEXED BY tb ORDER BY b, a, id",
        None,
    );
    assert_eq!(
        strata_rows(&f.ours, "PRAGMA integrity_check").unwrap(),
        vec![vec![common::V::Text(b"ok".to_vec())]]
    );
}

/// A write error on a run fails the statement with an I/O error (no panic, no partial
/// result), removes the temporary file, and leaves the connection usable.
#[test]
fn write_error_on_a_run_fails_cleanly() {
    let f = Fixture::new(MemoryIo::new());
    f.load(50_000);
    f.io.fail_sorter_writes.store(true, Ordering::Relaxed);
    let err = strata_rows(&f.ours, "SELECT b, id FROM t ORDER BY b, id").unwrap_err();
    assert!(err.contains("disk I/O error"), "{err}");
    assert!(f.io.sorter_writes.load(Ordering::Relaxed) > 0);
    f.assert_no_temp_files();
    let err = f.ours.execute_batch("CREATE INDEX tb ON t(b)").unwrap_err();
    assert!(err.to_string().contains("disk I/O error"), "{err}");
    f.assert_no_temp_files();
    f.io.fail_sorter_writes.store(false, Ordering::Relaxed);
    // The failed CREATE INDEX left no index; the connection works.
    f.check("SELECT name FROM sqlite_master", false);
    f.both("CREATE INDEX tb ON t(b)");
    f.check("SELECT b, id FROM t INDEXED BY tb ORDER BY b, id", None);
}

#[test]
fn the_budget_pragma_reads_back_and_resets() {
    let f = Fixture::new(MemoryIo::new());
    let get = |c: &Connection| -> i64 {
        c.query_row("PRAGMA strata_sorter_budget_kib", (), |r| r.get(0))
            .unwrap()
    };
    assert_eq!(get(&f.ours), BUDGET_KIB as i64);
    f.ours
        .execute_batch("PRAGMA strata_sorter_budget_kib = 0")
        .unwrap();
    // The default: cache_size (-2000, i.e. 2000 KiB), at least 1 MiB.
    assert_eq!(get(&f.ours), 2000);
    f.ours.execute_batch("PRAGMA cache_size = 100").unwrap();
    assert_eq!(get(&f.ours), 1024);
    f.ours.execute_batch("PRAGMA cache_size = 1000").unwrap();
    assert_eq!(get(&f.ours), 4000);
    f.ours
        .execute_batch("PRAGMA strata_sorter_budget_kib = 1")
        .unwrap();
    assert_eq!(get(&f.ours), 4);
    f.ours.set_sorter_budget_bytes(Some(1000));
    assert_eq!(get(&f.ours), 4, "raised to the minimum");
    f.ours.set_sorter_budget_bytes(Some(1 << 20));
    assert_eq!(get(&f.ours), 1024);
}
