//! `ATTACH [DATABASE] expr AS name [KEY expr]`, `DETACH [DATABASE] name` and
//! `PRAGMA database_list`.
//!
//! As in SQLite (attach.c `resolveAttachExpr`), an identifier in the file or name
//! position stands for its own text (`ATTACH x AS y` attaches file "x" as "y"); any other
//! expression is evaluated (parameters too). The work is done by the VM's `Attach` and
//! `Detach` instructions (strata-vdbe/src/vm/dbs.rs), which check and word the errors
//! as SQLite's attachFunc/detachFunc; the schema is reloaded afterwards.

use sqlite3_parser::ast::{Expr, Stmt};
use strata_vdbe::insn::Insn;
use strata_vdbe::program::Program;
use strata_vdbe::Value;

use crate::compiler::{error, Compiler, Result};
use crate::names;

impl Compiler<'_> {
    /// An ATTACH/DETACH operand: an identifier is its text, anything else is evaluated.
    fn attach_operand(&mut self, e: &Expr<'_>) -> Result<usize> {
        let reg = self.regs(1);
        match e {
            Expr::Id(id) => self.load_value(Value::Text(names::unquote(id.0).into_bytes()), reg),
            Expr::Name(n) => self.load_value(Value::Text(names::unquote(n.0).into_bytes()), reg),
            e => {
                // Column references have nothing to name here.
                if matches!(e, Expr::Qualified(..) | Expr::DoublyQualified(..)) {
                    return Err(error(format!("no such column: {e}")));
                }
                self.expr(e, reg)?
            }
        }
        Ok(reg)
    }

    /// Compiles ATTACH or DETACH.
    pub(crate) fn attach_detach(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        match stmt {
            Stmt::Attach { expr, db_name, key } => {
                let file = self.attach_operand(expr)?;
                let name = self.attach_operand(db_name)?;
                if let Some(k) = key {
                    // Without an encryption codec SQLite evaluates the key and ignores it.
                    let _ = self.attach_operand(k)?;
                }
                self.emit(Insn::Attach { file, name });
            }
            Stmt::Detach(e) => {
                let name = self.attach_operand(e)?;
                self.emit(Insn::Detach { name });
            }
            _ => unreachable!("dispatched on Attach/Detach"),
        }
        Ok(self.finish_without_transaction(text))
    }

    /// `PRAGMA database_list`: seq, name, file of main, temp (once it exists) and each
    /// attached database.
    pub(crate) fn database_list(self, text: &str) -> Program {
        let s = self.schema;
        let mut rows = vec![vec![
            Value::Integer(0),
            Value::Text(b"main".to_vec()),
            Value::Text(s.file.clone().into_bytes()),
        ]];
        if s.temp_open {
            rows.push(vec![
                Value::Integer(1),
                Value::Text(b"temp".to_vec()),
                Value::Text(Vec::new()),
            ]);
        }
        for (i, (name, a)) in s.attached.iter().enumerate() {
            rows.push(vec![
                Value::Integer(i as i64 + 2),
                Value::Text(name.clone().into_bytes()),
                Value::Text(a.file.clone().into_bytes()),
            ]);
        }
        self.pragma_rows(text, &["seq", "name", "file"], rows)
    }
}
