//! Totality: every function, operator, conversion and accumulator must return (a value or
//! an error) for every input, never panic, including NaN reals, invalid UTF-8, embedded
//! NULs, extreme integers and random printf formats. Run it with overflow checks on to
//! catch arithmetic overflow too:
//! `cargo test --release -p strata-vdbe --test robustness --config
//! 'profile.release.package.strata-vdbe.overflow-checks=true'`.

use strata_vdbe::affinity::{affinity_of_type, apply_affinity, comparison_operand, Affinity};
use strata_vdbe::aggregate::{lookup_aggregate, Accumulator};
use strata_vdbe::cast::cast;
use strata_vdbe::functions::{
    call_scalar, lookup_scalar, resolve_scalar, scalar_function_names, FunctionContext,
    RandomSource, SplitMix64,
};
use strata_vdbe::like::{glob, like};
use strata_vdbe::numeric::{atof, atoi64, dec_or_hex_to_i64, fp_decode, real_to_string};
use strata_vdbe::ops::{self, Arith, Bit, Cmp};
use strata_vdbe::printf::sql_printf;
use strata_vdbe::{Collation, Value};

fn values(rng: &mut SplitMix64) -> Vec<Value> {
    let mut v = vec![
        Value::Null,
        Value::Integer(0),
        Value::Integer(-1),
        Value::Integer(7),
        Value::Integer(1000),
        Value::Integer(i64::MAX),
        Value::Integer(i64::MIN),
        Value::Integer(i32::MIN as i64),
        Value::Integer(1 << 40),
        Value::Real(f64::NAN),
        Value::Real(-f64::NAN),
        Value::Real(f64::INFINITY),
        Value::Real(f64::NEG_INFINITY),
        Value::Real(-0.0),
        Value::Real(5e-324),
        Value::Real(f64::MAX),
        Value::Real(1e19),
        Value::Real(-9.3e18),
        Value::Real(2.5),
        Value::Text(Vec::new()),
        Value::Text(b"\0".to_vec()),
        Value::Text(b"%".to_vec()),
        Value::Text(b"[^]".to_vec()),
        Value::Text(b"\xff\xff\xc0\x80\xed\xbf\xbf\xf4\x90\x80\x80".to_vec()),
        Value::Text(b"\x80\x80\x80\x80\x80\x80\x80\x80\xc3".to_vec()),
        Value::Text(b"\xfe\x80\x80\x80\x80\x80\x80\x80\x80\x80".to_vec()),
        Value::Text("9".repeat(400).into_bytes()),
        Value::Text(format!("0.{}1e-99999", "0".repeat(300)).into_bytes()),
        Value::Text(b"1e99999999999".to_vec()),
        Value::Text(b"-0x".to_vec()),
        Value::Blob(Vec::new()),
        Value::Blob(vec![0xff; 17]),
    ];
    for _ in 0..40 {
        let len = (rng.next_u64() % 12) as usize;
        let mut bytes = vec![0u8; len];
        rng.fill(&mut bytes);
        let x = rng.next_u64();
        v.push(match x % 4 {
            0 => Value::Text(bytes),
            1 => Value::Blob(bytes),
            2 => Value::Integer(rng.next_u64() as i64 >> (x % 64)),
            _ => Value::Real(f64::from_bits(rng.next_u64())),
        });
    }
    v
}

fn pick<'a>(rng: &mut SplitMix64, v: &'a [Value]) -> &'a Value {
    &v[(rng.next_u64() % v.len() as u64) as usize]
}

#[test]
fn everything_is_total() {
    let mut rng = SplitMix64(42);
    let vals = values(&mut rng);
    let affs = [
        Affinity::Blob,
        Affinity::Text,
        Affinity::Numeric,
        Affinity::Integer,
        Affinity::Real,
    ];
    let colls = [Collation::Binary, Collation::NoCase, Collation::RTrim];
    for a in &vals {
        for b in &vals {
            for op in [Arith::Add, Arith::Sub, Arith::Mul, Arith::Div, Arith::Rem] {
                ops::arith(op, a, b);
            }
            for op in [Bit::And, Bit::Or, Bit::Shl, Bit::Shr] {
                ops::bitwise(op, a, b);
            }
            ops::concat(a, b);
            for aff in affs {
                for coll in colls {
                    for op in [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge] {
                        ops::compare_op(op, a, b, aff, coll);
                    }
                    ops::is(a, b, true, aff, coll);
                }
                comparison_operand(a, b, aff);
            }
            ops::and(a, b);
            ops::or(a, b);
            if let (Some(p), Some(s)) = (
                strata_vdbe::conv::value_text(a),
                strata_vdbe::conv::value_text(b),
            ) {
                let _ = like(&p, &s, None);
                let _ = like(&p, &s, Some(&s));
                glob(&p, &s);
            }
        }
        ops::negate(a);
        ops::bit_not(a);
        ops::not(a);
        for aff in affs {
            apply_affinity(a.clone(), aff);
            cast(a.clone(), aff);
        }
        if let Value::Text(t) | Value::Blob(t) = a {
            atof(t);
            atoi64(t);
            dec_or_hex_to_i64(t);
            affinity_of_type(t);
        }
        if let Value::Real(r) = a {
            real_to_string(*r);
            for k in [-30, -1, 0, 1, 15, 17, 40] {
                fp_decode(*r, k, 16);
                fp_decode(*r, k, 26);
            }
        }
    }

    // Every scalar function at every arity it accepts (and some it does not).
    let mut random = SplitMix64(7);
    for name in scalar_function_names() {
        for n in 0..=4 {
            if resolve_scalar(name, n).is_err() {
                assert!(lookup_scalar(name, n).is_none());
                continue;
            }
            for _ in 0..3000 {
                let args: Vec<Value> = (0..n).map(|_| pick(&mut rng, &vals).clone()).collect();
                // Blobs of up to 1e9 bytes are legal; don't spend the test allocating them.
                if matches!(name, "zeroblob" | "randomblob")
                    && strata_vdbe::conv::value_int64(&args[0]) > 1_000_000
                {
                    continue;
                }
                let mut ctx = FunctionContext::new(&mut random);
                ctx.collation = colls[(rng.next_u64() % 3) as usize];
                let _ = call_scalar(name, &args, &mut ctx);
            }
        }
    }

    // The resolved function pointers themselves, called with any number of arguments
    // (a VM bug must not become a panic).
    for name in scalar_function_names() {
        let Some(f) = (0..=4).find_map(|n| lookup_scalar(name, n)) else {
            continue;
        };
        for n in 0..=5 {
            for _ in 0..200 {
                let args: Vec<Value> = (0..n).map(|_| pick(&mut rng, &vals).clone()).collect();
                if matches!(name, "zeroblob" | "randomblob")
                    && args.first().map_or(0, strata_vdbe::conv::value_int64) > 1_000_000
                {
                    continue;
                }
                let mut ctx = FunctionContext::new(&mut random);
                ctx.case_sensitive_like = n % 2 == 1;
                let _ = f(&args, &mut ctx);
            }
        }
    }

    // printf with random formats built from its own alphabet (small '*' arguments so a
    // case never renders a gigabyte).
    let alphabet = b"%-+ 0#,!*.0123456789lsdifgeEGxXocqQwzpnrT%\xc3\xa9\0";
    let small: Vec<Value> = vals
        .iter()
        .filter(|v| !matches!(v, Value::Integer(i) if i.unsigned_abs() > 1000))
        .filter(
            |v| !matches!(v, Value::Text(t) | Value::Blob(t) if atoi64(t).0.unsigned_abs() > 1000),
        )
        .cloned()
        .collect();
    for _ in 0..30000 {
        let len = (rng.next_u64() % 10) as usize;
        let fmt: Vec<u8> = (0..len)
            .map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize])
            .collect();
        let args: Vec<Value> = (0..3).map(|_| pick(&mut rng, &small).clone()).collect();
        sql_printf(&fmt, &args);
    }

    // Aggregates over random rows.
    for name in ["count", "sum", "total", "avg", "min", "max", "group_concat"] {
        for n in 0..=2 {
            let Some(kind) = lookup_aggregate(name, n) else {
                continue;
            };
            for coll in colls {
                let mut acc = Accumulator::new(kind, coll);
                for _ in 0..200 {
                    let args: Vec<Value> = (0..n).map(|_| pick(&mut rng, &vals).clone()).collect();
                    acc.step(&args);
                    let _ = acc.finish();
                }
            }
        }
    }
}
