//! The server's request decoders (`strata_hrana::decode_pipeline` / `decode_cursor`) on
//! arbitrary bytes: the bodies of `POST /v2/pipeline`, `/v3/pipeline` and `/v3/cursor`.
//!
//! Input layout: `[selector byte][body]`; an even selector decodes a pipeline, an odd one
//! a cursor request. Must not panic (nor recurse without bound); beyond that, every value
//! that decodes must encode and decode back to itself (floats within JSON's precision),
//! and the condition walkers the server runs before executing (`depth`, `needs_v3`) must
//! terminate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_hrana::{BatchCond, Stmt, StreamRequest, Value};

fn check_value(v: &Value) {
    let text = serde_json::to_string(v).expect("a value encodes");
    if matches!(v, Value::Float(f) if !f.is_finite()) {
        return; // JSON cannot carry it (documented: sent as null)
    }
    let back: Value = serde_json::from_str(&text).expect("an encoded value decodes");
    match (v, &back) {
        (Value::Float(a), Value::Float(b)) => {
            assert!((a - b).abs() <= a.abs() * 1e-15, "{a} -> {text} -> {b}")
        }
        _ => assert_eq!(v, &back, "{text}"),
    }
}

fn check_stmt(s: &Stmt) {
    s.args.iter().for_each(check_value);
    s.named_args.iter().for_each(|a| check_value(&a.value));
}

fn check_cond(c: &BatchCond) {
    let _ = c.depth();
    let _ = c.needs_v3();
}

fn check_batch(b: &strata_hrana::Batch) {
    for step in &b.steps {
        check_stmt(&step.stmt);
        if let Some(c) = &step.condition {
            check_cond(c);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    if sel % 2 == 0 {
        if let Ok(p) = strata_hrana::decode_pipeline(body) {
            for r in &p.requests {
                let _ = r.needs_v3();
                match r {
                    StreamRequest::Execute { stmt } => check_stmt(stmt),
                    StreamRequest::Batch { batch } => check_batch(batch),
                    _ => {}
                }
            }
        }
    } else if let Ok(c) = strata_hrana::decode_cursor(body) {
        check_batch(&c.batch);
    }
});
