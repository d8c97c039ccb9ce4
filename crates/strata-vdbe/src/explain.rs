//! EXPLAIN rendering: one row per instruction, in SQLite's columns
//! `addr, opcode, p1, p2, p3, p4, p5, comment`.
//!
//! The opcode is the [`Insn`] variant name. Operands are placed as SQLite places them:
//! cursor numbers in p1, jump targets in p2, registers in p1/p2/p3 per SQLite's opcode
//! (e.g. `Column cursor column dest`, `Integer value dest`, `Add lhs rhs dest`... with
//! SQLite's operand order `P1 P2 P3`), strings, key infos, functions and affinities in
//! p4, flags in p5. Absent operands are 0, absent p4 is NULL, an empty comment is NULL.

use strata_btree::record::{KeyInfo, SortOrder, Value};

use crate::affinity::Affinity;
use crate::insn::{CursorKind, EphemeralKind, Insn};

fn key_info_text(ki: &KeyInfo) -> String {
    let mut s = format!("k({}", ki.fields.len());
    for (coll, order) in &ki.fields {
        s.push(',');
        if order.is_desc() {
            s.push('-');
        }
        if matches!(order, SortOrder::AscNullsLast | SortOrder::DescNullsFirst) {
            s.push('N');
        }
        s.push_str(&format!("{coll:?}").to_uppercase());
    }
    s.push(')');
    s
}

fn affinities_text(a: &[Affinity]) -> String {
    a.iter().map(|a| a.code()).collect()
}

fn kind_p4(kind: &CursorKind) -> (i64, Option<String>) {
    match kind {
        CursorKind::Table { num_columns } => (*num_columns as i64, None),
        CursorKind::Index { key_info } => (0, Some(key_info_text(key_info))),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(t) => String::from_utf8_lossy(t).into_owned(),
        Value::Blob(b) => format!(
            "x'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

/// `(opcode, p1, p2, p3, p4, p5)` of an instruction.
pub fn operands(insn: &Insn) -> (&'static str, i64, i64, i64, Option<String>, i64) {
    use Insn::*;
    let u = |x: usize| x as i64;
    match insn {
        Init { target } => ("Init", 0, u(*target), 0, None, 0),
        Goto { target } => ("Goto", 0, u(*target), 0, None, 0),
        Gosub { return_reg, target } => ("Gosub", u(*return_reg), u(*target), 0, None, 0),
        Return { return_reg } => ("Return", u(*return_reg), 0, 0, None, 0),
        If {
            reg,
            target,
            jump_if_null,
        } => ("If", u(*reg), u(*target), *jump_if_null as i64, None, 0),
        IfNot {
            reg,
            target,
            jump_if_null,
        } => ("IfNot", u(*reg), u(*target), *jump_if_null as i64, None, 0),
        IsNull { reg, target } => ("IsNull", u(*reg), u(*target), 0, None, 0),
        NotNull { reg, target } => ("NotNull", u(*reg), u(*target), 0, None, 0),
        IsType { reg, mask, target } => ("IsType", u(*reg), u(*target), 0, None, *mask as i64),
        Compare {
            op,
            lhs,
            rhs,
            target,
            affinity,
            collation,
            jump_if_null,
            null_eq,
        } => (
            "Compare",
            u(*lhs),
            u(*target),
            u(*rhs),
            Some(format!("{op:?} {} {collation:?}", affinity.code())),
            (*jump_if_null as i64) | ((*null_eq as i64) << 7),
        ),
        CompareRecords {
            lhs,
            rhs,
            count,
            key_info,
        } => (
            "CompareRecords",
            u(*lhs),
            u(*rhs),
            u(*count),
            Some(key_info_text(key_info)),
            0,
        ),
        Jump { lt, eq, gt } => ("Jump", u(*lt), u(*eq), u(*gt), None, 0),
        Once { target } => ("Once", 0, u(*target), 0, None, 0),
        IfPos {
            reg,
            target,
            decrement,
        } => ("IfPos", u(*reg), u(*target), *decrement, None, 0),
        DecrJumpZero { reg, target } => ("DecrJumpZero", u(*reg), u(*target), 0, None, 0),
        OffsetLimit {
            limit,
            offset,
            dest,
        } => ("OffsetLimit", u(*limit), u(*dest), u(*offset), None, 0),
        MustBeInt { reg } => ("MustBeInt", u(*reg), 0, 0, None, 0),
        Halt { error, on_error } => {
            let (code, msg) = match error {
                Some((c, m)) => (1, Some(format!("{c:?}: {m}"))),
                None => (0, None),
            };
            ("Halt", code, *on_error as i64, 0, msg, 0)
        }
        HaltIfNull {
            reg,
            message,
            on_error,
        } => (
            "HaltIfNull",
            *on_error as i64,
            0,
            u(*reg),
            Some(message.clone()),
            0,
        ),
        TypeCheck {
            start,
            strict,
            on_error,
        } => (
            "TypeCheck",
            u(*start),
            strict.columns.len() as i64,
            *on_error as i64,
            Some(strict.table.clone()),
            0,
        ),
        Noop => ("Noop", 0, 0, 0, None, 0),
        CountsChanges => ("CountsChanges", 0, 0, 0, None, 0),
        TriggerFrame { depth, op } => ("TriggerFrame", *depth as i64, *op as i64, 0, None, 0),
        Integer { value, dest } => ("Integer", *value, u(*dest), 0, None, 0),
        Real { value, dest } => ("Real", 0, u(*dest), 0, Some(value.to_string()), 0),
        String { value, dest } => (
            "String",
            value.len() as i64,
            u(*dest),
            0,
            Some(std::string::String::from_utf8_lossy(value).into_owned()),
            0,
        ),
        Blob { value, dest } => (
            "Blob",
            value.len() as i64,
            u(*dest),
            0,
            Some(value_text(&Value::Blob(value.clone()))),
            0,
        ),
        Null { dest, count } => (
            "Null",
            0,
            u(*dest),
            u(dest + count.saturating_sub(1)),
            None,
            0,
        ),
        Variable { index, dest } => ("Variable", u(*index), u(*dest), 0, None, 0),
        Copy { src, dest, count } => (
            "Copy",
            u(*src),
            u(*dest),
            u(count.saturating_sub(1)),
            None,
            0,
        ),
        Arith { op, lhs, rhs, dest } => {
            let name = match op {
                crate::ops::Arith::Add => "Add",
                crate::ops::Arith::Sub => "Subtract",
                crate::ops::Arith::Mul => "Multiply",
                crate::ops::Arith::Div => "Divide",
                crate::ops::Arith::Rem => "Remainder",
            };
            ("Arith", u(*rhs), u(*lhs), u(*dest), Some(name.into()), 0)
        }
        Bitwise { op, lhs, rhs, dest } => (
            "Bitwise",
            u(*rhs),
            u(*lhs),
            u(*dest),
            Some(format!("{op:?}")),
            0,
        ),
        Concat { lhs, rhs, dest } => ("Concat", u(*rhs), u(*lhs), u(*dest), None, 0),
        Negate { src, dest } => ("Negate", u(*src), u(*dest), 0, None, 0),
        BitNot { src, dest } => ("BitNot", u(*src), u(*dest), 0, None, 0),
        Not { src, dest } => ("Not", u(*src), u(*dest), 0, None, 0),
        And { lhs, rhs, dest } => ("And", u(*lhs), u(*rhs), u(*dest), None, 0),
        Or { lhs, rhs, dest } => ("Or", u(*lhs), u(*rhs), u(*dest), None, 0),
        CompareValue {
            op,
            lhs,
            rhs,
            dest,
            affinity,
            collation,
            null_eq,
        } => (
            "CompareValue",
            u(*lhs),
            u(*dest),
            u(*rhs),
            Some(format!("{op:?} {} {collation:?}", affinity.code())),
            (*null_eq as i64) << 7,
        ),
        IsNullValue { src, dest, invert } => {
            ("IsNullValue", u(*src), u(*dest), 0, None, *invert as i64)
        }
        Function {
            name,
            args_start,
            nargs,
            dest,
            pure,
            ..
        } => (
            if pure.is_some() {
                "PureFunc"
            } else {
                "Function"
            },
            0,
            u(*args_start),
            u(*dest),
            Some(format!("{name}({nargs})")),
            u(*nargs),
        ),
        TableFunction {
            cursor,
            recursive,
            args_start,
            nargs,
        } => (
            "TableFunction",
            u(*cursor),
            u(*args_start),
            u(*nargs),
            Some(if *recursive { "json_tree" } else { "json_each" }.to_string()),
            0,
        ),
        Cast { reg, type_name } => (
            "Cast",
            u(*reg),
            0,
            0,
            Some(std::string::String::from_utf8_lossy(type_name).into_owned()),
            0,
        ),
        Affinity { start, affinities } => (
            "Affinity",
            u(*start),
            u(affinities.len()),
            0,
            Some(affinities_text(affinities)),
            0,
        ),
        RealAffinity { reg } => ("RealAffinity", u(*reg), 0, 0, None, 0),
        AddImm { reg, value } => ("AddImm", u(*reg), *value, 0, None, 0),
        MemMax { acc, src } => ("MemMax", u(*acc), u(*src), 0, None, 0),
        ResultRow { start, count } => ("ResultRow", u(*start), u(*count), 0, None, 0),
        MakeRecord {
            start,
            count,
            dest,
            affinities,
        } => (
            "MakeRecord",
            u(*start),
            u(*count),
            u(*dest),
            affinities.as_deref().map(affinities_text),
            0,
        ),
        Transaction {
            db,
            write,
            schema_cookie,
        } => (
            "Transaction",
            u(*db),
            *write as i64,
            *schema_cookie as i64,
            None,
            0,
        ),
        RequireAutocommit => ("RequireAutocommit", 0, 0, 0, None, 0),
        Attach { file, name } => (
            "Function",
            0,
            *file as i64,
            *name as i64,
            Some("sqlite_attach(2)".into()),
            0,
        ),
        Detach { name } => (
            "Function",
            0,
            *name as i64,
            0,
            Some("sqlite_detach(1)".into()),
            0,
        ),
        Savepoint { op, name } => ("Savepoint", *op as i64, 0, 0, Some(name.clone()), 0),
        AutoCommit {
            autocommit,
            rollback,
        } => (
            "AutoCommit",
            *autocommit as i64,
            *rollback as i64,
            0,
            None,
            0,
        ),
        ReadCookie { db, cookie, dest } => (
            "ReadCookie",
            u(*db),
            u(*dest),
            0,
            Some(format!("{cookie:?}")),
            0,
        ),
        SetCookie { db, cookie, value } => (
            "SetCookie",
            u(*db),
            0,
            *value,
            Some(format!("{cookie:?}")),
            0,
        ),
        CreateBtree { db, index, dest } => (
            "CreateBtree",
            u(*db),
            u(*dest),
            if *index { 2 } else { 1 },
            None,
            0,
        ),
        Destroy {
            db,
            root_page,
            moved,
        } => ("Destroy", *root_page as i64, u(*moved), u(*db), None, 0),
        IncrVacuum { db, target } => ("IncrVacuum", u(*db), u(*target), 0, None, 0),
        Clear {
            db,
            root_page,
            count,
        } => ("Clear", *root_page as i64, u(*db), count.code(), None, 0),
        ParseSchema => ("ParseSchema", 0, 0, 0, None, 0),
        IntegrityCheck {
            roots,
            dest,
            max_errors,
        } => (
            "IntegrityCheck",
            u(*dest),
            u(roots.len()),
            u(*max_errors),
            Some(
                roots
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            0,
        ),
        Vacuum { trees } => (
            "Vacuum",
            u(trees.len()),
            0,
            0,
            Some(
                trees
                    .iter()
                    .map(|(r, _)| r.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            0,
        ),
        VacuumInto { trees, file } => ("VacuumInto", u(trees.len()), u(*file), 0, None, 0),
        SetNextAutoVacuum { mode } => ("SetNextAutoVacuum", *mode as i64, 0, 0, None, 0),
        IntegrityCheckTrees {
            trees,
            dest,
            max_errors,
            ..
        } => (
            "IntegrityCheckTrees",
            u(*dest),
            u(trees.len()),
            u(*max_errors),
            Some(
                trees
                    .iter()
                    .map(|(r, _)| r.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            0,
        ),
        Checkpoint { mode, dest } => ("Checkpoint", 0, *mode as i64, u(*dest), None, 0),
        FkCounter { deferred, delta } => ("FkCounter", *deferred as i64, *delta, 0, None, 0),
        FkIfZero { deferred, target } => ("FkIfZero", *deferred as i64, u(*target), 0, None, 0),
        FkJump { cond, target } => ("FkJump", *cond as i64, u(*target), 0, None, 0),
        FkSetting { which, value, dest } => (
            "FkSetting",
            *which as i64,
            u(*dest),
            value.map_or(-1, |v| v as i64),
            None,
            0,
        ),
        Setting { which, value, dest } => (
            "Setting",
            *which as i64,
            u(*dest),
            value.unwrap_or(-1),
            None,
            0,
        ),
        FramePush {
            reg_start,
            reg_count,
            cursor_start,
            cursor_count,
        } => (
            "FramePush",
            u(*reg_start),
            u(*reg_count),
            u(*cursor_start),
            Some(cursor_count.to_string()),
            0,
        ),
        FramePop => ("FramePop", 0, 0, 0, None, 0),
        JournalMode { set, dest } => (
            "JournalMode",
            0,
            set.map_or(-1, |m| m as i64),
            u(*dest),
            None,
            0,
        ),
        FkCheck => ("FkCheck", 0, 0, 0, None, 0),
        SetCacheSize { pages, setting } => ("SetCacheSize", u(*pages), *setting, 0, None, 0),
        JournalSizeLimit { db, limit, dest } => (
            "JournalSizeLimit",
            u(*db),
            limit.unwrap_or(-2),
            u(*dest),
            None,
            0,
        ),
        SetSorterBudget { bytes } => (
            "SetSorterBudget",
            bytes.map_or(-1, |b| b.min(i64::MAX as usize) as i64),
            0,
            0,
            None,
            0,
        ),
        SorterBudget { dest } => ("SorterBudget", 0, u(*dest), 0, None, 0),
        ConnInfo { what, dest } => ("ConnInfo", *what as i64, u(*dest), 0, None, 0),
        OpenReadAsync {
            db,
            cursor,
            root_page,
            root_reg,
            kind,
        } => {
            let (n, p4) = kind_p4(kind);
            let p4 = on_db(*db, p4);
            let p2 = root_reg.map_or(*root_page as i64, u);
            (
                "OpenReadAsync",
                u(*cursor),
                p2,
                n,
                p4,
                root_reg.is_some() as i64,
            )
        }
        OpenReadAwait { cursor } => ("OpenReadAwait", u(*cursor), 0, 0, None, 0),
        OpenWriteAsync {
            db,
            cursor,
            root_page,
            root_reg,
            kind,
        } => {
            let (n, p4) = kind_p4(kind);
            let p4 = on_db(*db, p4);
            let p2 = root_reg.map_or(*root_page as i64, u);
            (
                "OpenWriteAsync",
                u(*cursor),
                p2,
                n,
                p4,
                root_reg.is_some() as i64,
            )
        }
        OpenWriteAwait { cursor } => ("OpenWriteAwait", u(*cursor), 0, 0, None, 0),
        OpenEphemeral { cursor, kind } => match kind {
            EphemeralKind::Table => ("OpenEphemeral", u(*cursor), 0, 0, None, 0),
            EphemeralKind::Index { key_info } => (
                "OpenEphemeral",
                u(*cursor),
                key_info.fields.len() as i64,
                0,
                Some(key_info_text(key_info)),
                0,
            ),
        },
        OpenPseudo {
            cursor,
            content_reg,
            num_columns,
        } => (
            "OpenPseudo",
            u(*cursor),
            u(*content_reg),
            u(*num_columns),
            None,
            0,
        ),
        Close { cursor } => ("Close", u(*cursor), 0, 0, None, 0),
        RewindAsync { cursor } => ("RewindAsync", u(*cursor), 0, 0, None, 0),
        RewindAwait {
            cursor,
            target_if_empty,
        } => ("RewindAwait", u(*cursor), u(*target_if_empty), 0, None, 0),
        LastAsync { cursor } => ("LastAsync", u(*cursor), 0, 0, None, 0),
        LastAwait {
            cursor,
            target_if_empty,
        } => ("LastAwait", u(*cursor), u(*target_if_empty), 0, None, 0),
        NextAsync { cursor } => ("NextAsync", u(*cursor), 0, 0, None, 0),
        NextAwait {
            cursor,
            target_if_more,
        } => ("NextAwait", u(*cursor), u(*target_if_more), 0, None, 0),
        PrevAsync { cursor } => ("PrevAsync", u(*cursor), 0, 0, None, 0),
        PrevAwait {
            cursor,
            target_if_more,
        } => ("PrevAwait", u(*cursor), u(*target_if_more), 0, None, 0),
        Column {
            cursor,
            column,
            dest,
            default,
        } => (
            "Column",
            u(*cursor),
            u(*column),
            u(*dest),
            default.as_ref().map(value_text),
            0,
        ),
        Rowid { cursor, dest } => ("Rowid", u(*cursor), u(*dest), 0, None, 0),
        IdxRowid { cursor, dest } => ("IdxRowid", u(*cursor), u(*dest), 0, None, 0),
        NullRow { cursor } => ("NullRow", u(*cursor), 0, 0, None, 0),
        SeekRowidAsync { cursor, rowid_reg } => {
            ("SeekRowidAsync", u(*cursor), 0, u(*rowid_reg), None, 0)
        }
        SeekRowidAwait {
            cursor,
            target_if_not_found,
        } => (
            "SeekRowidAwait",
            u(*cursor),
            u(*target_if_not_found),
            0,
            None,
            0,
        ),
        SeekAsync {
            cursor,
            op,
            key_start,
            key_count,
        } => (
            "SeekAsync",
            u(*cursor),
            0,
            u(*key_start),
            Some(format!("{op:?}")),
            u(*key_count),
        ),
        SeekAwait {
            cursor,
            target_if_not_found,
        } => ("SeekAwait", u(*cursor), u(*target_if_not_found), 0, None, 0),
        IdxCompare {
            cursor,
            op,
            key_start,
            key_count,
            target,
        } => (
            "IdxCompare",
            u(*cursor),
            u(*target),
            u(*key_start),
            Some(format!("{op:?}")),
            u(*key_count),
        ),
        Found {
            cursor,
            key_start,
            key_count,
            target,
        } => (
            "Found",
            u(*cursor),
            u(*target),
            u(*key_start),
            None,
            u(*key_count),
        ),
        NotFound {
            cursor,
            key_start,
            key_count,
            target,
        } => (
            "NotFound",
            u(*cursor),
            u(*target),
            u(*key_start),
            None,
            u(*key_count),
        ),
        NoConflict {
            cursor,
            key_start,
            key_count,
            target,
        } => (
            "NoConflict",
            u(*cursor),
            u(*target),
            u(*key_start),
            None,
            u(*key_count),
        ),
        NewRowidAsync {
            cursor,
            dest,
            min_reg,
        } => (
            "NewRowidAsync",
            u(*cursor),
            u(*dest),
            min_reg.map_or(0, u),
            None,
            0,
        ),
        NewRowidAwait { cursor } => ("NewRowidAwait", u(*cursor), 0, 0, None, 0),
        InsertAsync {
            cursor,
            key_reg,
            record_reg,
            flags,
            table,
        } => (
            "InsertAsync",
            u(*cursor),
            u(*record_reg),
            u(*key_reg),
            Some(table.clone()),
            (flags.count.code().min(1))
                | ((flags.set_last_rowid as i64) << 1)
                | ((flags.is_update as i64) << 2),
        ),
        InsertAwait { cursor } => ("InsertAwait", u(*cursor), 0, 0, None, 0),
        IdxInsertAsync { cursor, record_reg } => {
            ("IdxInsertAsync", u(*cursor), u(*record_reg), 0, None, 0)
        }
        IdxInsertAwait { cursor } => ("IdxInsertAwait", u(*cursor), 0, 0, None, 0),
        IdxAppendAsync { cursor, record_reg } => {
            ("IdxAppendAsync", u(*cursor), u(*record_reg), 0, None, 0)
        }
        DeleteAsync { cursor, count } => ("DeleteAsync", u(*cursor), count.code(), 0, None, 0),
        DeleteAwait { cursor } => ("DeleteAwait", u(*cursor), 0, 0, None, 0),
        IdxDeleteAsync {
            cursor,
            key_start,
            key_count,
        } => (
            "IdxDeleteAsync",
            u(*cursor),
            u(*key_start),
            u(*key_count),
            None,
            0,
        ),
        IdxDeleteAwait { cursor } => ("IdxDeleteAwait", u(*cursor), 0, 0, None, 0),
        Count { cursor, dest } => ("Count", u(*cursor), u(*dest), 0, None, 0),
        Sequence { cursor, dest } => ("Sequence", u(*cursor), u(*dest), 0, None, 0),
        SorterOpen {
            cursor,
            key_info,
            num_columns,
        } => (
            "SorterOpen",
            u(*cursor),
            u(*num_columns),
            0,
            Some(key_info_text(key_info)),
            0,
        ),
        SorterInsert { cursor, record_reg } => {
            ("SorterInsert", u(*cursor), u(*record_reg), 0, None, 0)
        }
        SorterSort {
            cursor,
            target_if_empty,
        } => ("SorterSort", u(*cursor), u(*target_if_empty), 0, None, 0),
        SorterData { cursor, dest } => ("SorterData", u(*cursor), u(*dest), 0, None, 0),
        SorterNext {
            cursor,
            target_if_more,
        } => ("SorterNext", u(*cursor), u(*target_if_more), 0, None, 0),
        WindowOpen { cursor, spec } => (
            "WindowOpen",
            u(*cursor),
            u(spec.width),
            u(spec.result_count()),
            None,
            0,
        ),
        WindowAdd { cursor, start } => ("WindowAdd", u(*cursor), u(*start), 0, None, 0),
        WindowCompute { cursor } => ("WindowCompute", u(*cursor), 0, 0, None, 0),
        WindowNext {
            cursor,
            dest,
            target_if_done,
        } => (
            "WindowNext",
            u(*cursor),
            u(*target_if_done),
            u(*dest),
            None,
            0,
        ),
        AggStep {
            kind,
            args_start,
            nargs,
            acc_reg,
            ..
        } => (
            "AggStep",
            0,
            u(*args_start),
            u(*acc_reg),
            Some(format!("{kind:?}({nargs})")),
            u(*nargs),
        ),
        AggFinal { kind, acc_reg, .. } => {
            ("AggFinal", u(*acc_reg), 0, 0, Some(format!("{kind:?}")), 0)
        }
        StatInit {
            acc_reg,
            n_col,
            n_key_col,
            est_reg,
            ..
        } => (
            "StatInit",
            u(*n_col),
            u(*acc_reg),
            u(*est_reg),
            None,
            u(*n_key_col),
        ),
        StatPush {
            acc_reg,
            start,
            dest,
        } => ("StatPush", u(*start), u(*acc_reg), u(*dest), None, 0),
        StatGet { acc_reg, dest } => ("StatGet", u(*acc_reg), u(*dest), 0, None, 0),
        StatSample {
            acc_reg,
            dest,
            key_dest,
            target_if_done,
        } => (
            "StatSample",
            u(*acc_reg),
            u(*target_if_done),
            u(*dest),
            Some(format!("key r{key_dest}")),
            0,
        ),
    }
}

/// One EXPLAIN row: `addr, opcode, p1, p2, p3, p4, p5, comment`.
pub fn explain_row(addr: usize, insn: &Insn, comment: &str) -> [Value; 8] {
    let (name, p1, p2, p3, p4, p5) = operands(insn);
    [
        Value::Integer(addr as i64),
        Value::Text(name.as_bytes().to_vec()),
        Value::Integer(p1),
        Value::Integer(p2),
        Value::Integer(p3),
        p4.map_or(Value::Null, |s| Value::Text(s.into_bytes())),
        Value::Integer(p5),
        if comment.is_empty() {
            Value::Null
        } else {
            Value::Text(comment.as_bytes().to_vec())
        },
    ]
}

/// P4 of a cursor open: the key info, and `temp` for a cursor on the temp database,
/// `dbN` for one on attached database N (P3
/// already holds the column count, where SQLite has the database index).
fn on_db(db: usize, p4: Option<String>) -> Option<String> {
    if db == crate::insn::MAIN_DB {
        return p4;
    }
    let name = if db == crate::insn::TEMP_DB {
        "temp".to_string()
    } else {
        format!("db{db}")
    };
    Some(match p4 {
        Some(k) => format!("{name} {k}"),
        None => name,
    })
}
