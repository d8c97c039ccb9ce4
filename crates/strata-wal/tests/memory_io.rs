//! The WAL driven by the shared `strata_io::MemoryIo` in all its modes: inline, deferred
//! (FIFO), and shuffled (each `run_once` completes a random subset in random order).
//! A random workload of commits, readers, checkpoints and reopens is checked against a
//! model of the newest committed page images.

use std::collections::BTreeMap;
use std::sync::Arc;

use strata_io::{block_on, Completion, MemoryIo, OpenFlags, IO};
use strata_wal::{CheckpointMode, Snapshot, SyncMode, Wal, WalOptions};

const PAGE_SIZE: usize = 1024;
const WAL: &str = "m.db-wal";
const DB: &str = "m.db";

fn image(page_no: u32, tag: u32) -> Vec<u8> {
    let mut v = vec![(tag % 251) as u8; PAGE_SIZE];
    v[..4].copy_from_slice(&page_no.to_be_bytes());
    v[4..8].copy_from_slice(&tag.to_be_bytes());
    v
}

fn open(io: &Arc<dyn IO>) -> Arc<Wal> {
    Wal::open(
        io.clone(),
        WAL,
        PAGE_SIZE,
        WalOptions {
            sync_mode: SyncMode::Normal,
        },
    )
    .unwrap()
}

/// The page as `snapshot` sees it: from its WAL frame, else from the database file.
fn read_page(io: &Arc<dyn IO>, wal: &Wal, snapshot: &Snapshot, page_no: u32) -> Vec<u8> {
    let c = Completion::read(PAGE_SIZE);
    match wal.find_frame(snapshot, page_no) {
        Some(frame_no) => wal.read_frame(frame_no, &c).unwrap(),
        None => {
            let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
            db.pread((page_no as u64 - 1) * PAGE_SIZE as u64, &c)
                .unwrap();
        }
    }
    let n = strata_io::wait(io.as_ref(), &c).unwrap();
    let mut buf = c.take_buf();
    buf.truncate(n);
    buf
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn workload(io: Arc<dyn IO>, seed: u64) {
    let mut rng = Rng(seed | 1);
    let mut wal = open(&io);
    let mut model: BTreeMap<u32, u32> = BTreeMap::new();
    // Readers holding old snapshots, with the model as they saw it.
    let mut readers: Vec<(Snapshot, BTreeMap<u32, u32>)> = Vec::new();
    let mut db_size_pages = 0u32;
    for step in 1..=300u32 {
        match rng.next() % 12 {
            0 => {
                let mode = [
                    CheckpointMode::Passive,
                    CheckpointMode::Full,
                    CheckpointMode::Restart,
                    CheckpointMode::Truncate,
                ][(rng.next() % 4) as usize];
                let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
                let mut ckpt = wal.checkpoint(db, mode);
                let result = block_on(io.as_ref(), || ckpt.poll()).unwrap();
                assert!(result.checkpointed_frames <= result.wal_frames);
            }
            1 if readers.is_empty() => {
                drop(wal);
                wal = open(&io);
            }
            2 if readers.len() < 3 => readers.push((wal.begin_read(), model.clone())),
            3 if !readers.is_empty() => {
                let (snap, _) = readers.remove((rng.next() % readers.len() as u64) as usize);
                wal.end_read(&snap);
            }
            _ => {
                let count = rng.next() % 6 + 1;
                let mut pages: Vec<u32> =
                    (0..count).map(|_| (rng.next() % 20 + 1) as u32).collect();
                pages.sort_unstable();
                pages.dedup();
                db_size_pages = db_size_pages.max(*pages.last().unwrap());
                let snap = wal.begin_read();
                wal.begin_write(&snap).unwrap();
                let mut append = wal.append(
                    pages.iter().map(|&p| (p, image(p, step))).collect(),
                    db_size_pages,
                );
                block_on(io.as_ref(), || append.poll()).unwrap();
                wal.end_write();
                wal.end_read(&snap);
                for p in pages {
                    model.insert(p, step);
                }
            }
        }
        let now = wal.begin_read();
        for (&p, &tag) in &model {
            assert_eq!(
                read_page(&io, &wal, &now, p),
                image(p, tag),
                "seed {seed} step {step} page {p}"
            );
        }
        wal.end_read(&now);
        for (snap, seen) in &readers {
            for (&p, &tag) in seen {
                assert_eq!(
                    read_page(&io, &wal, snap, p),
                    image(p, tag),
                    "old reader, seed {seed} step {step}"
                );
            }
        }
    }
    for (snap, _) in readers {
        wal.end_read(&snap);
    }
}

#[test]
fn memory_io_inline() {
    workload(Arc::new(MemoryIo::new()), 1);
}

#[test]
fn memory_io_deferred() {
    workload(Arc::new(MemoryIo::new_deferred()), 2);
}

#[test]
fn memory_io_shuffled() {
    for seed in 1..=8 {
        workload(Arc::new(MemoryIo::new_shuffled(seed)), seed * 77);
    }
}
