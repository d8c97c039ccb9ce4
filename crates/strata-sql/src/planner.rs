//! Nested-loop joins: which WHERE terms run at which loop, and how each table is read
//! (full scan, rowid lookup, index equality/range seek).
//!
//! Every term stays a filter even when it also drives a seek: the seek only narrows
//! what is visited, so affinity corner cases can never drop a row the filter would keep.

use std::sync::Arc;

use sqlite3_parser::ast::{Expr, Operator};
use strata_btree::record::{Collation, KeyInfo, SortOrder};
use strata_btree::SeekOp;
use strata_vdbe::affinity::{compare_affinity, Affinity};
use strata_vdbe::insn::{CursorKind, Insn, Reg};
use strata_vdbe::ops::Cmp;

use crate::builder::Label;
use crate::compiler::{Compiler, Result};
use crate::scope::{ColumnRef, ROWID};

/// A filter on the joined rows.
#[derive(Clone, Copy)]
pub enum Term<'a> {
    Ast(&'a Expr<'a>),
    /// `left = right` from NATURAL/USING.
    ColEq(ColumnRef, ColumnRef),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    /// RIGHT JOIN, last in FROM only (see `right_join`).
    Right,
    /// FULL OUTER JOIN, last in FROM only.
    Full,
}

/// One FROM item in loop order.
#[derive(Clone)]
pub struct LoopSpec<'a> {
    pub source: usize,
    pub join: JoinKind,
    /// ON terms of an outer join; an inner join's only before a RIGHT or FULL join
    /// (otherwise they are WHERE terms).
    pub on: Vec<Term<'a>>,
}

/// What a term looks like to the planner.
struct TermInfo {
    /// Bit i set: references source i of the current level.
    mask: u64,
}

enum Access<'a> {
    Scan,
    RowidEq(Operand<'a>),
    Index {
        cursor: usize,
        key_info: Arc<KeyInfo>,
        eq: Vec<(Operand<'a>, Affinity)>,
        lower: Option<(Operand<'a>, bool, Affinity)>,
        upper: Option<(Operand<'a>, bool, Affinity)>,
        root_page: u32,
        name: String,
    },
}

/// How the first loop must run so rows come out in ORDER BY order (no sort needed).
#[derive(Clone, Debug)]
pub enum OrderPlan {
    /// Table scan (or a single-row lookup): rowid order.
    Rowid,
    /// Through this index, in index order.
    Index(String),
}

/// The value side of a seek term.
#[derive(Clone, Copy)]
enum Operand<'a> {
    Ast(&'a Expr<'a>),
    Col(ColumnRef),
}

impl Compiler<'_> {
    fn term_mask(&mut self, t: &Term<'_>) -> Result<u64> {
        let level = self.levels.len() - 1;
        let refs = match t {
            Term::Ast(e) => self.column_refs(e)?,
            Term::ColEq(a, b) => vec![*a, *b],
        };
        let mut mask = 0u64;
        for r in refs {
            if r.level == level {
                mask |= 1u64 << r.source;
            }
        }
        Ok(mask)
    }

    pub fn term_jump_if_not_true(&mut self, t: &Term<'_>, target: Label) -> Result<()> {
        match t {
            Term::Ast(e) => self.jump_if_not_true(e, target),
            Term::ColEq(a, b) => {
                let ra = self.reg();
                let rb = self.reg();
                self.emit_column(*a, ra);
                self.emit_column(*b, rb);
                let (aff, coll) = self.coleq_affinity(*a, *b);
                self.emit(Insn::Compare {
                    op: Cmp::Ne,
                    lhs: ra,
                    rhs: rb,
                    target: target.addr(),
                    affinity: aff,
                    collation: coll,
                    jump_if_null: true,
                    null_eq: false,
                });
                Ok(())
            }
        }
    }

    fn coleq_affinity(&self, a: ColumnRef, b: ColumnRef) -> (Affinity, Collation) {
        let ca = &self.levels[a.level].sources[a.source].columns[a.column];
        let cb = &self.levels[b.level].sources[b.source].columns[b.column];
        (compare_affinity(ca.affinity, cb.affinity), ca.collation)
    }

    /// Emits the nested loops over `specs` with `terms` as filters, calling `body` in the
    /// innermost loop with the label that continues to the next row.
    pub fn emit_loops<'a>(
        &mut self,
        specs: &[LoopSpec<'a>],
        terms: &[Term<'a>],
        body: &mut dyn FnMut(&mut Self, Label) -> Result<()>,
    ) -> Result<()> {
        if specs.len() > 64 {
            return Err(crate::compiler::error("at most 64 tables in a join"));
        }
        let mut infos = Vec::new();
        for t in terms {
            infos.push(TermInfo {
                mask: self.term_mask(t)?,
            });
        }
        let reordered;
        // A table-valued function's arguments may refer to the tables to its left: keep
        // the FROM order when there is one.
        let level = self.levels.len() - 1;
        let has_tvf = specs
            .iter()
            .any(|s| self.levels[level].sources[s.source].tvf.is_some());
        let specs =
            if specs.len() > 1 && !has_tvf && specs.iter().all(|s| s.join == JoinKind::Inner) {
                reordered = self.order_inner_joins(specs, terms, &infos)?;
                &reordered[..]
            } else {
                specs
            };
        // With a RIGHT/FULL join (last), every WHERE term waits for its loop.
        let right_join = crate::right_join::check_right_joins(specs)?;
        if right_join {
            // An inner join's ON terms run at its own loop there.
            let mut avail = 0u64;
            for s in specs {
                avail |= 1u64 << s.source;
                for t in s.on.iter().filter(|_| s.join == JoinKind::Inner) {
                    if self.term_mask(t)? & !avail != 0 {
                        return Err(crate::compiler::error(
                            "an ON clause naming a later table, before a RIGHT or FULL OUTER JOIN, is not supported yet",
                        ));
                    }
                }
            }
        }
        // A term runs at the first loop where every source it references is available.
        let mut placed: Vec<Vec<usize>> = vec![Vec::new(); specs.len().max(1)];
        let mut available = 0u64;
        let mut constant_terms = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            available |= 1u64 << spec.source;
            for (ti, info) in infos.iter().enumerate() {
                if info.mask == 0 {
                    if i == 0 && !constant_terms.contains(&ti) {
                        constant_terms.push(ti);
                    }
                    continue;
                }
                let already = placed.iter().any(|p| p.contains(&ti));
                let here = !right_join || i + 1 == specs.len();
                if !already && here && info.mask & !available == 0 {
                    placed[i].push(ti);
                }
            }
        }
        let done = self.label();
        if specs.is_empty() {
            for t in terms {
                self.term_jump_if_not_true(t, done)?;
            }
            body(self, done)?;
            self.resolve(done);
            return Ok(());
        }
        // Terms that reference no table of this level (constants, outer columns) run
        // once before the loops.
        for &ti in &constant_terms {
            self.term_jump_if_not_true(&terms[ti], done)?;
        }
        let hint = self.order_hint.take();
        let needed = self.needed.take();
        let saved = std::mem::replace(&mut self.needed_now, needed);
        let matched = right_join.then(|| self.right_join_begin(specs[specs.len() - 1].source));
        let saved_matched = std::mem::replace(&mut self.right_matched, matched);
        let r = self.emit_level(specs, terms, &infos, &placed, 0, 0, hint.as_ref(), body);
        self.right_matched = saved_matched;
        self.needed_now = saved;
        r?;
        if let Some(set) = matched {
            self.right_join_unmatched(specs, terms, set, body)?;
        }
        self.resolve(done);
        Ok(())
    }

    /// (Re)computes a json_each/json_tree source's rows into its ephemeral table, with
    /// the arguments evaluated here, inside the loops of the tables to its left.
    fn tvf_fill(&mut self, tvf: &crate::scope::Tvf, cursor: strata_vdbe::insn::Cur) -> Result<()> {
        if let Some(p) = &tvf.pragma {
            return self.pragma_tvf_fill(tvf, p, cursor);
        }
        let args_start = self.regs(tvf.args.len().max(1));
        for (i, a) in tvf.args.iter().enumerate() {
            crate::schema::with_parsed(&format!("SELECT {a}"), |stmt| {
                let sqlite3_parser::ast::Stmt::Select(sel) = stmt else {
                    return Err(crate::compiler::error("bad table-valued function argument"));
                };
                let sqlite3_parser::ast::OneSelect::Select { columns, .. } = &sel.body.select
                else {
                    return Err(crate::compiler::error("bad table-valued function argument"));
                };
                let Some(sqlite3_parser::ast::ResultColumn::Expr(e, _, _)) = columns.first() else {
                    return Err(crate::compiler::error("bad table-valued function argument"));
                };
                self.expr(e, args_start + i)
            })?;
        }
        self.emit(Insn::TableFunction {
            cursor,
            recursive: tvf.recursive,
            args_start,
            nargs: tvf.args.len(),
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_level<'a>(
        &mut self,
        specs: &[LoopSpec<'a>],
        terms: &[Term<'a>],
        infos: &[TermInfo],
        placed: &[Vec<usize>],
        i: usize,
        available_before: u64,
        hint: Option<&OrderPlan>,
        body: &mut dyn FnMut(&mut Self, Label) -> Result<()>,
    ) -> Result<()> {
        let spec = &specs[i];
        let level = self.levels.len() - 1;
        let cursor = self.levels[level].sources[spec.source].cursor;
        // An index is in its table's database.
        let db = self.levels[level].sources[spec.source]
            .table
            .as_ref()
            .map_or(strata_vdbe::insn::MAIN_DB, |t| t.db);
        // Terms usable for choosing the access path: this level's WHERE terms (inner
        // joins) or ON terms (left joins).
        let candidate_terms: Vec<Term<'a>> = match spec.join {
            JoinKind::Inner => placed[i]
                .iter()
                .map(|&ti| terms[ti])
                .chain(spec.on.iter().copied())
                .collect(),
            JoinKind::Left | JoinKind::Right | JoinKind::Full => spec.on.clone(),
        };
        let matched_set = match spec.join {
            JoinKind::Right | JoinKind::Full => self.right_matched,
            _ => None,
        };
        let access = self.choose_access(spec.source, available_before, &candidate_terms, true)?;
        let access = match hint {
            None => access,
            Some(OrderPlan::Rowid) => match access {
                Access::Index { .. } => Access::Scan,
                a => a,
            },
            Some(OrderPlan::Index(want)) => match access {
                Access::Index { ref name, .. } if name == want => access,
                _ => self.full_index_access(spec.source, want)?,
            },
        };

        let (match_reg, nullpass_reg) = if matches!(spec.join, JoinKind::Left | JoinKind::Full) {
            let m = self.reg();
            let n = self.reg();
            self.emit(Insn::Integer { value: 0, dest: m });
            self.emit(Insn::Integer { value: 0, dest: n });
            (Some(m), Some(n))
        } else {
            (None, None)
        };
        let l_top = self.label();
        let l_next = self.label();
        let l_end = self.label();
        let l_done = self.label();
        let l_body = self.label();
        let l_cont = self.label();

        // Open the access path.
        let mut index_cursor = None;
        let mut covering = false;
        match &access {
            Access::Scan => {
                if let Some(tvf) = self.levels[level].sources[spec.source].tvf.clone() {
                    self.tvf_fill(&tvf, cursor)?;
                }
                self.emit(Insn::RewindAsync { cursor });
                self.emit(Insn::RewindAwait {
                    cursor,
                    target_if_empty: l_end.addr(),
                });
                self.resolve(l_top);
            }
            Access::RowidEq(op) => {
                let r = self.operand(*op)?;
                self.emit(Insn::SeekRowidAsync {
                    cursor,
                    rowid_reg: r,
                });
                self.emit(Insn::SeekRowidAwait {
                    cursor,
                    target_if_not_found: l_end.addr(),
                });
                self.resolve(l_top);
            }
            Access::Index {
                cursor: icur,
                key_info,
                eq,
                lower,
                upper,
                root_page,
                name,
            } => {
                let icur = *icur;
                index_cursor = Some(icur);
                self.emit(Insn::OpenReadAsync {
                    db,
                    cursor: icur,
                    root_page: *root_page,
                    root_reg: None,
                    kind: CursorKind::Index {
                        key_info: key_info.clone(),
                    },
                });
                self.emit(Insn::OpenReadAwait { cursor: icur });
                let n_eq = eq.len();
                let key = self.regs(n_eq + 1);
                let mut affs = Vec::new();
                for (k, (op, aff)) in eq.iter().enumerate() {
                    self.operand_into(*op, key + k)?;
                    affs.push(*aff);
                }
                // The seek.
                let (seek_op, seek_count) = match lower {
                    Some((op, strict, aff)) => {
                        self.operand_into(*op, key + n_eq)?;
                        affs.push(*aff);
                        (if *strict { SeekOp::GT } else { SeekOp::GE }, n_eq + 1)
                    }
                    None if upper.is_some() => {
                        // Skip the NULLs that sort first.
                        self.emit(Insn::Null {
                            dest: key + n_eq,
                            count: 1,
                        });
                        affs.push(Affinity::Blob);
                        (SeekOp::GT, n_eq + 1)
                    }
                    None => (SeekOp::GE, n_eq),
                };
                if !affs.is_empty() {
                    self.emit(Insn::Affinity {
                        start: key,
                        affinities: affs.clone(),
                    });
                }
                for k in 0..seek_count {
                    if !(lower.is_none() && upper.is_some() && k == n_eq) {
                        self.emit(Insn::IsNull {
                            reg: key + k,
                            target: l_end.addr(),
                        });
                    }
                }
                if seek_count == 0 {
                    self.emit(Insn::RewindAsync { cursor: icur });
                    self.emit(Insn::RewindAwait {
                        cursor: icur,
                        target_if_empty: l_end.addr(),
                    });
                } else {
                    self.emit(Insn::SeekAsync {
                        cursor: icur,
                        op: seek_op,
                        key_start: key,
                        key_count: seek_count,
                    });
                    self.emit(Insn::SeekAwait {
                        cursor: icur,
                        target_if_not_found: l_end.addr(),
                    });
                }
                // The end bound, checked on every entry.
                let upper_key = match upper {
                    Some((op, strict, aff)) => {
                        let uk = self.regs(n_eq + 1);
                        self.emit(Insn::Copy {
                            src: key,
                            dest: uk,
                            count: n_eq,
                        });
                        self.operand_into(*op, uk + n_eq)?;
                        let mut a: Vec<Affinity> = eq.iter().map(|(_, a)| *a).collect();
                        a.push(*aff);
                        self.emit(Insn::Affinity {
                            start: uk,
                            affinities: a,
                        });
                        self.emit(Insn::IsNull {
                            reg: uk + n_eq,
                            target: l_end.addr(),
                        });
                        Some((uk, n_eq + 1, *strict))
                    }
                    None if n_eq > 0 => Some((key, n_eq, false)),
                    None => None,
                };
                self.resolve(l_top);
                if let Some((uk, count, strict)) = upper_key {
                    self.emit(Insn::IdxCompare {
                        cursor: icur,
                        op: if strict { Cmp::Ge } else { Cmp::Gt },
                        key_start: uk,
                        key_count: count,
                        target: l_end.addr(),
                    });
                }
                // A covering index: every column the query reads is in the index, so
                // the table row is never fetched.
                let cover = self.covering_map(spec.source, name);
                match cover {
                    Some(map) => {
                        let level = self.levels.len() - 1;
                        self.levels[level].sources[spec.source].cover = Some((icur, map));
                        covering = true;
                    }
                    None if self.levels[level].sources[spec.source]
                        .table
                        .as_ref()
                        .is_some_and(|t| t.without_rowid.is_some()) =>
                    {
                        self.seek_without_rowid_row(spec.source, icur, name, l_next)?;
                    }
                    None => {
                        let rowid = self.reg();
                        self.emit(Insn::IdxRowid {
                            cursor: icur,
                            dest: rowid,
                        });
                        self.emit(Insn::SeekRowidAsync {
                            cursor,
                            rowid_reg: rowid,
                        });
                        self.emit(Insn::SeekRowidAwait {
                            cursor,
                            target_if_not_found: l_next.addr(),
                        });
                    }
                }
            }
        }

        // ON terms of an outer join decide whether this row matches (an inner join's
        // ON terms, kept before a RIGHT join, just filter).
        for t in &spec.on {
            self.term_jump_if_not_true(t, l_next)?;
        }
        if let Some(m) = match_reg {
            self.emit(Insn::Integer { value: 1, dest: m });
        }
        if let Some(set) = matched_set {
            self.right_join_record(spec.source, set);
        }
        self.resolve(l_body);
        for &ti in &placed[i] {
            self.term_jump_if_not_true(&terms[ti], l_cont)?;
        }
        let available = available_before | (1u64 << spec.source);
        if i + 1 < specs.len() {
            self.emit_level(specs, terms, infos, placed, i + 1, available, None, body)?;
        } else {
            body(self, l_cont)?;
        }
        self.resolve(l_cont);
        if let Some(n) = nullpass_reg {
            self.emit(Insn::If {
                reg: n,
                target: l_done.addr(),
                jump_if_null: false,
            });
        }
        self.resolve(l_next);
        match &access {
            Access::Scan => {
                self.emit(Insn::NextAsync { cursor });
                self.emit(Insn::NextAwait {
                    cursor,
                    target_if_more: l_top.addr(),
                });
            }
            Access::RowidEq(_) => {}
            Access::Index { cursor: icur, .. } => {
                self.emit(Insn::NextAsync { cursor: *icur });
                self.emit(Insn::NextAwait {
                    cursor: *icur,
                    target_if_more: l_top.addr(),
                });
            }
        }
        self.resolve(l_end);
        if let (Some(m), Some(n)) = (match_reg, nullpass_reg) {
            self.emit(Insn::If {
                reg: m,
                target: l_done.addr(),
                jump_if_null: false,
            });
            self.emit(Insn::NullRow { cursor });
            if let Some(ic) = index_cursor {
                self.emit(Insn::NullRow { cursor: ic });
            }
            self.emit(Insn::Integer { value: 1, dest: m });
            self.emit(Insn::Integer { value: 1, dest: n });
            self.goto(l_body);
        }
        self.resolve(l_done);
        if covering {
            let level = self.levels.len() - 1;
            self.levels[level].sources[spec.source].cover = None;
        }
        Ok(())
    }

    /// The columns of each source of the current level that `exprs`, `cols` and `terms`
    /// read (None for a source when it cannot be known, e.g. a subquery may read it).
    pub fn columns_needed(
        &mut self,
        exprs: &[&Expr<'_>],
        cols: &[ColumnRef],
        specs: &[LoopSpec<'_>],
        terms: &[Term<'_>],
    ) -> Result<Vec<Option<std::collections::BTreeSet<usize>>>> {
        let level = self.levels.len() - 1;
        let n = self.levels[level].sources.len();
        // json_each/json_tree arguments (kept as text) may read any column of the
        // tables to their left: no covering-index reads then.
        if self.levels[level].sources.iter().any(|s| s.tvf.is_some()) {
            return Ok(vec![None; n]);
        }
        let mut out: Vec<Option<std::collections::BTreeSet<usize>>> =
            vec![Some(Default::default()); n];
        let mut all = false;
        let add = |out: &mut Vec<Option<std::collections::BTreeSet<usize>>>, r: ColumnRef| {
            if r.level == level {
                if let Some(Some(set)) = out.get_mut(r.source) {
                    set.insert(r.column);
                }
            }
        };
        for c in cols {
            add(&mut out, *c);
        }
        let mut all_exprs: Vec<&Expr<'_>> = exprs.to_vec();
        let mut term_list: Vec<Term<'_>> = terms.to_vec();
        for s in specs {
            term_list.extend(s.on.iter().copied());
        }
        for t in &term_list {
            match t {
                Term::Ast(e) => all_exprs.push(e),
                Term::ColEq(a, b) => {
                    add(&mut out, *a);
                    add(&mut out, *b);
                }
            }
        }
        for e in all_exprs {
            let mut idents = Vec::new();
            let mut has_subquery = false;
            crate::expr::walk_refs(e, &mut idents, &mut has_subquery);
            if has_subquery {
                all = true;
                break;
            }
            for (d, t, c) in idents {
                match self.resolve_ref(d.as_deref(), t.as_deref(), &c)? {
                    Some(r) => add(&mut out, r),
                    None => {
                        // An alias or a string: be conservative.
                        all = true;
                    }
                }
            }
        }
        if all {
            return Ok(vec![None; n]);
        }
        Ok(out)
    }

    /// If the query reads only columns of `source` that index `name` holds, the map from
    /// table column to index field.
    fn covering_map(
        &self,
        source: usize,
        name: &str,
    ) -> Option<std::collections::HashMap<usize, usize>> {
        let level = self.levels.last()?;
        let table = level.sources.get(source)?.table.as_ref()?;
        let ix = self.read_index(table, name)?;
        if let Some(wr) = &table.without_rowid {
            // A WITHOUT ROWID table's PRIMARY KEY index is the table: it covers every
            // stored column whatever the query reads.
            let map = wr.field_map(&ix);
            if ix.name == wr.index_name {
                return Some(map);
            }
            let needed = self.needed_now.as_ref()?.get(source)?.as_ref()?;
            return needed.iter().all(|c| map.contains_key(c)).then_some(map);
        }
        let needed = self.needed_now.as_ref()?.get(source)?.as_ref()?;
        let mut map = std::collections::HashMap::new();
        for (pos, c) in ix.columns.iter().enumerate() {
            map.entry(c.column).or_insert(pos);
        }
        let covered = needed
            .iter()
            .all(|&c| c == ROWID || table.rowid_alias == Some(c) || map.contains_key(&c));
        covered.then_some(map)
    }

    /// Greedy join order for inner joins: repeatedly take the table that is cheapest to
    /// read given the tables already chosen (rowid lookup, then index equality, then
    /// index range, then a scan), ties in FROM order. Result sets are the same in any
    /// order; only the work differs.
    fn order_inner_joins<'a>(
        &mut self,
        specs: &[LoopSpec<'a>],
        terms: &[Term<'a>],
        infos: &[TermInfo],
    ) -> Result<Vec<LoopSpec<'a>>> {
        let mut remaining: Vec<usize> = (0..specs.len()).collect();
        let mut order = Vec::new();
        let mut available = 0u64;
        while !remaining.is_empty() {
            let mut best: Option<(u32, usize)> = None;
            for (pos, &k) in remaining.iter().enumerate() {
                let bit = 1u64 << specs[k].source;
                let cands: Vec<Term<'a>> = terms
                    .iter()
                    .zip(infos)
                    .filter(|(_, info)| info.mask & bit != 0 && info.mask & !(available | bit) == 0)
                    .map(|(t, _)| *t)
                    .collect();
                let cost = match self.choose_access(specs[k].source, available, &cands, false)? {
                    Access::RowidEq(_) => 1,
                    Access::Index {
                        eq, lower, upper, ..
                    } => {
                        if !eq.is_empty() {
                            5 - eq.len().min(3) as u32
                        } else if lower.is_some() && upper.is_some() {
                            20
                        } else {
                            40
                        }
                    }
                    Access::Scan => {
                        // A scan filtered by a join term is better than a bare one.
                        if cands.is_empty() {
                            1000
                        } else {
                            900
                        }
                    }
                };
                if best.map(|(c, _)| cost < c).unwrap_or(true) {
                    best = Some((cost, pos));
                }
            }
            let (_, pos) = best.expect("remaining is not empty");
            let k = remaining.remove(pos);
            available |= 1u64 << specs[k].source;
            order.push(specs[k].clone());
        }
        Ok(order)
    }

    /// A scan of a whole index, in index order.
    fn full_index_access<'a>(&mut self, source: usize, name: &str) -> Result<Access<'a>> {
        let level = self.levels.len() - 1;
        let db = self.levels[level].sources[source]
            .table
            .as_ref()
            .map_or(strata_vdbe::insn::MAIN_DB, |t| t.db);
        let ix = match self.levels[level].sources[source].table.clone() {
            Some(t) => self.read_index(&t, name),
            None => self.schema.of_db(db).local_index(name).cloned(),
        }
        .ok_or_else(|| crate::compiler::error(format!("no such index: {name}")))?;
        Ok(Access::Index {
            cursor: self.b.alloc_cursor(),
            key_info: ix.key_info(),
            eq: Vec::new(),
            lower: None,
            upper: None,
            root_page: ix.root_page,
            name: ix.name.clone(),
        })
    }

    /// Whether the single-table loop can produce rows in the order of `keys` (column or
    /// ROWID, collation, direction) without a sort, and how.
    pub fn order_plan(
        &mut self,
        specs: &[LoopSpec<'_>],
        terms: &[Term<'_>],
        keys: &[(usize, Collation, SortOrder)],
    ) -> Result<Option<OrderPlan>> {
        if specs.len() != 1 || specs[0].join != JoinKind::Inner || keys.is_empty() {
            return Ok(None);
        }
        let level = self.levels.len() - 1;
        let src = specs[0].source;
        let Some(table) = self.levels[level].sources[src].table.clone() else {
            return Ok(None);
        };
        let access = self.choose_access(src, 0, terms, false)?;
        if keys.len() == 1 && keys[0].0 == ROWID && keys[0].2 == SortOrder::Asc {
            return Ok(match access {
                Access::Scan | Access::RowidEq(_) => Some(OrderPlan::Rowid),
                Access::Index { eq, .. } if eq.is_empty() => Some(OrderPlan::Rowid),
                Access::Index { .. } => None,
            });
        }
        let matches = |ix: &crate::schema::Index, skip: usize| {
            ix.columns.len() >= skip + keys.len()
                && ix.columns[skip..]
                    .iter()
                    .zip(keys)
                    .all(|(c, k)| c.column == k.0 && c.collation == k.1 && c.order == k.2)
        };
        match access {
            Access::RowidEq(_) => Ok(Some(OrderPlan::Rowid)),
            Access::Index { name, eq, .. } => {
                let Some(ix) = self.read_index(&table, &name) else {
                    return Ok(None);
                };
                Ok(matches(&ix, eq.len()).then_some(OrderPlan::Index(name)))
            }
            Access::Scan => {
                for ix in self.read_indexes(&table) {
                    if matches(&ix, 0) && self.partial_usable(&table, &ix, src, terms) {
                        return Ok(Some(OrderPlan::Index(ix.name.clone())));
                    }
                }
                Ok(None)
            }
        }
    }

    fn operand(&mut self, op: Operand<'_>) -> Result<Reg> {
        let r = self.reg();
        self.operand_into(op, r)?;
        Ok(r)
    }

    fn operand_into(&mut self, op: Operand<'_>, dest: Reg) -> Result<()> {
        match op {
            Operand::Ast(e) => self.expr(e, dest),
            Operand::Col(c) => {
                self.emit_column(c, dest);
                Ok(())
            }
        }
    }

    /// If `t` is `column-of-source op operand` with the operand available before this
    /// loop, returns (column, op as seen from the column, operand, comparison affinity,
    /// collation).
    fn seek_term<'a>(
        &mut self,
        t: &Term<'a>,
        source: usize,
        available_before: u64,
    ) -> Result<Vec<(usize, Cmp, Operand<'a>, Affinity, Collation)>> {
        let level = self.levels.len() - 1;
        let mut out = Vec::new();
        match t {
            Term::ColEq(a, b) => {
                for (x, y) in [(a, b), (b, a)] {
                    if x.level == level
                        && x.source == source
                        && (y.level < level || available_before & (1u64 << y.source) != 0)
                    {
                        let (aff, coll) = self.coleq_affinity(*x, *y);
                        out.push((x.column, Cmp::Eq, Operand::Col(*y), aff, coll));
                    }
                }
            }
            Term::Ast(e) => {
                let (l, op, r) = match e {
                    Expr::Binary(l, op, r) => (*l, *op, *r),
                    Expr::Between {
                        lhs,
                        not: false,
                        start,
                        end,
                    } => {
                        let mut v = Vec::new();
                        if let Some(c) = self.column_of(lhs, source)? {
                            if self.operand_available(start, available_before)?
                                && self.operand_available(end, available_before)?
                            {
                                let aff1 = self.cmp_affinity(lhs, start);
                                let aff2 = self.cmp_affinity(lhs, end);
                                let c1 = self.binary_collation(lhs, start)?;
                                let c2 = self.binary_collation(lhs, end)?;
                                v.push((c, Cmp::Ge, Operand::Ast(*start), aff1, c1));
                                v.push((c, Cmp::Le, Operand::Ast(*end), aff2, c2));
                            }
                        }
                        return Ok(v);
                    }
                    _ => return Ok(out),
                };
                let cmp = match op {
                    Operator::Equals | Operator::Is => Cmp::Eq,
                    Operator::Less => Cmp::Lt,
                    Operator::LessEquals => Cmp::Le,
                    Operator::Greater => Cmp::Gt,
                    Operator::GreaterEquals => Cmp::Ge,
                    _ => return Ok(out),
                };
                if op == Operator::Is {
                    return Ok(out);
                }
                let flip = |c: Cmp| match c {
                    Cmp::Lt => Cmp::Gt,
                    Cmp::Le => Cmp::Ge,
                    Cmp::Gt => Cmp::Lt,
                    Cmp::Ge => Cmp::Le,
                    c => c,
                };
                if let Some(c) = self.column_of(l, source)? {
                    if self.operand_available(r, available_before)? {
                        let aff = self.cmp_affinity(l, r);
                        let coll = self.binary_collation(l, r)?;
                        out.push((c, cmp, Operand::Ast(r), aff, coll));
                    }
                }
                if let Some(c) = self.column_of(r, source)? {
                    if self.operand_available(l, available_before)? {
                        let aff = self.cmp_affinity(l, r);
                        let coll = self.binary_collation(l, r)?;
                        out.push((c, flip(cmp), Operand::Ast(l), aff, coll));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Seek candidates on an index expression: WHERE terms `expr op value` (either way
    /// round) and `expr BETWEEN x AND y` whose expression is the index's (structurally,
    /// over the same columns of `source`) and whose value is available before this loop.
    fn expr_seek_cands<'a>(
        &mut self,
        sql: &str,
        table: &crate::schema::Table,
        source: usize,
        available_before: u64,
        terms: &[Term<'a>],
    ) -> Result<Vec<(Cmp, Operand<'a>, Affinity, Collation)>> {
        let mut out = Vec::new();
        crate::partial_index::with_where(sql, |ixe| {
            for t in terms {
                let Term::Ast(e) = t else { continue };
                match e {
                    Expr::Binary(l, op, r) => {
                        let cmp = match op {
                            Operator::Equals => Cmp::Eq,
                            Operator::Less => Cmp::Lt,
                            Operator::LessEquals => Cmp::Le,
                            Operator::Greater => Cmp::Gt,
                            Operator::GreaterEquals => Cmp::Ge,
                            _ => continue,
                        };
                        let flip = match cmp {
                            Cmp::Lt => Cmp::Gt,
                            Cmp::Le => Cmp::Ge,
                            Cmp::Gt => Cmp::Lt,
                            Cmp::Ge => Cmp::Le,
                            c => c,
                        };
                        if self.same_expr(ixe, l, table, source)
                            && self.operand_available(r, available_before)?
                        {
                            let aff = self.cmp_affinity(l, r);
                            let coll = self.binary_collation(l, r)?;
                            out.push((cmp, Operand::Ast(*r), aff, coll));
                        }
                        if self.same_expr(ixe, r, table, source)
                            && self.operand_available(l, available_before)?
                        {
                            let aff = self.cmp_affinity(l, r);
                            let coll = self.binary_collation(l, r)?;
                            out.push((flip, Operand::Ast(*l), aff, coll));
                        }
                    }
                    Expr::Between {
                        lhs,
                        not: false,
                        start,
                        end,
                    } => {
                        if self.same_expr(ixe, lhs, table, source)
                            && self.operand_available(start, available_before)?
                            && self.operand_available(end, available_before)?
                        {
                            let aff1 = self.cmp_affinity(lhs, start);
                            let aff2 = self.cmp_affinity(lhs, end);
                            let c1 = self.binary_collation(lhs, start)?;
                            let c2 = self.binary_collation(lhs, end)?;
                            out.push((Cmp::Ge, Operand::Ast(*start), aff1, c1));
                            out.push((Cmp::Le, Operand::Ast(*end), aff2, c2));
                        }
                    }
                    _ => {}
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The column index (or ROWID) if `e` is a plain column of `source` at this level.
    fn column_of(&mut self, e: &Expr<'_>, source: usize) -> Result<Option<usize>> {
        let level = self.levels.len() - 1;
        let r = self.column_ref_of(e)?;
        Ok(r.filter(|r| r.level == level && r.source == source)
            .map(|r| {
                let col = &self.levels[level].sources[source].columns;
                if r.column != ROWID && col[r.column].is_rowid_alias {
                    ROWID
                } else {
                    r.column
                }
            }))
    }

    fn operand_available(&mut self, e: &Expr<'_>, available_before: u64) -> Result<bool> {
        let level = self.levels.len() - 1;
        let refs = self.column_refs(e)?;
        Ok(refs
            .iter()
            .all(|r| r.level < level || available_before & (1u64 << r.source) != 0))
    }

    fn choose_access<'a>(
        &mut self,
        source: usize,
        available_before: u64,
        terms: &[Term<'a>],
        alloc: bool,
    ) -> Result<Access<'a>> {
        let level = self.levels.len() - 1;
        let Some(table) = self.levels[level].sources[source].table.clone() else {
            return Ok(Access::Scan);
        };
        let mut cands = Vec::new();
        for t in terms {
            cands.extend(self.seek_term(t, source, available_before)?);
        }
        let indexes = self.read_indexes(&table);
        let has_expr_index = indexes
            .iter()
            .any(|ix| ix.columns.iter().any(|c| c.expr.is_some()));
        if cands.is_empty() && !has_expr_index {
            return Ok(Access::Scan);
        }
        if let Some((_, _, op, _, _)) = cands.iter().find(|c| c.0 == ROWID && c.1 == Cmp::Eq) {
            return Ok(Access::RowidEq(*op));
        }
        // The index with the most equality columns, then a range on the next column.
        let mut best: Option<(usize, Access<'a>)> = None;
        for ix in indexes {
            // A partial index only when the terms imply its WHERE.
            if !self.partial_usable(&table, &ix, source, terms) {
                continue;
            }
            let mut eq = Vec::new();
            let mut lower = None;
            let mut upper = None;
            for icol in &ix.columns {
                // An expression column: the terms comparing the same expression, usable
                // without affinity only (the keys are the expression's values as they are).
                let expr_cands = match &icol.expr {
                    Some(sql) => {
                        Some(self.expr_seek_cands(sql, &table, source, available_before, terms)?)
                    }
                    None => None,
                };
                let col_aff = table.columns.get(icol.column).map(|c| c.affinity);
                let usable = |aff: Affinity, coll: Collation| {
                    coll == icol.collation
                        && icol.order == SortOrder::Asc
                        && match (aff, col_aff) {
                            (Affinity::Blob, _) => true,
                            (_, None) => false,
                            (Affinity::Text, Some(ca)) => ca == Affinity::Text,
                            (_, Some(ca)) => ca.is_numeric(),
                        }
                };
                let key_aff = |aff: Affinity| match col_aff {
                    Some(ca) if aff != Affinity::Blob => ca,
                    _ => Affinity::Blob,
                };
                let cands: Vec<(usize, Cmp, Operand<'a>, Affinity, Collation)> = match expr_cands {
                    Some(v) => v
                        .into_iter()
                        .map(|(cmp, op, aff, coll)| (icol.column, cmp, op, aff, coll))
                        .collect(),
                    None => cands
                        .iter()
                        .filter(|c| c.0 == icol.column)
                        .copied()
                        .collect(),
                };
                if let Some(c) = cands
                    .iter()
                    .find(|c| c.0 == icol.column && c.1 == Cmp::Eq && usable(c.3, c.4))
                {
                    eq.push((c.2, key_aff(c.3)));
                    continue;
                }
                for c in cands
                    .iter()
                    .filter(|c| c.0 == icol.column && usable(c.3, c.4))
                {
                    match c.1 {
                        Cmp::Gt | Cmp::Ge if lower.is_none() => {
                            lower = Some((c.2, c.1 == Cmp::Gt, key_aff(c.3)))
                        }
                        Cmp::Lt | Cmp::Le if upper.is_none() => {
                            upper = Some((c.2, c.1 == Cmp::Lt, key_aff(c.3)))
                        }
                        _ => {}
                    }
                }
                break;
            }
            let score = eq.len() * 4
                + lower.is_some() as usize
                + upper.is_some() as usize
                + (ix.unique && eq.len() == ix.columns.len()) as usize * 2;
            if score == 0 {
                continue;
            }
            if best.as_ref().map(|(s, _)| score > *s).unwrap_or(true) {
                let key_info = ix.key_info();
                best = Some((
                    score,
                    Access::Index {
                        cursor: usize::MAX,
                        key_info,
                        eq,
                        lower,
                        upper,
                        root_page: ix.root_page,
                        name: ix.name.clone(),
                    },
                ));
            }
        }
        match best {
            Some((
                _,
                Access::Index {
                    key_info,
                    eq,
                    lower,
                    upper,
                    root_page,
                    name,
                    ..
                },
            )) => Ok(Access::Index {
                cursor: if alloc {
                    self.b.alloc_cursor()
                } else {
                    usize::MAX
                },
                key_info,
                eq,
                lower,
                upper,
                root_page,
                name,
            }),
            _ => Ok(Access::Scan),
        }
    }
}
