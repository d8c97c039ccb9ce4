//! Shared helpers for the VM tests: databases on MemoryIo (inline or deferred) or on a
//! temp file, a tiny assembler with labels, and a driver that steps a program to the end.
#![allow(dead_code)]

use std::sync::Arc;

use strata_btree::record::{Collation, KeyInfo, SortOrder, Value};
use strata_io::{MemoryIo, SyscallIo, IO};
use strata_pager::{Storage, StorageOptions};
use strata_vdbe::insn::{Addr, Insn};
use strata_vdbe::program::Program;
use strata_vdbe::vm::{Connection, StepResult, Vm, VmError};

pub struct Db {
    pub io: Arc<dyn IO>,
    pub storage: Arc<Storage>,
    pub _dir: Option<tempfile::TempDir>,
}

pub fn options(cache_pages: usize, page_size: usize) -> StorageOptions {
    StorageOptions {
        page_size,
        cache_size_pages: cache_pages,
        ..StorageOptions::default()
    }
}

/// A database on MemoryIo; `deferred` makes every read Pending until run_once.
pub fn mem_db(deferred: bool) -> Db {
    let io: Arc<dyn IO> = if deferred {
        Arc::new(MemoryIo::new_deferred())
    } else {
        Arc::new(MemoryIo::new())
    };
    // Tiny pages and a tiny cache: multi-level trees, overflow chains, evictions.
    let storage = Storage::open(io.clone(), "test.db", options(4, 512)).expect("open");
    Db {
        io,
        storage,
        _dir: None,
    }
}

/// A database file in a temp dir, on SyscallIo.
pub fn file_db() -> (Db, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vm.db");
    let io: Arc<dyn IO> = Arc::new(SyscallIo::new());
    let storage =
        Storage::open(io.clone(), path.to_str().unwrap(), options(16, 1024)).expect("open");
    (
        Db {
            io,
            storage,
            _dir: Some(dir),
        },
        path,
    )
}

impl Db {
    pub fn conn(&self) -> Arc<Connection> {
        Connection::new(self.storage.pager())
    }
}

pub struct Outcome {
    pub rows: Vec<Vec<Value>>,
    pub ios: usize,
}

/// Steps `vm` to the end, driving the IO on `Io`. `Busy` is returned as an error code.
pub fn drive(vm: &mut Vm, io: &dyn IO) -> Result<Outcome, VmError> {
    let mut rows = Vec::new();
    let mut ios = 0;
    loop {
        match vm.step()? {
            StepResult::Row => rows.push(vm.row().to_vec()),
            StepResult::Done => return Ok(Outcome { rows, ios }),
            StepResult::Io => {
                ios += 1;
                io.run_once().unwrap();
                assert!(ios < 10_000_000, "no progress");
            }
            StepResult::Busy => {
                return Err(VmError::new(strata_vdbe::insn::ErrorCode::Busy, "busy"))
            }
        }
    }
}

pub fn run(db: &Db, conn: &Arc<Connection>, p: Program) -> Result<Outcome, VmError> {
    let mut vm = Vm::new(Arc::new(p), conn.clone());
    drive(&mut vm, &*db.io)
}

pub fn ki(fields: &[(Collation, SortOrder)]) -> Arc<KeyInfo> {
    Arc::new(KeyInfo {
        fields: fields.to_vec(),
        ..Default::default()
    })
}

pub fn int(i: i64) -> Value {
    Value::Integer(i)
}
pub fn text(s: &str) -> Value {
    Value::Text(s.as_bytes().to_vec())
}

const LABEL_BASE: usize = usize::MAX - 100_000;

/// A tiny assembler: `label()` gives a placeholder address, `bind` fixes it here.
#[derive(Default)]
pub struct Asm {
    pub insns: Vec<Insn>,
    labels: Vec<Option<Addr>>,
    pub regs: usize,
    pub cursors: usize,
}

impl Asm {
    pub fn new() -> Asm {
        Asm {
            regs: 64,
            cursors: 8,
            ..Default::default()
        }
    }
    pub fn label(&mut self) -> Addr {
        self.labels.push(None);
        LABEL_BASE + self.labels.len() - 1
    }
    pub fn bind(&mut self, l: Addr) {
        self.labels[l - LABEL_BASE] = Some(self.insns.len());
    }
    pub fn here(&self) -> Addr {
        self.insns.len()
    }
    pub fn op(&mut self, i: Insn) -> Addr {
        self.insns.push(i);
        self.insns.len() - 1
    }
    pub fn build(mut self) -> Program {
        for insn in &mut self.insns {
            for t in insn.targets_mut() {
                if *t >= LABEL_BASE {
                    *t = self.labels[*t - LABEL_BASE].expect("unbound label");
                }
            }
        }
        let n = self.insns.len();
        Program {
            insns: self.insns,
            comments: vec![String::new(); n],
            num_registers: self.regs,
            num_cursors: self.cursors,
            parameter_count: 4,
            parameter_names: vec![None; 4],
            ..Default::default()
        }
    }
}

use strata_vdbe::insn::{CursorKind, InsertFlags, OnError};

pub fn halt() -> Insn {
    Insn::Halt {
        error: None,
        on_error: OnError::Abort,
    }
}

/// Loads `v` into `dest`.
pub fn load(a: &mut Asm, v: &Value, dest: usize) {
    match v {
        Value::Null => a.op(Insn::Null { dest, count: 1 }),
        Value::Integer(i) => a.op(Insn::Integer { value: *i, dest }),
        Value::Real(r) => a.op(Insn::Real { value: *r, dest }),
        Value::Text(t) => a.op(Insn::String {
            value: t.clone(),
            dest,
        }),
        Value::Blob(b) => a.op(Insn::Blob {
            value: b.clone(),
            dest,
        }),
    };
}

/// CREATE: a new table (or index) B-tree; returns its root.
pub fn create_btree(db: &Db, conn: &Arc<Connection>, index: bool) -> u32 {
    let mut a = Asm::new();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::Transaction {
        db: 0,
        write: true,
        schema_cookie: 0,
    });
    a.op(Insn::CreateBtree {
        db: 0,
        index,
        dest: 0,
    });
    a.op(Insn::ResultRow { start: 0, count: 1 });
    a.op(halt());
    let out = run(db, conn, a.build()).unwrap();
    match out.rows[0][0] {
        Value::Integer(r) => r as u32,
        _ => panic!(),
    }
}

/// Inserts `rows` (rowid, columns) into table `root` in one statement.
pub fn insert_rows_prog(root: u32, rows: &[(i64, Vec<Value>)]) -> Program {
    let mut a = Asm::new();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::Transaction {
        db: 0,
        write: true,
        schema_cookie: 0,
    });
    a.op(Insn::OpenWriteAsync {
        db: 0,
        cursor: 0,
        root_page: root,
        root_reg: None,
        kind: CursorKind::Table { num_columns: 4 },
    });
    a.op(Insn::OpenWriteAwait { cursor: 0 });
    for (rowid, cols) in rows {
        a.op(Insn::Integer {
            value: *rowid,
            dest: 0,
        });
        for (i, v) in cols.iter().enumerate() {
            load(&mut a, v, 10 + i);
        }
        a.op(Insn::MakeRecord {
            start: 10,
            count: cols.len(),
            dest: 1,
            affinities: None,
        });
        a.op(Insn::InsertAsync {
            cursor: 0,
            key_reg: 0,
            record_reg: 1,
            flags: InsertFlags {
                count: strata_vdbe::insn::RowCount::Statement,
                set_last_rowid: true,
                is_update: false,
            },
            table: "t".into(),
        });
        a.op(Insn::InsertAwait { cursor: 0 });
    }
    a.op(halt());
    a.build()
}

/// SELECT rowid, col0..col{ncols} FROM table root (forward or backward).
pub fn scan_prog(root: u32, ncols: usize, backward: bool) -> Program {
    let mut a = Asm::new();
    let done = a.label();
    let top = a.label();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::Transaction {
        db: 0,
        write: false,
        schema_cookie: 0,
    });
    a.op(Insn::OpenReadAsync {
        db: 0,
        cursor: 0,
        root_page: root,
        root_reg: None,
        kind: CursorKind::Table { num_columns: ncols },
    });
    a.op(Insn::OpenReadAwait { cursor: 0 });
    if backward {
        a.op(Insn::LastAsync { cursor: 0 });
        a.op(Insn::LastAwait {
            cursor: 0,
            target_if_empty: done,
        });
    } else {
        a.op(Insn::RewindAsync { cursor: 0 });
        a.op(Insn::RewindAwait {
            cursor: 0,
            target_if_empty: done,
        });
    }
    a.bind(top);
    a.op(Insn::Rowid { cursor: 0, dest: 0 });
    for i in 0..ncols {
        a.op(Insn::Column {
            cursor: 0,
            column: i,
            dest: 1 + i,
            default: None,
        });
    }
    a.op(Insn::ResultRow {
        start: 0,
        count: 1 + ncols,
    });
    if backward {
        a.op(Insn::PrevAsync { cursor: 0 });
        a.op(Insn::PrevAwait {
            cursor: 0,
            target_if_more: top,
        });
    } else {
        a.op(Insn::NextAsync { cursor: 0 });
        a.op(Insn::NextAwait {
            cursor: 0,
            target_if_more: top,
        });
    }
    a.bind(done);
    a.op(halt());
    a.build()
}

/// Deterministic test rows: some with long text (overflow pages).
pub fn sample_rows(n: i64) -> Vec<(i64, Vec<Value>)> {
    (1..=n)
        .map(|i| {
            let len = if i % 7 == 0 {
                1500
            } else {
                (i % 13) as usize * 5
            };
            let s: String = (0..len)
                .map(|k| (b'a' + ((i as usize + k) % 26) as u8) as char)
                .collect();
            (
                i * 3,
                vec![int(i * 10), text(&s), Value::Real(i as f64 / 4.0)],
            )
        })
        .collect()
}
