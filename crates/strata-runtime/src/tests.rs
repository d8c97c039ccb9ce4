//! Scheduling tests: many tenants on one loop, fairness under a long scan, shutdown.
//! Orderings are made deterministic by a "gate" job that keeps the loop busy (yielding)
//! until every job of the test is queued.

use super::*;
use std::sync::atomic::AtomicUsize;

fn memory_opener() -> Opener {
    Arc::new(|ns: &str, io: Arc<dyn IO>| strata::OpenOptions::new().io(io).open(format!("{ns}.db")))
}

fn runtime(loops: usize, budget: Option<u64>, io: IoBackend) -> Runtime {
    Runtime::start(
        RuntimeOptions {
            loops,
            insn_budget: budget,
            io,
            max_open_databases: None,
        },
        memory_opener(),
    )
    .unwrap()
}

/// A job that runs `sql` on a fresh connection (one `step` per poll) and returns its
/// rows, calling `on_row` for each row as it arrives.
fn query_job(
    sql: &str,
    mut on_row: impl FnMut(&[strata::Value]) + Send + 'static,
) -> impl Job<strata::Result<Vec<Vec<strata::Value>>>> {
    let sql = sql.to_string();
    let mut state: Option<(strata::Connection, Statement)> = None;
    let mut rows = Vec::new();
    move |cx: &mut JobCx<'_>| {
        if state.is_none() {
            let conn = cx.database().connect();
            match cx.prepare(&conn, &sql) {
                Ok(stmt) => state = Some((conn, stmt)),
                Err(e) => return JobStep::Done(Err(e)),
            }
        }
        let (_, stmt) = state.as_mut().unwrap();
        match cx.step(stmt) {
            Err(e) => JobStep::Done(Err(e)),
            Ok(Ok(true)) => {
                let row = stmt.row().values();
                on_row(&row);
                rows.push(row);
                JobStep::Yield
            }
            Ok(Ok(false)) => JobStep::Done(Ok(std::mem::take(&mut rows))),
            Ok(Err(wait)) => wait,
        }
    }
}

/// Runs `sql` (several statements) with the blocking API on the namespace's loop.
fn exec(rt: &Runtime, ns: &str, sql: &str) {
    let sql = sql.to_string();
    rt.submit(ns, move |cx: &mut JobCx<'_>| {
        JobStep::Done(cx.database().connect().execute_batch(&sql))
    })
    .wait()
    .unwrap()
    .unwrap();
}

/// A job that yields until `open` is set.
fn gate(rt: &Runtime, ns: &str) -> (Arc<AtomicBool>, JobHandle<()>) {
    let open = Arc::new(AtomicBool::new(false));
    let o = open.clone();
    let h = rt.submit(ns, move |_: &mut JobCx<'_>| {
        if o.load(Ordering::Acquire) {
            JobStep::Done(())
        } else {
            std::thread::yield_now();
            JobStep::Yield
        }
    });
    (open, h)
}

#[test]
fn many_tenants_interleave_on_one_loop() {
    let rt = runtime(1, Some(1000), IoBackend::MemoryDeferred);
    let tenants: Vec<String> = (0..20).map(|i| format!("tenant{i}")).collect();
    for (i, t) in tenants.iter().enumerate() {
        exec(
            &rt,
            t,
            &format!(
                "CREATE TABLE t(x); INSERT INTO t VALUES ({i}),({i}+100),({i}+200),({i}+300);"
            ),
        );
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let (open, g) = gate(&rt, "gate");
    let handles: Vec<_> = tenants
        .iter()
        .map(|t| {
            let log = log.clone();
            let name = t.clone();
            rt.submit(
                t,
                query_job("SELECT x FROM t ORDER BY x", move |_| {
                    log.lock().unwrap().push(name.clone())
                }),
            )
        })
        .collect();
    open.store(true, Ordering::Release);
    g.wait().unwrap();
    for (i, h) in handles.into_iter().enumerate() {
        let rows = h.wait().unwrap().unwrap();
        let want: Vec<Vec<strata::Value>> = (0..4)
            .map(|k| vec![strata::Value::Integer(i as i64 + 100 * k)])
            .collect();
        assert_eq!(rows, want, "tenant{i}");
    }
    // Round-robin: every tenant produced its first row before any produced its last.
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 80);
    let first_20: std::collections::HashSet<_> = log[..20].iter().collect();
    assert_eq!(
        first_20.len(),
        20,
        "first rows came from every tenant: {log:?}"
    );
    rt.shutdown();
}

#[test]
fn long_scan_does_not_starve_short_queries() {
    for (budget, short_first) in [(Some(500), true), (None, false)] {
        let rt = runtime(1, budget, IoBackend::Memory);
        exec(
            &rt,
            "big",
            "CREATE TABLE t(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c \
             WHERE i < 20000) INSERT INTO t SELECT i FROM c;",
        );
        exec(&rt, "small", "CREATE TABLE s(y); INSERT INTO s VALUES (7);");
        let order = Arc::new(Mutex::new(Vec::new()));
        let (open, g) = gate(&rt, "gate");
        let o1 = order.clone();
        let long = rt.submit(
            "big",
            query_job("SELECT count(*), sum(x) FROM t", move |_| {
                o1.lock().unwrap().push("long")
            }),
        );
        let o2 = order.clone();
        let short = rt.submit(
            "small",
            query_job("SELECT y FROM s", move |_| o2.lock().unwrap().push("short")),
        );
        open.store(true, Ordering::Release);
        g.wait().unwrap();
        assert_eq!(
            long.wait().unwrap().unwrap(),
            vec![vec![
                strata::Value::Integer(20000),
                strata::Value::Integer(200010000)
            ]]
        );
        assert_eq!(
            short.wait().unwrap().unwrap(),
            vec![vec![strata::Value::Integer(7)]]
        );
        let order = order.lock().unwrap().clone();
        // With a budget the one-row short query overtakes the scan; without one the scan
        // holds the loop until its row (the control case shows the test can fail).
        let want = if short_first {
            ["short", "long"]
        } else {
            ["long", "short"]
        };
        assert_eq!(order, want, "budget {budget:?}");
        rt.shutdown();
    }
}

#[test]
fn budget_yields_do_not_change_results() {
    // The same queries with a tiny budget (yield every few instructions) and none.
    let sql = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 300) \
               SELECT i % 7, count(*), group_concat(i) FROM c GROUP BY 1 ORDER BY 1";
    let mut results = Vec::new();
    for budget in [Some(1), Some(3), Some(100), None] {
        let rt = runtime(1, budget, IoBackend::MemoryDeferred);
        exec(&rt, "n", "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
        exec(
            &rt,
            "n",
            "INSERT INTO t(b) SELECT 'v' || value FROM (WITH RECURSIVE c(value) AS \
             (SELECT 1 UNION ALL SELECT value+1 FROM c WHERE value < 50) SELECT value FROM c)",
        );
        let a = rt
            .submit("n", query_job(sql, |_| {}))
            .wait()
            .unwrap()
            .unwrap();
        let b = rt
            .submit("n", query_job("SELECT a, b FROM t WHERE a % 3 = 0", |_| {}))
            .wait()
            .unwrap()
            .unwrap();
        results.push((a, b));
        rt.shutdown();
    }
    // SQLite's answers.
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    lite.execute_batch(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); INSERT INTO t(b) SELECT 'v' || value \
         FROM (WITH RECURSIVE c(value) AS (SELECT 1 UNION ALL SELECT value+1 FROM c WHERE \
         value < 50) SELECT value FROM c)",
    )
    .unwrap();
    let lite_rows = |sql: &str| -> Vec<Vec<strata::Value>> {
        let mut st = lite.prepare(sql).unwrap();
        let n = st.column_count();
        st.query_map([], |r| {
            Ok((0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => strata::Value::Null,
                    rusqlite::types::ValueRef::Integer(v) => strata::Value::Integer(v),
                    rusqlite::types::ValueRef::Real(v) => strata::Value::Real(v),
                    rusqlite::types::ValueRef::Text(v) => strata::Value::Text(v.to_vec()),
                    rusqlite::types::ValueRef::Blob(v) => strata::Value::Blob(v.to_vec()),
                })
                .collect())
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    assert_eq!(results[0].0, lite_rows(sql));
    assert_eq!(
        results[0].1,
        lite_rows("SELECT a, b FROM t WHERE a % 3 = 0")
    );
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
    }
}

#[test]
fn namespaces_are_pinned_by_a_stable_hash() {
    let rt = runtime(4, None, IoBackend::Memory);
    let a = rt.loop_of("alpha");
    assert_eq!(a, rt.loop_of("alpha"));
    let used: std::collections::HashSet<_> =
        (0..64).map(|i| rt.loop_of(&format!("ns{i}"))).collect();
    assert_eq!(used.len(), 4, "64 names spread over every loop");
    // The job runs on the loop's thread.
    let name = rt
        .submit("alpha", |_: &mut JobCx<'_>| {
            JobStep::Done(std::thread::current().name().map(String::from))
        })
        .wait()
        .unwrap();
    assert_eq!(name.as_deref(), Some(format!("strata-loop-{a}").as_str()));
    rt.shutdown();
}

#[test]
fn submit_if_open_does_not_open() {
    let rt = runtime(1, None, IoBackend::Memory);
    let dropped = Arc::new(AtomicBool::new(false));
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let f = Flag(dropped.clone());
    let r = rt
        .submit_if_open("closed", move |_: &mut JobCx<'_>| {
            let _keep = &f;
            JobStep::Done(())
        })
        .wait();
    assert_eq!(r, Err(RuntimeError::NotOpen));
    assert!(dropped.load(Ordering::Acquire), "the job was dropped");
    exec(&rt, "closed", "CREATE TABLE t(x)");
    let r = rt
        .submit_if_open("closed", |_: &mut JobCx<'_>| JobStep::Done(1))
        .wait();
    assert_eq!(r, Ok(1));
    rt.close_namespace("closed").wait().unwrap();
    let r = rt
        .submit_if_open("closed", |_: &mut JobCx<'_>| JobStep::Done(1))
        .wait();
    assert_eq!(r, Err(RuntimeError::NotOpen));
    rt.shutdown();
}

#[test]
fn panicking_job_fails_alone() {
    let rt = runtime(1, None, IoBackend::Memory);
    let h = rt.submit("p", |_: &mut JobCx<'_>| -> JobStep<()> { panic!("boom") });
    assert_eq!(h.wait(), Err(RuntimeError::Panicked));
    let v = rt
        .submit("p", |_: &mut JobCx<'_>| JobStep::Done(5))
        .wait()
        .unwrap();
    assert_eq!(v, 5);
    rt.shutdown();
}

#[test]
fn open_failure_is_reported() {
    let opener: Opener = Arc::new(|ns: &str, _io: Arc<dyn IO>| {
        Err(strata::Error::new(
            strata::ErrorCode::Error,
            format!("no namespace {ns}"),
        ))
    });
    let rt = Runtime::start(
        RuntimeOptions {
            loops: 1,
            insn_budget: None,
            io: IoBackend::Memory,
            max_open_databases: None,
        },
        opener,
    )
    .unwrap();
    match rt.submit("x", |_: &mut JobCx<'_>| JobStep::Done(())).wait() {
        Err(RuntimeError::Open(e)) => assert_eq!(e.to_string(), "no namespace x"),
        other => panic!("{other:?}"),
    }
    rt.shutdown();
}

#[test]
fn shutdown_finishes_accepted_jobs_and_refuses_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let opener: Opener = Arc::new(move |ns: &str, io: Arc<dyn IO>| {
        strata::OpenOptions::new()
            .io(io)
            .open(root.join(format!("{ns}.db")))
    });
    let rt = Runtime::start(
        RuntimeOptions {
            loops: 2,
            insn_budget: Some(50),
            io: IoBackend::Syscall,
            max_open_databases: None,
        },
        opener,
    )
    .unwrap();
    exec(
        &rt,
        "a",
        "CREATE TABLE t(x); INSERT INTO t VALUES (1),(2),(3)",
    );
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    // Accepted before shutdown: runs to the end, however many polls it takes.
    let mut left = 200;
    let slow = rt.submit("a", move |_: &mut JobCx<'_>| {
        p.fetch_add(1, Ordering::Relaxed);
        left -= 1;
        if left == 0 {
            JobStep::Done("finished")
        } else {
            JobStep::Yield
        }
    });
    let scan = rt.submit("a", query_job("SELECT x FROM t", |_| {}));
    rt.shutdown();
    assert!(rt.is_shut_down());
    assert_eq!(slow.wait(), Ok("finished"));
    assert_eq!(polls.load(Ordering::Relaxed), 200);
    assert_eq!(scan.wait().unwrap().unwrap().len(), 3);
    assert_eq!(
        rt.submit("a", |_: &mut JobCx<'_>| JobStep::Done(())).wait(),
        Err(RuntimeError::ShutDown)
    );
    // The database was closed: it can be opened again (the file lock is released).
    let db = strata::Database::open(dir.path().join("a.db")).unwrap();
    let n: i64 = db
        .connect()
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn handles_are_futures() {
    // Poll a handle with a minimal executor: it resolves through its waker.
    struct ThreadWaker(std::thread::Thread);
    impl std::task::Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let rt = runtime(2, None, IoBackend::Memory);
    let mut fut = Box::pin(rt.submit("f", |_: &mut JobCx<'_>| JobStep::Done(42)));
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let v = loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => break v,
            Poll::Pending => std::thread::park(),
        }
    };
    assert_eq!(v, Ok(42));
    rt.shutdown();
}

/// A job waiting on io_uring I/O finishes while another job keeps the loop busy (it
/// yields, never parks): between polls the loop hands queued operations to the kernel
/// and resumes the waiting job once a completion fired. Before `IO::run_ready`, the
/// write's I/O only started when the loop ran dry, which the spinner never lets happen:
/// it gives up after a guard of 10 s and reports that it never saw the write finish.
#[test]
fn io_waits_progress_while_other_jobs_keep_the_loop_busy() {
    if strata::io::UringIo::new().is_err() {
        eprintln!("skipped: io_uring unavailable (the syscall backend completes inline)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let opener: Opener = Arc::new(move |ns: &str, io: Arc<dyn IO>| {
        strata::OpenOptions::new()
            .io(io)
            .open(root.join(format!("{ns}.db")))
    });
    let rt = Runtime::start(
        RuntimeOptions {
            loops: 1,
            insn_budget: None,
            io: IoBackend::Auto,
            max_open_databases: None,
        },
        opener,
    )
    .unwrap();
    exec(&rt, "w", "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    exec(&rt, "s", "SELECT 1");
    let written = Arc::new(AtomicBool::new(false));
    let w = written.clone();
    let mut insert = query_job("INSERT INTO t VALUES (2)", |_| {});
    let writer = rt.submit("w", move |cx: &mut JobCx<'_>| match insert(cx) {
        JobStep::Done(r) => {
            w.store(true, Ordering::Release);
            JobStep::Done(r)
        }
        other => other,
    });
    let w = written.clone();
    let started = std::time::Instant::now();
    let spinner = rt.submit("s", move |_: &mut JobCx<'_>| {
        if w.load(Ordering::Acquire) {
            JobStep::Done(true)
        } else if started.elapsed() > Duration::from_secs(10) {
            JobStep::Done(false)
        } else {
            JobStep::Yield
        }
    });
    assert!(
        spinner.wait().unwrap(),
        "the write never finished while the loop was busy"
    );
    writer.wait().unwrap().unwrap();
    let rows = rt
        .submit("w", query_job("SELECT count(*) FROM t", |_| {}))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(rows, vec![vec![strata::Value::Integer(2)]]);
    rt.shutdown();
}

/// `max_open_databases`: past the limit the least recently used database that nothing
/// else holds is closed, and reopened (same file, same data) by its next job; one held
/// by a connection outside the loop is never closed under it.
#[test]
fn idle_databases_past_the_limit_are_closed_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let opens = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = opens.clone();
    let opener: Opener = Arc::new(move |ns: &str, io: Arc<dyn IO>| {
        log.lock().unwrap().push(ns.to_string());
        strata::OpenOptions::new()
            .io(io)
            .open(root.join(format!("{ns}.db")))
    });
    let rt = Runtime::start(
        RuntimeOptions {
            loops: 1,
            insn_budget: None,
            io: IoBackend::Syscall,
            max_open_databases: Some(2),
        },
        opener,
    )
    .unwrap();
    let opened = || opens.lock().unwrap().join(",");
    for ns in ["a", "b", "c"] {
        exec(
            &rt,
            ns,
            &format!("CREATE TABLE t(x); INSERT INTO t VALUES ('{ns}')"),
        );
    }
    assert_eq!(opened(), "a,b,c", "c's open closed a (least recently used)");
    // A connection to `a` kept outside the loop: `a` is open again and now in use.
    let held = rt
        .submit("a", |cx: &mut JobCx<'_>| {
            JobStep::Done(cx.database().connect())
        })
        .wait()
        .unwrap();
    assert_eq!(opened(), "a,b,c,a", "reopening a closed b");
    exec(&rt, "c", "INSERT INTO t VALUES ('c2')");
    exec(&rt, "b", "INSERT INTO t VALUES ('b2')");
    // b's reopen had to close one of a (held, least recently used) and c: c went.
    assert_eq!(opened(), "a,b,c,a,b");
    let rows = |ns: &str| {
        rt.submit(ns, query_job("SELECT x FROM t ORDER BY x", |_| {}))
            .wait()
            .unwrap()
            .unwrap()
    };
    assert_eq!(rows("a"), vec![vec![strata::Value::Text("a".into())]]);
    assert_eq!(opened(), "a,b,c,a,b", "a stayed open while held");
    let n: i64 = held
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "the held connection still works");
    assert_eq!(rows("c").len(), 2, "c's rows survived its close and reopen");
    assert_eq!(rows("b").len(), 2);
    drop(held);
    rt.shutdown();
}
