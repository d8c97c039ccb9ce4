//! One conformance suite, run against every backend: the contract in `strata_io`'s crate
//! docs is what upper layers rely on, so each backend must pass the same checks.

use std::io::ErrorKind;
use std::sync::Arc;

use strata_io::{
    wait, Completion, File, IoError, LockKind, MemoryIo, OpenFlags, Result, SyscallIo, IO,
};

/// A backend under test plus where its files live.
struct Backend {
    name: &'static str,
    io: Arc<dyn IO>,
    /// Keeps the on-disk directory alive for the OS backends.
    dir: Option<tempfile::TempDir>,
}

impl Backend {
    fn path(&self, name: &str) -> String {
        match &self.dir {
            Some(dir) => dir.path().join(name).to_string_lossy().into_owned(),
            None => format!("/mem/{name}"),
        }
    }

    fn io(&self) -> &dyn IO {
        &*self.io
    }
}

fn on_disk(name: &'static str, io: Arc<dyn IO>) -> Backend {
    let dir = tempfile::tempdir().expect("tempdir");
    Backend {
        name,
        io,
        dir: Some(dir),
    }
}

fn make_backend(kind: &str) -> Option<Backend> {
    match kind {
        "syscall" => Some(on_disk("syscall", Arc::new(SyscallIo::new()))),
        "uring" | "uring_tiny" => {
            let made = if kind == "uring" {
                strata_io::UringIo::new()
            } else {
                // 8 submission slots: many-in-flight tests overflow the queue on purpose.
                strata_io::UringIo::with_entries(8)
            };
            match made {
                Ok(io) => Some(on_disk(
                    if kind == "uring" {
                        "uring"
                    } else {
                        "uring_tiny"
                    },
                    Arc::new(io),
                )),
                Err(e) => {
                    eprintln!("NOTICE: skipping {kind}: io_uring unavailable: {e}");
                    None
                }
            }
        }
        "memory" => Some(Backend {
            name: "memory",
            io: Arc::new(MemoryIo::new()),
            dir: None,
        }),
        "memory_deferred" => Some(Backend {
            name: "memory_deferred",
            io: Arc::new(MemoryIo::new_deferred()),
            dir: None,
        }),
        "memory_shuffled" => Some(Backend {
            name: "memory_shuffled",
            io: Arc::new(MemoryIo::new_shuffled(0xC0FFEE)),
            dir: None,
        }),
        other => panic!("unknown backend {other}"),
    }
}

/// Submits (through `submit`) and drives the IO until `c` is done: a submission error and
/// an operation error look the same to the test.
fn run(io: &dyn IO, submitted: Result<()>, c: &Completion) -> Result<usize> {
    submitted?;
    wait(io, c)
}

fn write_at(b: &Backend, f: &dyn File, offset: u64, data: &[u8]) -> Result<usize> {
    let c = Completion::write(data.to_vec());
    run(b.io(), f.pwrite(offset, &c), &c)
}

fn read_at(b: &Backend, f: &dyn File, offset: u64, len_bytes: usize) -> Result<Vec<u8>> {
    let c = Completion::read(len_bytes);
    let n = run(b.io(), f.pread(offset, &c), &c)?;
    let mut buf = c.take_buf();
    assert!(
        n <= len_bytes,
        "{}: read reported {n} bytes for a {len_bytes}-byte request",
        b.name
    );
    buf.truncate(n);
    Ok(buf)
}

fn sync(b: &Backend, f: &dyn File) -> Result<usize> {
    let c = Completion::sync();
    run(b.io(), f.sync(&c), &c)
}

fn truncate(b: &Backend, f: &dyn File, size_bytes: u64) -> Result<usize> {
    let c = Completion::truncate();
    run(b.io(), f.truncate(size_bytes, &c), &c)
}

fn create(b: &Backend, name: &str) -> Arc<dyn File> {
    b.io()
        .open_file(&b.path(name), OpenFlags::CREATE)
        .expect("create file")
}

/// Deterministic, position-dependent bytes, so a block landing at the wrong offset shows.
fn pattern(seed: u64, len_bytes: usize) -> Vec<u8> {
    (0..len_bytes)
        .map(|i| {
            ((i as u64)
                .wrapping_mul(31)
                .wrapping_add(seed.wrapping_mul(131))
                % 251) as u8
        })
        .collect()
}

/// Drives the IO until every completion is done, failing if it stops making progress.
fn drive_all(b: &Backend, completions: &[Completion]) {
    for _ in 0..100_000 {
        if completions.iter().all(Completion::is_done) {
            return;
        }
        b.io().run_once().expect("run_once");
    }
    panic!("{}: completions never finished", b.name);
}

// ---------------------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------------------

fn round_trip(b: &Backend) {
    let f = create(b, "rt");
    let data = pattern(1, 3000);
    assert_eq!(write_at(b, &*f, 0, &data).unwrap(), 3000, "{}", b.name);
    assert_eq!(write_at(b, &*f, 3000, b"tail").unwrap(), 4, "{}", b.name);
    let back = read_at(b, &*f, 0, 3004).unwrap();
    assert_eq!(&back[..3000], &data[..], "{}", b.name);
    assert_eq!(&back[3000..], b"tail", "{}", b.name);
    // Overwrite in the middle.
    write_at(b, &*f, 10, b"XYZ").unwrap();
    assert_eq!(
        read_at(b, &*f, 8, 7).unwrap(),
        [data[8], data[9], b'X', b'Y', b'Z', data[13], data[14]]
    );
}

fn large_transfer(b: &Backend) {
    let f = create(b, "large");
    let data = pattern(7, 3 * 1024 * 1024 + 17);
    assert_eq!(
        write_at(b, &*f, 4096, &data).unwrap(),
        data.len(),
        "{}",
        b.name
    );
    assert_eq!(
        read_at(b, &*f, 4096, data.len()).unwrap(),
        data,
        "{}",
        b.name
    );
    assert_eq!(
        read_at(b, &*f, 0, 4096).unwrap(),
        vec![0; 4096],
        "{}: hole reads as zeros",
        b.name
    );
}

fn many_in_flight(b: &Backend) {
    const BLOCKS: usize = 200;
    const BLOCK_BYTES: usize = 4096;
    let f = create(b, "many");
    let writes: Vec<Completion> = (0..BLOCKS)
        .map(|i| {
            let c = Completion::write(pattern(i as u64, BLOCK_BYTES));
            f.pwrite((i * BLOCK_BYTES) as u64, &c)
                .expect("submit write");
            c
        })
        .collect();
    drive_all(b, &writes);
    for (i, c) in writes.iter().enumerate() {
        assert_eq!(
            c.result().unwrap().unwrap(),
            BLOCK_BYTES,
            "{}: write {i}",
            b.name
        );
    }
    // Reads in reverse order, so no backend gets away with assuming sequential access.
    let reads: Vec<(usize, Completion)> = (0..BLOCKS)
        .rev()
        .map(|i| {
            let c = Completion::read(BLOCK_BYTES);
            f.pread((i * BLOCK_BYTES) as u64, &c).expect("submit read");
            (i, c)
        })
        .collect();
    let just_reads: Vec<Completion> = reads.iter().map(|(_, c)| c.clone()).collect();
    drive_all(b, &just_reads);
    for (i, c) in &reads {
        assert_eq!(
            c.result().unwrap().unwrap(),
            BLOCK_BYTES,
            "{}: read {i}",
            b.name
        );
        assert!(
            *c.buf() == pattern(*i as u64, BLOCK_BYTES),
            "{}: block {i} has wrong bytes",
            b.name
        );
    }
    assert_eq!(
        f.size_bytes().unwrap(),
        (BLOCKS * BLOCK_BYTES) as u64,
        "{}",
        b.name
    );
}

fn many_files_interleaved(b: &Backend) {
    let files: Vec<Arc<dyn File>> = (0..5).map(|i| create(b, &format!("multi{i}"))).collect();
    let mut all = Vec::new();
    for round in 0..10u64 {
        for (i, f) in files.iter().enumerate() {
            let c = Completion::write(pattern(round * 10 + i as u64, 512));
            f.pwrite(round * 512, &c).unwrap();
            all.push(c);
        }
    }
    drive_all(b, &all);
    for (i, f) in files.iter().enumerate() {
        let back = read_at(b, &**f, 0, 10 * 512).unwrap();
        for round in 0..10u64 {
            let r = round as usize;
            assert!(
                back[r * 512..(r + 1) * 512] == pattern(round * 10 + i as u64, 512),
                "{}: file {i} round {round}",
                b.name
            );
        }
    }
}

fn short_read_at_eof(b: &Backend) {
    let f = create(b, "short");
    let data = pattern(3, 100);
    write_at(b, &*f, 0, &data).unwrap();
    assert_eq!(read_at(b, &*f, 0, 4096).unwrap(), data, "{}", b.name);
    assert_eq!(read_at(b, &*f, 50, 100).unwrap(), &data[50..], "{}", b.name);
    assert_eq!(read_at(b, &*f, 99, 2).unwrap(), &data[99..], "{}", b.name);
}

fn read_past_eof(b: &Backend) {
    let f = create(b, "past");
    assert_eq!(
        read_at(b, &*f, 0, 10).unwrap().len(),
        0,
        "{}: empty file",
        b.name
    );
    write_at(b, &*f, 0, b"0123456789").unwrap();
    assert_eq!(
        read_at(b, &*f, 10, 10).unwrap().len(),
        0,
        "{}: read at size",
        b.name
    );
    assert_eq!(
        read_at(b, &*f, 1_000_000, 10).unwrap().len(),
        0,
        "{}: far past",
        b.name
    );
}

fn zero_length(b: &Backend) {
    let f = create(b, "zero");
    assert_eq!(write_at(b, &*f, 0, b"").unwrap(), 0, "{}", b.name);
    assert_eq!(f.size_bytes().unwrap(), 0, "{}", b.name);
    write_at(b, &*f, 0, b"abc").unwrap();
    assert_eq!(read_at(b, &*f, 1, 0).unwrap().len(), 0, "{}", b.name);
}

fn truncate_shrink_extend(b: &Backend) {
    let f = create(b, "trunc");
    let data = pattern(5, 8192);
    write_at(b, &*f, 0, &data).unwrap();
    truncate(b, &*f, 100).unwrap();
    assert_eq!(f.size_bytes().unwrap(), 100, "{}", b.name);
    assert_eq!(
        read_at(b, &*f, 0, 8192).unwrap(),
        &data[..100],
        "{}",
        b.name
    );
    truncate(b, &*f, 5000).unwrap();
    assert_eq!(f.size_bytes().unwrap(), 5000, "{}", b.name);
    let back = read_at(b, &*f, 0, 8192).unwrap();
    assert_eq!(back.len(), 5000, "{}", b.name);
    assert_eq!(&back[..100], &data[..100], "{}", b.name);
    assert!(
        back[100..].iter().all(|&x| x == 0),
        "{}: extension must be zeros",
        b.name
    );
    truncate(b, &*f, 0).unwrap();
    assert_eq!(f.size_bytes().unwrap(), 0, "{}", b.name);
}

fn sync_completes(b: &Backend) {
    let f = create(b, "sync");
    write_at(b, &*f, 0, b"durable").unwrap();
    assert_eq!(sync(b, &*f).unwrap(), 0, "{}", b.name);
    // Sync of an untouched file, and several syncs in flight together.
    let cs: Vec<Completion> = (0..4)
        .map(|_| {
            let c = Completion::sync();
            f.sync(&c).unwrap();
            c
        })
        .collect();
    drive_all(b, &cs);
    for c in &cs {
        assert!(c.result().unwrap().is_ok(), "{}", b.name);
    }
}

fn size_bytes_tracks_writes(b: &Backend) {
    let f = create(b, "size");
    assert_eq!(f.size_bytes().unwrap(), 0, "{}", b.name);
    write_at(b, &*f, 10_000, b"0123456789").unwrap();
    assert_eq!(f.size_bytes().unwrap(), 10_010, "{}", b.name);
    assert_eq!(
        read_at(b, &*f, 9_998, 4).unwrap(),
        [0, 0, b'0', b'1'],
        "{}",
        b.name
    );
}

fn reopen_sees_data(b: &Backend) {
    let path = b.path("reopen");
    assert!(!b.io().file_exists(&path).unwrap(), "{}", b.name);
    {
        let f = b.io().open_file(&path, OpenFlags::CREATE).unwrap();
        write_at(b, &*f, 0, b"persisted").unwrap();
        sync(b, &*f).unwrap();
    }
    assert!(b.io().file_exists(&path).unwrap(), "{}", b.name);
    let f = b.io().open_file(&path, OpenFlags::READ_WRITE).unwrap();
    assert_eq!(read_at(b, &*f, 0, 100).unwrap(), b"persisted", "{}", b.name);
    // A second handle open at the same time sees writes made through the first.
    let g = b.io().open_file(&path, OpenFlags::READ_ONLY).unwrap();
    write_at(b, &*f, 0, b"P").unwrap();
    assert_eq!(read_at(b, &*g, 0, 100).unwrap(), b"Persisted", "{}", b.name);
    drop((f, g));
    b.io().remove_file(&path).unwrap();
    assert!(!b.io().file_exists(&path).unwrap(), "{}", b.name);
    b.io()
        .remove_file(&path)
        .expect("removing a missing file is not an error");
    let err = b
        .io()
        .open_file(&path, OpenFlags::READ_WRITE)
        .err()
        .expect("removed");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{}", b.name);
}

fn expect_locked(b: &Backend, r: Result<()>, what: &str) {
    match r {
        Ok(()) => panic!("{}: {what}: lock should conflict", b.name),
        Err(e) => assert!(e.is_locked(), "{}: {what}: wrong error {e:?}", b.name),
    }
}

fn lock_conflicts(b: &Backend) {
    let path = b.path("locked");
    let h1 = b.io().open_file(&path, OpenFlags::CREATE).unwrap();
    let h2 = b.io().open_file(&path, OpenFlags::READ_WRITE).unwrap();
    h1.lock(LockKind::Exclusive).unwrap();
    expect_locked(b, h2.lock(LockKind::Shared), "shared vs exclusive");
    expect_locked(b, h2.lock(LockKind::Exclusive), "exclusive vs exclusive");
    h1.unlock().unwrap();
    h2.lock(LockKind::Exclusive).expect("free after unlock");
    expect_locked(b, h1.lock(LockKind::Shared), "roles swapped");
    h2.unlock().unwrap();

    // Shared locks coexist; an upgrade is refused while another reader holds on, and the
    // refused upgrade must not drop the shared lock it started from.
    h1.lock(LockKind::Shared).unwrap();
    h2.lock(LockKind::Shared).unwrap();
    expect_locked(b, h1.lock(LockKind::Exclusive), "upgrade with a reader");
    let h3 = b.io().open_file(&path, OpenFlags::READ_WRITE).unwrap();
    h2.unlock().unwrap();
    expect_locked(
        b,
        h3.lock(LockKind::Exclusive),
        "h1 still shares after refused upgrade",
    );
    h1.lock(LockKind::Exclusive).expect("upgrade once alone");
    expect_locked(b, h3.lock(LockKind::Shared), "after upgrade");

    // Closing a handle releases its lock.
    drop(h1);
    h3.lock(LockKind::Exclusive)
        .expect("lock released by close");
    // Relocking by the same holder is fine.
    h3.lock(LockKind::Exclusive).unwrap();
    h3.lock(LockKind::Shared).unwrap();
    h3.unlock().unwrap();
    h3.unlock().expect("unlock without a lock is harmless");
}

fn open_errors(b: &Backend) {
    let missing = b.path("missing");
    for flags in [OpenFlags::READ_WRITE, OpenFlags::READ_ONLY] {
        let err = b
            .io()
            .open_file(&missing, flags)
            .err()
            .expect("missing file must not open");
        assert_eq!(err.kind(), ErrorKind::NotFound, "{}: {flags:?}", b.name);
    }
    // A read-only open never creates.
    let ro_create = OpenFlags {
        create: true,
        read_only: true,
    };
    assert!(b.io().open_file(&missing, ro_create).is_err(), "{}", b.name);
    assert!(!b.io().file_exists(&missing).unwrap(), "{}", b.name);
}

fn read_only_handle(b: &Backend) {
    let path = b.path("ro");
    {
        let f = b.io().open_file(&path, OpenFlags::CREATE).unwrap();
        write_at(b, &*f, 0, b"read me").unwrap();
    }
    let f = b.io().open_file(&path, OpenFlags::READ_ONLY).unwrap();
    assert_eq!(read_at(b, &*f, 0, 7).unwrap(), b"read me", "{}", b.name);
    let err: IoError = write_at(b, &*f, 0, b"nope").expect_err("write to read-only handle");
    assert!(!err.is_locked(), "{}: {err:?}", b.name);
    assert!(
        truncate(b, &*f, 0).is_err(),
        "{}: truncate of read-only handle",
        b.name
    );
    assert_eq!(
        read_at(b, &*f, 0, 100).unwrap(),
        b"read me",
        "{}: unchanged",
        b.name
    );
}

fn wrong_completion_kind(b: &Backend) {
    let f = create(b, "kind");
    let c = Completion::read(10);
    let err = f
        .pwrite(0, &c)
        .expect_err("read completion passed to pwrite");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", b.name);
    let c = Completion::write(vec![1]);
    assert!(f.pread(0, &c).is_err(), "{}", b.name);
    assert!(f.sync(&Completion::truncate()).is_err(), "{}", b.name);
    assert!(f.truncate(0, &Completion::sync()).is_err(), "{}", b.name);
}

fn caller_drops_completion(b: &Backend) {
    // Contract point 5: the buffer belongs to the completion, so a caller that gives up
    // on an operation must not leave the backend writing into freed memory.
    let f = create(b, "dropped");
    write_at(b, &*f, 0, &pattern(9, 65536)).unwrap();
    for i in 0..32u64 {
        let c = Completion::read(4096);
        f.pread(i * 1024, &c).unwrap();
        drop(c);
        let c = Completion::write(pattern(i, 100));
        f.pwrite(100_000 + i * 100, &c).unwrap();
    }
    let last = Completion::read(65536);
    f.pread(0, &last).unwrap();
    drive_all(b, std::slice::from_ref(&last));
    assert!(*last.buf() == pattern(9, 65536), "{}", b.name);
    // Let whatever else is still in flight finish.
    for _ in 0..1000 {
        b.io().run_once().unwrap();
    }
    assert_eq!(f.size_bytes().unwrap(), 100_000 + 32 * 100, "{}", b.name);
}

fn completion_observed_before_and_after(b: &Backend) {
    // Whatever the backend does, `is_done` and `poll` agree and `result` is stable.
    let f = create(b, "poll");
    let c = Completion::write(b"x".to_vec());
    f.pwrite(0, &c).unwrap();
    if !c.is_done() {
        assert!(c.poll().unwrap().is_pending(), "{}", b.name);
        assert!(c.result().is_none(), "{}", b.name);
    }
    wait(b.io(), &c).unwrap();
    assert!(c.poll().unwrap().is_ready(), "{}", b.name);
    assert_eq!(c.result().unwrap().unwrap(), 1, "{}", b.name);
    // Once nothing is in flight, run_once returns at once.
    b.io().run_once().unwrap();
}

fn clock_and_random(b: &Backend) {
    let t1 = b.io().now_micros();
    let t2 = b.io().now_micros();
    assert!(t2 >= t1, "{}: clock went backwards", b.name);
    assert!(
        t1 > 1_500_000_000_000_000,
        "{}: clock is not microseconds since 1970: {t1}",
        b.name
    );
    let draws: Vec<u64> = (0..16).map(|_| b.io().random_u64()).collect();
    let mut unique = draws.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), draws.len(), "{}: random repeats", b.name);
}

fn threads_share_io(b: &Backend) {
    // IO objects are shared between connections on different threads.
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let io = b.io.clone();
            let path = b.path(&format!("thread{t}"));
            scope.spawn(move || {
                let f = io.open_file(&path, OpenFlags::CREATE).unwrap();
                for i in 0..50u64 {
                    let data = pattern(t * 1000 + i, 1000);
                    let w = Completion::write(data.clone());
                    f.pwrite(i * 1000, &w).unwrap();
                    assert_eq!(wait(&*io, &w).unwrap(), 1000);
                    let r = Completion::read(1000);
                    f.pread(i * 1000, &r).unwrap();
                    assert_eq!(wait(&*io, &r).unwrap(), 1000);
                    assert!(*r.buf() == data, "thread {t} block {i}");
                }
            });
        }
    });
}

/// `run_ready` never waits and only reports completions it fired: a write, then an fsync,
/// driven by `run_ready` alone (a guard of 10 s against a backend that never starts
/// them). Backends that complete inline are done at once; io_uring must get there
/// through `run_ready` without `run_once`; the default (memory_deferred) does nothing
/// and `run_once` finishes the work as before.
fn run_ready_drives_without_waiting(b: &Backend) {
    let f = create(b, "ready");
    let io = b.io();
    for c in [Completion::write(pattern(7, 5000)), Completion::sync()] {
        if c.len() > 0 {
            f.pwrite(0, &c).unwrap();
        } else {
            f.sync(&c).unwrap();
        }
        let guard = std::time::Instant::now();
        let mut fired = false;
        while !c.is_done() && guard.elapsed() < std::time::Duration::from_secs(10) {
            fired |= io.run_ready().unwrap();
            if b.name.starts_with("memory") && !fired {
                break;
            }
            std::thread::yield_now();
        }
        if b.name.starts_with("uring") {
            assert!(
                c.is_done() && fired,
                "{}: run_ready did not finish the operation",
                b.name
            );
        }
        if fired {
            assert!(
                c.is_done(),
                "{}: run_ready reported a completion that did not fire",
                b.name
            );
        }
        wait(io, &c).unwrap();
        assert!(
            !io.run_ready().unwrap(),
            "{}: nothing in flight, nothing fired",
            b.name
        );
    }
    assert_eq!(
        read_at(b, &*f, 0, 5000).unwrap(),
        pattern(7, 5000),
        "{}",
        b.name
    );
}

macro_rules! suite {
    ($($backend:ident),* ; $cases:tt) => {
        $( suite!(@backend $backend $cases); )*
    };
    (@backend $backend:ident [$($case:ident),*]) => {
        mod $backend {
            $(
                #[test]
                fn $case() {
                    match super::make_backend(stringify!($backend)) {
                        Some(b) => super::$case(&b),
                        None => eprintln!("NOTICE: {} skipped", stringify!($case)),
                    }
                }
            )*
        }
    };
}

suite!(syscall, uring, uring_tiny, memory, memory_deferred, memory_shuffled; [
    round_trip,
    large_transfer,
    many_in_flight,
    many_files_interleaved,
    short_read_at_eof,
    read_past_eof,
    zero_length,
    truncate_shrink_extend,
    sync_completes,
    size_bytes_tracks_writes,
    reopen_sees_data,
    lock_conflicts,
    open_errors,
    read_only_handle,
    wrong_completion_kind,
    caller_drops_completion,
    completion_observed_before_and_after,
    clock_and_random,
    threads_share_io,
    run_ready_drives_without_waiting
]);
