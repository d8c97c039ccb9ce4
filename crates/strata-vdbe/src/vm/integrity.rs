//! `IntegrityCheck` / `IntegrityCheckTrees`: `strata_btree::check` over every root, the
//! freelist, and page accounting, rendered as SQLite-like lines.
//!
//! The checks read pages through a loader callback. Ours never blocks: a page that is
//! not in memory makes the loader submit the read and fail with a marker, the whole check
//! returns `Io`, and the instruction runs again later. To guarantee progress every page
//! read so far is kept (pinned) in the instruction's state until the check finishes,
//! and when an interior page is loaded the reads of all its children are submitted at
//! once, so a re-run needs about one round per tree level rather than one per page.
//! The cost is memory: a check pins every page it reads (the whole database) until it
//! completes.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use strata_btree::check::{check_freelist, check_tree};
use strata_btree::page::read_u32;
use strata_btree::page::{header_offset, PageHeader};
use strata_btree::ptrmap::{
    is_ptrmap_page, ptrmap_page_for, read_entry, PTRMAP_FREEPAGE, PTRMAP_ROOTPAGE,
};
use strata_btree::record::{KeyInfo, Value};
use strata_io::Poll;
use strata_pager::header;
use strata_pager::{PageRef, Pager};

use super::{Flow, InsnState, Vm, VmError};
use crate::insn::{MAIN_DB, TEMP_DB};

#[derive(Default)]
pub(crate) struct State {
    held: HashMap<u32, PageRef>,
}

const PENDING: &str = "\u{0}integrity-check-pending";

fn pending_err() -> strata_btree::Error {
    strata_btree::Error::Misuse(PENDING.into())
}

fn is_pending(e: &strata_btree::Error) -> bool {
    matches!(e, strata_btree::Error::Misuse(m) if m == PENDING)
}

fn message(e: &strata_btree::Error) -> String {
    match e {
        strata_btree::Error::Corrupt(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Runs the checks; `Pending` if a page had to be read (run again).
fn run(
    pager: &Pager,
    trees: &[(u32, Option<Arc<KeyInfo>>)],
    max_errors: usize,
    state: &mut State,
) -> Result<Poll<Report>, VmError> {
    let usable = pager.usable_size();
    let page_size = pager.page_size();
    let db_size = pager.db_size_pages();
    let pending = Cell::new(false);
    // An I/O failure (a spill that found the disk full, a read error) fails the statement,
    // as in SQLite: it says nothing about the file. Kept aside because a check that met a
    // `Pending` read first reports `Pending`, and running again would meet the same
    // failure forever (simulator seed 494: a spill's write failing on a full disk).
    let fatal: RefCell<Option<strata_btree::Error>> = RefCell::new(None);
    let held = &mut state.held;
    let mut load = |pg: u32| -> strata_btree::Result<PageRef> {
        if let Some(p) = held.get(&pg) {
            return Ok(p.clone());
        }
        let got = pager.get_page(pg).map_err(strata_btree::Error::from);
        if let Err(e @ (strata_btree::Error::Io(_) | strata_btree::Error::Busy)) = &got {
            fatal.borrow_mut().get_or_insert_with(|| e.clone());
        }
        match got? {
            Poll::Ready(p) => {
                // Submit the children's reads of an interior page together.
                let children: Vec<u32> = {
                    let d = p.data();
                    match PageHeader::parse(&d, pg, usable) {
                        Ok(h) if !h.page_type.is_leaf() => (0..=h.cell_count)
                            .filter_map(|i| h.child(&d, i, usable).ok())
                            .filter(|&c| c >= 1 && c <= db_size)
                            .collect(),
                        _ => Vec::new(),
                    }
                };
                held.insert(pg, p.clone());
                for c in children {
                    if held.contains_key(&c) {
                        continue;
                    }
                    if let Ok(Poll::Ready(cp)) = pager.get_page(c) {
                        held.insert(c, cp);
                    }
                }
                Ok(p)
            }
            Poll::Pending => {
                pending.set(true);
                Err(pending_err())
            }
        }
    };
    let max_errors = if max_errors == 0 { 100 } else { max_errors };
    macro_rules! fail_on_fatal {
        () => {
            if let Some(e) = fatal.borrow_mut().take() {
                return Err(VmError::from_btree(e));
            }
        };
    }
    // SQLite's convention (sqlite3BtreeIntegrityCheck): a first root of 0 means only
    // some trees are checked (`PRAGMA integrity_check(TABLE)`), so nothing that needs
    // every tree is: no pointer-map entries, no header root check, no pages never used;
    // the freelist only when the list starts with page 1.
    let partial = trees.first().is_some_and(|(r, _)| *r == 0);
    let check_freelist_too = !partial || trees.get(1).is_some_and(|(r, _)| *r == 1);
    let mut lines: Vec<String> = Vec::new();
    let mut used: Vec<u32> = Vec::new();
    // Each tree's entries (rows of a table, entries of an index), in `trees` order; None
    // for a tree that could not be walked (and for a root of 0).
    let mut entries: Vec<Option<u64>> = Vec::with_capacity(trees.len());
    // Pointer-map entries the walk implies (auto-vacuum databases): (page, type, parent)
    // and the prefix SQLite gives a message about it (`zPfx`).
    let mut ptrmap: Vec<Expected> = Vec::new();
    let mut tree_errors = false;
    let mut has_page1 = false;
    for (root, ki) in trees {
        let root = *root;
        entries.push(None);
        if root == 0 {
            continue;
        }
        has_page1 |= root == 1;
        // Index or table: from the root page's type, unless the caller said.
        let loaded = load(root);
        fail_on_fatal!();
        let is_index = match loaded {
            Ok(p) => {
                let d = p.data();
                matches!(d.get(header_offset(root)), Some(2) | Some(10))
            }
            Err(e) if is_pending(&e) => return Ok(Poll::Pending),
            Err(e) => {
                tree_errors = true;
                lines.push(format!("Tree {root}: {}", message(&e)));
                continue;
            }
        };
        let default_ki;
        let ki_ref: Option<&KeyInfo> = if is_index {
            match ki {
                Some(k) => Some(k),
                None => {
                    default_ki = KeyInfo::default();
                    Some(&default_ki)
                }
            }
        } else {
            None
        };
        if root > 1 {
            ptrmap.push((root, PTRMAP_ROOTPAGE, 0, String::new()));
        }
        let checked = check_tree(&mut load, usable, db_size, root, ki_ref);
        fail_on_fatal!();
        match checked {
            Ok(stats) => {
                if let Some(e) = entries.last_mut() {
                    *e = Some(stats.entries);
                }
                used.extend(stats.pages);
                ptrmap.extend(
                    stats
                        .ptrmap
                        .iter()
                        .map(|r| (r.page, r.kind, r.parent, r.prefix(root))),
                );
            }
            Err(e) if pending.get() || is_pending(&e) => return Ok(Poll::Pending),
            Err(e) => {
                tree_errors = true;
                lines.push(format!("Tree {root}: {}", message(&e)));
            }
        }
    }
    let checked = if check_freelist_too {
        check_freelist(&mut load, usable, db_size)
    } else {
        Ok(Vec::new())
    };
    fail_on_fatal!();
    match checked {
        Ok(pages) => {
            ptrmap.extend(
                pages
                    .iter()
                    .map(|&p| (p, PTRMAP_FREEPAGE, 0, "Freelist: ".to_string())),
            );
            used.extend(pages);
        }
        Err(e) if pending.get() || is_pending(&e) => return Ok(Poll::Pending),
        Err(e) => {
            tree_errors = true;
            lines.push(format!("Freelist: {}", message(&e)));
        }
    }
    let page1 = load(1);
    fail_on_fatal!();
    let (largest_root, incremental) = match page1 {
        Ok(p) => {
            let d = p.data();
            (
                read_u32(&d, header::OFFSET_LARGEST_ROOT),
                read_u32(&d, header::OFFSET_INCREMENTAL_VACUUM),
            )
        }
        Err(e) if is_pending(&e) => return Ok(Poll::Pending),
        Err(e) => return Err(VmError::error(message(&e))),
    };
    let auto_vacuum = largest_root != 0;
    if partial {
        // (Whole-file checks: none.)
    } else if auto_vacuum {
        // As SQLite's sqlite3BtreeIntegrityCheck: the header names the largest root page,
        // and every page's pointer-map entry names what the walk found it to be.
        let max_root = trees.iter().map(|(r, _)| *r).max().unwrap_or(1);
        if max_root != largest_root {
            lines.push(format!(
                "max rootpage ({max_root}) disagrees with header ({largest_root})"
            ));
        }
        // Inside a write transaction the maps on the pages are brought up to date only
        // at commit (`autovacuum` module): the entries derived so far take precedence.
        let pending = match strata_btree::autovacuum::pending_entries(pager) {
            Ok(p) => p,
            Err(e) => {
                lines.push(message(&e));
                BTreeMap::new()
            }
        };
        let checked =
            check_ptrmap_entries(&mut load, &ptrmap, &pending, usable, page_size, db_size);
        fail_on_fatal!();
        match checked {
            Ok(found) => lines.extend(found),
            Err(e) if is_pending(&e) => return Ok(Poll::Pending),
            Err(e) => lines.push(message(&e)),
        }
    } else if incremental != 0 {
        lines.push("incremental_vacuum enabled with a max rootpage of zero".into());
    }
    if !tree_errors && !partial {
        if !has_page1 {
            used.push(1);
        }
        // One bit per page, as SQLite's aPgRef. The size may be a WAL commit frame's claim
        // (up to 2^32 pages: 512 MiB of bits, allocated zeroed and so touched only where
        // set), and the scan for pages never used stops at `max_errors` messages, as
        // SQLite's loop does: a byte per page and a message per unused page made a damaged
        // WAL's size claim cost gigabytes.
        let mut refs = vec![0u64; (db_size as usize + 1).div_ceil(64)];
        for &p in &used {
            if p == 0 || p > db_size {
                lines.push(format!("invalid page number {p}"));
                continue;
            }
            let (word, bit) = (p as usize / 64, 1u64 << (p % 64));
            if refs[word] & bit != 0 {
                lines.push(format!("2nd reference to page {p}"));
            }
            refs[word] |= bit;
        }
        let mut p = 1u64;
        while p <= u64::from(db_size) && lines.len() < max_errors {
            let word = refs[p as usize / 64];
            // Whole words of used pages hold neither message unless a pointer-map page is
            // among them (auto-vacuum files only).
            if word == u64::MAX && !auto_vacuum && p % 64 == 0 {
                p += 64;
                continue;
            }
            let referenced = word & (1u64 << (p % 64)) != 0;
            // Pointer-map pages belong to no tree: never referenced, yet used.
            let is_map = auto_vacuum && is_ptrmap_page(p as u32, usable, page_size);
            if !referenced && !is_map {
                lines.push(format!("Page {p}: never used"));
            }
            if referenced && is_map {
                lines.push(format!("Page {p}: pointer map referenced"));
            }
            p += 1;
        }
    }
    if lines.is_empty() {
        return Ok(Poll::Ready(Report {
            text: "ok".into(),
            problems: 0,
            trees_sound: true,
            entries,
        }));
    }
    lines.truncate(max_errors);
    let problems = lines.len();
    let mut out = String::from("*** in database main ***");
    for l in lines {
        out.push('\n');
        out.push_str(&l);
    }
    Ok(Poll::Ready(Report {
        text: out,
        problems,
        trees_sound: !tree_errors,
        entries,
    }))
}

/// What a check found: its text ("ok" or the problems), how many problems, and whether
/// every tree's structure is sound (page accounting aside).
struct Report {
    text: String,
    problems: usize,
    trees_sound: bool,
    entries: Vec<Option<u64>>,
}

/// An expected pointer-map entry: page, type, parent, and SQLite's message prefix.
type Expected = (u32, u8, u32, String);

/// Compares each expected pointer-map entry `(page, type, parent)` with the one on disk
/// (or the one `pending` at commit);
/// returns SQLite's messages for those that differ (`checkPtrmap`).
fn check_ptrmap_entries(
    load: &mut dyn FnMut(u32) -> strata_btree::Result<PageRef>,
    expected: &[Expected],
    pending: &BTreeMap<u32, (u8, u32)>,
    usable: usize,
    page_size: usize,
    db_size: u32,
) -> strata_btree::Result<Vec<String>> {
    let mut lines = Vec::new();
    for (page_no, kind, parent, prefix) in expected {
        let (page_no, kind, parent) = (*page_no, *kind, *parent);
        let map_page = ptrmap_page_for(page_no, usable, page_size);
        let entry = if let Some(&entry) = pending.get(&page_no) {
            Some(entry)
        } else if map_page < 2 || map_page > db_size {
            None
        } else {
            let map = load(map_page)?;
            let d = map.data();
            // Types outside 1..=5 are unreadable entries for SQLite (`ptrmapGet`).
            read_entry(&d, map_page, page_no, usable).filter(|(t, _)| (1..=5).contains(t))
        };
        match entry {
            None => lines.push(format!("{prefix}Failed to read ptrmap key={page_no}")),
            Some((t, p)) if (t, p) != (kind, parent) => lines.push(format!(
                "{prefix}Bad ptr map entry key={page_no} expected=({kind},{parent}) got=({t},{p})"
            )),
            Some(_) => {}
        }
    }
    Ok(lines)
}

impl Vm {
    pub(super) fn exec_integrity(
        &mut self,
        db: usize,
        trees: &[(u32, Option<Arc<KeyInfo>>)],
        dest: usize,
        max_errors: usize,
        status: Option<usize>,
    ) -> Result<Flow, VmError> {
        let pager = self.conn.pager_for(db)?;
        if !matches!(self.insn_state, Some(InsnState::Integrity(_))) {
            self.insn_state = Some(InsnState::Integrity(State::default()));
        }
        let Some(InsnState::Integrity(state)) = self.insn_state.as_mut() else {
            return Err(VmError::error("instruction state lost"));
        };
        match run(&pager, trees, max_errors, state)? {
            Poll::Pending => Ok(Flow::Io),
            Poll::Ready(report) => {
                self.insn_state = None;
                let mut text = report.text;
                // SQLite's header names the database checked (`*** in database aux ***`).
                if db != MAIN_DB && report.problems > 0 {
                    let name = match db {
                        TEMP_DB => "temp".to_string(),
                        _ => self
                            .conn
                            .attached()
                            .get(db - 2)
                            .map_or_else(|| format!("db{db}"), |a| a.name.clone()),
                    };
                    if let Some(rest) = text.strip_prefix("*** in database main ***") {
                        text = format!("*** in database {name} ***{rest}");
                    }
                }
                self.regs[dest] = Value::Text(text.into_bytes());
                if let Some(s) = status {
                    self.regs[s] = Value::Integer(report.problems as i64);
                    self.regs[s + 1] = Value::Integer(report.trees_sound as i64);
                    for (i, e) in report.entries.iter().enumerate() {
                        self.regs[s + 2 + i] = match e {
                            Some(n) => Value::Integer(*n as i64),
                            None => Value::Null,
                        };
                    }
                }
                self.pc += 1;
                Ok(Flow::Continue)
            }
        }
    }
}
