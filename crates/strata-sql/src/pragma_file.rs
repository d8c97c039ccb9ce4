//! `PRAGMA journal_mode` and `PRAGMA encoding`: file-format settings.
//!
//! Strata writes in WAL mode (it switches rollback-journal files to WAL when it opens
//! them) and in the database's text encoding, which `PRAGMA encoding` chooses for an
//! empty database. `PRAGMA journal_mode`
//! reports the mode the file is really in; `= DELETE` leaves WAL mode so the file can go
//! to single-file tools (the pager then refuses writes until the database is reopened);
//! other modes are refused rather than pretended: a pragma that answered `persist` while
//! the file stayed in WAL mode would mislead whoever hands the file on.

use strata_vdbe::insn::JournalModeKind;

use strata_btree::text_encoding::TextEncoding;

use crate::compiler::{error, Result};
use crate::schema::Schema;

/// SQLite's journal modes, in SQLite's order (`sqlite3JournalModename`).
const JOURNAL_MODES: [&str; 6] = ["delete", "persist", "off", "truncate", "memory", "wal"];

/// The journal mode `arg` names, as SQLite matches it (case-insensitively, by the
/// argument's length: "del" is "delete"); None for a query or a name of no mode.
pub(crate) fn journal_mode_name(arg: Option<&str>) -> Option<&'static str> {
    let wanted = arg?.to_ascii_lowercase();
    JOURNAL_MODES
        .iter()
        .find(|m| m.as_bytes().starts_with(wanted.as_bytes()) && wanted.len() <= m.len())
        .copied()
}

/// What `PRAGMA journal_mode[=arg]` asks for: `None` to query the mode, or the mode to
/// switch to; an error for a mode Strata cannot be in.
pub(crate) fn journal_mode(arg: Option<&str>) -> Result<Option<JournalModeKind>> {
    // An argument matching no mode is a plain query.
    match journal_mode_name(arg) {
        None => Ok(None),
        Some("wal") => Ok(Some(JournalModeKind::Wal)),
        Some("delete") => Ok(Some(JournalModeKind::Delete)),
        Some(mode) => Err(error(format!(
            "cannot change journal_mode to {mode}: Strata supports only WAL mode and, to hand \
             the file to a tool that wants a single file, PRAGMA journal_mode=DELETE"
        ))),
    }
}

/// What `PRAGMA encoding[=arg]` does.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EncodingPragma {
    /// Report the database's encoding.
    Report,
    /// Nothing (a request SQLite ignores).
    Nothing,
    /// Make this empty database use the encoding (header offset 56).
    Set(TextEncoding),
}

/// `PRAGMA encoding[=arg]`. As in SQLite, the encoding can be chosen only while the
/// database holds nothing (here: no schema objects, so no text is stored yet); later
/// requests are ignored silently, even unknown names, and the file's encoding stays.
pub(crate) fn encoding(schema: &Schema, arg: Option<&str>) -> Result<EncodingPragma> {
    let Some(arg) = arg else {
        return Ok(EncodingPragma::Report);
    };
    // `sqlite_schema` itself is always in the table map.
    let empty = schema.tables.keys().all(|name| name == "sqlite_schema")
        && schema.indexes.is_empty()
        && schema.views.is_empty()
        && schema.triggers.is_empty();
    if !empty {
        return Ok(EncodingPragma::Nothing);
    }
    match TextEncoding::from_name(arg) {
        None => Err(error(format!("unsupported encoding: {arg}"))),
        Some(e) if e == schema.encoding => Ok(EncodingPragma::Nothing),
        Some(e) => Ok(EncodingPragma::Set(e)),
    }
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
