//! `PRAGMA journal_mode` and `PRAGMA encoding`: file-format settings that Strata fixes.
//!
//! Strata keeps every database it writes in WAL mode and in UTF-8 (the pager refuses to
//! open UTF-16 files, and converts rollback-journal files to WAL when it opens them). These
//! pragmas report that truthfully, and a request for anything else is an error rather than
//! a pretended success: a pragma that answers "delete" while the file stays in WAL mode
//! would mislead whoever hands the file on.

use crate::compiler::{error, Result};
use crate::schema::Schema;

/// SQLite's journal modes, in SQLite's order (`sqlite3JournalModename`).
const JOURNAL_MODES: [&str; 6] = ["delete", "persist", "off", "truncate", "memory", "wal"];

/// The row `PRAGMA journal_mode[=arg]` returns, or the error for a mode we cannot switch to.
pub(crate) fn journal_mode(arg: Option<&str>) -> Result<&'static str> {
    let Some(arg) = arg else {
        return Ok("wal");
    };
    // SQLite compares the argument's length of each mode name, case-insensitively (so
    // "del" means "delete"); an argument matching no mode is a plain query.
    let wanted = arg.to_ascii_lowercase();
    let mode = JOURNAL_MODES
        .iter()
        .find(|m| m.as_bytes().starts_with(wanted.as_bytes()) && wanted.len() <= m.len());
    match mode {
        None | Some(&"wal") => Ok("wal"),
        Some(mode) => Err(error(format!(
            "cannot change journal_mode to {mode}: Strata keeps databases in WAL mode; \
             to hand the file to a tool that wants a single file, run \
             PRAGMA wal_checkpoint(TRUNCATE), close the database, then run \
             PRAGMA journal_mode={mode} in sqlite3"
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
        assert_eq!(journal_mode(None).unwrap(), "wal");
        assert_eq!(journal_mode(Some("WAL")).unwrap(), "wal");
        assert_eq!(journal_mode(Some("bogus")).unwrap(), "wal");
        assert!(journal_mode(Some("delete")).is_err());
        assert!(journal_mode(Some("DEL")).is_err());
        assert!(journal_mode(Some("memory")).is_err());
        assert!(journal_mode(Some("deletex")).unwrap() == "wal");
    }
}
