//! Writing WITHOUT ROWID tables (see `without_rowid` for their format).
//!
//! The write paths of `dml`, `update` and `upsert` name a row by a register: the rowid.
//! For a WITHOUT ROWID table that register holds instead a record of the row's PRIMARY
//! KEY values (SQLite's OP_NotFound with a packed key does the same), made from the values
//! as stored, so two registers naming the same entry hold the same bytes:
//! - `SeekRowid` on the table's cursor (an index cursor) finds the entry whose key fields
//!   equal the record's (the VM decodes it);
//! - `Insert` on it inserts the row's record into the index tree (counted as a row);
//! - the PRIMARY KEY's uniqueness is checked as a unique index's is (`dml`'s
//!   `index_unique_check`, on the table's own cursor), whenever a key column is written; the row found is compared with the row
//!   being updated by their stored keys' bytes (a new key can differ in bytes from the
//!   old and still be the same key, under NOCASE say: the row then finds itself);
//! - an UPDATE deletes the old entry and inserts the new one (the entry is the row);
//! - a secondary index entry ends with the key columns it does not hold (`key_tail`).
//!
//! Foreign keys need nothing of their own: the parent key is found through an index (a
//! WITHOUT ROWID parent's PRIMARY KEY is one), and a self-referencing row is told from
//! its children by its parent key's columns (`fkey`'s `fk_scan_children`), as SQLite.

use strata_vdbe::insn::{Cur, Insn, Reg};

use crate::compiler::Compiler;
use crate::schema::{Index, Table};

impl Compiler<'_> {
    /// The identity of the row `cursor` is on into `dest`: its rowid, or for a WITHOUT
    /// ROWID table a record of its key fields as stored.
    pub(crate) fn emit_row_key(&mut self, table: &Table, cursor: Cur, dest: Reg) {
        let Some(wr) = &table.without_rowid else {
            self.emit(Insn::Rowid { cursor, dest });
            return;
        };
        // The key fields are the record's first ones.
        let fields: Vec<usize> = (0..wr.pk.len()).collect();
        self.emit_key_record(cursor, &fields, dest);
    }

    /// A record of fields `fields` of the entry under `cursor`, in that order, into
    /// `dest`: a WITHOUT ROWID row's identity as DML passes it around.
    ///
    /// (Reads take another way from a secondary entry to its row: they load the key
    /// fields into registers and seek with them, `seek_without_rowid_row`, which saves
    /// this record's encoding and the VM's decoding of it per row on a hot path; the
    /// writes' one register per row identity is what rowid tables' DML code expects.)
    fn emit_key_record(&mut self, cursor: Cur, fields: &[usize], dest: Reg) {
        let regs = self.regs(fields.len());
        for (k, &f) in fields.iter().enumerate() {
            self.emit(Insn::Column {
                cursor,
                column: f,
                dest: regs + k,
                default: None,
            });
        }
        self.emit(Insn::MakeRecord {
            start: regs,
            count: fields.len(),
            dest,
            affinities: None,
        });
    }

    /// The identity of the row an entry of index `ix` (under `icur`) names: `IdxRowid`,
    /// or for a WITHOUT ROWID table a record of the key fields the entry holds.
    pub(crate) fn emit_index_row_key(&mut self, table: &Table, ix: &Index, icur: Cur, dest: Reg) {
        let Some(wr) = &table.without_rowid else {
            self.emit(Insn::IdxRowid { cursor: icur, dest });
            return;
        };
        let fields = wr.pk_fields_in(ix);
        self.emit_key_record(icur, &fields, dest);
    }

    /// A new row's identity (WITHOUT ROWID: its key values from the column registers
    /// `cols..`, affinity applied) into `dest`.
    pub(crate) fn emit_new_row_key(&mut self, table: &Table, cols: Reg, dest: Reg) {
        let Some(wr) = &table.without_rowid else {
            return;
        };
        let n = wr.pk.len();
        let regs = self.regs(n);
        for (k, p) in wr.pk.iter().enumerate() {
            self.emit(Insn::Copy {
                src: cols + p.column,
                dest: regs + k,
                count: 1,
            });
        }
        self.emit(Insn::MakeRecord {
            start: regs,
            count: n,
            dest,
            affinities: None,
        });
    }

    /// How many fields an entry of index `ix` has: its key and the rowid, or on a
    /// WITHOUT ROWID table its key and the key columns it ends with.
    pub(crate) fn index_entry_len(&self, table: &Table, ix: &Index) -> usize {
        match &table.without_rowid {
            Some(wr) => ix.columns.len() + wr.index_tail(ix).len(),
            None => ix.columns.len() + 1,
        }
    }

    /// The identity of a row `collect_rowids` recorded, from the set's current entry.
    pub(crate) fn emit_collected_key(&mut self, table: &Table, set: Cur, dest: Reg) {
        if table.without_rowid.is_some() {
            self.emit(Insn::Column {
                cursor: set,
                column: 0,
                dest,
                default: None,
            });
        } else {
            self.emit(Insn::Rowid { cursor: set, dest });
        }
    }

    /// `collect_rowids`' record of one WITHOUT ROWID row (of `pk`'s columns, read
    /// through the loop's source 0 at `level`): a record of its key, under a new sequence
    /// key of the set (`emit_collected_key` reads it back).
    pub(crate) fn collect_without_rowid_key(&mut self, pk: &[usize], level: usize, set: Cur) {
        let vals = self.regs(pk.len());
        for (k, &col) in pk.iter().enumerate() {
            self.emit_column(
                crate::scope::ColumnRef {
                    level,
                    source: 0,
                    column: col,
                },
                vals + k,
            );
        }
        let key = self.reg();
        self.emit(Insn::MakeRecord {
            start: vals,
            count: pk.len(),
            dest: key,
            affinities: None,
        });
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start: key,
            count: 1,
            dest: rec,
            affinities: None,
        });
        let seq = self.reg();
        self.emit(Insn::NewRowidAsync {
            cursor: set,
            dest: seq,
            min_reg: None,
        });
        self.emit(Insn::NewRowidAwait { cursor: set });
        self.emit(Insn::InsertAsync {
            cursor: set,
            key_reg: seq,
            record_reg: rec,
            flags: Default::default(),
            table: String::new(),
        });
        self.emit(Insn::InsertAwait { cursor: set });
    }
}
