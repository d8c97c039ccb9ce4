//! Oracle tests: every operator, conversion, scalar function and aggregate is evaluated
//! both here and by SQLite (through rusqlite, with bound parameters, which carry no
//! affinity) on thousands of generated arguments; value and storage class must agree
//! exactly (reals bit for bit).
//!
//! Everything runs first with SQLite's default floating-point path on this platform
//! (x86-64 `long double`, which Strata emulates), then the floating-point-sensitive areas
//! run again after switching both sides to SQLite's portable Dekker path
//! (`SQLITE_TESTCTRL_USELONGDOUBLE = 0`); see `numeric.rs`.
//!
//! Run with `cargo test --release -p strata-vdbe --test oracle -- --nocapture` to see the
//! per-area case counts.

// One-element argument arrays read better as `&[v.clone()]` next to the multi-argument
// calls around them; the clones are irrelevant in a test.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod oracle_support;

use oracle_support::{small_values, t, values, Oracle, Outcome, Rng};
use strata_vdbe::affinity::{affinity_of_type, apply_affinity, compare_affinity, Affinity};
use strata_vdbe::aggregate::{lookup_aggregate, Accumulator};
use strata_vdbe::cast::cast_to_type_name;
use strata_vdbe::functions::{call_scalar, FunctionContext, SplitMix64};
use strata_vdbe::ops::{self, Arith, Bit, Cmp};
use strata_vdbe::{Collation, Value};

/// A random value: boundary integers, random-bit or decimal reals, numeric-looking text
/// assembled from pieces, raw byte strings (often invalid UTF-8), blobs, NULL.
fn random_value(rng: &mut Rng) -> Value {
    const PIECES: [&str; 16] = [
        "0",
        "1",
        "9",
        "12",
        ".",
        "e",
        "-",
        "+",
        " ",
        "x",
        "é",
        "%",
        "_",
        "00",
        "7e-3",
        "9223372036854775807",
    ];
    match rng.below(8) {
        0 => Value::Null,
        1 => {
            let base = [0i64, 1 << 53, 1 << 62, i64::MAX, i64::MIN, 1 << 31];
            Value::Integer(rng.pick(&base).wrapping_add(rng.below(5) as i64 - 2))
        }
        2 => Value::Integer(rng.next() as i64 >> rng.below(64)),
        3 => {
            let r = f64::from_bits(rng.next());
            Value::Real(if r.is_nan() { 0.5 } else { r })
        }
        4 => {
            let r = (rng.below(2_000_000) as f64 - 1e6) * 10f64.powi(rng.below(40) as i32 - 20);
            Value::Real(r)
        }
        5 => {
            let mut s = String::new();
            for _ in 0..rng.below(5) {
                s.push_str(rng.pick::<&str>(&PIECES));
            }
            t(&s)
        }
        6 => {
            let n = rng.below(7) as usize;
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    [
                        b'a', b'A', b'%', b'_', 0xc3, 0xa9, 0x80, 0xff, b'1', b' ', 0,
                    ][rng.below(11) as usize]
                })
                .collect();
            Value::Text(bytes)
        }
        _ => {
            let n = rng.below(5) as usize;
            Value::Blob((0..n).map(|_| rng.next() as u8).collect())
        }
    }
}

fn ours_scalar(name: &str, args: &[Value]) -> Outcome {
    let mut rng = SplitMix64(1);
    let mut ctx = FunctionContext::new(&mut rng);
    call_scalar(name, args, &mut ctx).map_err(|e| e.to_string())
}

fn ours_scalar_coll(name: &str, args: &[Value], coll: Collation) -> Outcome {
    let mut rng = SplitMix64(1);
    let mut ctx = FunctionContext::new(&mut rng);
    ctx.collation = coll;
    call_scalar(name, args, &mut ctx).map_err(|e| e.to_string())
}

fn bool_outcome(b: Option<bool>) -> Outcome {
    Ok(ops::bool_value(b))
}

#[test]
fn oracle() {
    let o = Oracle::new();
    let vals = values();
    let mut rng = Rng(SplitMix64(0x5eed));

    // ---- binary operators over the full cross product.
    let arith: [(&str, Arith); 5] = [
        ("+", Arith::Add),
        ("-", Arith::Sub),
        ("*", Arith::Mul),
        ("/", Arith::Div),
        ("%", Arith::Rem),
    ];
    let bits: [(&str, Bit); 4] = [
        ("&", Bit::And),
        ("|", Bit::Or),
        ("<<", Bit::Shl),
        (">>", Bit::Shr),
    ];
    let cmps: [(&str, Cmp); 6] = [
        ("=", Cmp::Eq),
        ("<>", Cmp::Ne),
        ("<", Cmp::Lt),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        (">=", Cmp::Ge),
    ];
    for a in &vals {
        for bv in &vals {
            let args = [a.clone(), bv.clone()];
            for (sym, op) in arith {
                o.check(
                    "arith",
                    &format!("SELECT ?1 {sym} ?2"),
                    &args,
                    Ok(ops::arith(op, a, bv)),
                );
            }
            for (sym, op) in bits {
                o.check(
                    "bitwise",
                    &format!("SELECT ?1 {sym} ?2"),
                    &args,
                    Ok(ops::bitwise(op, a, bv)),
                );
            }
            o.check("concat", "SELECT ?1 || ?2", &args, Ok(ops::concat(a, bv)));
            for (sym, op) in cmps {
                o.check(
                    "compare",
                    &format!("SELECT ?1 {sym} ?2"),
                    &args,
                    Ok(ops::compare_op(
                        op,
                        a,
                        bv,
                        Affinity::Blob,
                        Collation::Binary,
                    )),
                );
            }
            for (coll, c) in [("NOCASE", Collation::NoCase), ("RTRIM", Collation::RTrim)] {
                o.check(
                    "compare",
                    &format!("SELECT ?1 < ?2 COLLATE {coll}"),
                    &args,
                    Ok(ops::compare_op(Cmp::Lt, a, bv, Affinity::Blob, c)),
                );
                o.check(
                    "compare",
                    &format!("SELECT ?1 = ?2 COLLATE {coll}"),
                    &args,
                    Ok(ops::compare_op(Cmp::Eq, a, bv, Affinity::Blob, c)),
                );
            }
            o.check(
                "is",
                "SELECT ?1 IS ?2",
                &args,
                Ok(ops::is(a, bv, false, Affinity::Blob, Collation::Binary)),
            );
            o.check(
                "is",
                "SELECT ?1 IS NOT ?2",
                &args,
                Ok(ops::is(a, bv, true, Affinity::Blob, Collation::Binary)),
            );
            o.check("logic", "SELECT ?1 AND ?2", &args, Ok(ops::and(a, bv)));
            o.check("logic", "SELECT ?1 OR ?2", &args, Ok(ops::or(a, bv)));
        }
    }

    // ---- random values (numeric-looking text, boundary numbers, raw bytes) through the
    // operators and the byte/character-level functions.
    for _ in 0..12000 {
        let a = random_value(&mut rng);
        let bv = random_value(&mut rng);
        let args = [a.clone(), bv.clone()];
        let (sym, op) = arith[rng.below(5) as usize];
        o.check(
            "random",
            &format!("SELECT ?1 {sym} ?2"),
            &args,
            Ok(ops::arith(op, &a, &bv)),
        );
        let (sym, op) = cmps[rng.below(6) as usize];
        o.check(
            "random",
            &format!("SELECT ?1 {sym} ?2"),
            &args,
            Ok(ops::compare_op(
                op,
                &a,
                &bv,
                Affinity::Blob,
                Collation::Binary,
            )),
        );
        o.check("random", "SELECT ?1 || ?2", &args, Ok(ops::concat(&a, &bv)));
        for f in ["instr", "like", "glob", "trim", "nullif", "substr", "round"] {
            o.check(
                "random",
                &format!("SELECT {f}(?1, ?2)"),
                &args,
                ours_scalar(f, &args),
            );
        }
        for f in [
            "length", "upper", "hex", "quote", "unicode", "typeof", "abs", "sign",
        ] {
            o.check(
                "random",
                &format!("SELECT {f}(?1)"),
                &args[..1],
                ours_scalar(f, &args[..1]),
            );
        }
        for tn in ["INTEGER", "REAL", "NUMERIC", "TEXT"] {
            o.check(
                "random",
                &format!("SELECT CAST(?1 AS {tn})"),
                &args[..1],
                Ok(cast_to_type_name(a.clone(), tn.as_bytes())),
            );
        }
    }

    // ---- unary operators.
    for a in &vals {
        let args = [a.clone()];
        o.check("unary", "SELECT -?1", &args, Ok(ops::negate(a)));
        o.check("unary", "SELECT ~?1", &args, Ok(ops::bit_not(a)));
        o.check("logic", "SELECT NOT ?1", &args, Ok(ops::not(a)));
        o.check(
            "logic",
            "SELECT CASE WHEN ?1 THEN 1 ELSE 0 END",
            &args,
            bool_outcome(Some(ops::is_true(a) == Some(true))),
        );
    }

    // ---- CAST to many type names (exercises affinity_of_type too).
    let type_names = [
        "INTEGER",
        "INT",
        "TEXT",
        "REAL",
        "BLOB",
        "NUMERIC",
        "VARCHAR(10)",
        "DOUBLE",
        "FLOAT",
        "DECIMAL(10,2)",
        "BOOLEAN",
        "DATE",
        "CHARINT",
        "BIGINT",
        "NONE",
        "CLOB",
        "FLOATING",
        "STRING",
        "DOUBLE PRECISION",
        "X",
    ];
    for a in &vals {
        for tn in type_names {
            o.check(
                "cast",
                &format!("SELECT CAST(?1 AS {tn})"),
                &[a.clone()],
                Ok(cast_to_type_name(a.clone(), tn.as_bytes())),
            );
        }
    }

    // ---- affinity on store.
    o.exec(
        "CREATE TABLE aff(a INTEGER, b TEXT, c REAL, d NUMERIC, e BLOB)",
        &[],
    );
    let cols = [
        ("a", Affinity::Integer),
        ("b", Affinity::Text),
        ("c", Affinity::Real),
        ("d", Affinity::Numeric),
        ("e", Affinity::Blob),
    ];
    for a in &vals {
        o.exec("DELETE FROM aff", &[]);
        o.exec("INSERT INTO aff VALUES(?1, ?1, ?1, ?1, ?1)", &[a.clone()]);
        for (c, aff) in cols {
            o.check(
                "affinity",
                &format!("SELECT {c} FROM aff"),
                &[],
                Ok(apply_affinity(a.clone(), aff)),
            );
        }
    }

    // ---- comparisons between columns with affinity, and column vs. parameter.
    let decls = ["INTEGER", "TEXT", "REAL", "NUMERIC", "BLOB"];
    let sv = small_values();
    let mut cmp_vals = sv.clone();
    cmp_vals.extend([
        t(" 12 "),
        t("1e3"),
        t("3.0"),
        Value::Real(12.0),
        Value::Integer(12),
    ]);
    for da in decls {
        for db in decls {
            o.exec("DROP TABLE IF EXISTS cmpt", &[]);
            o.exec(&format!("CREATE TABLE cmpt(a {da}, b {db})"), &[]);
            let (fa, fb) = (
                affinity_of_type(da.as_bytes()),
                affinity_of_type(db.as_bytes()),
            );
            for x in &cmp_vals {
                for y in &cmp_vals {
                    o.exec("DELETE FROM cmpt", &[]);
                    o.exec("INSERT INTO cmpt VALUES(?1, ?2)", &[x.clone(), y.clone()]);
                    let (sa, sb) = (apply_affinity(x.clone(), fa), apply_affinity(y.clone(), fb));
                    let aff = compare_affinity(Some(fa), Some(fb));
                    let ctx = format!("a {da} = {x:?} -> {sa:?}, b {db} = {y:?} -> {sb:?}");
                    o.check_ctx(
                        "cmp-affinity",
                        "SELECT a < b FROM cmpt",
                        &[],
                        Ok(ops::compare_op(Cmp::Lt, &sa, &sb, aff, Collation::Binary)),
                        &ctx,
                    );
                    o.check_ctx(
                        "cmp-affinity",
                        "SELECT a = b FROM cmpt",
                        &[],
                        Ok(ops::compare_op(Cmp::Eq, &sa, &sb, aff, Collation::Binary)),
                        &ctx,
                    );
                    let aff1 = compare_affinity(Some(fa), None);
                    o.check_ctx(
                        "cmp-affinity",
                        "SELECT a >= ?1 FROM cmpt",
                        &[y.clone()],
                        Ok(ops::compare_op(Cmp::Ge, &sa, y, aff1, Collation::Binary)),
                        &ctx,
                    );
                }
            }
        }
    }

    fp_conversions(&o, &mut rng, false);

    // ---- scalar functions: one argument over everything.
    let unary_fns = [
        "abs",
        "length",
        "octet_length",
        "lower",
        "upper",
        "typeof",
        "hex",
        "quote",
        "unicode",
        "trim",
        "ltrim",
        "rtrim",
        "round",
        "sign",
        "likely",
        "unlikely",
        "zeroblob",
        "unhex",
        "char",
        "coalesce",
        "printf",
        "concat",
        "subtype",
    ];
    for a in &vals {
        // zeroblob of a huge count is legal but slow to compare; keep it small.
        for f in unary_fns {
            if f == "zeroblob" && crate_value_int64(a) > 100_000 {
                continue;
            }
            let sql = if f == "coalesce" {
                "SELECT coalesce(?1, NULL)".to_string()
            } else {
                format!("SELECT {f}(?1)")
            };
            let args: Vec<Value> = if f == "coalesce" {
                vec![a.clone(), Value::Null]
            } else {
                vec![a.clone()]
            };
            o.check("scalar-1", &sql, &[a.clone()], ours_scalar(f, &args));
        }
    }

    // ---- two arguments over the full cross product.
    let binary_fns = [
        "instr",
        "nullif",
        "round",
        "ifnull",
        "min",
        "max",
        "substr",
        "like",
        "glob",
        "trim",
        "ltrim",
        "rtrim",
        "concat",
        "concat_ws",
        "char",
        "unhex",
        "printf",
    ];
    for a in &vals {
        for bv in &vals {
            let args = [a.clone(), bv.clone()];
            for f in binary_fns {
                if f == "printf" && !matches!(a, Value::Text(_)) {
                    continue;
                }
                o.check(
                    "scalar-2",
                    &format!("SELECT {f}(?1, ?2)"),
                    &args,
                    ours_scalar(f, &args),
                );
            }
        }
    }

    // ---- name resolution errors.
    for (name, n) in [
        ("substr", 1usize),
        ("substr", 4),
        ("SUBSTR", 0),
        ("foo", 1),
        ("coalesce", 1),
        ("min", 0),
        ("abs", 2),
        ("round", 3),
        ("like", 4),
        ("trim", 0),
        ("random", 1),
        ("char", 0),
        ("printf", 0),
        ("iif", 2),
    ] {
        let params: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
        let sql = format!("SELECT {name}({})", params.join(", "));
        let args = vec![Value::Integer(1); n];
        o.check("resolve", &sql, &args, ours_scalar(name, &args));
    }

    // ---- functions that take the collation of their arguments.
    for (cname, coll) in [("NOCASE", Collation::NoCase), ("RTRIM", Collation::RTrim)] {
        for a in &vals {
            for bv in &vals {
                let args = [a.clone(), bv.clone()];
                for (sql, f) in [
                    (format!("SELECT min(?1 COLLATE {cname}, ?2)"), "min"),
                    (format!("SELECT max(?1, ?2 COLLATE {cname})"), "max"),
                    (format!("SELECT nullif(?1 COLLATE {cname}, ?2)"), "nullif"),
                    (format!("SELECT nullif(?1, ?2 COLLATE {cname})"), "nullif"),
                ] {
                    o.check("collation", &sql, &args, ours_scalar_coll(f, &args, coll));
                }
            }
        }
    }

    // ---- three arguments over the small cross product (plus random wider picks).
    let ternary_fns = [
        "substr",
        "replace",
        "iif",
        "min",
        "max",
        "like",
        "coalesce",
        "concat_ws",
    ];
    let mut triples: Vec<[Value; 3]> = Vec::new();
    for x in &sv {
        for y in &sv {
            for z in &sv {
                triples.push([x.clone(), y.clone(), z.clone()]);
            }
        }
    }
    for _ in 0..20000 {
        triples.push([
            rng.pick(&vals).clone(),
            rng.pick(&vals).clone(),
            rng.pick(&vals).clone(),
        ]);
    }
    for args in &triples {
        for f in ternary_fns {
            o.check(
                "scalar-3",
                &format!("SELECT {f}(?1, ?2, ?3)"),
                args,
                ours_scalar(f, args),
            );
        }
    }
    // substr with small integer positions on every value.
    let positions: Vec<Value> = (-6..=6)
        .map(Value::Integer)
        .chain([
            Value::Integer(i64::MAX),
            Value::Integer(i64::MIN),
            Value::Integer(1 << 32),
            Value::Real(2.7),
            t("2"),
        ])
        .collect();
    for x in &vals {
        for p1 in &positions {
            for p2 in &positions {
                let args = [x.clone(), p1.clone(), p2.clone()];
                o.check(
                    "substr",
                    "SELECT substr(?1, ?2, ?3)",
                    &args,
                    ours_scalar("substr", &args),
                );
            }
            let args = [x.clone(), p1.clone()];
            o.check(
                "substr",
                "SELECT substr(?1, ?2)",
                &args,
                ours_scalar("substr", &args),
            );
        }
    }

    // ---- LIKE / GLOB patterns.
    let alphabet = [
        "a", "b", "A", "é", "É", "%", "_", "*", "?", "[", "]", "^", "-", "\\", "x", "日",
    ];
    let mut pats: Vec<String> = Vec::new();
    for _ in 0..3000 {
        let mut s = String::new();
        for _ in 0..rng.below(6) {
            s.push_str(rng.pick::<&str>(&alphabet));
        }
        pats.push(s);
    }
    let subj_alpha = ["a", "b", "A", "B", "é", "É", "x", "%", "_", "]", "-", "日"];
    for p in &pats {
        for _ in 0..6 {
            let mut s = String::new();
            for _ in 0..rng.below(6) {
                s.push_str(rng.pick::<&str>(&subj_alpha));
            }
            let args = [t(p), t(&s)];
            o.check(
                "like/glob",
                "SELECT like(?1, ?2)",
                &args,
                ours_scalar("like", &args),
            );
            o.check(
                "like/glob",
                "SELECT glob(?1, ?2)",
                &args,
                ours_scalar("glob", &args),
            );
            let args3 = [t(p), t(&s), t("\\")];
            o.check(
                "like/glob",
                "SELECT ?2 LIKE ?1 ESCAPE ?3",
                &args3,
                ours_scalar("like", &args3),
            );
            let args3 = [t(p), t(&s), t("%")];
            o.check(
                "like/glob",
                "SELECT like(?1, ?2, ?3)",
                &args3,
                ours_scalar("like", &args3),
            );
        }
    }

    printf_cases(&o, &mut rng, &vals, false);

    // ---- LIKE under PRAGMA case_sensitive_like.
    o.exec("PRAGMA case_sensitive_like = ON", &[]);
    for a in &vals {
        for bv in &vals {
            let args = [a.clone(), bv.clone()];
            let mut random = SplitMix64(1);
            let mut ctx = FunctionContext::new(&mut random);
            ctx.case_sensitive_like = true;
            let ours = call_scalar("like", &args, &mut ctx).map_err(|e| e.to_string());
            o.check("like-case", "SELECT like(?1, ?2)", &args, ours);
        }
    }
    o.exec("PRAGMA case_sensitive_like = OFF", &[]);

    // ---- aggregates over random groups.
    o.exec("CREATE TABLE g(x)", &[]);
    o.exec("CREATE TABLE gn(x COLLATE NOCASE)", &[]);
    let aggs = [
        ("count(*)", "count", 0usize),
        ("count(x)", "count", 1),
        ("sum(x)", "sum", 1),
        ("total(x)", "total", 1),
        ("avg(x)", "avg", 1),
        ("min(x)", "min", 1),
        ("max(x)", "max", 1),
        ("group_concat(x)", "group_concat", 1),
        ("group_concat(x, '-')", "group_concat", 2),
        ("string_agg(x, ?1)", "string_agg", 2),
    ];
    let agg_vals: Vec<Value> = vals
        .iter()
        .filter(|v| !matches!(v, Value::Real(r) if r.is_infinite()))
        .cloned()
        .collect();
    for round in 0..1500 {
        o.exec("DELETE FROM g", &[]);
        o.exec("DELETE FROM gn", &[]);
        let n = rng.below(9);
        let mut group = Vec::new();
        for _ in 0..n {
            let v = if round % 3 == 0 {
                // Numeric-heavy groups exercise the Kahan-Babuska-Neumaier path.
                match rng.below(3) {
                    0 => Value::Integer(rng.next() as i64 >> rng.below(64)),
                    1 => Value::Real(
                        ((rng.next() % 2_000_000) as f64 - 1e6) / 7.0
                            * 10f64.powi(rng.below(40) as i32 - 20),
                    ),
                    _ => rng.pick(&agg_vals).clone(),
                }
            } else {
                rng.pick(&agg_vals).clone()
            };
            o.exec("INSERT INTO g VALUES(?1)", &[v.clone()]);
            o.exec("INSERT INTO gn VALUES(?1)", &[v.clone()]);
            group.push(v);
        }
        let sep = t("; ");
        for (expr, name, nargs) in aggs {
            let kind = lookup_aggregate(name, nargs).unwrap();
            let mut acc = Accumulator::new(kind, Collation::Binary);
            for v in &group {
                match nargs {
                    0 => acc.step(&[]),
                    1 => acc.step(std::slice::from_ref(v)),
                    _ => {
                        let s = if name == "string_agg" {
                            sep.clone()
                        } else {
                            t("-")
                        };
                        acc.step(&[v.clone(), s])
                    }
                };
            }
            let ours = acc.finish().map_err(|e| e.to_string());
            let params = if name == "string_agg" {
                vec![sep.clone()]
            } else {
                vec![]
            };
            o.check("aggregate", &format!("SELECT {expr} FROM g"), &params, ours);
        }
        for (expr, name) in [("min(x)", "min"), ("max(x)", "max")] {
            let mut acc = Accumulator::new(lookup_aggregate(name, 1).unwrap(), Collation::NoCase);
            for v in &group {
                acc.step(std::slice::from_ref(v));
            }
            let ours = acc.finish().map_err(|e| e.to_string());
            o.check("aggregate", &format!("SELECT {expr} FROM gn"), &[], ours);
        }
    }

    // Again on SQLite's portable (Dekker) floating-point path.
    o.set_portable();
    fp_conversions(&o, &mut rng, true);
    printf_cases(&o, &mut rng, &vals, true);

    o.report();
}

fn crate_value_int64(v: &Value) -> i64 {
    strata_vdbe::conv::value_int64(v)
}

/// Area names, tagged for the portable-path pass.
fn area(base: &'static str, portable: bool) -> &'static str {
    if !portable {
        return base;
    }
    match base {
        "real->text" => "real->text/dd",
        "text->number" => "text->num/dd",
        "affinity" => "affinity/dd",
        "printf" => "printf/dd",
        "quote/round" => "quote/round/dd",
        _ => "other/dd",
    }
}

/// Real -> text, quote() and round() on random reals; text -> number on random
/// numeric-looking text.
fn fp_conversions(o: &Oracle, rng: &mut Rng, portable: bool) {
    // ---- real -> text and text -> number on random inputs.
    let mut reals: Vec<f64> = Vec::new();
    for _ in 0..6000 {
        let bits = rng.next();
        let r = f64::from_bits(bits);
        if r.is_finite() {
            reals.push(r);
        }
    }
    for _ in 0..6000 {
        let mant = (rng.next() % 100_000_000) as f64;
        let e = rng.below(60) as i32 - 30;
        let r = mant * 10f64.powi(e);
        reals.push(if rng.below(2) == 0 { r } else { -r });
    }
    for _ in 0..2000 {
        reals.push((rng.next() as i64 >> rng.below(64)) as f64);
    }
    for r in &reals {
        let v = Value::Real(*r);
        o.check(
            area("quote/round", portable),
            "SELECT quote(?1)",
            &[v.clone()],
            ours_scalar("quote", &[v.clone()]),
        );
        let k = Value::Integer(rng.below(8) as i64);
        o.check(
            area("quote/round", portable),
            "SELECT round(?1, ?2)",
            &[v.clone(), k.clone()],
            ours_scalar("round", &[v.clone(), k]),
        );
        o.check(
            area("printf", portable),
            "SELECT printf('%!.26g|%.40f|%-+30.20e', ?1, ?1, ?1)",
            &[v.clone()],
            ours_scalar(
                "printf",
                &[t("%!.26g|%.40f|%-+30.20e"), v.clone(), v.clone(), v.clone()],
            ),
        );
    }
    for r in &reals {
        let v = Value::Real(*r);
        o.check(
            area("real->text", portable),
            "SELECT CAST(?1 AS TEXT)",
            &[v.clone()],
            Ok(cast_to_type_name(v.clone(), b"TEXT")),
        );
    }
    let pieces = [
        "0",
        "1",
        "9",
        "12",
        "007",
        "123456789",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999",
        ".",
        "e",
        "E",
        "+",
        "-",
        " ",
        "\t",
        "x",
        "5",
        "e-",
        "e+",
        "00",
        "1.",
        ".5",
        "e308",
        "e-330",
        "e400",
        "18446744073709551609",
    ];
    for _ in 0..8000 {
        let mut s = String::new();
        for _ in 0..1 + rng.below(5) {
            s.push_str(rng.pick::<&str>(&pieces));
        }
        let v = t(&s);
        for tn in ["REAL", "INTEGER", "NUMERIC"] {
            o.check(
                area("text->number", portable),
                &format!("SELECT CAST(?1 AS {tn})"),
                &[v.clone()],
                Ok(cast_to_type_name(v.clone(), tn.as_bytes())),
            );
        }
        o.check(
            area("text->number", portable),
            "SELECT ?1 + 0",
            &[v.clone()],
            Ok(ops::arith(Arith::Add, &v, &Value::Integer(0))),
        );
        o.exec("DELETE FROM aff", &[]);
        o.exec("INSERT INTO aff VALUES(?1, ?1, ?1, ?1, ?1)", &[v.clone()]);
        o.check(
            area("affinity", portable),
            "SELECT d FROM aff",
            &[],
            Ok(apply_affinity(v.clone(), Affinity::Numeric)),
        );
    }
}

/// printf() with random formats and arguments, plus fixed SQLite-specific cases.
fn printf_cases(o: &Oracle, rng: &mut Rng, vals: &[Value], portable: bool) {
    // ---- printf / format.
    let flags = [
        "", "-", "+", " ", "0", "#", ",", "!", "-0", "+0", "!0", "#!", "-!", ",0", "+,",
    ];
    let widths = ["", "1", "5", "12", "*", "25"];
    let precs = ["", ".0", ".1", ".3", ".10", ".*", ".20", ".25", "."];
    let convs = [
        "d", "i", "u", "x", "X", "o", "f", "e", "E", "g", "G", "s", "z", "q", "Q", "w", "c", "%",
        "r", "p", "n", "y", "T",
    ];
    // Blobs included: printf reads them as (C-string) text.
    let pvals: Vec<Value> = vals.to_vec();
    for _ in 0..40000 {
        let fmt = format!(
            "<%{}{}{}{}>",
            rng.pick(&flags),
            rng.pick(&widths),
            rng.pick(&precs),
            rng.pick(&convs)
        );
        let mut args = vec![t(&fmt)];
        for _ in 0..3 {
            args.push(rng.pick(&pvals).clone());
        }
        // `*` takes its width/precision from the next argument; keep those small so a
        // case never renders a 100-million-digit number (SQLite's precision cap).
        if fmt.contains('*') || rng.below(4) == 0 {
            args[1] = Value::Integer(rng.below(30) as i64 - 5);
            if fmt.matches('*').count() == 2 {
                args[2] = Value::Integer(rng.below(30) as i64 - 5);
            }
        }
        o.check(
            area("printf", portable),
            "SELECT printf(?1, ?2, ?3, ?4)",
            &args,
            ours_scalar("printf", &args),
        );
    }
    for (fmt, v) in [
        ("%.3f", Value::Integer(i64::MIN)),
        ("%.3f", Value::Real(1e300)),
        ("%!.30f", Value::Real(0.1)),
        ("%5.2s|%-5s|", t("héllo")),
        ("%!5.2s|%!-5s|", t("héllo")),
        ("%c%c", t("éa")),
        ("%q %Q %w", t("it's \"x\"")),
        ("%Q", Value::Null),
        ("%,d", Value::Integer(-1234567)),
        ("%#x %#o %#X", Value::Integer(255)),
        ("%010.3f|%-10.3e|%+g", Value::Real(-3.25)),
        ("%!.15g", Value::Real(1e20)),
        ("%.0e", Value::Real(9.5)),
        ("%g", Value::Real(100000.0)),
        ("%g", Value::Real(1000000.0)),
        ("%#g", Value::Real(1.5)),
        ("%.5c", t("x")),
        ("%-5.3c|", t("é")),
        ("%d%%", Value::Integer(5)),
        ("abc%", Value::Null),
        ("%lld %ld %l", Value::Integer(7)),
        ("%020.5f", Value::Real(f64::NEG_INFINITY)),
        ("%f", Value::Real(f64::INFINITY)),
        ("%+f", Value::Real(f64::INFINITY)),
    ] {
        let args = [t(fmt), v.clone(), v.clone(), v.clone()];
        o.check(
            area("printf", portable),
            "SELECT printf(?1, ?2, ?3, ?4)",
            &args,
            ours_scalar("printf", &args),
        );
    }
}
