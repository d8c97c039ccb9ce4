//! Cursor operations of the VM: opening cursors, starting and driving the B-tree and
//! ephemeral operations of the Async/Await pairs, and the per-row reads (`Column`,
//! `Rowid`) plus `Count` and `Clear`. Split from `mod.rs`, which holds the step loop and
//! the dispatch of every instruction.

use super::*;
use std::sync::Arc;

impl Vm {
    pub(super) fn set_cursor(&mut self, c: usize, cur: VmCursor) {
        if c >= self.cursors.len() {
            self.cursors.resize_with(c + 1, || None);
            self.seqs.resize(c + 1, 0);
        }
        self.cursors[c] = Some(cur);
        self.seqs[c] = 0;
    }

    pub(super) fn open_btree(
        &mut self,
        db: usize,
        cursor: usize,
        root_page: u32,
        root_reg: Option<usize>,
        kind: &CursorKind,
        write: bool,
    ) -> Result<(), VmError> {
        let root = match root_reg {
            Some(r) => match self.regs[r] {
                Value::Integer(p) if p > 0 && p <= u32::MAX as i64 => p as u32,
                _ => return Err(VmError::corrupt()),
            },
            None => root_page,
        };
        if root == 0 {
            return Err(VmError::corrupt());
        }
        let pager = if db == crate::insn::MAIN_DB {
            self.conn.pager().clone()
        } else {
            self.conn.pager_for(db)?
        };
        if write && !pager.in_write_tx() {
            return Err(VmError::new(
                ErrorCode::Misuse,
                "write cursor opened outside a write transaction",
            ));
        }
        let (tk, ki) = match kind {
            CursorKind::Table { .. } => (TreeKind::Table, None),
            CursorKind::Index { key_info } => {
                let key_info = key_info.in_encoding(self.enc);
                (TreeKind::Index(key_info.clone()), Some(key_info))
            }
        };
        // A cursor still open in the slot (a subquery run again) is reopened in place;
        // else the last execution's cursor of the slot (see `Vm::recycled`).
        let open = match self.cursors.get_mut(cursor) {
            Some(slot @ Some(VmCursor::BTree(_))) => match slot.take() {
                Some(VmCursor::BTree(b)) => Some((b, false)),
                _ => None,
            },
            _ => None,
        };
        let reused = open.or_else(|| {
            self.recycled
                .get_mut(cursor)
                .and_then(Option::take)
                .map(|b| (b, true))
        });
        if let Some((mut b, parked)) = reused {
            // Only a cursor parked with its append hint (`writable`, see `park_cursors`)
            // on the same tree keeps its state; any other is made as new.
            let keeps_hint = parked
                && write
                && b.writable
                && ki.is_none()
                && b.bt.root_page() == root
                && Arc::ptr_eq(b.bt.pager(), &pager);
            if keeps_hint {
                b.pending = PendingOp::Open;
                b.null_row = false;
                b.row.invalidate();
                b.buf.clear();
            } else {
                b.reopen(pager, root, tk, ki, write);
            }
            self.set_cursor(cursor, VmCursor::BTree(b));
            self.pc += 1;
            return Ok(());
        }
        let bt = BTreeCursor::new(pager, root, tk);
        self.set_cursor(cursor, VmCursor::new_btree(bt, ki, write));
        self.pc += 1;
        Ok(())
    }

    /// The Async half: records `op` in the cursor.
    pub(super) fn start(&mut self, c: usize, op: PendingOp) -> Result<(), VmError> {
        let cur = cur_mut(&mut self.cursors, c)?;
        if let VmCursor::BTree(b) = &*cur {
            let writes = matches!(
                op,
                PendingOp::Insert { .. }
                    | PendingOp::IdxInsert
                    | PendingOp::IdxInsertRow { .. }
                    | PendingOp::IdxAppend
                    | PendingOp::Delete { .. }
                    | PendingOp::IdxDelete { .. }
            );
            if writes && !b.writable {
                return Err(misuse("cursor is not open for writing"));
            }
        }
        let slot = cur
            .pending_mut()
            .ok_or_else(|| misuse("operation not supported on this cursor"))?;
        *slot = op;
        self.pc += 1;
        Ok(())
    }

    /// Copies the record in `reg` into the cursor's buffer (for inserts).
    pub(super) fn copy_record(&mut self, c: usize, reg: usize) -> Result<(), VmError> {
        let rec: &[u8] = match &self.regs[reg] {
            Value::Blob(b) => b,
            Value::Null => &[],
            _ => return Err(misuse("insert needs a record")),
        };
        let buf = match cur_mut(&mut self.cursors, c)? {
            VmCursor::BTree(b) => &mut b.buf,
            VmCursor::EphTable(b) => &mut b.buf,
            VmCursor::EphIndex(b) => &mut b.buf,
            _ => return Err(misuse("insert into a cursor that cannot hold rows")),
        };
        buf.clear();
        buf.extend_from_slice(rec);
        Ok(())
    }

    /// The Await half: drives the cursor's pending op; `Ready(result)` once done (the
    /// op's effects applied and the op cleared).
    pub(super) fn drive(&mut self, c: usize) -> Result<Poll<bool>, VmError> {
        let Vm {
            cursors,
            regs,
            conn,
            changes,
            ..
        } = self;
        // A leaf-only insert and its tree's root: the other trees' cursors carry their
        // hints across it (`strata_btree::LocalWrite`).
        let mut local: Option<(strata_btree::LocalWrite, u32)> = None;
        let cur = cur_mut(cursors, c)?;
        let r = match cur {
            VmCursor::BTree(b) => {
                let cursor::BTreeCur {
                    bt,
                    pending,
                    buf,
                    row,
                    null_row,
                    ..
                } = &mut **b;
                macro_rules! rd {
                    ($e:expr) => {
                        match $e {
                            Ok(Poll::Ready(v)) => v,
                            Ok(Poll::Pending) => return Ok(Poll::Pending),
                            Err(e) => {
                                *pending = PendingOp::None;
                                return Err(VmError::from_btree(e.into()));
                            }
                        }
                    };
                }
                let r = match pending {
                    PendingOp::None => return Err(misuse("Await without its Async")),
                    PendingOp::Open => {
                        rd!(bt.pager().get_page(bt.root_page()));
                        true
                    }
                    PendingOp::Rewind => {
                        rd!(bt.rewind());
                        !bt.is_eof()
                    }
                    PendingOp::Last => {
                        rd!(bt.last());
                        !bt.is_eof()
                    }
                    PendingOp::Next => {
                        rd!(bt.next());
                        !bt.is_eof()
                    }
                    PendingOp::Prev => {
                        rd!(bt.prev());
                        !bt.is_eof()
                    }
                    PendingOp::SeekRowid(k) => match *k {
                        None => false,
                        Some(k) => rd!(bt.seek_rowid(k, SeekOp::EQ)),
                    },
                    PendingOp::SeekKey(key) => rd!(bt.seek_index(key, SeekOp::EQ)),
                    PendingOp::SeekTable(s) => match *s {
                        TableSeek::None => false,
                        TableSeek::Last => {
                            rd!(bt.last());
                            !bt.is_eof()
                        }
                        TableSeek::Rowid(k, op) => rd!(bt.seek_rowid(k, op)),
                    },
                    PendingOp::SeekIndex {
                        op,
                        key_start,
                        key_count,
                    } => rd!(bt.seek_index(&regs[*key_start..*key_start + *key_count], *op)),
                    PendingOp::NewRowid {
                        dest,
                        min,
                        candidate,
                        tries,
                    } => loop {
                        if let Some(cand) = *candidate {
                            if !rd!(bt.seek_rowid(cand, SeekOp::EQ)) {
                                regs[*dest] = Value::Integer(cand);
                                break true;
                            }
                            *tries += 1;
                            if *tries > 100 {
                                *pending = PendingOp::None;
                                return Err(VmError::error("database or disk is full"));
                            }
                            *candidate = Some(random_rowid(conn));
                            continue;
                        }
                        let max = rd!(bt.max_rowid()).unwrap_or(0);
                        let base = match min {
                            Some(m) => max.max(*m),
                            None => max,
                        };
                        if base < i64::MAX {
                            regs[*dest] = Value::Integer(base + 1);
                            break true;
                        }
                        if min.is_some() {
                            *pending = PendingOp::None;
                            return Err(VmError::error("database or disk is full"));
                        }
                        *candidate = Some(random_rowid(conn));
                    },
                    PendingOp::Insert { rowid, flags } => {
                        rd!(bt.insert_rowid(*rowid, buf));
                        local = bt.take_local_write().map(|w| (w, bt.root_page()));
                        changes.add(flags.count, 1);
                        if flags.set_last_rowid {
                            conn.state().last_insert_rowid = *rowid;
                        }
                        true
                    }
                    PendingOp::IdxInsert => {
                        rd!(bt.insert_index(buf));
                        local = bt.take_local_write().map(|w| (w, bt.root_page()));
                        true
                    }
                    PendingOp::IdxInsertRow { count } => {
                        rd!(bt.insert_index(buf));
                        local = bt.take_local_write().map(|w| (w, bt.root_page()));
                        changes.add(*count, 1);
                        true
                    }
                    PendingOp::IdxAppend => {
                        rd!(bt.append_index(buf));
                        local = bt.take_local_write().map(|w| (w, bt.root_page()));
                        true
                    }
                    PendingOp::Delete { count } => {
                        rd!(bt.delete());
                        changes.add(*count, 1);
                        true
                    }
                    PendingOp::IdxDelete {
                        key_start,
                        key_count,
                        found,
                    } => {
                        if !*found {
                            let key = &regs[*key_start..*key_start + *key_count];
                            if !rd!(bt.seek_index(key, SeekOp::EQ)) {
                                *pending = PendingOp::None;
                                row.invalidate();
                                return Ok(Poll::Ready(false));
                            }
                            *found = true;
                        }
                        rd!(bt.delete());
                        true
                    }
                };
                *pending = PendingOp::None;
                row.invalidate();
                *null_row = false;
                r
            }
            VmCursor::EphTable(e) => {
                let op = std::mem::take(&mut e.pending);
                e.null_row = false;
                e.row.invalidate();
                match op {
                    PendingOp::None => return Err(misuse("Await without its Async")),
                    PendingOp::Open => true,
                    PendingOp::Rewind => e.first(),
                    PendingOp::Last => e.last(),
                    PendingOp::Next => e.step(true),
                    PendingOp::Prev => e.step(false),
                    PendingOp::SeekRowid(k) => match k {
                        None => {
                            e.pos = EphPos::Eof;
                            false
                        }
                        Some(k) => e.seek(TableSeek::Rowid(k, SeekOp::EQ)),
                    },
                    PendingOp::SeekTable(s) => e.seek(s),
                    PendingOp::NewRowid { dest, min, .. } => {
                        let max = e.rows.keys().next_back().copied().unwrap_or(0);
                        let base = min.map_or(max, |m| max.max(m));
                        if base == i64::MAX {
                            return Err(VmError::error("database or disk is full"));
                        }
                        regs[dest] = Value::Integer(base + 1);
                        true
                    }
                    PendingOp::Insert { rowid, flags } => {
                        e.rows.insert(rowid, e.buf.clone());
                        e.pos = EphPos::At(rowid);
                        changes.add(flags.count, 1);
                        if flags.set_last_rowid {
                            conn.state().last_insert_rowid = rowid;
                        }
                        true
                    }
                    PendingOp::Delete { count } => {
                        if let EphPos::At(k) = e.pos {
                            e.rows.remove(&k);
                            e.pos = EphPos::Deleted(k);
                            changes.add(count, 1);
                        }
                        true
                    }
                    _ => return Err(misuse("index operation on an ephemeral table")),
                }
            }
            VmCursor::EphIndex(e) => {
                let op = std::mem::take(&mut e.pending);
                e.null_row = false;
                e.row.invalidate();
                match op {
                    PendingOp::None => return Err(misuse("Await without its Async")),
                    PendingOp::Open => true,
                    PendingOp::Rewind => e.first(),
                    PendingOp::Last => e.last(),
                    PendingOp::Next => e.step(true),
                    PendingOp::Prev => e.step(false),
                    PendingOp::SeekIndex {
                        op,
                        key_start,
                        key_count,
                    } => e.seek(op, &regs[key_start..key_start + key_count])?,
                    PendingOp::IdxInsert | PendingOp::IdxAppend => {
                        let buf = std::mem::take(&mut e.buf);
                        e.insert(&buf);
                        e.buf = buf;
                        true
                    }
                    PendingOp::Delete { .. } => {
                        e.delete_current();
                        true
                    }
                    PendingOp::IdxDelete {
                        key_start,
                        key_count,
                        ..
                    } => {
                        let key = &regs[key_start..key_start + key_count];
                        if e.seek(SeekOp::EQ, key)? {
                            e.delete_current();
                            true
                        } else {
                            false
                        }
                    }
                    _ => return Err(misuse("table operation on an ephemeral index")),
                }
            }
            VmCursor::Sorter(_) | VmCursor::Pseudo(_) | VmCursor::Window(_) => {
                return Err(misuse("operation not supported on this cursor"))
            }
        };
        if let Some((w, root)) = local {
            let pager = match cursors[c].as_ref() {
                Some(VmCursor::BTree(b)) => b.bt.pager().clone(),
                _ => return Ok(Poll::Ready(r)),
            };
            for (i, other) in cursors.iter_mut().enumerate() {
                if let Some(VmCursor::BTree(o)) = other {
                    // Another tree of the same database only: a cursor on the same tree
                    // (an UPDATE's read cursor) holds pages this write may have changed.
                    if i != c && o.bt.root_page() != root && Arc::ptr_eq(o.bt.pager(), &pager) {
                        o.bt.rebase_hints(w);
                    }
                }
            }
        }
        Ok(Poll::Ready(r))
    }

    /// Whether an index entry's first `count` fields equal the key (re-executable).
    pub(super) fn probe(
        &mut self,
        c: usize,
        key_start: usize,
        count: usize,
    ) -> Result<Poll<bool>, VmError> {
        let key = &self.regs[key_start..key_start + count];
        match cur_mut(&mut self.cursors, c)? {
            VmCursor::BTree(b) => {
                if b.key_info.is_none() {
                    return Err(misuse("Found on a table cursor"));
                }
                let r = b.bt.seek_index(key, SeekOp::EQ);
                if !matches!(r, Ok(Poll::Pending)) {
                    b.row.invalidate();
                    b.null_row = false;
                }
                r.map_err(VmError::from_btree)
            }
            VmCursor::EphIndex(e) => Ok(Poll::Ready(e.probe(key)?)),
            _ => Err(misuse("Found on a cursor that is not an index")),
        }
    }

    pub(super) fn exec_column(
        &mut self,
        c: usize,
        column: usize,
        dest: usize,
        default: Option<&Value>,
    ) -> Result<Flow, VmError> {
        let Vm {
            cursors, regs, enc, ..
        } = self;
        let enc = *enc;
        let cur = cur_mut(cursors, c)?;
        let hit = match cur {
            VmCursor::BTree(b) => {
                let cursor::BTreeCur {
                    bt, row, null_row, ..
                } = &mut **b;
                if *null_row || bt.is_eof() {
                    regs[dest] = Value::Null;
                    self.pc += 1;
                    return Ok(Flow::Continue);
                }
                let payload = ready_bt!(bt.payload());
                if !row.valid {
                    row.parse(payload)?;
                }
                match row.get(payload, column)? {
                    Some(v) => {
                        store_field(&mut regs[dest], v, enc);
                        true
                    }
                    None => false,
                }
            }
            VmCursor::EphTable(e) => match e.pos {
                EphPos::At(k) if !e.null_row && e.rows.contains_key(&k) => {
                    let rec = &e.rows[&k];
                    if !e.row.valid {
                        e.row.parse(rec)?;
                    }
                    match e.row.get(rec, column)? {
                        Some(v) => {
                            store_field(&mut regs[dest], v, enc);
                            true
                        }
                        None => false,
                    }
                }
                _ => {
                    regs[dest] = Value::Null;
                    true
                }
            },
            VmCursor::EphIndex(e) => {
                let null_row = e.null_row;
                let rec = e.pos.as_ref().filter(|_| !e.deleted && !null_row);
                match rec {
                    Some(k) => {
                        if !e.row.valid {
                            e.row.parse(&k.rec)?;
                        }
                        match e.row.get(&k.rec, column)? {
                            Some(v) => {
                                store_field(&mut regs[dest], v, enc);
                                true
                            }
                            None => false,
                        }
                    }
                    None => {
                        regs[dest] = Value::Null;
                        true
                    }
                }
            }
            VmCursor::Sorter(s) => {
                if s.null_row {
                    regs[dest] = Value::Null;
                    true
                } else {
                    let mut row = std::mem::take(&mut s.row);
                    let rec = s
                        .current()
                        .ok_or_else(|| misuse("sorter has no current record"))?;
                    if !row.valid {
                        row.parse(rec)?;
                    }
                    let r = match row.get(rec, column)? {
                        Some(v) => {
                            store_field(&mut regs[dest], v, enc);
                            true
                        }
                        None => false,
                    };
                    s.row = row;
                    r
                }
            }
            VmCursor::Pseudo(p) => {
                if p.null_row {
                    regs[dest] = Value::Null;
                    true
                } else {
                    let content = std::mem::replace(&mut regs[p.content_reg], Value::Null);
                    let result = (|| -> Result<bool, VmError> {
                        let rec: &[u8] = match &content {
                            Value::Blob(b) => b,
                            Value::Null => {
                                regs[dest] = Value::Null;
                                return Ok(true);
                            }
                            _ => return Err(misuse("pseudo cursor content is not a record")),
                        };
                        if !p.row.valid {
                            p.row.parse(rec)?;
                        }
                        match p.row.get(rec, column)? {
                            Some(v) if dest == p.content_reg => {
                                let mut owned = Value::Null;
                                store_field(&mut owned, v, enc);
                                regs[dest] = owned;
                                Ok(true)
                            }
                            Some(v) => {
                                store_field(&mut regs[dest], v, enc);
                                Ok(true)
                            }
                            None => Ok(false),
                        }
                    })();
                    if dest != p.content_reg {
                        regs[p.content_reg] = content;
                    } else {
                        p.row.invalidate();
                    }
                    result?
                }
            }
            VmCursor::Window(_) => return Err(misuse("Column on a window buffer")),
        };
        if !hit {
            regs[dest] = default.cloned().unwrap_or(Value::Null);
        }
        self.pc += 1;
        Ok(Flow::Continue)
    }

    pub(super) fn exec_rowid(&mut self, c: usize, dest: usize, idx: bool) -> Result<Flow, VmError> {
        let Vm { cursors, regs, .. } = self;
        let v = match cur_mut(cursors, c)? {
            VmCursor::BTree(b) => {
                if b.null_row || b.bt.is_eof() {
                    Value::Null
                } else if b.key_info.is_some() || idx {
                    let payload = ready_bt!(b.bt.payload());
                    match last_field_int(payload)? {
                        Some(r) => Value::Integer(r),
                        None => Value::Null,
                    }
                } else {
                    Value::Integer(b.bt.rowid().map_err(VmError::from_btree)?)
                }
            }
            VmCursor::EphTable(e) => match e.current() {
                Some((k, _)) if !e.null_row => Value::Integer(k),
                _ => Value::Null,
            },
            VmCursor::EphIndex(e) => match e.current() {
                Some(rec) if !e.null_row => match last_field_int(rec)? {
                    Some(r) => Value::Integer(r),
                    None => Value::Null,
                },
                _ => Value::Null,
            },
            _ => Value::Null,
        };
        regs[dest] = v;
        self.pc += 1;
        Ok(Flow::Continue)
    }

    pub(super) fn exec_count(&mut self, c: usize, dest: usize) -> Result<Flow, VmError> {
        let Vm {
            cursors,
            regs,
            insn_state,
            ..
        } = self;
        let n = match cur_mut(cursors, c)? {
            VmCursor::BTree(b) => {
                let st = insn_state.get_or_insert(InsnState::Count {
                    n: 0,
                    counted: false,
                    started: false,
                });
                let InsnState::Count {
                    n,
                    counted,
                    started,
                } = st
                else {
                    return Err(misuse("instruction state mismatch"));
                };
                b.row.invalidate();
                if !*started {
                    ready_bt!(b.bt.rewind());
                    *started = true;
                }
                // `counted`: the entry under the cursor is counted and `next` is due. A
                // `next` that returned Pending leaves the cursor mid-descent, which
                // `is_eof` reports as true: it must be called again before asking.
                loop {
                    if *counted {
                        ready_bt!(b.bt.next());
                        *counted = false;
                    }
                    if b.bt.is_eof() {
                        break;
                    }
                    *n += 1;
                    *counted = true;
                }
                let n = *n;
                *insn_state = None;
                n
            }
            VmCursor::EphTable(e) => e.rows.len() as i64,
            VmCursor::EphIndex(e) => e.set.len() as i64,
            _ => return Err(misuse("Count on this cursor")),
        };
        regs[dest] = Value::Integer(n);
        self.pc += 1;
        Ok(Flow::Continue)
    }

    pub(super) fn exec_clear(
        &mut self,
        db: usize,
        root: u32,
        count: crate::insn::RowCount,
    ) -> Result<Flow, VmError> {
        let count_changes = count != crate::insn::RowCount::None;
        let pager = self.conn.pager_for(db)?;
        let st = self.insn_state.get_or_insert(InsnState::Clear {
            bt: None,
            n: 0,
            counted: false,
            started: false,
            cleared: false,
        });
        let InsnState::Clear {
            bt,
            n,
            counted,
            started,
            cleared,
        } = st
        else {
            return Err(misuse("instruction state mismatch"));
        };
        if count_changes && !*cleared {
            if bt.is_none() {
                let page = ready_bt!(pager.get_page(root));
                let is_table = {
                    let d = page.data();
                    let off = strata_btree::page::header_offset(root);
                    matches!(d.get(off), Some(5) | Some(13))
                };
                let kind = if is_table {
                    TreeKind::Table
                } else {
                    TreeKind::Index(Arc::new(KeyInfo::default()))
                };
                *bt = Some(BTreeCursor::new(pager.clone(), root, kind));
            }
            let Some(c) = bt.as_mut() else {
                return Err(misuse("instruction state lost"));
            };
            if !*started {
                ready_bt!(c.rewind());
                *started = true;
            }
            // As in `exec_count`: a pending `next` is resumed before asking `is_eof`.
            loop {
                if *counted {
                    ready_bt!(c.next());
                    *counted = false;
                }
                if c.is_eof() {
                    break;
                }
                *n += 1;
                *counted = true;
            }
            *cleared = true;
            *bt = None;
        }
        ready_bt!(strata_btree::clear_btree(&pager, root));
        self.changes.add(count, *n);
        self.insn_state = None;
        self.pc += 1;
        Ok(Flow::Continue)
    }
}
