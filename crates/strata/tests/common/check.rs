//! Script comparison that reports every differing statement at once.

use super::{sqlite_rows, strata_rows, V};
use strata::Connection;

/// Runs every statement of `script` (separated by lines ending in `;`) on fresh
/// in-memory databases of both engines; results (values and storage classes, in order)
/// and error messages must be the same. All differences are reported together.
pub fn check_script(script: &str) {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    check_script_on(&ours, &theirs, script);
}

/// [`check_script`] on an open pair of connections.
pub fn check_script_on(ours: &Connection, theirs: &rusqlite::Connection, script: &str) {
    let mut bad = Vec::new();
    for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let a = strata_rows(ours, sql);
        let b = sqlite_rows(theirs, sql);
        if a != b {
            let short = |r: &Result<Vec<Vec<V>>, String>| {
                let s = format!("{r:?}");
                s.chars().take(600).collect::<String>()
            };
            bad.push(format!(
                "{sql}\n  strata: {}\n  sqlite: {}",
                short(&a),
                short(&b)
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} statements differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
