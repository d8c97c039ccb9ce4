//! Dropping a B-tree of an auto-vacuum database: root pages stay at the front.
//!
//! SQLite keeps every root page of an auto-vacuum database before the other pages (its
//! vacuum treats a root page met at the end of the file as corruption). So when a tree
//! whose root is not the largest root page is dropped, the B-tree moves the largest root
//! page into the freed slot (`Insn::Destroy` reports its old page number), and the
//! program then changes that tree's `rootpage` in `sqlite_schema` to the freed slot, as
//! SQLite's destroyRootPage does with
//! `UPDATE sqlite_schema SET rootpage=<freed> WHERE <moved> AND rootpage=<moved>`.
//! The DDL's schema-cookie bump makes every connection reload the schema, so the moved
//! tree is found at its new page. Trees are destroyed largest root first (SQLite's
//! destroyTable), so a root moved by one `Destroy` is never one still to be destroyed.

use strata_btree::record::Collation;
use strata_vdbe::insn::Insn;
use strata_vdbe::ops::Cmp;

use crate::compiler::Compiler;

impl Compiler<'_> {
    /// Emits the destruction of the trees rooted at `roots` (largest first), each followed
    /// by the `sqlite_schema` update for a moved root.
    pub(crate) fn destroy_trees(&mut self, db: usize, roots: &[u32]) {
        let mut roots = roots.to_vec();
        roots.sort_unstable_by(|a, b| b.cmp(a));
        for root in roots {
            self.destroy_tree(db, root);
        }
    }

    fn destroy_tree(&mut self, db: usize, root_page: u32) {
        let moved = self.reg();
        self.emit(Insn::Destroy {
            db,
            root_page,
            moved,
        });
        let done = self.label();
        self.emit(Insn::IfNot {
            reg: moved,
            target: done.addr(),
            jump_if_null: true,
        });
        let sc = self.open_schema_write(db);
        let scan = self.scan_begin(sc);
        let next = scan.next;
        let regs = self.regs(5);
        for col in 0..5 {
            self.emit(Insn::Column {
                cursor: sc,
                column: col,
                dest: regs + col,
                default: None,
            });
        }
        self.emit(Insn::Compare {
            op: Cmp::Ne,
            lhs: regs + 3,
            rhs: moved,
            target: next.addr(),
            affinity: Default::default(),
            collation: Collation::Binary,
            jump_if_null: true,
            null_eq: false,
        });
        self.emit(Insn::Integer {
            value: root_page as i64,
            dest: regs + 3,
        });
        self.replace_schema_row(sc, regs);
        self.scan_end(scan);
        self.resolve(done);
    }
}
