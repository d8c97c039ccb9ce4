//! MemoryIo-specific behaviour: determinism (the simulator replays a run from its seed),
//! deferred and shuffled completion, the clock, and the test helpers.

use strata_io::{wait, Completion, File, LockKind, MemoryIo, MemoryIoOptions, OpenFlags, IO};

fn draws(io: &MemoryIo, n: usize) -> Vec<u64> {
    (0..n).map(|_| io.random_u64()).collect()
}

fn seeded(seed: u64) -> MemoryIo {
    MemoryIo::with_options(MemoryIoOptions {
        random_seed: seed,
        ..MemoryIoOptions::default()
    })
}

#[test]
fn same_seed_same_random_sequence() {
    assert_eq!(draws(&seeded(42), 100), draws(&seeded(42), 100));
    assert_eq!(
        draws(&MemoryIo::new(), 10),
        draws(&MemoryIo::new(), 10),
        "default seed is fixed"
    );
    assert_ne!(draws(&seeded(42), 100), draws(&seeded(43), 100));
}

/// Submits `n` one-byte writes and runs the IO, recording after each `run_once` which
/// writes had completed: the observable completion order.
fn completion_rounds(io: &MemoryIo, n: usize) -> Vec<Vec<usize>> {
    let f = io.open_file("/order", OpenFlags::CREATE).unwrap();
    let cs: Vec<Completion> = (0..n)
        .map(|i| {
            let c = Completion::write(vec![i as u8]);
            f.pwrite(i as u64, &c).unwrap();
            c
        })
        .collect();
    let mut rounds = Vec::new();
    let mut seen = vec![false; n];
    while seen.iter().any(|s| !s) {
        assert!(rounds.len() <= n, "run_once made no progress");
        io.run_once().unwrap();
        let newly: Vec<usize> = (0..n).filter(|&i| !seen[i] && cs[i].is_done()).collect();
        assert!(
            !newly.is_empty(),
            "each run_once completes at least one operation"
        );
        for &i in &newly {
            seen[i] = true;
        }
        rounds.push(newly);
    }
    rounds
}

#[test]
fn deferred_completes_nothing_until_run_once() {
    let io = MemoryIo::new_deferred();
    let f = io.open_file("/d", OpenFlags::CREATE).unwrap();
    let w = Completion::write(b"abc".to_vec());
    f.pwrite(0, &w).unwrap();
    assert!(!w.is_done());
    assert_eq!(io.pending_ops(), 1);
    assert_eq!(f.size_bytes().unwrap(), 0, "the write has not happened yet");
    io.run_once().unwrap();
    assert_eq!(w.result().unwrap().unwrap(), 3);
    assert_eq!(io.pending_ops(), 0);
    for c in [Completion::sync(), Completion::truncate()] {
        if c.kind() == strata_io::CompletionKind::Sync {
            f.sync(&c).unwrap();
        } else {
            f.truncate(1, &c).unwrap();
        }
        assert!(!c.is_done());
        wait(&io, &c).unwrap();
    }
    assert_eq!(io.file_contents("/d").unwrap(), b"a");
    // FIFO mode completes everything queued in one call, in order.
    assert_eq!(
        completion_rounds(&io, 20),
        vec![(0..20).collect::<Vec<_>>()]
    );
}

#[test]
fn shuffled_order_is_random_but_reproducible() {
    let a = completion_rounds(&MemoryIo::new_shuffled(7), 50);
    let b = completion_rounds(&MemoryIo::new_shuffled(7), 50);
    assert_eq!(a, b, "same seed, same completion order");
    assert!(
        a.len() > 1,
        "shuffling should spread completions over several run_once calls"
    );
    let c = completion_rounds(&MemoryIo::new_shuffled(8), 50);
    assert_ne!(a, c, "different seeds should give different orders");
}

#[test]
fn shuffled_writes_to_the_same_offset_land_in_completion_order() {
    // In-flight operations have no order (contract point 4); the simulator relies on the
    // shuffle to expose callers that assume otherwise. Over many seeds, both orders occur.
    let mut outcomes = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let io = MemoryIo::new_shuffled(seed);
        let f = io.open_file("/race", OpenFlags::CREATE).unwrap();
        let first = Completion::write(b"1".to_vec());
        let second = Completion::write(b"2".to_vec());
        f.pwrite(0, &first).unwrap();
        f.pwrite(0, &second).unwrap();
        wait(&io, &first).unwrap();
        wait(&io, &second).unwrap();
        outcomes.insert(io.file_contents("/race").unwrap());
    }
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
}

#[test]
fn clock_is_deterministic_and_advances() {
    let io = MemoryIo::with_options(MemoryIoOptions {
        start_micros: 1_000,
        micros_per_call: 10,
        ..MemoryIoOptions::default()
    });
    assert_eq!(io.now_micros(), 1_000);
    assert_eq!(io.now_micros(), 1_010);
    io.advance_clock(5_000);
    assert_eq!(io.now_micros(), 6_020);
}

#[test]
fn file_contents_helpers() {
    let io = MemoryIo::new();
    assert_eq!(io.file_contents("/x"), None);
    io.set_file_contents("/x", b"hello".to_vec());
    assert!(io.file_exists("/x").unwrap());
    let f = io.open_file("/x", OpenFlags::READ_WRITE).unwrap();
    let r = Completion::read(10);
    f.pread(0, &r).unwrap();
    assert_eq!(wait(&io, &r).unwrap(), 5);
    // An open handle sees contents replaced behind its back.
    io.set_file_contents("/x", b"bye".to_vec());
    assert_eq!(f.size_bytes().unwrap(), 3);
    let w = Completion::write(b"!".to_vec());
    f.pwrite(3, &w).unwrap();
    assert_eq!(io.file_contents("/x").unwrap(), b"bye!");
}

#[test]
fn removed_file_stays_readable_through_open_handle() {
    let io = MemoryIo::new();
    let f = io.open_file("/gone", OpenFlags::CREATE).unwrap();
    let w = Completion::write(b"still here".to_vec());
    f.pwrite(0, &w).unwrap();
    io.remove_file("/gone").unwrap();
    assert!(!io.file_exists("/gone").unwrap());
    let r = Completion::read(100);
    f.pread(0, &r).unwrap();
    assert_eq!(wait(&io, &r).unwrap(), 10);
    // A new file at the path is a different file, with its own locks.
    f.lock(LockKind::Exclusive).unwrap();
    let g = io.open_file("/gone", OpenFlags::CREATE).unwrap();
    assert_eq!(g.size_bytes().unwrap(), 0);
    g.lock(LockKind::Exclusive).unwrap();
}

#[test]
fn locks_are_per_instance() {
    // Two MemoryIo objects are two machines: same path, different files.
    let a = MemoryIo::new();
    let b = MemoryIo::new();
    let fa = a.open_file("/db", OpenFlags::CREATE).unwrap();
    let fb = b.open_file("/db", OpenFlags::CREATE).unwrap();
    fa.lock(LockKind::Exclusive).unwrap();
    fb.lock(LockKind::Exclusive).unwrap();
}

#[test]
fn deferred_errors_arrive_in_the_completion() {
    let io = MemoryIo::new_deferred();
    io.set_file_contents("/ro", b"data".to_vec());
    let f: std::sync::Arc<dyn File> = io.open_file("/ro", OpenFlags::READ_ONLY).unwrap();
    let w = Completion::write(b"x".to_vec());
    f.pwrite(0, &w).unwrap();
    assert!(!w.is_done());
    io.run_once().unwrap();
    let err = w.poll().expect_err("write on a read-only handle");
    assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    assert!(err.message().contains("/ro"), "{err}");
}
