//! Aggregate accumulators: count(*), count(x), sum, total, avg, min, max, group_concat
//! (a.k.a. string_agg), ported from SQLite's `func.c`.
//!
//! Each accumulator takes one row's arguments in [`Accumulator::step`] and produces the
//! result in [`Accumulator::finish`]. `sum`/`total`/`avg` keep an exact i64 sum while
//! every input is an integer and switch to Kahan-Babuska-Neumaier summation once a
//! non-integer (or an overflow) is seen, exactly as SQLite 3.43+ does, so results match
//! bit for bit.
//!
//! DISTINCT: the VM is expected to filter duplicates before `step` (as SQLite does with
//! an ephemeral index); these accumulators do not deduplicate.

use std::cmp::Ordering;

use strata_btree::record::{Collation, Value};

use crate::affinity::numeric_value_of_text;
use crate::conv::{append_text, real_value, value_double};
use crate::functions::FunctionError;
use crate::json::agg::JsonAgg;
use crate::ops::compare_in;
use crate::printf::MAX_LENGTH;
use strata_btree::record::TextEncoding;

/// Which aggregate an [`Accumulator`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggKind {
    /// count(*)
    CountStar,
    /// count(x)
    Count,
    Sum,
    Total,
    Avg,
    Min,
    Max,
    /// group_concat(x) / group_concat(x, sep) / string_agg(x, sep)
    GroupConcat,
    /// json_group_array(x)
    JsonGroupArray,
    /// jsonb_group_array(x)
    JsonbGroupArray,
    /// json_group_object(k, v)
    JsonGroupObject,
    /// jsonb_group_object(k, v)
    JsonbGroupObject,
}

impl AggKind {
    /// The JSON group aggregates (which look at their arguments' JSON subtype).
    pub fn is_json(self) -> bool {
        matches!(
            self,
            AggKind::JsonGroupArray
                | AggKind::JsonbGroupArray
                | AggKind::JsonGroupObject
                | AggKind::JsonbGroupObject
        )
    }
}

/// Resolves an aggregate by name and argument count (count with 0 args is count(*)).
pub fn lookup_aggregate(name: &str, n_args: usize) -> Option<AggKind> {
    let n = name.to_ascii_lowercase();
    Some(match (n.as_str(), n_args) {
        ("count", 0) => AggKind::CountStar,
        ("count", 1) => AggKind::Count,
        ("sum", 1) => AggKind::Sum,
        ("total", 1) => AggKind::Total,
        ("avg", 1) => AggKind::Avg,
        ("min", 1) => AggKind::Min,
        ("max", 1) => AggKind::Max,
        ("group_concat", 1 | 2) | ("string_agg", 2) => AggKind::GroupConcat,
        ("json_group_array", 1) => AggKind::JsonGroupArray,
        ("jsonb_group_array", 1) => AggKind::JsonbGroupArray,
        ("json_group_object", 2) => AggKind::JsonGroupObject,
        ("jsonb_group_object", 2) => AggKind::JsonbGroupObject,
        _ => return None,
    })
}

/// Running state of sum/total/avg (`SumCtx`).
#[derive(Clone, Debug, Default)]
struct SumCtx {
    r_sum: f64,
    r_err: f64,
    i_sum: i64,
    cnt: i64,
    approx: bool,
    ovrfl: bool,
}

/// An argument of sum/total/avg as `sqlite3_value_numeric_type` sees it: text that looks
/// like a number counts as that number; other text and blobs are "not integer" and add
/// their prefix value. `None` for NULL (skipped).
fn numeric_arg(v: &Value) -> Option<std::borrow::Cow<'_, Value>> {
    match v {
        Value::Null => None,
        Value::Text(t) => Some(match numeric_value_of_text(t, false) {
            Some(n) => std::borrow::Cow::Owned(n),
            None => std::borrow::Cow::Borrowed(v),
        }),
        _ => Some(std::borrow::Cow::Borrowed(v)),
    }
}

impl SumCtx {
    #[inline]
    fn kbn_step(&mut self, r: f64) {
        let s = self.r_sum;
        let t = s + r;
        if s.abs() > r.abs() {
            self.r_err += (s - t) + r;
        } else {
            self.r_err += (r - t) + s;
        }
        self.r_sum = t;
    }

    /// Adds an integer too large for a double's mantissa in two exact pieces.
    #[inline]
    fn kbn_step_i64(&mut self, v: i64) {
        if !(-4503599627370495..=4503599627370495).contains(&v) {
            let sm = v % 16384;
            self.kbn_step((v - sm) as f64);
            self.kbn_step(sm as f64);
        } else {
            self.kbn_step(v as f64);
        }
    }

    #[inline]
    fn kbn_init(&mut self, v: i64) {
        if !(-4503599627370495..=4503599627370495).contains(&v) {
            let sm = v % 16384;
            self.r_sum = (v - sm) as f64;
            self.r_err = sm as f64;
        } else {
            self.r_sum = v as f64;
            self.r_err = 0.0;
        }
    }

    fn step(&mut self, v: &Value) {
        let Some(v) = numeric_arg(v) else { return };
        let v = v.as_ref();
        self.cnt += 1;
        if !self.approx {
            if let Value::Integer(i) = v {
                match self.i_sum.checked_add(*i) {
                    Some(x) => self.i_sum = x,
                    None => {
                        self.ovrfl = true;
                        self.kbn_init(self.i_sum);
                        self.approx = true;
                        self.kbn_step_i64(*i);
                    }
                }
            } else {
                self.kbn_init(self.i_sum);
                self.approx = true;
                self.kbn_step(value_double(v));
            }
        } else if let Value::Integer(i) = v {
            self.kbn_step_i64(*i);
        } else {
            self.ovrfl = false;
            self.kbn_step(value_double(v));
        }
    }

    /// Removes a value stepped earlier (`sumInverse`, for window frames that slide).
    /// As in SQLite, the "approximate" state is sticky: once a non-integer was seen the
    /// sum stays a real even after that value leaves the frame.
    fn inverse(&mut self, v: &Value) {
        let Some(v) = numeric_arg(v) else { return };
        let v = v.as_ref();
        self.cnt -= 1;
        if !self.approx {
            self.i_sum = self.i_sum.wrapping_sub(crate::conv::value_int64(v));
        } else if let Value::Integer(i) = v {
            if *i != i64::MIN {
                self.kbn_step_i64(-*i);
            } else {
                self.kbn_step_i64(i64::MAX);
                self.kbn_step_i64(1);
            }
        } else {
            self.kbn_step(-value_double(v));
        }
    }

    /// The compensated real sum (the error term is dropped if it overflowed).
    fn real(&self) -> f64 {
        if self.approx {
            if is_overflow(self.r_err) {
                self.r_sum
            } else {
                self.r_sum + self.r_err
            }
        } else {
            self.i_sum as f64
        }
    }
}

/// `sqlite3IsOverflow`: infinity or NaN.
#[inline]
fn is_overflow(x: f64) -> bool {
    !x.is_finite()
}

#[derive(Clone, Debug)]
enum State {
    Count(i64),
    Sum(SumCtx),
    MinMax(Option<Value>),
    Concat {
        out: Vec<u8>,
        started: bool,
        too_big: bool,
    },
    Json(JsonAgg),
}

/// One aggregate's running state.
#[derive(Clone, Debug)]
pub struct Accumulator {
    kind: AggKind,
    collation: Collation,
    /// The database text encoding (BINARY order of min/max over text).
    encoding: TextEncoding,
    state: State,
}

impl Accumulator {
    /// A fresh accumulator. `collation` matters for min/max over text only.
    pub fn new(kind: AggKind, collation: Collation) -> Self {
        Self::new_in(kind, collation, TextEncoding::Utf8)
    }

    /// [`Self::new`] in a database whose text encoding is `encoding`.
    pub fn new_in(kind: AggKind, collation: Collation, encoding: TextEncoding) -> Self {
        let state = match kind {
            AggKind::CountStar | AggKind::Count => State::Count(0),
            AggKind::Sum | AggKind::Total | AggKind::Avg => State::Sum(SumCtx::default()),
            AggKind::Min | AggKind::Max => State::MinMax(None),
            AggKind::GroupConcat => State::Concat {
                out: Vec::new(),
                started: false,
                too_big: false,
            },
            AggKind::JsonGroupArray => State::Json(JsonAgg::new(false, false)),
            AggKind::JsonbGroupArray => State::Json(JsonAgg::new(false, true)),
            AggKind::JsonGroupObject => State::Json(JsonAgg::new(true, false)),
            AggKind::JsonbGroupObject => State::Json(JsonAgg::new(true, true)),
        };
        Accumulator {
            kind,
            collation,
            encoding,
            state,
        }
    }

    pub fn kind(&self) -> AggKind {
        self.kind
    }

    /// Feeds one row's arguments (none for count(*); x, or x and the separator for
    /// group_concat). Returns false when min()/max() keeps its current value (SQLite's
    /// `sqlite3SkipAccumulatorLoad`): bare columns beside a min/max are then not taken
    /// from this row. That is a NULL argument once a value is held, or a value that is
    /// not strictly better (so ties keep the first row). Every other step returns true.
    pub fn step(&mut self, args: &[Value]) -> bool {
        self.step_with_subtypes(args, &[])
    }

    /// [`Self::step`] where `subtypes[i]` says whether argument i carries the JSON
    /// subtype (the JSON aggregates embed such text as JSON).
    pub fn step_with_subtypes(&mut self, args: &[Value], subtypes: &[bool]) -> bool {
        let first = args.first().unwrap_or(&Value::Null);
        match &mut self.state {
            State::Count(n) => {
                if self.kind == AggKind::CountStar || !matches!(first, Value::Null) {
                    *n += 1;
                }
            }
            State::Sum(s) => s.step(first),
            State::MinMax(best) => {
                if matches!(first, Value::Null) {
                    return best.is_none();
                }
                let replace = match best {
                    None => true,
                    Some(b) => {
                        let c = compare_in(b, first, self.collation, self.encoding);
                        if self.kind == AggKind::Max {
                            c == Ordering::Less
                        } else {
                            c == Ordering::Greater
                        }
                    }
                };
                if replace {
                    *best = Some(first.clone());
                }
                return replace;
            }
            State::Concat {
                out,
                started,
                too_big,
            } => {
                if matches!(first, Value::Null) {
                    return true;
                }
                if *started {
                    match args.get(1) {
                        None => out.push(b','),
                        Some(sep) => append_text(sep, out),
                    }
                }
                *started = true;
                append_text(first, out);
                if out.len() > MAX_LENGTH {
                    *too_big = true;
                    out.clear();
                }
            }
            State::Json(j) => j.step(args, subtypes),
        }
        true
    }

    /// Whether [`Self::inverse`] can remove a row (SQLite's `xInverse` for count, sum,
    /// total and avg; min, max and group_concat are recomputed by the window code).
    pub fn has_inverse(kind: AggKind) -> bool {
        matches!(
            kind,
            AggKind::CountStar | AggKind::Count | AggKind::Sum | AggKind::Total | AggKind::Avg
        )
    }

    /// Removes one row stepped earlier (window frames whose start moves). Only for the
    /// kinds [`Self::has_inverse`] accepts; others are left unchanged.
    pub fn inverse(&mut self, args: &[Value]) {
        let first = args.first().unwrap_or(&Value::Null);
        match &mut self.state {
            State::Count(n) => {
                if self.kind == AggKind::CountStar || !matches!(first, Value::Null) {
                    *n -= 1;
                }
            }
            State::Sum(s) => s.inverse(first),
            State::MinMax(_) | State::Concat { .. } | State::Json(_) => {}
        }
    }

    /// The result and whether it carries the JSON subtype (the text of
    /// json_group_array/json_group_object does).
    pub fn finish_with_subtype(&self) -> Result<(Value, bool), FunctionError> {
        match &self.state {
            State::Json(j) => j.finish(),
            _ => Ok((self.finish()?, false)),
        }
    }

    /// The aggregate's result for the rows seen.
    pub fn finish(&self) -> Result<Value, FunctionError> {
        Ok(match &self.state {
            State::Count(n) => Value::Integer(*n),
            State::Sum(s) => match self.kind {
                AggKind::Sum => {
                    if s.cnt == 0 {
                        Value::Null
                    } else if s.approx {
                        if s.ovrfl {
                            return Err(FunctionError::Error("integer overflow".into()));
                        }
                        real_value(s.real())
                    } else {
                        Value::Integer(s.i_sum)
                    }
                }
                // A NaN (inf - inf) result is NULL, as for every real SQLite returns.
                AggKind::Total => real_value(s.real()),
                _ => {
                    if s.cnt == 0 {
                        Value::Null
                    } else {
                        real_value(s.real() / s.cnt as f64)
                    }
                }
            },
            State::MinMax(best) => best.clone().unwrap_or(Value::Null),
            State::Concat {
                out,
                started,
                too_big,
            } => {
                if *too_big {
                    return Err(FunctionError::TooBig);
                }
                if *started {
                    Value::Text(out.clone())
                } else {
                    Value::Null
                }
            }
            State::Json(j) => j.finish()?.0,
        })
    }
}
