//! Hot-journal rollback (`journal.rs`) against SQLite's own. A rollback-journal database
//! and a journal built byte by byte (segments at sector multiples, sector and page sizes,
//! nRec = -1, records cut short, wrong checksums, page 0 and the pending-byte page, pages
//! past the original size, the original size itself, super-journals) are written into two
//! directories; SQLite rolls back one copy when it first reads the database, Strata the
//! other in `Storage::open`. The database files must end byte-for-byte equal, and the
//! journal, the super-journal and any other child journal be deleted or kept alike.
//!
//! Written for the mutation run of issue 14: until then only the `strata` crate's and the
//! fault-injection tests reached a hot journal, with journals SQLite itself wrote (one
//! sector size, no super-journal, none of the edges above), so nearly every mutant of
//! `journal.rs` survived strata-pager's tests.

use std::path::Path;
use std::sync::{Arc, Mutex};

use strata_io::{Completion, File, LockKind, OpenFlags, SyscallIo, IO};
use strata_pager::{header, Storage, StorageOptions, SyncMode};

const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];
const PENDING_BYTE: u64 = 0x4000_0000;

/// Page 1 of an empty rollback-journal database made by SQLite, its header claiming
/// `pages` pages. The schema is empty, so everything after byte 108 is unused: the test
/// images of page 1 mark their bytes there.
fn page1(page_size: usize, pages: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA page_size={page_size}; PRAGMA journal_mode=DELETE; PRAGMA user_version=7;"
    ))
    .unwrap();
    drop(conn);
    let mut p = std::fs::read(&path).unwrap();
    assert_eq!(p.len(), page_size);
    assert_eq!((p[18], p[19]), (1, 1), "a rollback-journal database");
    p[28..32].copy_from_slice(&pages.to_be_bytes());
    p
}

/// Page `pgno`'s image marked with `fill`: every byte the journal checksum samples differs
/// between fills, so a record restored from the wrong offset or under the wrong page
/// number shows in the file.
fn image(page_size: usize, pgno: u32, fill: u8) -> Vec<u8> {
    if pgno == 1 {
        let mut p = page1(page_size, 6);
        p[120..].fill(fill);
        p
    } else {
        let mut p = vec![fill; page_size];
        p[..4].copy_from_slice(&pgno.to_be_bytes());
        p
    }
}

/// A database of `pages` pages, each marked with `fill` (the crashed transaction's
/// changes, which the rollback must undo).
fn database(page_size: usize, pages: u32, fill: u8) -> Vec<u8> {
    let mut db = page1(page_size, pages);
    db[120..].fill(fill);
    for pgno in 2..=pages {
        db.extend(image(page_size, pgno, fill));
    }
    db
}

/// SQLite's `pager_cksum`, written independently of `journal.rs`.
fn checksum(nonce: u32, image: &[u8]) -> u32 {
    let mut sum = nonce;
    let mut i = image.len() as i64 - 200;
    while i > 0 {
        sum = sum.wrapping_add(image[i as usize] as u32);
        i -= 200;
    }
    sum
}

/// A journal built record by record, laid out as SQLite's `pager.c` writes it.
#[derive(Clone)]
struct Journal {
    bytes: Vec<u8>,
    sector: usize,
    page_size: usize,
    nonce: u32,
}

impl Journal {
    fn new(sector: usize, page_size: usize) -> Journal {
        Journal {
            bytes: Vec::new(),
            sector,
            page_size,
            nonce: 0x0102_0304,
        }
    }

    /// A segment header at the next multiple of the sector size, padded to a sector.
    fn segment(self, n_rec: u32, db_pages: u32) -> Journal {
        let (sector, page) = (self.sector as u32, self.page_size as u32);
        self.segment_with(MAGIC, n_rec, db_pages, sector, page)
    }

    fn segment_with(
        mut self,
        magic: [u8; 8],
        n_rec: u32,
        db_pages: u32,
        sector_field: u32,
        page_field: u32,
    ) -> Journal {
        let at = self.bytes.len().div_ceil(self.sector) * self.sector;
        self.bytes.resize(at, 0);
        // Each segment has its own checksum nonce.
        self.nonce = self.nonce.wrapping_mul(31).wrapping_add(0x1111);
        self.bytes.extend(magic);
        for v in [n_rec, self.nonce, db_pages, sector_field, page_field] {
            self.bytes.extend(v.to_be_bytes());
        }
        self.bytes.resize(at + self.sector.max(28), 0);
        self
    }

    /// A page record with its right checksum.
    fn record(self, pgno: u32, fill: u8) -> Journal {
        let img = image(self.page_size, pgno, fill);
        let sum = checksum(self.nonce, &img);
        self.record_with(pgno, &img, sum)
    }

    fn record_with(mut self, pgno: u32, img: &[u8], sum: u32) -> Journal {
        self.bytes.extend(pgno.to_be_bytes());
        self.bytes.extend(img);
        self.bytes.extend(sum.to_be_bytes());
        self
    }

    /// A record whose checksum is one off: the writer never finished it.
    fn bad_record(self, pgno: u32, fill: u8) -> Journal {
        let img = image(self.page_size, pgno, fill);
        let sum = checksum(self.nonce, &img).wrapping_add(1);
        self.record_with(pgno, &img, sum)
    }

    /// Drops the last `n` bytes (a record the crash cut short).
    fn cut(mut self, n: usize) -> Journal {
        self.bytes.truncate(self.bytes.len() - n);
        self
    }

    /// SQLite's super-journal record (`writeSuperJournal`): the pending-byte page number,
    /// the name, its length, the checksum of its bytes as signed chars, the magic.
    fn super_record(self, name: &[u8]) -> Journal {
        let sum = name
            .iter()
            .fold(0u32, |s, &b| s.wrapping_add(b as i8 as i32 as u32));
        self.super_record_with(name, name.len() as u32, sum, MAGIC)
    }

    fn super_record_with(mut self, name: &[u8], len: u32, sum: u32, magic: [u8; 8]) -> Journal {
        let pending = (PENDING_BYTE / self.page_size as u64 + 1) as u32;
        self.bytes.extend(pending.to_be_bytes());
        self.bytes.extend(name);
        self.bytes.extend(len.to_be_bytes());
        self.bytes.extend(sum.to_be_bytes());
        self.bytes.extend(magic);
        self
    }
}

/// The files of one case: `db`, `db-journal` and any others, by name in the directory.
type Files = Vec<(&'static str, Vec<u8>)>;

/// The database after the rollback, and which of the case's other files still exist.
#[derive(Debug, PartialEq)]
struct Outcome {
    db: Vec<u8>,
    left: Vec<(&'static str, bool)>,
}

fn write_files(dir: &Path, files: &Files) {
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn outcome(dir: &Path, files: &Files) -> Outcome {
    Outcome {
        db: std::fs::read(dir.join("db")).unwrap(),
        left: files
            .iter()
            .filter(|(name, _)| *name != "db")
            .map(|(name, _)| (*name, dir.join(name).exists()))
            .collect(),
    }
}

fn sqlite_rollback(dir: &Path, files: &Files) -> Outcome {
    write_files(dir, files);
    let conn = rusqlite::Connection::open(dir.join("db")).unwrap();
    // The first read rolls a hot journal back; what it then reads does not matter.
    let _ = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    });
    drop(conn);
    outcome(dir, files)
}

fn strata_rollback(dir: &Path, files: &Files, page_size: usize) -> Outcome {
    write_files(dir, files);
    let options = StorageOptions {
        page_size,
        ..StorageOptions::default()
    };
    let path = dir.join("db");
    let storage = Storage::open(Arc::new(SyscallIo::new()), path.to_str().unwrap(), options);
    drop(storage);
    outcome(dir, files)
}

/// Rolls the files `make` builds (given the directory, for the names that journals hold)
/// back with both engines and compares.
fn check(what: &str, page_size: usize, make: impl Fn(&Path) -> Files) {
    let sqlite_dir = tempfile::tempdir().unwrap();
    let strata_dir = tempfile::tempdir().unwrap();
    let want = sqlite_rollback(sqlite_dir.path(), &make(sqlite_dir.path()));
    let got = strata_rollback(strata_dir.path(), &make(strata_dir.path()), page_size);
    if want.db.is_empty() {
        // SQLite leaves an empty file; Strata's open goes on to create the database in it.
        assert_eq!(
            got.db,
            header::new_database_page1(page_size, 0),
            "{what}: database"
        );
    } else {
        assert!(got.db == want.db, "{what}: the database files differ");
    }
    assert_eq!(got.left, want.left, "{what}: files left");
}

/// The usual case: `db` (6 pages of 0x11) and its journal.
fn db_and(journal: &Journal) -> Files {
    vec![
        ("db", database(journal.page_size, 6, 0x11)),
        ("db-journal", journal.bytes.clone()),
    ]
}

#[test]
fn one_segment_restores_its_pages() {
    let j = Journal::new(512, 1024)
        .segment(3, 6)
        .record(2, 0xa2)
        .record(5, 0xa5)
        .record(1, 0xa1);
    check("one segment", 1024, |_| db_and(&j));
    // The same page twice: the later image wins (the database ends as the later record).
    let j = Journal::new(512, 1024)
        .segment(2, 6)
        .record(3, 0xa3)
        .record(3, 0xb3);
    check("page twice", 1024, |_| db_and(&j));
}

#[test]
fn segments_start_at_sector_multiples() {
    for page_size in [512, 1024, 4096] {
        for sector in [32, 512, 1024, 4096, 65536] {
            let what = format!("page {page_size}, sector {sector}");
            let j = Journal::new(sector, page_size)
                .segment(2, 6)
                .record(2, 0xa2)
                .record(4, 0xa4)
                // An empty segment: the next header is then right after this one's.
                .segment(0, 9)
                .segment(2, 9)
                .record(3, 0xa3)
                .record(1, 0xa1)
                .segment(u32::MAX, 9)
                .record(6, 0xa6)
                .record(5, 0xa5);
            check(&what, page_size, |_| db_and(&j));
        }
    }
}

#[test]
fn n_rec_minus_one_counts_the_records_to_the_end() {
    let j = Journal::new(512, 1024)
        .segment(u32::MAX, 6)
        .record(2, 0xa2)
        .record(3, 0xa3)
        .record(6, 0xa6);
    check("three whole records", 1024, |_| db_and(&j));
    let cut = j.clone().record(4, 0xa4).cut(100);
    check("and a cut one", 1024, |_| db_and(&cut));
    // nRec = -1 in a later segment counts from the whole file's size (SQLite's
    // `(szJ - JOURNAL_HDR_SZ) / JOURNAL_PG_SZ`): more than the segment holds.
    let j = Journal::new(512, 1024)
        .segment(1, 6)
        .record(2, 0xa2)
        .segment(u32::MAX, 6)
        .record(3, 0xa3)
        .record(4, 0xa4);
    check("nRec -1 in the second segment", 1024, |_| db_and(&j));
}

#[test]
fn the_first_header_sets_the_database_size() {
    // A header alone, exactly one sector: the database goes back to 3 pages.
    let j = Journal::new(512, 1024).segment(0, 3);
    assert_eq!(j.bytes.len(), 512);
    check("header alone, shrink", 1024, |_| db_and(&j));
    // Larger than the file: SQLite writes a zeroed last page (the rest is a hole).
    for (db_pages, extra) in [(4, 0), (5, 0), (5, 300), (6, 0)] {
        let j = Journal::new(512, 1024).segment(1, 6).record(2, 0xa2);
        check(&format!("extend {db_pages} pages + {extra}"), 1024, |_| {
            let mut db = database(1024, db_pages, 0x11);
            db.extend(vec![0x33; extra]);
            vec![("db", db), ("db-journal", j.bytes.clone())]
        });
    }
    // Later headers' sizes are not the database's.
    let j = Journal::new(512, 1024)
        .segment(1, 4)
        .record(2, 0xa2)
        .segment(1, 2)
        .record(3, 0xa3);
    check("second header's size ignored", 1024, |_| db_and(&j));
    // A header that does not fill its sector: the writer never finished it.
    let j = Journal::new(512, 1024).segment(0, 3).cut(1);
    check("header short of a sector", 1024, |_| db_and(&j));
    let j = Journal::new(32, 1024).segment(0, 3);
    assert!(j.bytes.len() < 512);
    check("32-byte sector header in a tiny file", 1024, |_| db_and(&j));
    // Nothing left: the transaction created the database.
    let j = Journal::new(512, 1024).segment(1, 0).record(1, 0xa1);
    check("original size 0", 1024, |_| db_and(&j));
}

#[test]
fn records_past_the_original_size_are_skipped() {
    let j = Journal::new(512, 1024)
        .segment(4, 4)
        .record(4, 0xa4)
        .record(5, 0xa5)
        .record(6, 0xa6)
        .record(2, 0xa2);
    check("pages 5 and 6 skipped", 1024, |_| db_and(&j));
}

#[test]
fn playback_stops_at_the_first_sign_of_an_unfinished_journal() {
    let page = 1024usize;
    let pending = (PENDING_BYTE / page as u64 + 1) as u32;
    let start = || Journal::new(512, page).segment(3, 6).record(2, 0xa2);
    let mut cases: Vec<(&str, Journal)> = vec![
        ("page 0", start().record(0, 0xa0).record(3, 0xa3)),
        (
            "pending page",
            start().record(pending, 0xa0).record(3, 0xa3),
        ),
        ("bad checksum", start().bad_record(4, 0xa4).record(3, 0xa3)),
        (
            "stopped in segment 1, segment 2 is not read",
            start()
                .bad_record(4, 0xa4)
                .record(3, 0xa3)
                .segment(1, 6)
                .record(5, 0xa5),
        ),
        (
            "a later header without the magic",
            start().record(3, 0xa3).record(4, 0xa4).segment_with(
                [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd8],
                1,
                6,
                512,
                page as u32,
            ),
        ),
    ];
    // The record after the bad header, under the bad header's nonce.
    let last = cases.last_mut().unwrap();
    last.1 = last.1.clone().record(5, 0xa5);
    // Cut in the page number, in the image, in the checksum, and a record past the
    // original size followed by nothing although nRec promises more.
    for cut in [1030, 1000, 2] {
        cases.push((
            "cut short",
            start().record(3, 0xa3).record(4, 0xa4).cut(cut),
        ));
    }
    cases.push((
        "nRec beyond the end",
        Journal::new(512, page)
            .segment(5, 6)
            .record(2, 0xa2)
            .record(9, 0xa9),
    ));
    cases.push((
        "nRec beyond the end, cut past-size record",
        Journal::new(512, page)
            .segment(5, 6)
            .record(2, 0xa2)
            .record(9, 0xa9)
            .cut(500),
    ));
    for (what, j) in cases {
        check(what, page, |_| db_and(&j));
    }
}

#[test]
fn impossible_first_header_sizes_play_nothing_back() {
    let mut cases = Vec::new();
    for sector in [0, 16, 31, 32, 48, 1000, 65536, 131072] {
        cases.push((sector, 1024u32));
    }
    for page in [0, 256, 1000, 1024, 2048, 131072] {
        cases.push((512, page));
    }
    for (sector, page) in cases {
        let what = format!("sector field {sector}, page field {page}");
        let mut j = Journal::new(512, 1024).segment_with(MAGIC, 2, 4, sector, page);
        // Laid out with the sizes SQLite would use if it accepted them.
        if (32..=65536).contains(&sector) && sector.is_power_of_two() {
            j.sector = sector as usize;
            j.bytes.resize(sector as usize, 0);
        }
        let j = j.record(2, 0xa2).record(3, 0xa3);
        check(&what, 1024, |_| db_and(&j));
    }
}

/// The directory's path, as bytes, joined with `name`: super-journal and child journal
/// names are the paths SQLite opened them by.
fn path_in(dir: &Path, name: &str) -> Vec<u8> {
    dir.join(name).to_str().unwrap().as_bytes().to_vec()
}

fn with_super(name: &[u8]) -> Journal {
    Journal::new(512, 1024)
        .segment(2, 6)
        .record(2, 0xa2)
        .record(3, 0xa3)
        .super_record(name)
}

/// A super-journal listing `children` (each NUL-terminated, as SQLite writes it).
fn super_listing(dir: &Path, children: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    for c in children {
        v.extend(path_in(dir, c));
        v.push(0);
    }
    v
}

#[test]
fn super_journals() {
    // The super-journal is gone: the multi-database transaction committed; nothing to
    // play back, the journal is only deleted.
    check("super-journal gone", 1024, |d| {
        db_and(&with_super(&path_in(d, "super")))
    });
    // It exists, and lists only this journal: played back, then the super-journal is
    // deleted (no child needs it any more).
    check("super-journal of this journal only", 1024, |d| {
        let mut f = db_and(&with_super(&path_in(d, "super")));
        f.push((
            "super",
            super_listing(d, &["db-journal", "missing-journal"]),
        ));
        f
    });
    // Another child journal still names it: kept.
    check("another child still names it", 1024, |d| {
        let mut f = db_and(&with_super(&path_in(d, "super")));
        f.push((
            "super",
            super_listing(d, &["db-journal", "", "other-journal"]),
        ));
        let other = Journal::new(512, 1024)
            .segment(0, 1)
            .super_record(&path_in(d, "super"));
        f.push(("other-journal", other.bytes));
        f
    });
    // The other child names another super-journal, or none: deleted.
    check("the other child names another", 1024, |d| {
        let mut f = db_and(&with_super(&path_in(d, "super")));
        f.push(("super", super_listing(d, &["other-journal", "db-journal"])));
        let other = Journal::new(512, 1024)
            .segment(0, 1)
            .super_record(&path_in(d, "super2"));
        f.push(("other-journal", other.bytes));
        f.push(("super2", super_listing(d, &["other-journal"])));
        f
    });
    check("the other child names none", 1024, |d| {
        let mut f = db_and(&with_super(&path_in(d, "super")));
        f.push(("super", super_listing(d, &["other-journal"])));
        f.push(("other-journal", Journal::new(512, 1024).segment(0, 1).bytes));
        f
    });
    // An empty super-journal is no super-journal for SQLite (`unixAccess` wants a regular
    // file to hold a byte): the transaction committed, nothing is played back. Strata
    // played the journal back until this test.
    check("empty super-journal", 1024, |d| {
        let mut f = db_and(&with_super(&path_in(d, "super")));
        f.push(("super", Vec::new()));
        f
    });
    // The name is a C string: what follows a NUL is not part of it.
    check("NUL inside the name", 1024, |d| {
        let mut name = path_in(d, "super");
        name.extend(b"\0junk");
        let mut f = db_and(&with_super(&name));
        f.push(("super", super_listing(d, &["db-journal"])));
        f
    });
    // Bytes above 0x7f count as signed chars in the checksum.
    check("non-ASCII name", 1024, |d| {
        let mut f = db_and(&with_super(&path_in(d, "süper")));
        f.push(("süper", super_listing(d, &["db-journal"])));
        f
    });
}

#[test]
fn damaged_super_journal_records_are_no_super_journal() {
    // Each names a super-journal that does not exist: read as a name, it would stop the
    // playback (a committed multi-database transaction). SQLite plays the journal back.
    let damaged: Vec<(&str, fn(Journal, &[u8]) -> Journal)> = vec![
        ("checksum", |j, n| {
            let sum = n
                .iter()
                .fold(1u32, |s, &b| s.wrapping_add(b as i8 as i32 as u32));
            j.super_record_with(n, n.len() as u32, sum, MAGIC)
        }),
        ("magic", |j, n| {
            let sum = n
                .iter()
                .fold(0u32, |s, &b| s.wrapping_add(b as i8 as i32 as u32));
            let mut magic = MAGIC;
            magic[7] ^= 1;
            j.super_record_with(n, n.len() as u32, sum, magic)
        }),
        ("length 0", |j, n| j.super_record_with(n, 0, 0, MAGIC)),
        ("length past the start of the file", |j, n| {
            j.super_record_with(n, 1 << 20, 0, MAGIC)
        }),
        ("empty C string", |j, n| {
            let mut name = vec![0u8];
            name.extend(n);
            let sum = name
                .iter()
                .fold(0u32, |s, &b| s.wrapping_add(b as i8 as i32 as u32));
            j.super_record_with(&name, name.len() as u32, sum, MAGIC)
        }),
    ];
    for (what, damage) in damaged {
        check(what, 1024, |d| {
            let j = Journal::new(512, 1024)
                .segment(2, 6)
                .record(2, 0xa2)
                .record(3, 0xa3);
            db_and(&damage(j, &path_in(d, "super")))
        });
    }
}

#[test]
fn super_journal_name_lengths() {
    // SQLite reads names shorter than 513 bytes (Unix `mxPathname` + 1): a 512-byte name
    // of a missing file stops the playback; a 513-byte one is no name at all. (A name
    // with a component longer than `NAME_MAX` makes `stat` fail: SQLite takes that as a
    // missing file; Strata refused to open the database until this test.)
    for len in [511, 512, 513, 600] {
        check(&format!("name of {len} bytes"), 1024, |d| {
            let mut name = path_in(d, "s");
            while name.len() < len {
                name.push(b'x');
            }
            db_and(&with_super(&name))
        });
    }
    // A journal that is nothing but a super-journal record whose name starts at byte 0
    // (not a valid header: nothing to play back, but the super-journal is looked at).
    check("name from byte 0", 1024, |d| {
        let name = path_in(d, "super");
        let sum = name
            .iter()
            .fold(0u32, |s, &b| s.wrapping_add(b as i8 as i32 as u32));
        let mut j = Vec::new();
        j.extend(&name);
        j.extend((name.len() as u32).to_be_bytes());
        j.extend(sum.to_be_bytes());
        j.extend(MAGIC);
        vec![
            ("db", database(1024, 6, 0x11)),
            ("db-journal", j),
            ("super", super_listing(d, &["db-journal"])),
        ]
    });
    // Shorter than a super-journal record, or claiming a name longer than what precedes
    // the record: a journal that holds no header either; it is deleted.
    check("8-byte journal", 1024, |_| {
        vec![
            ("db", database(1024, 6, 0x11)),
            ("db-journal", vec![1, 2, 3, 4, 5, 6, 7, 8]),
        ]
    });
    check("name longer than the journal", 1024, |_| {
        let mut j = vec![b'n'; 4];
        j.extend(10u32.to_be_bytes());
        j.extend(0u32.to_be_bytes());
        j.extend(MAGIC);
        vec![("db", database(1024, 6, 0x11)), ("db-journal", j)]
    });
}

#[test]
fn cold_journals_are_left_alone() {
    // Zeroed first byte (journal_mode=PERSIST after a commit), and an empty file
    // (TRUNCATE): nothing played back, the journal stays.
    let mut zeroed = Journal::new(512, 1024).segment(1, 6).record(2, 0xa2).bytes;
    zeroed[0] = 0;
    check("zeroed", 1024, |_| {
        vec![
            ("db", database(1024, 6, 0x11)),
            ("db-journal", zeroed.clone()),
        ]
    });
    check("empty journal", 1024, |_| {
        vec![("db", database(1024, 6, 0x11)), ("db-journal", Vec::new())]
    });
    // Beside an empty database, a journal is deleted unread.
    let j = Journal::new(512, 1024).segment(1, 6).record(2, 0xa2);
    check("empty database", 1024, |_| {
        vec![("db", Vec::new()), ("db-journal", j.bytes.clone())]
    });
}

/// The journal that protects a new database's page 1 (strata-pager's module `create`):
/// whatever a power loss left of page 1 (garbage, zeros, half of it), SQLite and Strata
/// both play it back to an empty file; Strata then creates the database again.
#[test]
fn the_creation_journal_rolls_a_torn_page_1_back_to_an_empty_file() {
    for page_size in [512usize, 4096, 65536] {
        let journal = strata_pager::journal::new_database_journal(page_size, 0x1234_5678);
        assert_eq!(journal.len(), 512);
        let mut half = strata_pager::header::new_database_page1(page_size, 0);
        half.truncate(page_size / 2);
        for (what, db) in [
            ("garbage", vec![0x5a; page_size]),
            ("zeros", vec![0; page_size]),
            ("half a page 1", half),
            (
                "a whole page 1",
                strata_pager::header::new_database_page1(page_size, 0),
            ),
        ] {
            check(&format!("{what}, page size {page_size}"), page_size, |_| {
                vec![("db", db.clone()), ("db-journal", journal.clone())]
            });
            // SQLite's outcome, spelled out: an empty file, no journal.
            let dir = tempfile::tempdir().unwrap();
            let got = sqlite_rollback(
                dir.path(),
                &vec![("db", db.clone()), ("db-journal", journal.clone())],
            );
            assert!(got.db.is_empty(), "{what}, page size {page_size}");
            assert_eq!(got.left, vec![("db-journal", false)]);
        }
    }
}

/// Records the order of the file operations that matter to durability.
struct Recording {
    inner: SyscallIo,
    events: Arc<Mutex<Vec<String>>>,
}

struct RecordingFile {
    inner: Arc<dyn File>,
    name: String,
    events: Arc<Mutex<Vec<String>>>,
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

impl IO for Recording {
    fn open_file(&self, path: &str, flags: OpenFlags) -> strata_io::Result<Arc<dyn File>> {
        Ok(Arc::new(RecordingFile {
            inner: self.inner.open_file(path, flags)?,
            name: file_name(path),
            events: self.events.clone(),
        }))
    }
    fn remove_file(&self, path: &str) -> strata_io::Result<()> {
        self.events
            .lock()
            .unwrap()
            .push(format!("remove {}", file_name(path)));
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

impl RecordingFile {
    fn event(&self, what: &str) {
        self.events
            .lock()
            .unwrap()
            .push(format!("{what} {}", self.name));
    }
}

impl File for RecordingFile {
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
        self.event("write");
        self.inner.pwrite(offset, c)
    }
    fn sync(&self, c: &Completion) -> strata_io::Result<()> {
        self.event("sync");
        self.inner.sync(c)
    }
    fn truncate(&self, size_bytes: u64, c: &Completion) -> strata_io::Result<()> {
        self.event("truncate");
        self.inner.truncate(size_bytes, c)
    }
    fn size_bytes(&self) -> strata_io::Result<u64> {
        self.inner.size_bytes()
    }
}

#[test]
fn rollback_is_durable_before_the_journal_goes() {
    // SQLite's order: sync the journal (the crashed writer may not have), write the
    // images back, sync the database, then delete the journal (and the super-journal).
    // Without the syncs a power loss after the delete could lose the restored pages with
    // the journal that held them.
    for (sync_mode, want) in [
        (
            SyncMode::Full,
            &[
                "sync db-journal",
                "truncate db",
                "write db",
                "write db",
                "sync db",
                "remove db-journal",
                "remove super",
            ][..],
        ),
        (
            SyncMode::Off,
            &[
                "truncate db",
                "write db",
                "write db",
                "remove db-journal",
                "remove super",
            ][..],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let files = {
            let mut f = vec![
                ("db", database(1024, 6, 0x11)),
                (
                    "db-journal",
                    Journal::new(512, 1024)
                        .segment(2, 4)
                        .record(2, 0xa2)
                        .record(3, 0xa3)
                        .super_record(&path_in(dir.path(), "super"))
                        .bytes,
                ),
            ];
            f.push(("super", super_listing(dir.path(), &["db-journal"])));
            f
        };
        write_files(dir.path(), &files);
        let events = Arc::new(Mutex::new(Vec::new()));
        let io = Arc::new(Recording {
            inner: SyscallIo::new(),
            events: events.clone(),
        });
        let options = StorageOptions {
            page_size: 1024,
            sync_mode,
            ..StorageOptions::default()
        };
        let path = dir.path().join("db");
        let storage = Storage::open(io, path.to_str().unwrap(), options).unwrap();
        drop(storage);
        let events = events.lock().unwrap().clone();
        assert_eq!(events, want, "{sync_mode:?}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            4 * 1024,
            "{sync_mode:?}"
        );
    }
}

#[test]
fn a_journal_beside_an_empty_database_is_not_played_back() {
    // SQLite's `hasHotJournal`: a zero-byte database has no content to restore (the
    // journal belongs to a database that was never written, or to another file).
    check("empty database", 1024, |_| {
        vec![
            ("db", Vec::new()),
            (
                "db-journal",
                Journal::new(512, 1024)
                    .segment(2, 3)
                    .record(2, 0xa2)
                    .record(3, 0xa3)
                    .bytes,
            ),
        ]
    });
}
