//! Triggers (row-level BEFORE/AFTER on INSERT, UPDATE [OF], DELETE), RAISE, and the
//! RETURNING clause.
//!
//! A trigger's body is compiled inline at each place its event happens, with `NEW` and
//! `OLD` reading the registers that hold the row images. A trigger does not fire
//! itself recursively (SQLite's default, `recursive_triggers = OFF`); changes made by
//! trigger bodies are not counted in `changes()`, as in SQLite.

use std::sync::Arc;

use sqlite3_parser::ast::{self, Expr, ResultColumn, Stmt, TriggerCmd};
use strata_vdbe::insn::{EphemeralKind, ErrorCode, Insn, OnError, Reg, TriggerFrameOp};
use strata_vdbe::program::Program;

use crate::builder::Label;
use strata_vdbe::insn::TEMP_DB;

use crate::compiler::{create_db, display_name, error, Compiler, Result, Scope};
use crate::dml::{InsertSrc, Returning, ReturningItem};
use crate::names::{self, DbName};
use crate::schema::{self, with_parsed, Table, Trigger};
use crate::scope::{AggMap, Level, ROWID};
use crate::select::{table_source, Dest, ResultCol};

pub use crate::schema::TriggerEventKind as TrigEvent;

impl Compiler<'_> {
    /// The triggers on `table` (of its database: main's, and TEMP triggers on it).
    fn triggers_for(&self, table: &Table, event: TrigEvent, after: bool) -> Vec<Arc<Trigger>> {
        if self.disable_triggers {
            // DROP TABLE's implicit DELETE fires no triggers.
            return Vec::new();
        }
        let mut v: Vec<Arc<Trigger>> = self
            .schema
            .all_triggers()
            .filter(|t| t.table_db == table.db && names::eq(&t.table, &table.name))
            .filter(|t| t.event == event && t.after == after)
            .filter(|t| !self.trigger_stack.iter().any(|n| names::eq(n, &t.name)))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    pub fn has_triggers(&self, table: &Table, event: TrigEvent, after: bool) -> bool {
        !self.triggers_for(table, event, after).is_empty()
    }

    /// Pushes a level whose sources `new` and `old` read row images from registers; only
    /// qualified names (`new.x`) reach them.
    pub(crate) fn push_row_images(
        &mut self,
        table: &Arc<Table>,
        old: Option<(Reg, Reg)>,
        new: Option<(Reg, Reg)>,
    ) {
        let mut level = Level::default();
        let mut map = AggMap::default();
        for (name, img) in [("new", new), ("old", old)] {
            let Some((cols, rowid)) = img else { continue };
            let si = level.sources.len();
            let cursor = self.b.alloc_cursor();
            let mut src = table_source(table, name.into(), cursor);
            for (i, c) in src.columns.iter_mut().enumerate() {
                c.hidden = true;
                // SQLite gives `new.x`/`old.x` no affinity in comparisons (its TK_TRIGGER
                // expressions carry none; only the rowid, or its alias, is INTEGER): `t.x =
                // new.z` with x TEXT compares as text, whatever z's type. The collation stays.
                if table.rowid_alias != Some(i) {
                    c.affinity = None;
                }
            }
            if table.root_page == 0 {
                // A view's row (INSTEAD OF): no rowid ("no such column: new.rowid").
                src.table = None;
            }
            level.sources.push(src);
            for i in 0..table.columns.len() {
                let reg = if table.rowid_alias == Some(i) {
                    rowid
                } else {
                    cols + i
                };
                map.columns.insert((si, i), reg);
            }
            map.columns.insert((si, ROWID), rowid);
        }
        level.agg = Some(map);
        self.levels.push(level);
    }

    /// Emits the bodies of the triggers on `table` for this event and time.
    /// `changed[i]` says whether column i is assigned (UPDATE OF); `ignore` is where
    /// `RAISE(IGNORE)` goes (skipping the rest of the row).
    #[allow(clippy::too_many_arguments)]
    pub fn fire_triggers(
        &mut self,
        table: &Arc<Table>,
        event: TrigEvent,
        after: bool,
        old: Option<(Reg, Reg)>,
        new: Option<(Reg, Reg)>,
        changed: &[bool],
        ignore: Label,
    ) -> Result<()> {
        for trig in self.triggers_for(table, event, after) {
            if let Some(cols) = &trig.update_of {
                let hit = cols.iter().any(|c| {
                    table
                        .column_index(c)
                        .map(|i| changed.get(i).copied().unwrap_or(false))
                        .unwrap_or(false)
                });
                if !hit {
                    continue;
                }
            }
            if self.trigger_stack.len() >= 32 {
                return Err(error("too many levels of trigger recursion"));
            }
            self.push_row_images(table, old, new);
            self.trigger_stack.push(trig.name.clone());
            let saved_ignore = self.raise_ignore.replace(ignore);
            let saved_orconf = std::mem::replace(&mut self.trigger_orconf, self.stmt_orconf);
            let r = with_parsed(&trig.sql, |stmt| {
                let Stmt::CreateTrigger {
                    when_clause,
                    commands,
                    ..
                } = stmt
                else {
                    return Err(error("not a trigger"));
                };
                self.in_body_of(trig.db, format!("trigger {}", trig.name), |c| {
                    c.trigger_frame(TriggerFrameOp::Begin);
                    let skip = c.label();
                    if let Some(w) = when_clause {
                        c.jump_if_not_true(w, skip)?;
                    }
                    for cmd in commands.iter() {
                        c.trigger_command(cmd)?;
                    }
                    c.resolve(skip);
                    c.trigger_frame(TriggerFrameOp::End);
                    Ok(())
                })
            });
            self.raise_ignore = saved_ignore;
            self.trigger_orconf = saved_orconf;
            self.trigger_stack.pop();
            self.levels.pop();
            r?;
        }
        Ok(())
    }

    /// Change counting at the trigger program being compiled (see `RowCount`).
    pub(crate) fn trigger_frame(&mut self, op: TriggerFrameOp) {
        if let Ok(depth) = u8::try_from(self.trigger_stack.len()) {
            if depth > 0 {
                self.emit(Insn::TriggerFrame { depth, op });
            }
        }
    }

    pub(crate) fn trigger_command<'a>(&mut self, cmd: &'a TriggerCmd<'a>) -> Result<()> {
        // The firing statement's conflict clause, if it has one, replaces the step's
        // (`INSERT OR REPLACE INTO v` makes the trigger's INSERT replace), as in SQLite.
        let saved = self.stmt_orconf;
        let r = self.trigger_step(cmd);
        self.stmt_orconf = saved;
        if !matches!(cmd, TriggerCmd::Select(_)) {
            self.trigger_frame(TriggerFrameOp::Step);
        }
        r
    }

    fn trigger_step<'a>(&mut self, cmd: &'a TriggerCmd<'a>) -> Result<()> {
        let inherited = self.trigger_orconf;
        match cmd {
            TriggerCmd::Insert {
                or_conflict,
                tbl_name,
                col_names,
                select,
                upsert,
            } => {
                let or = inherited.or(*or_conflict);
                self.stmt_orconf = or;
                self.emit_insert(
                    or,
                    tbl_name,
                    col_names.as_ref(),
                    InsertSrc::Select(select, *upsert),
                    None,
                )?;
            }
            TriggerCmd::Update {
                or_conflict,
                tbl_name,
                sets,
                from,
                where_clause,
            } => {
                let or = inherited.or(*or_conflict);
                self.stmt_orconf = or;
                self.emit_update(
                    or,
                    tbl_name,
                    sets,
                    from.as_ref(),
                    where_clause.as_ref(),
                    None,
                )?;
            }
            TriggerCmd::Delete {
                tbl_name,
                where_clause,
            } => {
                self.stmt_orconf = None;
                self.emit_delete(tbl_name, where_clause.as_ref(), None)?;
            }
            TriggerCmd::Select(sel) => {
                self.select(sel, &Dest::Discard)?;
            }
        }
        Ok(())
    }

    /// `RAISE(IGNORE)` skips the rest of the row; the others fail the statement.
    pub fn raise(
        &mut self,
        kind: ast::ResolveType,
        msg: Option<&Expr<'_>>,
        dest: Reg,
    ) -> Result<()> {
        if self.trigger_stack.is_empty() {
            return Err(error("RAISE() may only be used within a trigger-program"));
        }
        let message = match msg {
            Some(Expr::Literal(ast::Literal::String(s))) => names::unquote(s),
            Some(e) => e.to_string(),
            None => String::new(),
        };
        let on_error = match kind {
            ast::ResolveType::Ignore => {
                let l = self
                    .raise_ignore
                    .ok_or_else(|| error("RAISE(IGNORE) outside a trigger"))?;
                // The program ends here, normally: its rows count (SQLite's OP_Halt
                // with OE_Ignore returns from the sub-program as a halt does).
                self.trigger_frame(TriggerFrameOp::End);
                self.goto(l);
                self.emit(Insn::Null { dest, count: 1 });
                return Ok(());
            }
            ast::ResolveType::Rollback => OnError::Rollback,
            ast::ResolveType::Fail => OnError::Fail,
            _ => OnError::Abort,
        };
        self.emit(Insn::Halt {
            error: Some((ErrorCode::Constraint, message)),
            on_error,
        });
        self.emit(Insn::Null { dest, count: 1 });
        Ok(())
    }

    pub fn create_trigger(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::CreateTrigger {
            temporary,
            if_not_exists,
            trigger_name,
            time,
            event,
            tbl_name,
            for_each_row: _,
            when_clause,
            commands,
        } = stmt
        else {
            unreachable!("dispatched on CreateTrigger")
        };
        // SQLite's grammar refuses `db.t` as the target of a trigger body's writes.
        for cmd in commands.iter() {
            let target = match cmd {
                TriggerCmd::Insert { tbl_name, .. }
                | TriggerCmd::Update { tbl_name, .. }
                | TriggerCmd::Delete { tbl_name, .. } => tbl_name,
                TriggerCmd::Select(_) => continue,
            };
            if target.db_name.is_some() {
                return Err(error(
                    "qualified table names are not allowed on INSERT, UPDATE, and DELETE statements within triggers",
                ));
            }
        }
        let name = names::unquote(trigger_name.name.0);
        let tname = names::unquote(tbl_name.name.0);
        // The trigger's database (SQLite's sqlite3BeginTrigger): TEMP, or as qualified,
        // or, unqualified, temp when its table is a temp table.
        let mut db = if *temporary {
            if trigger_name.db_name.is_some() {
                return Err(error("temporary trigger may not have qualified name"));
            }
            TEMP_DB
        } else {
            create_db(self.schema, trigger_name.db_name.as_ref(), false, "")?
        };
        let on = Scope::of(self.schema, tbl_name);
        if !*temporary && trigger_name.db_name.is_none() {
            if let Some(t) = on.table(self.schema, &tname) {
                db = t.db;
            } else if let Some(v) = on.view(self.schema, &tname) {
                db = v.db;
            }
        }
        // A trigger outside temp may only be on a table of its own database (SQLite's
        // `sqlite3FixSrcList`); a TEMP trigger may be on a table of main.
        let on = if db == TEMP_DB {
            on
        } else {
            match DbName::resolve(self.schema, tbl_name.db_name.as_ref().map(|n| n.0)) {
                Some(DbName::Unknown(d)) => {
                    return Err(error(format!(
                        "trigger {name} cannot reference objects in database {d}"
                    )))
                }
                Some(d) if d.index() != Some(db) => {
                    return Err(error(format!(
                        "trigger {name} cannot reference objects in database {}",
                        names::unquote(tbl_name.db_name.as_ref().map_or("", |n| n.0))
                    )))
                }
                _ => Scope::Db(db),
            }
        };
        let no_such_table = || {
            if db == TEMP_DB {
                error(format!("no such table: {}", display_name(tbl_name)))
            } else {
                error(format!(
                    "no such table: {}.{tname}",
                    self.schema.db_name(db)
                ))
            }
        };
        // SQLite looks the table up before it checks the trigger's name: `IF NOT EXISTS`
        // on a trigger that exists still fails when its table does not.
        if on.view(self.schema, &tname).is_none() && on.table(self.schema, &tname).is_none() {
            return Err(no_such_table());
        }
        if self
            .schema
            .of_db(db)
            .triggers
            .contains_key(&name.to_ascii_lowercase())
        {
            if *if_not_exists {
                // SQLite codes the schema check (sqlite3CodeVerifySchema): a read
                // transaction, inside BEGIN the snapshot.
                self.verify_schema(db);
                return Ok(self.finish(text, Vec::new(), Vec::new()));
            }
            return Err(error(format!("trigger {name} already exists")));
        }
        let instead_of = matches!(time, Some(ast::TriggerTime::InsteadOf));
        let view = on.view(self.schema, &tname);
        if view.is_some() && !instead_of {
            return Err(error(format!(
                "cannot create {} trigger on view: {tname}",
                match time {
                    Some(ast::TriggerTime::After) => "AFTER",
                    _ => "BEFORE",
                }
            )));
        }
        // A view whose SELECT does not compile now (a table dropped since) still takes
        // triggers, as in SQLite: its error comes where the view is used. Its body is
        // then checked against a view of no columns.
        let table = match &view {
            Some(v) => Some(self.view_table(v).or_else(|_| {
                crate::schema::parse_table(
                    &format!("CREATE TABLE \"{}\"(\"\")", v.name.replace('"', "\"\"")),
                    0,
                )
                .map(|mut t| {
                    t.columns.clear();
                    t.db = v.db;
                    Arc::new(t)
                })
            })?),
            None => on.table(self.schema, &tname),
        };
        if instead_of && view.is_none() && table.is_some() {
            return Err(error(format!(
                "cannot create INSTEAD OF trigger on table: {tname}"
            )));
        }
        let table = table.ok_or_else(no_such_table)?;
        if table.root_page == 1 {
            return Err(error("cannot create trigger on system table"));
        }
        let off = crate::split::create_trigger_name_offset(text).unwrap_or(0);
        let sql = format!("CREATE TRIGGER {}", text[off..].trim_end());
        schema::trigger_from_ast(trigger_name, *time, event, tbl_name, &sql)?;
        if db != TEMP_DB {
            self.check_body_names(&name, &table, when_clause.as_ref(), commands)?;
        }
        self.writes = true;
        let sc = self.open_schema_write(db);
        self.insert_schema_row(sc, "trigger", &name, &table.name, None, Some(&sql));
        self.bump_cookie(db);
        Ok(self.finish(text, Vec::new(), Vec::new()))
    }

    /// A trigger of main may not name temp objects (`temp.x`) in its body: SQLite
    /// refuses it at CREATE. The body is compiled in a scratch compiler for that check
    /// only; other errors (a table that does not exist yet) are SQLite's at firing time.
    fn check_body_names(
        &self,
        name: &str,
        table: &Arc<Table>,
        when_clause: Option<&Expr<'_>>,
        commands: &[TriggerCmd<'_>],
    ) -> Result<()> {
        let mut scratch = Compiler::new(self.schema);
        scratch.fixed_db = Some(table.db);
        scratch.fixed_for = Some(format!("trigger {name}"));
        scratch.trigger_stack.push(name.to_string());
        let n = table.columns.len();
        let regs = scratch.regs(n + 1);
        scratch.push_row_images(table, Some((regs, regs + n)), Some((regs, regs + n)));
        let skip = scratch.label();
        scratch.raise_ignore = Some(skip);
        let mut results = Vec::new();
        if let Some(w) = when_clause {
            results.push(scratch.jump_if_not_true(w, skip));
        }
        for cmd in commands {
            results.push(scratch.trigger_command(cmd));
        }
        match results
            .into_iter()
            .filter_map(|r| r.err())
            .find(|e| e.message.contains("cannot reference objects in database"))
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub fn drop_trigger(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::DropTrigger {
            if_exists,
            trigger_name,
        } = stmt
        else {
            unreachable!("dispatched on DropTrigger")
        };
        let name = names::unquote(trigger_name.name.0);
        let scope = Scope::of(self.schema, trigger_name);
        let Some(t) = scope.trigger(self.schema, &name) else {
            if *if_exists {
                // SQLite's sqlite3CodeVerifyNamedSchema: a read transaction.
                self.verify_scope(scope);
                return Ok(self.finish(text, Vec::new(), Vec::new()));
            }
            return Err(error(format!(
                "no such trigger: {}",
                display_name(trigger_name)
            )));
        };
        self.writes = true;
        self.delete_schema_rows(t.db, 1, &t.name, Some("trigger"));
        self.bump_cookie(t.db);
        Ok(self.finish(text, Vec::new(), Vec::new()))
    }

    /// Prepares RETURNING: the ephemeral table and the column descriptions.
    pub fn open_returning(
        &mut self,
        table: &Arc<Table>,
        returning: Option<&[ResultColumn<'_>]>,
    ) -> Result<Option<Returning>> {
        let Some(items) = returning else {
            return Ok(None);
        };
        let cursor = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor,
            kind: EphemeralKind::Table,
        });
        let mut out = Vec::new();
        let mut cols = Vec::new();
        let scratch = self.b.alloc_cursor();
        let mut level = Level::default();
        level
            .sources
            .push(table_source(table, table.name.clone(), scratch));
        self.levels.push(level);
        let r = (|| {
            for it in items {
                match it {
                    ResultColumn::Star | ResultColumn::TableStar(_) => {
                        for (i, c) in table.columns.iter().enumerate() {
                            out.push(ReturningItem {
                                sql: None,
                                column: Some(i),
                            });
                            cols.push(ResultCol {
                                name: c.name.clone(),
                                source_name: None,
                                decl_type: Some(c.decl_type.clone()).filter(|d| !d.is_empty()),
                                affinity: Some(c.affinity),
                                collation: c.collation,
                            });
                        }
                    }
                    ResultColumn::Expr(e, alias, span) => {
                        if crate::select::contains_aggregate(e) {
                            return Err(error("aggregate functions are not allowed in RETURNING"));
                        }
                        let name = match alias {
                            Some(ast::As::As(n)) | Some(ast::As::Elided(n)) => names::unquote(n.0),
                            None => self.default_column_name(e, span),
                        };
                        out.push(ReturningItem {
                            sql: Some(e.to_string()),
                            column: None,
                        });
                        cols.push(ResultCol {
                            name,
                            source_name: None,
                            decl_type: None,
                            affinity: None,
                            collation: Default::default(),
                        });
                    }
                }
            }
            Ok(())
        })();
        self.levels.pop();
        r?;
        Ok(Some(Returning {
            cursor,
            items: out,
            cols,
        }))
    }

    /// Evaluates RETURNING for one row image and stores the row.
    pub fn emit_returning(
        &mut self,
        table: &Arc<Table>,
        r: &Returning,
        cols: Reg,
        rowid: Reg,
    ) -> Result<()> {
        let n = r.items.len();
        let regs = self.regs(n.max(1));
        let cursor = self.b.alloc_cursor();
        let mut level = Level::default();
        level
            .sources
            .push(table_source(table, table.name.clone(), cursor));
        let mut map = AggMap::default();
        for i in 0..table.columns.len() {
            let reg = if table.rowid_alias == Some(i) {
                rowid
            } else {
                cols + i
            };
            map.columns.insert((0, i), reg);
        }
        map.columns.insert((0, ROWID), rowid);
        level.agg = Some(map);
        self.levels.push(level);
        let res = (|| {
            for (k, item) in r.items.iter().enumerate() {
                match (&item.sql, item.column) {
                    (_, Some(i)) => {
                        let src = if table.rowid_alias == Some(i) {
                            rowid
                        } else {
                            cols + i
                        };
                        self.emit(Insn::Copy {
                            src,
                            dest: regs + k,
                            count: 1,
                        });
                    }
                    (Some(sql), None) => {
                        let text = format!("SELECT {sql}");
                        with_parsed(&text, |stmt| {
                            let Stmt::Select(sel) = stmt else {
                                return Err(error("bad RETURNING"));
                            };
                            let ast::OneSelect::Select { columns, .. } = &sel.body.select else {
                                return Err(error("bad RETURNING"));
                            };
                            let Some(ResultColumn::Expr(e, _, _)) = columns.first() else {
                                return Err(error("bad RETURNING"));
                            };
                            self.expr(e, regs + k)
                        })?;
                    }
                    (None, None) => {}
                }
            }
            Ok(())
        })();
        self.levels.pop();
        res?;
        let never = self.label();
        self.write_dest(regs, n, &Dest::EphemTable { cursor: r.cursor }, never)?;
        self.resolve(never);
        Ok(())
    }

    /// Ends a DML program: with RETURNING, the collected rows are returned after every
    /// write is done.
    pub fn finish_returning(mut self, text: &str, ret: Option<Returning>) -> Program {
        let Some(r) = ret else {
            return self.finish(text, Vec::new(), Vec::new());
        };
        let n = r.items.len();
        let regs = self.regs(n.max(1));
        let end = self.label();
        let top = self.label();
        // As SQLite: immediate foreign key violations fail the statement before any
        // RETURNING row is returned.
        self.emit(Insn::FkCheck);
        self.emit(Insn::RewindAsync { cursor: r.cursor });
        self.emit(Insn::RewindAwait {
            cursor: r.cursor,
            target_if_empty: end.addr(),
        });
        self.resolve(top);
        for i in 0..n {
            self.emit(Insn::Column {
                cursor: r.cursor,
                column: i,
                dest: regs + i,
                default: None,
            });
        }
        self.emit(Insn::ResultRow {
            start: regs,
            count: n,
        });
        self.emit(Insn::NextAsync { cursor: r.cursor });
        self.emit(Insn::NextAwait {
            cursor: r.cursor,
            target_if_more: top.addr(),
        });
        self.resolve(end);
        let names = r.cols.iter().map(|c| c.name.clone()).collect();
        let decls = r.cols.iter().map(|c| c.decl_type.clone()).collect();
        self.finish(text, names, decls)
    }
}
