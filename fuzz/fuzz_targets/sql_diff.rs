//! SQL differential fuzzing: a structured random workload (`arbitrary`) of DDL-free
//! statements over a fixed schema runs on Strata (non-blocking steps on a MemoryIo with
//! shuffled completions) and on SQLite (rusqlite, in memory). Every statement must succeed
//! on both or fail on both, and results must be equal (as sequences under an ORDER BY that
//! ends with the rowid, else as multisets). Reals compare with 12 significant digits;
//! error messages are not compared.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use strata_fuzz::{sqlite_value_text, strata_run};

const SCHEMA: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER UNIQUE, a INTEGER, b TEXT, c REAL);\
CREATE INDEX t_a ON t(a); CREATE INDEX t_ba ON t(b DESC, a);\
CREATE TABLE u(id INTEGER PRIMARY KEY, k INTEGER, a INTEGER, b TEXT, c REAL); CREATE UNIQUE INDEX u_k ON u(k);";

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Tab {
    T,
    U,
}
impl Tab {
    fn name(self) -> &'static str {
        match self {
            Tab::T => "t",
            Tab::U => "u",
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Col {
    Id,
    K,
    A,
    B,
    C,
}
impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::Id => "id",
            Col::K => "k",
            Col::A => "a",
            Col::B => "b",
            Col::C => "c",
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum Lit {
    Null,
    Int(i8),
    Real(i8),
    Text(u8),
}
impl Lit {
    fn sql(&self) -> String {
        match self {
            Lit::Null => "NULL".into(),
            Lit::Int(i) => i.to_string(),
            Lit::Real(r) => format!("{}", *r as f64 * 0.25),
            Lit::Text(t) => ["'a'", "'b'", "'ab'", "''", "'B'", "'a b'"][*t as usize % 6].into(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum Expr {
    Col(Col),
    Lit(Lit),
    Bin(Box<Expr>, u8, Box<Expr>),
    IsNull(Col),
    Like(Col, u8),
    Between(Col, Lit, Lit),
    In(Col, Vec<Lit>),
    Coalesce(Col, Lit),
    Not(Box<Expr>),
}
impl Expr {
    fn sql(&self, depth: u32) -> String {
        if depth > 4 {
            return "1".into();
        }
        match self {
            Expr::Col(c) => c.name().into(),
            Expr::Lit(l) => l.sql(),
            Expr::Bin(a, op, b) => {
                let ops = [
                    "+", "-", "*", "=", "<>", "<", "<=", ">", ">=", "AND", "OR", "||", "IS",
                    "IS NOT",
                ];
                format!(
                    "({} {} {})",
                    a.sql(depth + 1),
                    ops[*op as usize % ops.len()],
                    b.sql(depth + 1)
                )
            }
            Expr::IsNull(c) => format!("{} IS NULL", c.name()),
            Expr::Like(c, p) => format!(
                "{} LIKE '{}'",
                c.name(),
                ["a%", "%b", "_", "%"][*p as usize % 4]
            ),
            Expr::Between(c, a, b) => format!("{} BETWEEN {} AND {}", c.name(), a.sql(), b.sql()),
            Expr::In(c, l) => {
                let v: Vec<String> = l.iter().take(5).map(|x| x.sql()).collect();
                if v.is_empty() {
                    format!("{} IN (NULL)", c.name())
                } else {
                    format!("{} IN ({})", c.name(), v.join(", "))
                }
            }
            Expr::Coalesce(c, l) => format!("coalesce({}, {})", c.name(), l.sql()),
            Expr::Not(e) => format!("NOT ({})", e.sql(depth + 1)),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum Agg {
    Count,
    Sum(Col),
    Min(Col),
    Max(Col),
    Total(Col),
}

#[derive(Arbitrary, Debug, Clone)]
enum Stmt {
    Insert {
        tab: Tab,
        rows: Vec<(Option<i8>, Lit, Lit, Lit, Lit)>,
        conflict: u8,
    },
    Update {
        tab: Tab,
        col: Col,
        value: Expr,
        filter: Expr,
    },
    Delete {
        tab: Tab,
        filter: Expr,
    },
    Select {
        tab: Tab,
        cols: Vec<Col>,
        filter: Expr,
        order: Option<(Col, bool, u8)>,
    },
    Aggregate {
        tab: Tab,
        group: Col,
        agg: Agg,
        having: Option<i8>,
    },
    Join {
        left: bool,
        on: Col,
        filter: Expr,
    },
    Sub {
        tab: Tab,
        col: Col,
        exists: bool,
        filter: Expr,
    },
    Begin,
    Commit,
    Rollback,
}

impl Stmt {
    fn sql(&self) -> String {
        match self {
            Stmt::Insert {
                tab,
                rows,
                conflict,
            } => {
                let rows: Vec<String> = rows
                    .iter()
                    .take(4)
                    .map(|(id, k, a, b, c)| {
                        let id = id.map_or("NULL".to_string(), |i| i.to_string());
                        format!("({id}, {}, {}, {}, {})", k.sql(), a.sql(), b.sql(), c.sql())
                    })
                    .collect();
                if rows.is_empty() {
                    return "SELECT 1".into();
                }
                let t = tab.name();
                let verb = ["INSERT", "INSERT OR IGNORE", "INSERT OR REPLACE", "INSERT"]
                    [*conflict as usize % 4];
                let tail = if *conflict % 4 == 3 {
                    format!(
                        " ON CONFLICT(k) DO UPDATE SET a = excluded.a, c = coalesce({t}.c, 0) + 1"
                    )
                } else {
                    String::new()
                };
                format!(
                    "{verb} INTO {t}(id, k, a, b, c) VALUES {}{tail}",
                    rows.join(", ")
                )
            }
            // `k` only gets constants: whether a conflict happens does not depend on the
            // order rows are visited in.
            Stmt::Update {
                tab,
                col,
                value,
                filter,
            } => {
                let v = if matches!(col, Col::K | Col::Id) {
                    "NULL".to_string()
                } else {
                    value.sql(0)
                };
                let col = if matches!(col, Col::Id) {
                    "a"
                } else {
                    col.name()
                };
                format!(
                    "UPDATE {} SET {col} = {v} WHERE {}",
                    tab.name(),
                    filter.sql(0)
                )
            }
            Stmt::Delete { tab, filter } => {
                format!("DELETE FROM {} WHERE {}", tab.name(), filter.sql(0))
            }
            Stmt::Select {
                tab,
                cols,
                filter,
                order,
            } => {
                let mut c: Vec<&str> = cols.iter().take(5).map(|c| c.name()).collect();
                if c.is_empty() {
                    c.push("*");
                }
                let mut s = format!(
                    "SELECT {} FROM {} WHERE {}",
                    c.join(", "),
                    tab.name(),
                    filter.sql(0)
                );
                if let Some((col, desc, limit)) = order {
                    s.push_str(&format!(
                        " ORDER BY {}{}, rowid LIMIT {}",
                        col.name(),
                        if *desc { " DESC" } else { "" },
                        limit % 20
                    ));
                }
                s
            }
            Stmt::Aggregate {
                tab,
                group,
                agg,
                having,
            } => {
                let a = match agg {
                    Agg::Count => "count(*)".to_string(),
                    Agg::Sum(c) => format!("sum({})", c.name()),
                    Agg::Min(c) => format!("min({})", c.name()),
                    Agg::Max(c) => format!("max({})", c.name()),
                    Agg::Total(c) => format!("total({})", c.name()),
                };
                let h = having.map_or(String::new(), |n| format!(" HAVING count(*) > {n}"));
                format!(
                    "SELECT {}, {a} FROM {} GROUP BY {}{h}",
                    group.name(),
                    tab.name(),
                    group.name()
                )
            }
            Stmt::Join { left, on, filter } => format!(
                "SELECT t.id, u.id, t.a, u.b FROM t {} u ON t.{} = u.{} WHERE {}",
                if *left { "LEFT JOIN" } else { "JOIN" },
                on.name(),
                on.name(),
                filter.sql(0).replace("id", "t.id")
            ),
            Stmt::Sub {
                tab,
                col,
                exists,
                filter,
            } => {
                let other = match tab {
                    Tab::T => "u",
                    Tab::U => "t",
                };
                if *exists {
                    format!(
                        "SELECT id FROM {} AS x WHERE EXISTS (SELECT 1 FROM {other} AS y WHERE y.{c} = x.{c})",
                        tab.name(),
                        c = col.name()
                    )
                } else {
                    format!(
                        "SELECT id FROM {} WHERE {} IN (SELECT {} FROM {other} WHERE {})",
                        tab.name(),
                        col.name(),
                        col.name(),
                        filter.sql(0)
                    )
                }
            }
            Stmt::Begin => "BEGIN".into(),
            Stmt::Commit => "COMMIT".into(),
            Stmt::Rollback => "ROLLBACK".into(),
        }
    }
}

fn sqlite_run(db: &rusqlite::Connection, sql: &str) -> Result<Vec<String>, ()> {
    let mut stmt = db.prepare(sql).map_err(|_| ())?;
    let n = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|_| ())? {
        let vals: Vec<String> = (0..n)
            .map(|i| sqlite_value_text(row.get_ref(i).unwrap()))
            .collect();
        out.push(vals.join("|"));
    }
    Ok(out)
}

fuzz_target!(|stmts: Vec<Stmt>| {
    let io = Arc::new(strata_io::MemoryIo::with_options(
        strata_io::MemoryIoOptions {
            shuffle_seed: Some(stmts.len() as u64),
            ..Default::default()
        },
    ));
    let db = strata::Database::open_with_io("diff.db", io).expect("open");
    let conn = db.connect();
    conn.execute_batch(SCHEMA).expect("schema");
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    lite.execute_batch(SCHEMA).unwrap();
    for s in stmts.iter().take(40) {
        let sql = s.sql();
        let ours = strata_run(&conn, &sql, 1_000_000)
            .pop()
            .unwrap_or(Ok(Vec::new()));
        let theirs = sqlite_run(&lite, &sql);
        match (ours, theirs) {
            (Ok(mut a), Ok(mut b)) => {
                if !sql.contains(" ORDER BY ") {
                    a.sort();
                    b.sort();
                }
                assert_eq!(a, b, "results differ for {sql}");
            }
            (Err(_), Err(())) => {}
            (a, b) => panic!("one engine failed: {sql}: strata {a:?} sqlite {b:?}"),
        }
    }
});
