//! Auto-vacuum in the VM: `IncrVacuum` (`PRAGMA incremental_vacuum`) and the guard on
//! setting the auto-vacuum mode (`PRAGMA auto_vacuum`).

use strata_io::Poll;
use strata_pager::Pager;

use super::{ready_bt, Flow, Vm, VmError};
use crate::insn::{Addr, Cookie};

/// Whether a `SetCookie` of `cookie` applies, given page 1's bytes. Header offset 52
/// (largest root page, non-zero in auto-vacuum databases) is set by `PRAGMA auto_vacuum`
/// only on a database that holds page 1 alone and is not auto-vacuum yet: SQLite fixes
/// the mode once the file has pages (a change between none and full/incremental then
/// needs a VACUUM and the pragma is ignored), and a new SQLite file is auto-vacuum from
/// the start. Strata writes page 1 when it creates a file, so "page 1 alone and mode
/// none" stands for SQLite's empty file. The B-tree keeps offset 52 itself otherwise.
pub(super) fn cookie_settable(pager: &Pager, cookie: Cookie, page1: &[u8]) -> bool {
    cookie != Cookie::LargestRootPage
        || (pager.db_size_pages() <= 1 && strata_pager::header::read_u32(page1, 52) == 0)
}

impl Vm {
    /// One step of SQLite's OP_IncrVacuum: the last page of the file goes (a free page is
    /// dropped, a page in use moves into a free page); jump to `target` when the database
    /// is not an auto-vacuum one or has no free page left.
    pub(super) fn exec_incr_vacuum(&mut self, db: usize, target: Addr) -> Result<Flow, VmError> {
        let pager = self.conn.pager_for(db)?;
        let enabled = ready_bt!(strata_btree::autovacuum::enabled(&pager));
        let progressed = enabled && ready_bt!(strata_btree::autovacuum::vacuum_step(&pager));
        if progressed {
            self.pc += 1;
        } else {
            self.pc = target;
        }
        Ok(Flow::Continue)
    }
}

// ---------------------------------------------------------------------------------------
// VACUUM
// ---------------------------------------------------------------------------------------
//
// SQLite's VACUUM (sqlite3RunVacuum) copies every table and index into a temporary
// database and then copies its pages back over the main one. Strata does the same in two
// steps, both inside the VACUUM statement's write transaction on main:
//
// 1. **Image**: a fresh database on a private `MemoryIo`, with main's page size, reserved
//    bytes and text encoding, and the auto-vacuum mode of main or the one `PRAGMA
//    auto_vacuum` asked for since (SQLite's `db->nextAutovac`, the only way to switch a
//    database with tables between NONE and FULL/INCREMENTAL). Every tree of `trees` gets
//    a new root (in schema order), then its entries are copied as raw records, in key
//    order, so values, types and text bytes are exactly what was stored (no affinity
//    runs again, as in SQLite's transfer optimisation). `sqlite_schema` rows are copied
//    with `rootpage` mapped to the new roots. The image is committed on its own storage
//    (the auto-vacuum commit hook writes its pointer maps).
// 2. **Copy back**: every page of the image replaces main's page of the same number
//    (new images, no reads), the database shrinks to the image's size, and page 1 keeps
//    main's user version, application id and default cache size with the schema cookie
//    bumped. In an auto-vacuum database the commit hook is told each page's kind from the
//    image's pointer map, so the entries it derives are the image's own.
//
// The statement's commit then writes it all to the WAL atomically: a crash leaves the
// old database or the new one. VACUUM blocks its connection (and its event loop) while
// it runs, as SQLite's does; it is refused inside a transaction and while other
// statements of the connection are running, with SQLite's messages.

use std::collections::HashMap;
use std::sync::Arc;

use strata_btree::record::{decode_record, encode_record, KeyInfo, TextEncoding, ValueRef};
use strata_btree::{BTreeCursor, BTreeType, TreeKind};
use strata_io::{MemoryIo, IO};
use strata_pager::{Storage, StorageOptions, SyncMode};

use crate::insn::{ErrorCode, MAIN_DB};

/// Header offsets VACUUM carries over or sets.
const OFF_SCHEMA_COOKIE: usize = 40;
const OFF_DEFAULT_CACHE: usize = 48;
const OFF_LARGEST_ROOT: usize = 52;
const OFF_TEXT_ENCODING: usize = 56;
const OFF_USER_VERSION: usize = 60;
const OFF_INCREMENTAL: usize = 64;
const OFF_APPLICATION_ID: usize = 68;

fn btree_err(e: strata_btree::Error) -> VmError {
    VmError::from_btree(e)
}

fn pager_err(e: strata_pager::Error) -> VmError {
    VmError::from_pager(e)
}

/// Runs a resumable B-tree operation to completion on `io`.
fn wait<T>(io: &dyn IO, op: impl FnMut() -> strata_btree::Result<Poll<T>>) -> Result<T, VmError> {
    strata_io::block_on(io, op).map_err(btree_err)
}

/// The rebuilt database: its pages (page 1 first) and, for an auto-vacuum one, each
/// page's pointer-map type.
struct Image {
    pages: Vec<Vec<u8>>,
    kinds: Vec<(u32, u8)>,
    /// What SQLite's VACUUM leaves as `last_insert_rowid()` (found by sql_diff): it
    /// rebuilds with SQL on the connection, and its last INSERT that sets the rowid is
    /// the copy of the views and triggers into the new `sqlite_schema` (the data copy
    /// does not: SQLite flags it as VACUUM's). So: the number of schema rows (dense
    /// rowids in the new file) when a view or trigger is among them, else unchanged.
    last_rowid: Option<i64>,
}

impl Vm {
    /// `Vacuum` (see the section comment above).
    /// `VacuumInto`: the image of `exec_vacuum`, built from this statement's read
    /// snapshot of main, written page by page to a new file and synced (SQLite's
    /// sqlite3RunVacuum with an output file). The file is a rollback-journal database
    /// (header bytes 18-19 are 1), as SQLite's output is; main is not written.
    pub(super) fn exec_vacuum_into(
        &mut self,
        trees: &[(u32, Option<Arc<KeyInfo>>)],
        file: usize,
    ) -> Result<Flow, VmError> {
        let next_auto_vacuum = {
            let st = self.conn.state();
            let refused = if !st.autocommit {
                Some("cannot VACUUM from within a transaction")
            } else if st.active_statements > 1 {
                Some("cannot VACUUM - SQL statements in progress")
            } else {
                None
            };
            if let Some(message) = refused {
                drop(st);
                // SQLite refuses before reading anything: a transaction this statement
                // began reading in keeps no snapshot from it.
                if self.txn.began_main_read {
                    self.conn.pager().end_read();
                    self.txn.began_main_read = false;
                }
                return Err(VmError::new(ErrorCode::Error, message));
            }
            st.next_auto_vacuum
        };
        let path = match &self.regs[file] {
            strata_btree::record::Value::Text(t) => String::from_utf8_lossy(t).into_owned(),
            _ => return Err(VmError::new(ErrorCode::Error, "non-text filename")),
        };
        let io = self
            .conn
            .file_io()
            .ok_or_else(|| VmError::error("VACUUM INTO a file is disabled"))?;
        // SQLite opens the file as ATTACH does, with its message.
        let unable = || VmError::new(ErrorCode::Error, format!("unable to open database: {path}"));
        // A file that exists and is not empty is refused (SQLite's check, made before it
        // writes anything).
        if io.file_exists(&path).map_err(|_| unable())? {
            let f = io
                .open_file(&path, strata_io::OpenFlags::READ_WRITE)
                .map_err(|_| unable())?;
            if f.size_bytes().map_err(|_| unable())? > 0 {
                return Err(VmError::error("output file already exists"));
            }
        }
        let main = self.conn.pager_for(MAIN_DB)?;
        let mut image = build_image(&main, trees, self.enc, next_auto_vacuum)?;
        // A rollback-journal file (SQLite's output is not in WAL mode), with a change
        // counter of its own.
        image.pages[0][18] = 1;
        image.pages[0][19] = 1;
        let out = io
            .open_file(&path, strata_io::OpenFlags::CREATE)
            .map_err(|_| unable())?;
        let io_err = |e: strata_io::IoError| VmError::from_btree(e.into());
        let page_size = image.pages[0].len() as u64;
        let n = image.pages.len() as u32;
        for (i, page) in image.pages.iter_mut().enumerate() {
            if i == 0 {
                strata_pager::header::write_u32(page, 28, n);
            }
            let c = strata_io::Completion::write(std::mem::take(page));
            out.pwrite(i as u64 * page_size, &c).map_err(io_err)?;
            strata_io::wait(io.as_ref(), &c).map_err(io_err)?;
        }
        let c = strata_io::Completion::sync();
        out.sync(&c).map_err(io_err)?;
        strata_io::wait(io.as_ref(), &c).map_err(io_err)?;
        if let Some(r) = image.last_rowid {
            self.conn.state().last_insert_rowid = r;
        }
        self.pc += 1;
        Ok(Flow::Continue)
    }

    pub(super) fn exec_vacuum(
        &mut self,
        trees: &[(u32, Option<Arc<KeyInfo>>)],
    ) -> Result<Flow, VmError> {
        let next_auto_vacuum = {
            let st = self.conn.state();
            if !st.autocommit {
                return Err(VmError::new(
                    ErrorCode::Error,
                    "cannot VACUUM from within a transaction",
                ));
            }
            if st.active_statements > 1 {
                return Err(VmError::new(
                    ErrorCode::Error,
                    "cannot VACUUM - SQL statements in progress",
                ));
            }
            st.next_auto_vacuum
        };
        let main = self.conn.pager_for(MAIN_DB)?;
        let image = build_image(&main, trees, self.enc, next_auto_vacuum)?;
        write_image(&main, &image)?;
        // Root pages changed: every statement must be compiled again.
        let mut st = self.conn.state();
        st.schema_changed = true;
        if let Some(r) = image.last_rowid {
            st.last_insert_rowid = r;
        }
        drop(st);
        self.pc += 1;
        Ok(Flow::Continue)
    }
}

/// Step 1: the rebuilt database, built on a private in-memory storage.
fn build_image(
    main: &Arc<Pager>,
    trees: &[(u32, Option<Arc<KeyInfo>>)],
    enc: TextEncoding,
    next_auto_vacuum: Option<u8>,
) -> Result<Image, VmError> {
    let io = main.io().clone();
    let header: Vec<u8> = {
        let p1 = wait(io.as_ref(), || Ok(main.get_page(1)?))?;
        let d = p1.data();
        d[..100].to_vec()
    };
    let read = |off: usize| strata_pager::header::read_u32(&header, off);
    let (largest_root, incremental) = (read(OFF_LARGEST_ROOT), read(OFF_INCREMENTAL));
    // 0 none, 1 full, 2 incremental.
    let mode = next_auto_vacuum.unwrap_or(match (largest_root, incremental) {
        (0, _) => 0,
        (_, 0) => 1,
        _ => 2,
    });

    let scratch_io: Arc<dyn IO> = Arc::new(MemoryIo::new());
    let options = StorageOptions {
        page_size: main.page_size(),
        reserved_bytes: (main.page_size() - main.usable_size()) as u8,
        cache_size_pages: 2000,
        sync_mode: SyncMode::Off,
        autocheckpoint_frames: 0,
    };
    let storage = Storage::open(scratch_io.clone(), "vacuum.db", options).map_err(pager_err)?;
    strata_btree::autovacuum::install(&storage);
    let scratch = storage.pager();
    let sio = scratch_io.as_ref();
    scratch.begin_write().map_err(pager_err)?;
    {
        // A new database's settings, as SQLite's newDatabase writes them.
        let p1 = wait(sio, || Ok(scratch.get_page(1)?))?;
        scratch.mark_dirty(&p1).map_err(pager_err)?;
        let mut d = p1.data_mut();
        let w = |d: &mut [u8], off: usize, v: u32| strata_pager::header::write_u32(d, off, v);
        w(&mut d, OFF_TEXT_ENCODING, read(OFF_TEXT_ENCODING).max(1));
        w(&mut d, OFF_LARGEST_ROOT, (mode != 0) as u32);
        w(&mut d, OFF_INCREMENTAL, (mode == 2) as u32);
    }

    // New roots first (in schema order, so an auto-vacuum image has them at the front).
    let mut roots: HashMap<u32, u32> = HashMap::new();
    roots.insert(1, 1);
    for (old, ki) in trees {
        if *old <= 1 || roots.contains_key(old) {
            continue;
        }
        let kind = if ki.is_some() {
            BTreeType::Index
        } else {
            BTreeType::Table
        };
        let new = wait(sio, || strata_btree::create_btree(&scratch, kind))?;
        roots.insert(*old, new);
    }

    // Entries, as raw records in key order; sqlite_schema with its roots renumbered.
    copy_tree(main, &io, &scratch, sio, 1, 1, None, Some(&roots))?;
    let last_rowid = schema_rows_if_views(main, &io)?;
    for (old, ki) in trees {
        if *old <= 1 {
            continue;
        }
        let ki = ki.as_ref().map(|k| k.in_encoding(enc));
        copy_tree(main, &io, &scratch, sio, *old, roots[old], ki, None)?;
    }
    wait(sio, || Ok(scratch.commit()?))?;

    // Read the image back (through its WAL).
    scratch.begin_read().map_err(pager_err)?;
    let n = scratch.db_size_pages();
    let mut pages = Vec::with_capacity(n as usize);
    for p in 1..=n {
        let page = wait(sio, || Ok(scratch.get_page(p)?))?;
        pages.push(page.data().clone());
    }
    scratch.end_read();
    let mut kinds = Vec::new();
    if mode != 0 {
        let (usable, page_size) = (scratch.usable_size(), scratch.page_size());
        for p in 2..=n {
            if strata_btree::ptrmap::is_ptrmap_page(p, usable, page_size)
                || p == strata_btree::ptrmap::pending_byte_page(page_size)
            {
                continue;
            }
            let map = strata_btree::ptrmap::ptrmap_page_for(p, usable, page_size);
            let entry = strata_btree::ptrmap::read_entry(&pages[map as usize - 1], map, p, usable)
                .ok_or_else(|| VmError::corrupt())?;
            kinds.push((p, entry.0));
        }
    }
    // Main's settings that VACUUM keeps (sqlite3RunVacuum's aCopy), and a new cookie.
    {
        let d = &mut pages[0];
        let w = |d: &mut [u8], off: usize, v: u32| strata_pager::header::write_u32(d, off, v);
        w(
            d,
            OFF_SCHEMA_COOKIE,
            read(OFF_SCHEMA_COOKIE).wrapping_add(1),
        );
        w(d, OFF_DEFAULT_CACHE, read(OFF_DEFAULT_CACHE));
        w(d, OFF_USER_VERSION, read(OFF_USER_VERSION));
        w(d, OFF_APPLICATION_ID, read(OFF_APPLICATION_ID));
        // The version fields and change counter are main's; the commit sets the rest.
        d[18..20].copy_from_slice(&header[18..20]);
        d[24..28].copy_from_slice(&header[24..28]);
        d[92..100].copy_from_slice(&header[92..100]);
    }
    Ok(Image {
        pages,
        kinds,
        last_rowid,
    })
}

/// Copies the tree rooted at `from` in `main` into the tree rooted at `to` in `scratch`,
/// entry by entry as raw payloads (`key_info`: an index). With `renumber`, the tree is
/// `sqlite_schema` and each row's `rootpage` (field 3) is mapped to the new root.
/// Returns the last rowid copied (a table with rows).
#[allow(clippy::too_many_arguments)]
fn copy_tree(
    main: &Arc<Pager>,
    io: &Arc<dyn IO>,
    scratch: &Arc<Pager>,
    sio: &dyn IO,
    from: u32,
    to: u32,
    key_info: Option<Arc<KeyInfo>>,
    renumber: Option<&HashMap<u32, u32>>,
) -> Result<Option<i64>, VmError> {
    let kind = match &key_info {
        Some(k) => TreeKind::Index(k.clone()),
        None => TreeKind::Table,
    };
    let mut src = BTreeCursor::new(main.clone(), from, kind.clone());
    let mut dst = BTreeCursor::new(scratch.clone(), to, kind);
    wait(io.as_ref(), || src.rewind())?;
    let mut last = None;
    while !src.is_eof() {
        let payload = loop {
            match src.payload().map_err(btree_err)? {
                Poll::Ready(p) => break p.to_vec(),
                Poll::Pending => io.run_once().map_err(|e| btree_err(e.into()))?,
            }
        };
        if key_info.is_some() {
            wait(sio, || dst.insert_index(&payload))?;
        } else {
            let rowid = src.rowid().map_err(btree_err)?;
            last = Some(rowid);
            let payload = match renumber {
                Some(map) => renumber_schema_row(&payload, map)?,
                None => payload,
            };
            wait(sio, || dst.insert_rowid(rowid, &payload))?;
        }
        wait(io.as_ref(), || src.next())?;
    }
    Ok(last)
}

/// The number of `sqlite_schema` rows when one of them has no root page (a view or a
/// trigger), else None (see [`Image::last_rowid`]).
fn schema_rows_if_views(main: &Arc<Pager>, io: &Arc<dyn IO>) -> Result<Option<i64>, VmError> {
    let mut c = BTreeCursor::new(main.clone(), 1, TreeKind::Table);
    wait(io.as_ref(), || c.rewind())?;
    let (mut rows, mut rootless) = (0i64, false);
    while !c.is_eof() {
        let payload = loop {
            match c.payload().map_err(btree_err)? {
                Poll::Ready(p) => break p.to_vec(),
                Poll::Pending => io.run_once().map_err(|e| btree_err(e.into()))?,
            }
        };
        rows += 1;
        let values = decode_record(&payload).map_err(|_| VmError::corrupt())?;
        if matches!(
            values.get(3),
            Some(ValueRef::Integer(0)) | Some(ValueRef::Null)
        ) {
            rootless = true;
        }
        wait(io.as_ref(), || c.next())?;
    }
    Ok(rootless.then_some(rows))
}

/// A `sqlite_schema` record with its `rootpage` field mapped to the new root (rows of
/// views and triggers, root 0, stay as they are; their text fields are kept as bytes).
fn renumber_schema_row(payload: &[u8], map: &HashMap<u32, u32>) -> Result<Vec<u8>, VmError> {
    let mut values = decode_record(payload).map_err(|_| VmError::corrupt())?;
    if let Some(ValueRef::Integer(root)) = values.get(3).copied() {
        if root > 0 {
            let new = map
                .get(&(root as u32))
                .copied()
                .ok_or_else(VmError::corrupt)?;
            values[3] = ValueRef::Integer(new as i64);
        }
    }
    let mut out = Vec::with_capacity(payload.len() + 4);
    encode_record(&values, &mut out);
    Ok(out)
}

/// Step 2: the image replaces main's pages in the current write transaction.
fn write_image(main: &Arc<Pager>, image: &Image) -> Result<(), VmError> {
    let old_size = main.db_size_pages();
    for (i, data) in image.pages.iter().enumerate() {
        let page_no = i as u32 + 1;
        let page = if page_no <= old_size {
            main.new_page_at(page_no).map_err(pager_err)?
        } else {
            main.append_page().map_err(pager_err)?
        };
        page.data_mut().copy_from_slice(data);
    }
    let new_size = image.pages.len() as u32;
    if new_size < old_size {
        main.truncate_pages(new_size).map_err(pager_err)?;
    }
    for &(page_no, kind) in &image.kinds {
        let kind = match kind {
            strata_btree::ptrmap::PTRMAP_OVERFLOW1 | strata_btree::ptrmap::PTRMAP_OVERFLOW2 => {
                Some(strata_btree::autovacuum::KIND_OVERFLOW)
            }
            strata_btree::ptrmap::PTRMAP_FREEPAGE => Some(strata_btree::autovacuum::KIND_FREE),
            strata_btree::ptrmap::PTRMAP_ROOTPAGE => Some(strata_btree::autovacuum::KIND_ROOT),
            _ => None,
        };
        main.set_page_kind(page_no, kind).map_err(pager_err)?;
    }
    Ok(())
}
