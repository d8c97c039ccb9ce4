//! PRAGMA statements people use daily: schema introspection, header fields, checks.

use sqlite3_parser::ast::{Expr, Literal, PragmaBody, QualifiedName, UnaryOperator};
use strata_btree::record::Value;

use crate::pragma_file::EncodingPragma;
use strata_vdbe::insn::{CheckpointKind, Cookie, FkPragma, Insn, SettingKind, MAIN_DB, TEMP_DB};
use strata_vdbe::program::Program;

use crate::compiler::{error, Compiler, Result, Scope};
use crate::names;

fn pragma_arg(body: Option<&PragmaBody<'_>>) -> Option<String> {
    let e = match body? {
        PragmaBody::Equals(e) | PragmaBody::Call(e) => e,
    };
    Some(match e {
        Expr::Literal(Literal::Numeric(s)) => s.to_string(),
        Expr::Literal(Literal::String(s)) => names::unquote(s),
        Expr::Id(id) => names::unquote(id.0),
        Expr::Name(n) => names::unquote(n.0),
        Expr::Literal(Literal::Keyword(k)) => k.to_string(),
        Expr::Unary(UnaryOperator::Negative, inner) => match inner {
            Expr::Literal(Literal::Numeric(s)) => format!("-{s}"),
            _ => e.to_string(),
        },
        // SQLite's grammar drops a plus sign (`plus_num ::= PLUS number`).
        Expr::Unary(UnaryOperator::Positive, inner) => match inner {
            Expr::Literal(Literal::Numeric(s)) => s.to_string(),
            _ => e.to_string(),
        },
        _ => e.to_string(),
    })
}

/// A boolean pragma value as SQLite reads it (`sqlite3GetBoolean(z, 0)`): on, yes, true,
/// or a number whose low byte is not zero; anything else is false.
fn pragma_bool(s: &str) -> bool {
    crate::pragma_tuning::get_boolean(s, false)
}

/// Every pragma SQLite 3.46 knows (its `pragma_list`, plus the debug-build ones), so that
/// one Strata lacks is refused instead of silently answering nothing. (Not
/// `legacy_file_format`: 3.46 no longer knows it, so it is ignored as any unknown one.)
const SQLITE_PRAGMAS: &[&str] = &[
    "analysis_limit",
    "application_id",
    "auto_vacuum",
    "automatic_index",
    "busy_timeout",
    "cache_size",
    "cache_spill",
    "case_sensitive_like",
    "cell_size_check",
    "checkpoint_fullfsync",
    "collation_list",
    "compile_options",
    "count_changes",
    "data_store_directory",
    "data_version",
    "database_list",
    "default_cache_size",
    "defer_foreign_keys",
    "empty_result_callbacks",
    "encoding",
    "foreign_key_check",
    "foreign_key_list",
    "foreign_keys",
    "freelist_count",
    "full_column_names",
    "fullfsync",
    "function_list",
    "hard_heap_limit",
    "ignore_check_constraints",
    "incremental_vacuum",
    "index_info",
    "index_list",
    "index_xinfo",
    "integrity_check",
    "journal_mode",
    "journal_size_limit",
    "legacy_alter_table",
    "locking_mode",
    "max_page_count",
    "mmap_size",
    "module_list",
    "optimize",
    "page_count",
    "page_size",
    "parser_trace",
    "pragma_list",
    "query_only",
    "quick_check",
    "read_uncommitted",
    "recursive_triggers",
    "reverse_unordered_selects",
    "schema_version",
    "secure_delete",
    "short_column_names",
    "shrink_memory",
    "soft_heap_limit",
    "stats",
    "synchronous",
    "table_info",
    "table_list",
    "table_xinfo",
    "temp_store",
    "temp_store_directory",
    "threads",
    "trusted_schema",
    "user_version",
    "vdbe_addoptrace",
    "vdbe_debug",
    "vdbe_listing",
    "vdbe_trace",
    "wal_autocheckpoint",
    "wal_checkpoint",
    "writable_schema",
];

/// Whether SQLite knows the pragma `name` (lowercase).
pub(crate) fn is_sqlite_pragma(name: &str) -> bool {
    SQLITE_PRAGMAS.contains(&name)
}

impl Compiler<'_> {
    /// A boolean setting Strata keeps at SQLite's default (see the dispatch in `pragma`):
    /// reading reports the default (`case_sensitive_like` has no reading in SQLite),
    /// setting the default is accepted, setting the other value is an error.
    fn fixed_setting(self, name: &str, arg: Option<&str>, text: &str) -> Result<Program> {
        let default = i64::from(name == "short_column_names");
        match arg {
            Some(a) if i64::from(pragma_bool(a)) != default => Err(error(format!(
                "PRAGMA {name} = {a} is not supported (Strata runs with {name} = {default})"
            ))),
            Some(_) => Ok(self.finish(text, Vec::new(), Vec::new())),
            None if name == "case_sensitive_like" => Ok(self.finish(text, Vec::new(), Vec::new())),
            None => Ok(self.constant_rows(text, &[name], vec![vec![Value::Integer(default)]])),
        }
    }

    pub(crate) fn pragma_rows(self, text: &str, names: &[&str], rows: Vec<Vec<Value>>) -> Program {
        self.constant_rows(text, names, rows)
    }

    fn constant_rows(mut self, text: &str, names: &[&str], rows: Vec<Vec<Value>>) -> Program {
        let n = names.len();
        let base = self.regs(n);
        for row in rows {
            for (i, v) in row.into_iter().enumerate() {
                self.load_value(v, base + i);
            }
            self.emit(Insn::ResultRow {
                start: base,
                count: n,
            });
        }
        let cols = names.iter().map(|s| s.to_string()).collect();
        self.finish(text, cols, vec![None; n])
    }

    /// `PRAGMA auto_vacuum [= mode]`. Reading gives SQLite's 0 (none), 1 (full) or 2
    /// (incremental) from header offsets 52 and 64. Setting follows SQLite: on a database
    /// without tables it sets the mode; otherwise a change between none and
    /// full/incremental waits for the next VACUUM (remembered by `SetNextAutoVacuum`), and
    /// between full and incremental it writes offset 64.
    fn auto_vacuum(mut self, arg: Option<&str>, text: &str) -> Result<Program> {
        let Some(a) = arg else {
            let (root, incr, out) = (self.reg(), self.reg(), self.reg());
            self.emit(Insn::ReadCookie {
                db: MAIN_DB,
                cookie: Cookie::LargestRootPage,
                dest: root,
            });
            self.emit(Insn::ReadCookie {
                db: MAIN_DB,
                cookie: Cookie::IncrementalVacuum,
                dest: incr,
            });
            // out = root == 0 ? 0 : (incr == 0 ? 1 : 2), as sqlite3BtreeGetAutoVacuum.
            let done = self.label();
            self.emit(Insn::Integer {
                value: 0,
                dest: out,
            });
            self.emit(Insn::IfNot {
                reg: root,
                target: done.addr(),
                jump_if_null: true,
            });
            self.emit(Insn::Integer {
                value: 1,
                dest: out,
            });
            self.emit(Insn::IfNot {
                reg: incr,
                target: done.addr(),
                jump_if_null: true,
            });
            self.emit(Insn::Integer {
                value: 2,
                dest: out,
            });
            self.resolve(done);
            self.emit(Insn::ResultRow {
                start: out,
                count: 1,
            });
            return Ok(self.finish(text, vec!["auto_vacuum".into()], vec![None]));
        };
        // SQLite's getAutoVacuum: a name, or 0..=2, anything else is 0.
        let mode: i64 = match a.to_ascii_lowercase().as_str() {
            "none" => 0,
            "full" => 1,
            "incremental" => 2,
            other => other
                .parse::<i64>()
                .ok()
                .filter(|i| (0..=2).contains(i))
                .unwrap_or(0),
        };
        // Remembered for the next VACUUM (SQLite's db->nextAutovac), whatever happens now.
        self.emit(Insn::SetNextAutoVacuum { mode: mode as u8 });
        let s = self.schema;
        let empty = s.tables.len() <= 1
            && s.indexes.is_empty()
            && s.views.is_empty()
            && s.triggers.is_empty();
        if empty {
            // A database without tables takes the mode: SQLite writes it into a new
            // file's page 1 (offset 52 = 1, the largest root page being sqlite_schema's,
            // and offset 64). Strata's new files already have page 1, so the mode goes
            // there while page 1 is the only page and the mode is none (`SetCookie`
            // ignores offset 52 otherwise: SQLite fixes the mode once the file has
            // pages, and a change then needs a VACUUM).
            self.writes = true;
            self.emit(Insn::SetCookie {
                db: MAIN_DB,
                cookie: Cookie::LargestRootPage,
                value: (mode != 0) as i64,
            });
        }
        if mode == 0 {
            if empty {
                // Offset 64 too, unless offset 52 stayed (a larger database).
                let root = self.reg();
                let keep = self.label();
                self.emit(Insn::ReadCookie {
                    db: MAIN_DB,
                    cookie: Cookie::LargestRootPage,
                    dest: root,
                });
                self.emit(Insn::If {
                    reg: root,
                    target: keep.addr(),
                    jump_if_null: false,
                });
                self.emit(Insn::SetCookie {
                    db: MAIN_DB,
                    cookie: Cookie::IncrementalVacuum,
                    value: 0,
                });
                self.resolve(keep);
            }
            // None on an auto-vacuum database with tables: the next VACUUM applies it
            // (`SetNextAutoVacuum` above), as in SQLite.
            return Ok(self.finish(text, Vec::new(), Vec::new()));
        }
        // SQLite's setMeta6: only an auto-vacuum database (offset 52 non-zero) gets
        // offset 64 set; on any other the pragma does nothing.
        self.writes = true;
        let root = self.reg();
        let done = self.label();
        self.emit(Insn::ReadCookie {
            db: MAIN_DB,
            cookie: Cookie::LargestRootPage,
            dest: root,
        });
        self.emit(Insn::IfNot {
            reg: root,
            target: done.addr(),
            jump_if_null: true,
        });
        self.emit(Insn::SetCookie {
            db: MAIN_DB,
            cookie: Cookie::IncrementalVacuum,
            value: mode - 1,
        });
        self.resolve(done);
        Ok(self.finish(text, Vec::new(), Vec::new()))
    }

    /// `PRAGMA incremental_vacuum[(N)]`, as SQLite compiles it: N (absent, not an
    /// integer, or <= 0: all) steps of `IncrVacuum`, each taking the last page off an
    /// auto-vacuum database and answering a row without columns, stopping early when no
    /// free page is left. On any other database it does nothing.
    fn incremental_vacuum(mut self, arg: Option<&str>, text: &str) -> Result<Program> {
        let limit = arg
            .and_then(|a| a.trim().parse::<i32>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(i32::MAX);
        self.writes = true;
        let counter = self.reg();
        self.emit(Insn::Integer {
            value: limit as i64,
            dest: counter,
        });
        let done = self.label();
        let top = self.label();
        self.resolve(top);
        self.emit(Insn::IncrVacuum {
            db: MAIN_DB,
            target: done.addr(),
        });
        // SQLite answers a row without columns per page taken off.
        self.emit(Insn::ResultRow {
            start: counter,
            count: 0,
        });
        self.emit(Insn::AddImm {
            reg: counter,
            value: -1,
        });
        self.emit(Insn::IfPos {
            reg: counter,
            target: top.addr(),
            decrement: 0,
        });
        self.resolve(done);
        Ok(self.finish(text, Vec::new(), Vec::new()))
    }

    pub fn pragma(
        mut self,
        name: &QualifiedName<'_>,
        body: Option<&PragmaBody<'_>>,
        text: &str,
    ) -> Result<Program> {
        let pname = names::unquote(name.name.0).to_ascii_lowercase();
        // A number with digit separators is SQLite's QNUMBER token, which its pragma
        // grammar (`plus_num ::= number`, INTEGER or FLOAT) does not take.
        if let Some(PragmaBody::Equals(e) | PragmaBody::Call(e)) = body {
            let lit = match e {
                Expr::Unary(_, inner) => inner,
                e => e,
            };
            if let Expr::Literal(Literal::Numeric(n)) = lit {
                if n.contains('_') {
                    return Err(error(format!("near \"{n}\": syntax error")));
                }
            }
        }
        // `PRAGMA main.x` / `temp.x`: the schema pragmas look in that database only (else
        // temp first, then main), the header fields are that database's.
        let scope = match name.db_name.as_ref() {
            None => Scope::Any,
            Some(q) => Scope::Db(crate::compiler::create_db(self.schema, Some(q), false, "")?),
        };
        let db = match scope {
            Scope::Db(d) => d,
            _ => MAIN_DB,
        };
        let per_db = matches!(
            pname.as_str(),
            "table_info"
                | "table_xinfo"
                | "index_list"
                | "index_info"
                | "index_xinfo"
                | "table_list"
                | "user_version"
                | "schema_version"
                | "application_id"
                | "page_size"
                | "journal_size_limit"
                | "freelist_count"
                | "page_count"
        );
        // The tuning pragmas take `temp.` as SQLite does (most ignore the schema).
        let tuning = crate::pragma_tuning::TUNING_PRAGMAS.contains(&pname.as_str())
            || pname == "reverse_unordered_selects";
        // A pragma SQLite does not know is ignored whatever its schema.
        let unknown = !is_sqlite_pragma(&pname) && !pname.starts_with("strata_");
        // temp.page_count stays refused: SQLite's temp database has no page until its
        // first table (0), Strata's has page 1 from the start.
        let per_temp = per_db && pname != "page_count";
        if db == TEMP_DB && !per_temp && !tuning && !unknown {
            return Err(error(format!("PRAGMA temp.{pname} is not supported")));
        }
        // An attached database: the schema and header pragmas read or write that
        // database; the others are not supported there yet (never main's answer).
        let attached_ok = (per_db && pname != "journal_size_limit")
            || matches!(
                pname.as_str(),
                "foreign_key_check" | "foreign_key_list" | "integrity_check" | "quick_check"
            );
        if db >= 2 && !attached_ok && !unknown && pname != "database_list" {
            return Err(error(format!(
                "PRAGMA {}.{pname} is not supported yet",
                self.schema.db_name(db)
            )));
        }
        if pname == "database_list" {
            return Ok(self.database_list(text));
        }
        let arg = pragma_arg(body);
        match pname.as_str() {
            "table_info" | "table_xinfo" | "index_list" | "index_info" | "index_xinfo" => {
                self.reads_main_schema = true;
                if let Scope::Db(d) = scope {
                    self.verify_schema(d);
                }
                let what = if pname.starts_with("index_i") {
                    "an index"
                } else {
                    "a table"
                };
                let a = arg.ok_or_else(|| error(format!("{pname} needs {what} name")))?;
                let (cols, rows) = self.introspection_rows(&pname, Some(&a), scope)?;
                Ok(self.constant_rows(text, &cols, rows))
            }
            "table_list" => {
                self.reads_main_schema = true;
                self.verify_scope(scope);
                let (cols, rows) = self.introspection_rows(&pname, arg.as_deref(), scope)?;
                Ok(self.constant_rows(text, &cols, rows))
            }
            "page_size" => {
                // The temp database is made with the default page size (4096).
                let ps = self.schema.of_db(db).page_size as i64;
                match arg {
                    None => Ok(self.constant_rows(
                        text,
                        &["page_size"],
                        vec![vec![Value::Integer(ps)]],
                    )),
                    Some(a) => {
                        // SQLite answers no row; it takes a valid size (a power of two
                        // from 512 to 65536) only before the database has any page and
                        // ignores it after. Strata fixes the size when the database is
                        // opened, so on a database that never had a schema (cookie 0:
                        // where SQLite would apply it) a different valid size is refused
                        // rather than silently not applied; on one with a schema it is
                        // ignored, as SQLite ignores it.
                        let n = i64::from(sqlite_atoi(&a));
                        let valid = (512..=65536).contains(&n) && n.count_ones() == 1;
                        if valid && n != ps && self.schema.of_db(db).cookie == 0 {
                            return Err(error(format!(
                                "PRAGMA page_size = {n} is not supported: the page size \
                                 ({ps}) is chosen when the database is opened \
                                 (OpenOptions::page_size)"
                            )));
                        }
                        Ok(self.finish(text, Vec::new(), Vec::new()))
                    }
                }
            }
            "journal_mode" if self.schema.in_memory => {
                Ok(self.memory_journal_mode(arg.as_deref(), text))
            }
            "journal_mode" => {
                let set = crate::pragma_file::journal_mode(arg.as_deref())?;
                let r = self.reg();
                self.emit(Insn::JournalMode { set, dest: r });
                self.emit(Insn::ResultRow { start: r, count: 1 });
                // Like a checkpoint, a mode switch runs outside any transaction.
                Ok(self.finish_without_transaction_rows(text, vec!["journal_mode".into()]))
            }
            "encoding" => match crate::pragma_file::encoding(self.schema, arg.as_deref())? {
                EncodingPragma::Report => {
                    // Read when it runs (the pager knows an encoding set earlier in this
                    // transaction, or rolled back since the schema was loaded).
                    let r = self.reg();
                    self.emit(Insn::ConnInfo {
                        what: strata_vdbe::insn::ConnInfoKind::Encoding,
                        dest: r,
                    });
                    self.emit(Insn::ResultRow { start: r, count: 1 });
                    Ok(self.finish(text, vec!["encoding".into()], vec![None]))
                }
                EncodingPragma::Nothing => {
                    // Decided from the schema, so check at run time that it is current
                    // (a rolled-back CREATE or encoding change leaves it stale).
                    self.reads_main_schema = true;
                    Ok(self.finish(text, Vec::new(), Vec::new()))
                }
                EncodingPragma::Set(enc) => {
                    self.writes = true;
                    self.emit(Insn::SetCookie {
                        db: MAIN_DB,
                        cookie: Cookie::TextEncoding,
                        value: enc.header_value() as i64,
                    });
                    // A new cookie makes every connection (and this one, after a
                    // rollback) reload the schema, which carries the encoding.
                    self.bump_cookie(MAIN_DB);
                    Ok(self.finish(text, Vec::new(), Vec::new()))
                }
            },
            "cache_size" => match arg {
                Some(a) => {
                    // Read as SQLite's `sqlite3Atoi` reads it (garbage is 0).
                    let n = i64::from(sqlite_atoi(&a));
                    let pages = if n < 0 {
                        (n.saturating_neg().saturating_mul(1024)
                            / self.schema.page_size.max(512) as i64)
                            .max(1)
                    } else {
                        n.max(1)
                    };
                    self.emit(Insn::SetCacheSize {
                        pages: pages as usize,
                        setting: n,
                    });
                    Ok(self.finish(text, Vec::new(), Vec::new()))
                }
                // The value last set on this connection, read when the statement runs.
                None => Ok(self.setting_rows(SettingKind::CacheSize, None, "cache_size", text)),
            },
            // Strata's own: the memory budget of each sorter (ORDER BY, GROUP BY,
            // CREATE INDEX ...) in KiB; past it, sorted runs go to a temporary file.
            // 0 goes back to the default (derived from cache_size, at least 1 MiB).
            "strata_sorter_budget_kib" => match arg {
                Some(a) => {
                    let n: i64 = a
                        .parse()
                        .map_err(|_| error("strata_sorter_budget_kib must be an integer"))?;
                    let bytes = if n <= 0 {
                        None
                    } else {
                        Some((n as u64).saturating_mul(1024).min(usize::MAX as u64) as usize)
                    };
                    self.emit(Insn::SetSorterBudget { bytes });
                    Ok(self.finish(text, Vec::new(), Vec::new()))
                }
                None => {
                    let r = self.reg();
                    self.emit(Insn::SorterBudget { dest: r });
                    self.emit(Insn::ResultRow { start: r, count: 1 });
                    Ok(self.finish(text, vec![pname.clone()], vec![None]))
                }
            },
            "journal_size_limit" => {
                // SQLite reads the value as sqlite3DecOrHexToI64 does (a hex literal, or
                // the leading integer: 'abc' is 0, 2.5 is 2) and takes anything below -1
                // as -1 (no limit).
                let limit = arg
                    .as_deref()
                    .map(|a| pragma_int_prefix(&names::unquote(a)).max(-1));
                let r = self.reg();
                self.emit(Insn::JournalSizeLimit { db, limit, dest: r });
                self.emit(Insn::ResultRow { start: r, count: 1 });
                Ok(self.finish(text, vec![pname.clone()], vec![None]))
            }
            "page_count" => {
                // SQLite's OP_Pagecount; an argument is ignored (max_page_count is
                // what sets a limit).
                let r = self.reg();
                self.emit(Insn::ReadCookie {
                    db,
                    cookie: Cookie::PageCount,
                    dest: r,
                });
                self.emit(Insn::ResultRow { start: r, count: 1 });
                Ok(self.finish(text, vec![pname.clone()], vec![None]))
            }
            "freelist_count" => {
                // Header offset 36, exact in every database Strata writes (SQLite's
                // sqlite3BtreeGetMeta(BTREE_FREE_PAGE_COUNT)); an argument is ignored.
                let r = self.reg();
                self.emit(Insn::ReadCookie {
                    db,
                    cookie: Cookie::FreelistCount,
                    dest: r,
                });
                self.emit(Insn::ResultRow { start: r, count: 1 });
                Ok(self.finish(text, vec![pname.clone()], vec![None]))
            }
            "user_version" | "schema_version" | "application_id" => {
                let cookie = match pname.as_str() {
                    "user_version" => Cookie::UserVersion,
                    "schema_version" => Cookie::SchemaVersion,
                    _ => Cookie::ApplicationId,
                };
                match arg {
                    Some(a) => {
                        let v: i64 = a
                            .parse()
                            .map_err(|_| error(format!("{pname} must be an integer")))?;
                        if cookie == Cookie::SchemaVersion {
                            return Err(error("setting schema_version is not supported"));
                        }
                        self.writes = true;
                        self.emit(Insn::SetCookie {
                            db,
                            cookie,
                            value: v as i32 as i64,
                        });
                        Ok(self.finish(text, Vec::new(), Vec::new()))
                    }
                    None => {
                        let r = self.reg();
                        self.emit(Insn::ReadCookie {
                            db,
                            cookie,
                            dest: r,
                        });
                        self.emit(Insn::ResultRow { start: r, count: 1 });
                        Ok(self.finish(text, vec![pname.clone()], vec![None]))
                    }
                }
            }
            "auto_vacuum" => self.auto_vacuum(arg.as_deref(), text),
            "incremental_vacuum" => self.incremental_vacuum(arg.as_deref(), text),
            "integrity_check" | "quick_check" => {
                // SQLite's: a number is the error limit (100 when not positive), anything
                // else a table to check alone. SQLite reads the number's token without
                // its sign: `integrity_check(-3)` is a limit of 3.
                let (max_errors, only) = match arg.as_deref() {
                    None => (100, None),
                    Some(a) => match a.trim().trim_start_matches(['-', '+']).parse::<i64>() {
                        Ok(n) if n > 0 => (usize::try_from(n).unwrap_or(usize::MAX), None),
                        Ok(_) => (100, None),
                        Err(_) => match scope.table(self.schema, a).as_ref() {
                            Some(t) if t.db == TEMP_DB => {
                                return Err(error(format!(
                                    "{pname} of a TEMP table ({a}) is not supported"
                                )))
                            }
                            Some(t) => (100, Some(t.clone())),
                            None => return Err(error(format!("no such table: {a}"))),
                        },
                    },
                };
                let quick = pname == "quick_check";
                // Unqualified, SQLite checks every database (the attached ones too).
                let every_db = name.db_name.is_none();
                self.integrity_check(quick, max_errors, only, text, pname.clone(), db, every_db)
            }
            "wal_checkpoint" => {
                let mode = match arg.as_deref().map(|s| s.to_ascii_lowercase()) {
                    None => CheckpointKind::Passive,
                    Some(m) => match m.as_str() {
                        "passive" => CheckpointKind::Passive,
                        "full" => CheckpointKind::Full,
                        "restart" => CheckpointKind::Restart,
                        "truncate" => CheckpointKind::Truncate,
                        _ => CheckpointKind::Passive,
                    },
                };
                let r = self.regs(3);
                self.emit(Insn::Checkpoint { mode, dest: r });
                self.emit(Insn::ResultRow { start: r, count: 3 });
                // A checkpoint runs outside any transaction (the VM refuses it inside).
                Ok(self.finish_without_transaction_rows(
                    text,
                    vec!["busy".into(), "log".into(), "checkpointed".into()],
                ))
            }
            "synchronous" | "wal_autocheckpoint" | "busy_timeout" => {
                let (which, value) = match pname.as_str() {
                    "synchronous" => (
                        SettingKind::Synchronous,
                        arg.as_deref().map(synchronous_value),
                    ),
                    "wal_autocheckpoint" => (
                        SettingKind::WalAutocheckpoint,
                        // sqlite3_wal_autocheckpoint: N > 0 sets N frames, else off (0).
                        arg.as_deref().map(|a| i64::from(sqlite_atoi(a).max(0))),
                    ),
                    _ => (
                        SettingKind::BusyTimeout,
                        // sqlite3_busy_timeout: N > 0 milliseconds, else none (0).
                        arg.as_deref().map(|a| i64::from(sqlite_atoi(a).max(0))),
                    ),
                };
                let r = self.reg();
                self.emit(Insn::Setting {
                    which,
                    value,
                    dest: r,
                });
                // SQLite answers every form with the value in force, except a write of
                // `synchronous`, which answers nothing.
                if value.is_some() && which == SettingKind::Synchronous {
                    return Ok(self.finish_without_transaction(text));
                }
                self.emit(Insn::ResultRow { start: r, count: 1 });
                Ok(self.finish_without_transaction_rows(text, vec![pname.clone()]))
            }
            "foreign_keys" | "defer_foreign_keys" => {
                let which = if pname == "foreign_keys" {
                    FkPragma::ForeignKeys
                } else {
                    FkPragma::DeferForeignKeys
                };
                match arg {
                    Some(a) => {
                        self.emit(Insn::FkSetting {
                            which,
                            value: Some(pragma_bool(&a)),
                            dest: 0,
                        });
                        Ok(self.finish_without_transaction(text))
                    }
                    None => {
                        let r = self.reg();
                        self.emit(Insn::FkSetting {
                            which,
                            value: None,
                            dest: r,
                        });
                        self.emit(Insn::ResultRow { start: r, count: 1 });
                        Ok(self.finish_without_transaction_rows(text, vec![pname.clone()]))
                    }
                }
            }
            "foreign_key_list" => {
                let Some(t) = arg else {
                    return Ok(self.finish(text, Vec::new(), Vec::new()));
                };
                let (cols, rows) = self.introspection_rows(&pname, Some(&t), scope)?;
                Ok(self.constant_rows(text, &cols, rows))
            }
            "foreign_key_check" => {
                let only = match scope {
                    Scope::Db(d) => Some(d),
                    _ => None,
                };
                self.foreign_key_check(arg.as_deref(), only, text)
            }
            // Settings whose other value would change answers (recursion of triggers, LIKE,
            // CHECK, writes, result rows, column names): Strata runs with SQLite's default,
            // reports it, and refuses the other value rather than ignore it.
            "recursive_triggers"
            | "ignore_check_constraints"
            | "query_only"
            | "count_changes"
            | "full_column_names"
            | "short_column_names"
            | "case_sensitive_like" => self.fixed_setting(&pname, arg.as_deref(), text),
            // `reverse_unordered_selects = 1` makes SQLite scan in reverse, which changes
            // the order of unordered results: fixed at its default like the above.
            "reverse_unordered_selects" => self.fixed_setting(&pname, arg.as_deref(), text),
            name if crate::pragma_tuning::TUNING_PRAGMAS.contains(&name) => {
                let qualified = matches!(scope, Scope::Db(_));
                self.tuning_pragma(name, arg.as_deref(), db, qualified, text)
            }
            // SQLite ignores pragmas it does not know, and so do we; one it knows and
            // Strata does not implement is an error, never an empty answer.
            name if SQLITE_PRAGMAS.contains(&name) => {
                Err(error(format!("PRAGMA {name} is not supported yet")))
            }
            _ => Ok(self.finish(text, Vec::new(), Vec::new())),
        }
    }
}

/// An integer pragma argument as SQLite's `sqlite3Atoi` reads it: [`get_int32`], else 0.
fn sqlite_atoi(a: &str) -> i32 {
    get_int32(a).unwrap_or(0)
}

/// An integer as SQLite's `sqlite3GetInt32` reads it: an optional sign, or a `0x` hex
/// number of at most 8 digits below 2^31; else leading decimal digits (at most 10,
/// within i32), whatever follows. Anything else, and any overflow, is `None`.
pub(crate) fn get_int32(a: &str) -> Option<i32> {
    let b = a.as_bytes();
    let (neg, signed, rest) = match b.first() {
        Some(b'-') => (true, true, &b[1..]),
        Some(b'+') => (false, true, &b[1..]),
        _ => (false, false, b),
    };
    // A sign rules out hex, as in SQLite's `else if`.
    if !signed
        && rest.len() > 2
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && rest[2].is_ascii_hexdigit()
    {
        let digits = &rest[2..];
        let digits = &digits[digits.iter().take_while(|&&c| c == b'0').count()..];
        let n = digits
            .iter()
            .take(8)
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        let u = digits[..n]
            .iter()
            .fold(0u32, |u, &c| u * 16 + (c as char).to_digit(16).unwrap_or(0));
        let more = digits.get(n).is_some_and(u8::is_ascii_hexdigit);
        return (u & 0x8000_0000 == 0 && !more).then_some(u as i32);
    }
    if !rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let rest = &rest[rest.iter().take_while(|&&c| c == b'0').count()..];
    let n = rest
        .iter()
        .take(11)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n > 10 {
        return None;
    }
    let v = rest[..n]
        .iter()
        .fold(0i64, |v, &c| v * 10 + i64::from(c - b'0'));
    if v - i64::from(neg) > i64::from(i32::MAX) {
        return None;
    }
    Some((if neg { -v } else { v }) as i32)
}

/// `PRAGMA synchronous = X` as SQLite stores it (`getSafetyLevel` + 1, masked with
/// `PAGER_SYNCHRONOUS_MASK`, 0 taken as 1), minus one: what reading it reports. A
/// leading digit is a number; on/yes/true and anything unknown (`normal` included) are 1,
/// no/off/false 0, full 2, extra 3.
fn synchronous_value(a: &str) -> i64 {
    let level = if a.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        // SQLite keeps a u8 of the number.
        i64::from(sqlite_atoi(a) as u8)
    } else {
        match a.to_ascii_lowercase().as_str() {
            "no" | "off" | "false" => 0,
            "full" => 2,
            "extra" => 3,
            _ => 1,
        }
    };
    let stored = match (level + 1) & 7 {
        0 => 1,
        l => l,
    };
    stored - 1
}

/// An integer pragma argument as SQLite's sqlite3DecOrHexToI64 reads it: `0x` hex, else
/// the leading (optionally signed) digits, saturating; no digits is 0.
fn pragma_int_prefix(a: &str) -> i64 {
    let t = a.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).map_or(0, |v| v as i64);
    }
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}
