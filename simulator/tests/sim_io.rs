//! Unit tests of `SimIo`: completion order, durability, crash fates, faults, locks.

use std::sync::Arc;

use simulator::{CrashMode, FaultConfig, SimIo, SimIoOptions};
use strata_io::{wait, Completion, File, LockKind, OpenFlags, IO};

fn sim(seed: u64, crash_mode: CrashMode) -> SimIo {
    let mut o = SimIoOptions::new(seed);
    o.crash_mode = crash_mode;
    SimIo::new(o)
}

fn write(io: &SimIo, f: &Arc<dyn File>, offset: u64, data: Vec<u8>) -> strata_io::Result<usize> {
    let c = Completion::write(data);
    f.pwrite(offset, &c)?;
    wait(io, &c)
}

fn sync(io: &SimIo, f: &Arc<dyn File>) -> strata_io::Result<usize> {
    let c = Completion::sync();
    f.sync(&c)?;
    wait(io, &c)
}

#[test]
fn completions_fire_out_of_submission_order_and_clock_advances() {
    let io = sim(7, CrashMode::Random);
    let f = io.open_file("a", OpenFlags::CREATE).unwrap();
    let start = io.now_micros();
    let completions: Vec<Completion> = (0..32u8)
        .map(|i| {
            let c = Completion::write(vec![i; 16]);
            f.pwrite(u64::from(i) * 16, &c).unwrap();
            c
        })
        .collect();
    let mut order = Vec::new();
    while order.len() < completions.len() {
        io.run_once().unwrap();
        for (i, c) in completions.iter().enumerate() {
            if c.is_done() && !order.contains(&i) {
                order.push(i);
            }
        }
    }
    let sorted: Vec<usize> = (0..completions.len()).collect();
    assert_ne!(
        order, sorted,
        "completions must not simply follow submission order"
    );
    assert!(io.stats().reordered > 0);
    assert!(
        io.now_micros() > start,
        "run_once advances the simulated clock"
    );
    // Every write took effect regardless of order.
    let bytes = io.file_contents("a").unwrap();
    for i in 0..32usize {
        assert!(bytes[i * 16..(i + 1) * 16].iter().all(|&b| b == i as u8));
    }
}

#[test]
fn same_seed_same_order_different_seed_different_order() {
    let order_for = |seed| {
        let io = sim(seed, CrashMode::Random);
        let f = io.open_file("a", OpenFlags::CREATE).unwrap();
        let cs: Vec<Completion> = (0..16)
            .map(|i| {
                let c = Completion::read(8);
                f.pread(i * 8, &c).unwrap();
                c
            })
            .collect();
        let mut order = Vec::new();
        while order.len() < cs.len() {
            io.run_once().unwrap();
            for (i, c) in cs.iter().enumerate() {
                if c.is_done() && !order.contains(&i) {
                    order.push(i);
                }
            }
        }
        (order, io.digest())
    };
    assert_eq!(order_for(1), order_for(1));
    assert_ne!(order_for(1).0, order_for(2).0);
}

#[test]
fn unsynced_write_is_dropped_synced_write_survives() {
    let io = sim(1, CrashMode::DropUnsynced);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    write(&io, &f, 0, vec![1; 1024]).unwrap();
    sync(&io, &f).unwrap();
    write(&io, &f, 1024, vec![2; 1024]).unwrap();
    write(&io, &f, 0, vec![3; 512]).unwrap();
    // Reads see pending writes before the crash.
    assert_eq!(io.file_contents("db").unwrap().len(), 2048);
    io.crash();
    assert_eq!(io.file_contents("db").unwrap(), vec![1; 1024]);
    assert_eq!(io.stats().pending_dropped, 2);
}

#[test]
fn unsynced_write_is_kept() {
    let io = sim(1, CrashMode::KeepUnsynced);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    write(&io, &f, 0, vec![5; 700]).unwrap();
    io.crash();
    assert_eq!(io.file_contents("db").unwrap(), vec![5; 700]);
    assert_eq!(io.stats().pending_kept, 1);
}

#[test]
fn unsynced_write_is_torn_by_sector() {
    // Over several seeds a 16-sector overwrite must end up with a mix of old and new
    // sectors, each sector wholly old or wholly new (no garbage by default).
    let mut saw_mix = false;
    for seed in 0..8 {
        let io = sim(seed, CrashMode::TearUnsynced);
        let f = io.open_file("db", OpenFlags::CREATE).unwrap();
        write(&io, &f, 0, vec![0xAA; 8192]).unwrap();
        sync(&io, &f).unwrap();
        write(&io, &f, 0, vec![0xBB; 8192]).unwrap();
        io.crash();
        let bytes = io.file_contents("db").unwrap();
        assert_eq!(bytes.len(), 8192);
        let mut kinds = Vec::new();
        for sector in bytes.chunks(512) {
            let first = sector[0];
            assert!(
                first == 0xAA || first == 0xBB,
                "sector is neither old nor new"
            );
            assert!(sector.iter().all(|&b| b == first), "a sector was split");
            kinds.push(first);
        }
        saw_mix |= kinds.contains(&0xAA) && kinds.contains(&0xBB);
        assert_eq!(io.stats().pending_torn, 1);
    }
    assert!(saw_mix, "tearing never mixed old and new sectors");
}

/// The tear patterns beyond independent sectors: one sector lost in an overwrite; and for
/// a write that grows the file, the head surviving with the rest zeros (the size updated
/// without the data: a WAL frame whose header is new and whose page is not), and the tail
/// surviving with zeros before it.
#[test]
fn tear_patterns_lose_one_sector_or_keep_the_head_or_the_tail() {
    let (mut one_lost, mut head, mut tail) = (false, false, false);
    for seed in 0..64 {
        let io = sim(seed, CrashMode::TearUnsynced);
        let f = io.open_file("db", OpenFlags::CREATE).unwrap();
        write(&io, &f, 0, vec![0xAA; 4096]).unwrap();
        sync(&io, &f).unwrap();
        // Sectors 0-7 overwritten, 8-15 appended.
        write(&io, &f, 0, vec![0xBB; 8192]).unwrap();
        io.crash();
        let bytes = io.file_contents("db").unwrap();
        let kinds: Vec<u8> = bytes
            .chunks(512)
            .map(|s| {
                assert!(s.iter().all(|&b| b == s[0]), "a sector was split");
                s[0]
            })
            .collect();
        let new = kinds.iter().filter(|&&k| k == 0xBB).count();
        one_lost |= kinds.len() == 16 && new == 15;
        // Head: new sectors, then old ones, then zeros to the write's end.
        let first_not_new = kinds.iter().position(|&k| k != 0xBB);
        if let Some(cut) = first_not_new {
            let rest_old_or_zero = kinds[cut..]
                .iter()
                .enumerate()
                .all(|(i, &k)| k == if cut + i < 8 { 0xAA } else { 0 });
            head |= cut > 0 && kinds.len() == 16 && rest_old_or_zero && kinds[15] == 0;
        }
        // Tail: the appended end is new while an appended sector before it is zeros.
        tail |= kinds.len() == 16 && kinds[15] == 0xBB && kinds[8..15].contains(&0);
    }
    assert!(one_lost, "no tear lost exactly one sector");
    assert!(head, "no tear kept the head with zeros after it");
    assert!(tail, "no tear kept the tail with zeros before it");
}

#[test]
fn torn_garbage_fills_some_sectors_with_garbage() {
    let mut o = SimIoOptions::new(3);
    o.crash_mode = CrashMode::TearUnsynced;
    o.torn_garbage = true;
    let io = SimIo::new(o);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    write(&io, &f, 0, vec![0xAA; 512 * 32]).unwrap();
    sync(&io, &f).unwrap();
    write(&io, &f, 0, vec![0xBB; 512 * 32]).unwrap();
    io.crash();
    let bytes = io.file_contents("db").unwrap();
    let garbage = bytes
        .chunks(512)
        .filter(|s| !s.iter().all(|&b| b == 0xAA) && !s.iter().all(|&b| b == 0xBB))
        .count();
    assert!(garbage > 0, "no sector received garbage");
}

#[test]
fn sync_covers_only_writes_completed_before_it_was_submitted() {
    let io = sim(5, CrashMode::DropUnsynced);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    let w = Completion::write(vec![9; 512]);
    f.pwrite(0, &w).unwrap();
    // Submitted while the write is still in flight: it does not cover the write.
    let s = Completion::sync();
    f.sync(&s).unwrap();
    wait(&io, &w).unwrap();
    wait(&io, &s).unwrap();
    io.crash();
    assert_eq!(io.file_contents("db").unwrap(), Vec::<u8>::new());
}

#[test]
fn failed_fsync_leaves_data_pending() {
    let mut o = SimIoOptions::new(2);
    o.crash_mode = CrashMode::KeepUnsynced;
    o.faults = FaultConfig {
        sync_error: 1.0,
        ..FaultConfig::NONE
    };
    let io = SimIo::new(o);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    write(&io, &f, 0, vec![4; 512]).unwrap();
    assert!(sync(&io, &f).is_err(), "fsync must fail");
    let faults = io.take_faults();
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].what, "fsync error");
    // Not durable: still pending (KeepUnsynced keeps it, DropUnsynced would lose it).
    assert_eq!(io.durable_contents("db").unwrap(), Vec::<u8>::new());
    io.crash();
    assert_eq!(io.file_contents("db").unwrap(), vec![4; 512]);
}

#[test]
fn write_error_may_leave_a_prefix_and_reports_an_error() {
    let mut o = SimIoOptions::new(11);
    o.faults = FaultConfig {
        write_error: 1.0,
        ..FaultConfig::NONE
    };
    let io = SimIo::new(o);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    let mut prefixes = Vec::new();
    for i in 0..10u64 {
        let err = write(&io, &f, i * 4096, vec![1; 4096]).unwrap_err();
        assert!(err.message().contains("simulated write error"));
        prefixes.push(io.file_contents("db").unwrap().len());
    }
    assert_eq!(io.stats().write_errors, 10);
    assert!(prefixes.iter().any(|&l| l > 0), "no write left a prefix");
}

#[test]
fn disk_full_is_storage_full() {
    let mut o = SimIoOptions::new(1);
    o.faults = FaultConfig {
        disk_budget_bytes: Some(1000),
        ..FaultConfig::NONE
    };
    let io = SimIo::new(o);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    write(&io, &f, 0, vec![1; 900]).unwrap();
    // Overwriting within the file needs no space.
    write(&io, &f, 0, vec![2; 900]).unwrap();
    let err = write(&io, &f, 900, vec![3; 200]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
    assert_eq!(io.file_contents("db").unwrap(), vec![2; 900]);
}

#[test]
fn scheduled_failure_and_crash() {
    let io = sim(1, CrashMode::DropUnsynced);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    io.fail_op(2);
    write(&io, &f, 0, vec![1; 10]).unwrap();
    assert!(write(&io, &f, 10, vec![1; 10]).is_err());
    write(&io, &f, 20, vec![1; 10]).unwrap();
    sync(&io, &f).unwrap();
    io.crash_after_op(5);
    let c = Completion::write(vec![7; 10]);
    f.pwrite(0, &c).unwrap();
    assert!(
        wait(&io, &c).is_err(),
        "the power loss surfaces from run_once"
    );
    assert!(
        !c.is_done(),
        "the process never learns the crashed operation's result"
    );
    assert_eq!(io.stats().crashes, 1);
    // The handle is dead; a new one sees the durable bytes (the last write was unsynced).
    assert!(f.size_bytes().is_err());
    let f2 = io.open_file("db", OpenFlags::READ_WRITE).unwrap();
    assert_eq!(f2.size_bytes().unwrap(), 30);
    assert_eq!(io.file_contents("db").unwrap()[0], 1);
}

#[test]
fn locks_conflict_between_handles_and_a_crash_releases_them() {
    let io = sim(1, CrashMode::Random);
    let a = io.open_file("db", OpenFlags::CREATE).unwrap();
    let b = io.open_file("db", OpenFlags::READ_WRITE).unwrap();
    a.lock(LockKind::Exclusive).unwrap();
    assert!(b.lock(LockKind::Shared).unwrap_err().is_locked());
    a.unlock().unwrap();
    b.lock(LockKind::Shared).unwrap();
    a.lock(LockKind::Shared).unwrap();
    assert!(a.lock(LockKind::Exclusive).unwrap_err().is_locked());
    io.crash();
    let c = io.open_file("db", OpenFlags::READ_WRITE).unwrap();
    c.lock(LockKind::Exclusive).unwrap();
    // A dead handle's unlock must not release the new holder's lock.
    a.unlock().unwrap();
    drop(b);
    let d = io.open_file("db", OpenFlags::READ_WRITE).unwrap();
    assert!(d.lock(LockKind::Shared).unwrap_err().is_locked());
}

#[test]
fn random_u64_is_seeded() {
    let a = sim(9, CrashMode::Random);
    let b = sim(9, CrashMode::Random);
    let c = sim(10, CrashMode::Random);
    let xa: Vec<u64> = (0..4).map(|_| a.random_u64()).collect();
    let xb: Vec<u64> = (0..4).map(|_| b.random_u64()).collect();
    let xc: Vec<u64> = (0..4).map(|_| c.random_u64()).collect();
    assert_eq!(xa, xb);
    assert_ne!(xa, xc);
}
