//! `PRAGMA journal_mode` and `PRAGMA encoding`: file-format settings.
//!
//! Strata writes in WAL mode and in UTF-8 only (the pager refuses to open UTF-16 files,
//! and switches rollback-journal files to WAL when it opens them). `PRAGMA journal_mode`
//! reports the mode the file is really in; `= DELETE` leaves WAL mode so the file can go
//! to single-file tools (the pager then refuses writes until the database is reopened);
//! other modes are refused rather than pretended: a pragma that answered `persist` while
//! the file stayed in WAL mode would mislead whoever hands the file on.

use strata_vdbe::insn::JournalModeKind;

use crate::compiler::{error, Result};
use crate::schema::Schema;

/// SQLite's journal modes, in SQLite's order (`sqlite3JournalModename`).
const JOURNAL_MODES: [&str; 6] = ["delete", "persist", "off", "truncate", "memory", "wal"];

/// What `PRAGMA journal_mode[=arg]` asks for: `None` to query the mode, or the mode to
/// switch to; an error for a mode Strata cannot be in.
pub(crate) fn journal_mode(arg: Option<&str>) -> Result<Option<JournalModeKind>> {
    let Some(arg) = arg else {
        return Ok(None);
    };
    // SQLite compares the argument's length of each mode name, case-insensitively (so
    // "del" means "delete"); an argument matching no mode is a plain query.
    let wanted = arg.to_ascii_lowercase();
    let mode = JOURNAL_MODES
        .iter()
        .find(|m| m.as_bytes().starts_with(wanted.as_bytes()) && wanted.len() <= m.len());
    match mode {
        None => Ok(None),
        Some(&"wal") => Ok(Some(JournalModeKind::Wal)),
        Some(&"delete") => Ok(Some(JournalModeKind::Delete)),
        Some(mode) => Err(error(format!(
            "cannot change journal_mode to {mode}: Strata supports only WAL mode and, to hand \
             the file to a tool that wants a single file, PRAGMA journal_mode=DELETE"
        ))),
    }
}

/// What `PRAGMA encoding = arg` means: SQLite's names, matched case-insensitively.
fn encoding_is_utf8(arg: &str) -> Result<bool> {
    match arg.to_ascii_uppercase().as_str() {
        "UTF8" | "UTF-8" => Ok(true),
        "UTF-16LE" | "UTF-16BE" | "UTF16LE" | "UTF16BE" | "UTF-16" | "UTF16" => Ok(false),
        _ => Err(error(format!("unsupported encoding: {arg}"))),
    }
}

/// `PRAGMA encoding[=arg]`: the row to return (`Some`), or nothing for a setting.
pub(crate) fn encoding(schema: &Schema, arg: Option<&str>) -> Result<Option<&'static str>> {
    let Some(arg) = arg else {
        // The pager opens only UTF-8 databases.
        return Ok(Some("UTF-8"));
    };
    // `sqlite_schema` itself is always in the table map.
    let empty = schema.tables.keys().all(|name| name == "sqlite_schema")
        && schema.indexes.is_empty()
        && schema.views.is_empty()
        && schema.triggers.is_empty();
    if !empty {
        // Once the schema is loaded SQLite's encoding is fixed and it ignores the request
        // silently, even an unknown name; the file's encoding wins. So do we.
        return Ok(None);
    }
    if encoding_is_utf8(arg)? {
        return Ok(None);
    }
    // SQLite would make this empty database UTF-16; Strata cannot store UTF-16 text.
    Err(error(
        "UTF-16 databases are not supported: Strata stores text only as UTF-8",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_mode_matches_prefixes_like_sqlite() {
        assert_eq!(journal_mode(None).unwrap(), None);
        assert_eq!(
            journal_mode(Some("WAL")).unwrap(),
            Some(JournalModeKind::Wal)
        );
        assert_eq!(journal_mode(Some("bogus")).unwrap(), None);
        assert_eq!(journal_mode(Some("deletex")).unwrap(), None);
        assert_eq!(
            journal_mode(Some("DEL")).unwrap(),
            Some(JournalModeKind::Delete)
        );
        assert!(journal_mode(Some("memory")).is_err());
        assert!(journal_mode(Some("persist")).is_err());
        assert!(journal_mode(Some("off")).is_err());
    }
}
