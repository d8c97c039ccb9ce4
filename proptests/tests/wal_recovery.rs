//! WAL append, crash at a random byte, recover: the recovered state is a committed prefix.
//!
//! k transactions are appended through `strata_wal::Wal` on `MemoryIo`; the WAL file's bytes
//! are then cut at a random byte (a crash mid-write), or one random byte is corrupted, and a
//! new `Wal` is opened on them. Recovery must end exactly at the last transaction whose
//! frames lie entirely in the valid prefix (SQLite's rule: checksums chained, salts
//! matching, ending at a commit frame), and every page must read back as the model's image
//! at that transaction. After a torn-tail recovery, a new transaction appended on top must
//! be recovered too (the torn tail is overwritten, not kept). After a checkpoint restarts
//! the WAL (new salts), frames of the old generation left after the new ones are never
//! recovered. Page sizes 512, 4096 and 65536.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use strata_io::{Completion, MemoryIo, OpenFlags, IO};
use strata_wal::{CheckpointMode, SyncMode, Wal, WalOptions};

const HEADER: usize = 32;
const WAL_PATH: &str = "/r.db-wal";
const DB_PATH: &str = "/r.db";

fn frame_len(page_size: usize) -> usize {
    24 + page_size
}

/// One transaction: (page number, content tag) pairs, page numbers distinct.
type Tx = Vec<(u32, u8)>;

fn image(page_size: usize, tx: usize, page_no: u32, tag: u8) -> Vec<u8> {
    let mut v: Vec<u8> = (0..page_size)
        .map(|i| {
            (i as u8).wrapping_mul(31).wrapping_add(tag)
                ^ (tx as u8).wrapping_mul(7)
                ^ page_no as u8
        })
        .collect();
    v[..4].copy_from_slice(&(tx as u32).to_be_bytes());
    v[4..8].copy_from_slice(&page_no.to_be_bytes());
    v
}

fn append_tx(io: &dyn IO, wal: &Wal, pages: Vec<(u32, Vec<u8>)>, db_size: u32) -> u64 {
    let snap = wal.begin_read();
    wal.begin_write(&snap).expect("begin_write");
    let mut append = wal.append(pages, db_size);
    let frame = loop {
        match append.poll().expect("append") {
            std::task::Poll::Ready(f) => break f,
            std::task::Poll::Pending => io.run_once().unwrap(),
        }
    };
    wal.end_write();
    wal.end_read(&snap);
    frame
}

/// The WAL's history: after each transaction, its last frame, every page's image and the
/// database size. Index 0 of `states`/`db_sizes` is the state before the first one.
#[derive(Clone)]
struct History {
    page_size: usize,
    ends: Vec<u64>,
    states: Vec<BTreeMap<u32, Vec<u8>>>,
    db_sizes: Vec<u32>,
}

impl History {
    fn new(page_size: usize, db_size: u32) -> Self {
        History {
            page_size,
            ends: Vec::new(),
            states: vec![BTreeMap::new()],
            db_sizes: vec![db_size],
        }
    }

    /// Appends `tx` (numbered `tx_no` for its images) and records it.
    fn append(&mut self, io: &dyn IO, wal: &Wal, tx_no: usize, tx: &Tx) -> u64 {
        let pages: Vec<(u32, Vec<u8>)> = tx
            .iter()
            .map(|&(p, tag)| (p, image(self.page_size, tx_no, p, tag)))
            .collect();
        let db_size =
            (*self.db_sizes.last().unwrap()).max(tx.iter().map(|&(p, _)| p).max().unwrap_or(0));
        let end = append_tx(io, wal, pages.clone(), db_size);
        let mut s = self.states.last().unwrap().clone();
        for (p, img) in pages {
            s.insert(p, img);
        }
        self.states.push(s);
        self.db_sizes.push(db_size);
        self.ends.push(end);
        end
    }

    /// Transactions committed entirely within the first `len` bytes.
    fn committed_within(&self, len: usize) -> usize {
        self.ends
            .iter()
            .take_while(|&&e| HEADER + e as usize * frame_len(self.page_size) <= len)
            .count()
    }
}

fn new_wal(page_size: usize, sync_mode: SyncMode) -> (Arc<MemoryIo>, Arc<Wal>) {
    let mem = Arc::new(MemoryIo::new_deferred());
    let io: Arc<dyn IO> = mem.clone();
    let wal = Wal::open(io, WAL_PATH, page_size, WalOptions { sync_mode }).expect("open new WAL");
    (mem, wal)
}

fn write_wal(
    page_size: usize,
    txs: &[Tx],
    sync_mode: SyncMode,
) -> Result<(History, Vec<u8>), TestCaseError> {
    let (mem, wal) = new_wal(page_size, sync_mode);
    prop_assert_eq!(wal.max_frame(), 0);
    let mut h = History::new(page_size, 0);
    let mut frames = 0u64;
    for (i, tx) in txs.iter().enumerate() {
        let end = h.append(mem.as_ref(), &wal, i, tx);
        frames += tx.len() as u64;
        prop_assert_eq!(
            end,
            frames,
            "tx {}: one frame per page, no restart without a checkpoint",
            i
        );
        prop_assert_eq!(wal.max_frame(), end);
    }
    let bytes = mem.file_contents(WAL_PATH).expect("WAL file exists");
    prop_assert_eq!(
        bytes.len(),
        HEADER + frames as usize * frame_len(page_size),
        "WAL file length"
    );
    Ok((h, bytes))
}

/// Opens a WAL holding `bytes` and checks it recovered exactly `k` transactions of `h`.
fn check_recovered(
    h: &History,
    bytes: Vec<u8>,
    k: usize,
    what: &str,
) -> Result<(Arc<MemoryIo>, Arc<Wal>), TestCaseError> {
    let page_size = h.page_size;
    let mem = Arc::new(MemoryIo::new_deferred());
    mem.set_file_contents(WAL_PATH, bytes);
    let io: Arc<dyn IO> = mem.clone();
    let wal = match Wal::open(
        io.clone(),
        WAL_PATH,
        page_size,
        WalOptions {
            sync_mode: SyncMode::Full,
        },
    ) {
        Ok(w) => w,
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "{what}: Wal::open failed on a damaged WAL (must recover): {e}"
            )))
        }
    };
    let want_frame = if k == 0 { 0 } else { h.ends[k - 1] };
    prop_assert_eq!(
        wal.max_frame(),
        want_frame,
        "{}: recovered max_frame must end transaction {} (committed ends {:?})",
        what,
        k,
        &h.ends
    );
    if k > 0 {
        prop_assert_eq!(
            wal.page_size(),
            page_size,
            "{}: page size recorded in the WAL",
            what
        );
    }
    let snap = wal.begin_read();
    prop_assert_eq!(snap.max_frame, want_frame, "{}: snapshot max_frame", what);
    if k > 0 {
        prop_assert_eq!(
            snap.db_size_pages,
            Some(h.db_sizes[k]),
            "{}: db size of the recovered snapshot",
            what
        );
    }
    let state = &h.states[k];
    for page_no in 1..=20u32 {
        let frame = wal.find_frame(&snap, page_no);
        match state.get(&page_no) {
            None => prop_assert_eq!(
                frame,
                None,
                "{}: page {} was never written by a recovered transaction",
                what,
                page_no
            ),
            Some(img) => {
                let Some(f) = frame else {
                    return Err(TestCaseError::fail(format!(
                        "{what}: page {page_no} has no frame"
                    )));
                };
                prop_assert!(f <= want_frame, "{}: frame {} beyond the snapshot", what, f);
                let c = Completion::read(page_size);
                wal.read_frame(f, &c).expect("read_frame");
                let n = strata_io::wait(io.as_ref(), &c).expect("read");
                prop_assert_eq!(n, page_size);
                let got = c.take_buf();
                prop_assert!(
                    &got == img,
                    "{}: page {} content (frame {}) differs from the model at tx {}",
                    what,
                    page_no,
                    f,
                    k
                );
            }
        }
    }
    wal.end_read(&snap);
    Ok((mem, wal))
}

fn tx_strategy() -> impl Strategy<Value = Tx> {
    proptest::collection::btree_map(1u32..=20, any::<u8>(), 1..=6)
        .prop_map(|m| m.into_iter().collect())
}

fn page_size_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(512usize), 2 => Just(4096usize), 1 => Just(65536usize)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Crash: the file ends at a random byte.
    #[test]
    fn truncated_wal_recovers_a_committed_prefix(
        page_size in page_size_strategy(),
        txs in proptest::collection::vec(tx_strategy(), 1..12),
        cut_frac in 0.0f64..=1.0,
        full_sync in any::<bool>(),
        extra in tx_strategy(),
    ) {
        let (h, bytes) = write_wal(page_size, &txs, if full_sync { SyncMode::Full } else { SyncMode::Off })?;
        let cut = ((bytes.len() as f64) * cut_frac) as usize;
        let k = h.committed_within(cut);
        let what = format!("page size {page_size}, cut at byte {cut} of {}", bytes.len());
        let (mem, wal) = check_recovered(&h, bytes[..cut].to_vec(), k, &what)?;

        // Write on top of the recovered prefix, then recover again: the new transaction
        // follows the prefix and the torn tail is gone.
        let mut h2 = History {
            page_size,
            ends: h.ends[..k].to_vec(),
            states: h.states[..=k].to_vec(),
            db_sizes: h.db_sizes[..=k].to_vec(),
        };
        let end = h2.append(mem.as_ref(), &wal, txs.len(), &extra);
        let base = if k == 0 { 0 } else { h.ends[k - 1] };
        // A WAL that recovered no frame may restart; otherwise frames follow the prefix.
        if k > 0 {
            prop_assert_eq!(end, base + extra.len() as u64, "{}: append after recovery", what);
        }
        drop(wal);
        let bytes = mem.file_contents(WAL_PATH).unwrap();
        check_recovered(&h2, bytes, k + 1, &format!("{what}, then one more transaction"))?;
    }

    /// Damage: one byte anywhere is changed. Everything from the damaged frame on is lost;
    /// a damaged header loses the whole WAL.
    #[test]
    fn corrupted_byte_loses_only_the_damaged_frame_and_later(
        page_size in page_size_strategy(),
        txs in proptest::collection::vec(tx_strategy(), 1..12),
        pos_frac in 0.0f64..1.0,
        mask in 1u8..=255,
    ) {
        let (h, mut bytes) = write_wal(page_size, &txs, SyncMode::Off)?;
        let pos = ((bytes.len() as f64) * pos_frac) as usize;
        let len = bytes.len();
        bytes[pos] ^= mask;
        let k = if pos < HEADER {
            0
        } else {
            let frame = ((pos - HEADER) / frame_len(page_size) + 1) as u64;
            h.ends.iter().take_while(|&&e| e < frame).count()
        };
        check_recovered(&h, bytes, k, &format!("page size {page_size}, byte {pos} of {len} xor {mask:#04x}"))?;
    }

    /// A FULL checkpoint with no reader, then more transactions: the WAL restarts at frame 1
    /// with new salts, over the old frames. A crash at any byte recovers a committed prefix
    /// of the new generation only; old-generation frames after it are never taken.
    #[test]
    fn restarted_wal_never_recovers_stale_frames(
        page_size in page_size_strategy(),
        before in proptest::collection::vec(tx_strategy(), 1..8),
        after in proptest::collection::vec(tx_strategy(), 1..4),
        cut_frac in 0.0f64..=1.0,
    ) {
        let (mem, wal) = new_wal(page_size, SyncMode::Normal);
        let mut h_before = History::new(page_size, 0);
        // A first transaction writes every page the others may touch: a database never
        // claims pages that no frame or file holds, and the checkpoint refuses a log whose
        // commit claims more than the file, the log and 64 KiB could hold (SQLite's
        // walCheckpoint; sparse transactions alone made such claims).
        let all_pages: Tx = (1u32..=20).map(|p| (p, 0u8)).collect();
        h_before.append(mem.as_ref(), &wal, 0, &all_pages);
        for (i, tx) in before.iter().enumerate() {
            h_before.append(mem.as_ref(), &wal, i + 1, tx);
        }
        let db_file = mem.open_file(DB_PATH, OpenFlags::CREATE).unwrap();
        let mut ckpt = wal.checkpoint(db_file.clone(), CheckpointMode::Full);
        let res = loop {
            match ckpt.poll().expect("checkpoint") {
                std::task::Poll::Ready(r) => break r,
                std::task::Poll::Pending => mem.run_once().unwrap(),
            }
        };
        prop_assert!(!res.busy, "FULL checkpoint without readers: {:?}", res);
        // The database file now holds the last image of every page.
        let db = mem.file_contents(DB_PATH).unwrap();
        let last = h_before.states.last().unwrap();
        prop_assert_eq!(db.len(), *h_before.db_sizes.last().unwrap() as usize * page_size, "database size after checkpoint");
        for (&p, img) in last {
            let off = (p as usize - 1) * page_size;
            prop_assert!(&db[off..off + page_size] == img.as_slice(), "page {} in the database file after checkpoint", p);
        }
        let mut h = History::new(page_size, *h_before.db_sizes.last().unwrap());
        let mut frames = 0u64;
        for (i, tx) in after.iter().enumerate() {
            let end = h.append(mem.as_ref(), &wal, before.len() + 1 + i, tx);
            frames += tx.len() as u64;
            prop_assert_eq!(end, frames, "the WAL must restart at frame 1 after a complete checkpoint with no readers");
        }
        drop(wal);
        let bytes = mem.file_contents(WAL_PATH).unwrap();
        let cut = ((bytes.len() as f64) * cut_frac) as usize;
        let k = h.committed_within(cut);
        check_recovered(&h, bytes[..cut].to_vec(), k, &format!("page size {page_size}, after restart, cut at {cut} of {}", bytes.len()))?;
    }
}
