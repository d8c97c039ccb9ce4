//! A compiled statement: instructions plus what the VM and the API need to run it.

use crate::insn::Insn;

/// A prepared program, immutable once built (shared as `Arc<Program>` by every execution
/// of the statement).
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub insns: Vec<Insn>,
    /// A comment per instruction for EXPLAIN (empty when none); same length as `insns`.
    pub comments: Vec<String>,
    pub num_registers: usize,
    pub num_cursors: usize,
    /// Result column names (empty for statements that return no rows).
    pub column_names: Vec<String>,
    /// Declared type of each result column that is a plain table column.
    pub column_decltypes: Vec<Option<String>>,
    /// Number of parameters (the largest `?NNN` index); `parameter_names[i]` names
    /// parameter `i + 1` (`":a"`, `"@b"`, `"$c"`, `"?3"`), `None` for anonymous ones.
    pub parameter_count: usize,
    pub parameter_names: Vec<Option<String>>,
    /// True if the statement does not write to the database.
    pub read_only: bool,
    /// The compiler guarantees that the statement fails (constraint errors) only before
    /// its first write, so inside an explicit transaction it needs no statement savepoint
    /// (SQLite's `usesStmtJournal == 0`). If it fails anyway after writing (an I/O
    /// error), the whole transaction is rolled back, as SQLite does for I/O errors.
    pub no_stmt_journal: bool,
    /// The SQL text of the statement.
    pub sql: String,
}

impl Program {
    /// 1-based index of the parameter named `name` (including its prefix character).
    pub fn parameter_index(&self, name: &str) -> Option<usize> {
        self.parameter_names
            .iter()
            .position(|n| n.as_deref() == Some(name))
            .map(|i| i + 1)
    }
}
