//! A minimal software model of the x87 80-bit `long double` (64-bit significand, round to
//! nearest even), just enough to reproduce the `long double` paths of SQLite's
//! `sqlite3AtoF` and `sqlite3FpDecode` bit for bit on every platform.
//!
//! SQLite uses those paths when `long double` is wider than `double` (x86 and x86-64
//! builds, its most common platforms); elsewhere it uses Dekker double-double arithmetic.
//! See [`crate::numeric::FloatMode`].
//!
//! Only positive finite values are modelled (callers handle the sign). Products that
//! overflow the 80-bit exponent range saturate to infinity and products that underflow it
//! flush to zero: the only callers scale monotonically in one direction, so such values
//! end as infinity or zero in `double` anyway.

use std::cmp::Ordering;

/// A positive value `m * 2^e` with `m` normalised (top bit set), or zero (`m == 0`), or
/// infinity (`e == INF_EXP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct F80 {
    pub m: u64,
    pub e: i32,
}

const INF_EXP: i32 = i32::MAX;
/// Largest and smallest binary exponents of a normal x87 extended value (value in
/// [2^E, 2^(E+1)) with E = e + 63).
const MAX_E: i32 = 16383;
const MIN_E: i32 = -16382;

pub(crate) const E100: F80 = F80 {
    m: 0x924d692ca61be758,
    e: 269,
};
pub(crate) const E10: F80 = F80 {
    m: 0x9502f90000000000,
    e: -30,
};
pub(crate) const E1: F80 = F80 {
    m: 0xa000000000000000,
    e: -60,
};
pub(crate) const EM100: F80 = F80 {
    m: 0xdff9772470297ebd,
    e: -396,
};
pub(crate) const EM10: F80 = F80 {
    m: 0xdbe6fecebdedd5bf,
    e: -97,
};
pub(crate) const EM1: F80 = F80 {
    m: 0xcccccccccccccccd,
    e: -67,
};
pub(crate) const E119: F80 = F80 {
    m: 0x9e9f11c4014dda7e,
    e: 332,
};
pub(crate) const E29: F80 = F80 {
    m: 0xa18f07d736b90be5,
    e: 33,
};
pub(crate) const E19: F80 = F80 {
    m: 0x8ac7230489e80000,
    e: 0,
};
pub(crate) const EM97: F80 = F80 {
    m: 0xdab99e59958885c5,
    e: -386,
};
pub(crate) const E7: F80 = F80 {
    m: 0x9896800000000000,
    e: -40,
};
pub(crate) const E17: F80 = F80 {
    m: 0xb1a2bc2ec5000000,
    e: -7,
};
/// `1.7976931348623157081452742373e+308L`, which is exactly DBL_MAX.
pub(crate) const DBL_LIMIT: F80 = F80 {
    m: 0xfffffffffffff800,
    e: 960,
};

impl F80 {
    pub const ZERO: F80 = F80 { m: 0, e: 0 };

    /// Exact conversion of a non-zero u64.
    #[inline]
    pub fn from_u64(s: u64) -> F80 {
        if s == 0 {
            return F80::ZERO;
        }
        let lz = s.leading_zeros();
        F80 {
            m: s << lz,
            e: -(lz as i32),
        }
    }

    /// Exact conversion of a positive finite double (normal or subnormal).
    #[inline]
    pub fn from_f64(r: f64) -> F80 {
        let bits = r.to_bits() & !(1u64 << 63);
        let exp = (bits >> 52) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        if exp == 0 {
            // Subnormal: frac * 2^-1074.
            let f = F80::from_u64(frac);
            F80 {
                m: f.m,
                e: f.e - 1074,
            }
        } else {
            let m = (frac | (1u64 << 52)) << 11;
            F80 {
                m,
                e: exp - 1075 - 11,
            }
        }
    }

    #[inline]
    fn is_inf(self) -> bool {
        self.e == INF_EXP
    }

    /// Correctly rounded product (round to nearest, ties to even).
    #[inline]
    pub fn mul(self, o: F80) -> F80 {
        if self.is_inf() || o.is_inf() {
            return F80 {
                m: 1 << 63,
                e: INF_EXP,
            };
        }
        if self.m == 0 || o.m == 0 {
            return F80::ZERO;
        }
        let p = self.m as u128 * o.m as u128;
        let shift: u32 = if p >> 127 != 0 { 64 } else { 63 };
        let mut m = (p >> shift) as u64;
        let rem = p & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let mut e = self.e + o.e + shift as i32;
        if rem > half || (rem == half && m & 1 == 1) {
            m = m.wrapping_add(1);
            if m == 0 {
                m = 1 << 63;
                e += 1;
            }
        }
        let big_e = e + 63;
        if big_e > MAX_E {
            F80 {
                m: 1 << 63,
                e: INF_EXP,
            }
        } else if big_e < MIN_E {
            F80::ZERO
        } else {
            F80 { m, e }
        }
    }

    /// Exact comparison of two non-negative values.
    #[inline]
    pub fn cmp(self, o: F80) -> Ordering {
        match (self.m == 0, o.m == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        self.e.cmp(&o.e).then(self.m.cmp(&o.m))
    }

    /// C's `(u64)x`: truncation toward zero (the value must be below 2^64).
    #[inline]
    pub fn to_u64(self) -> u64 {
        if self.m == 0 {
            0
        } else if self.e >= 0 {
            self.m.checked_shl(self.e as u32).unwrap_or(u64::MAX)
        } else if self.e <= -64 {
            0
        } else {
            self.m >> (-self.e) as u32
        }
    }

    /// C's `(double)x`: round to nearest even, with subnormals and overflow to infinity.
    pub fn to_f64(self) -> f64 {
        if self.is_inf() {
            return f64::INFINITY;
        }
        if self.m == 0 {
            return 0.0;
        }
        let big_e = self.e + 63;
        if big_e > 1023 {
            return f64::INFINITY;
        }
        // Bits of the significand to drop: 11 for a normal result, more for subnormal.
        let shift: u32 = if big_e >= -1022 {
            11
        } else {
            let extra = (-1022 - big_e) as u32;
            if 11 + extra > 65 {
                return 0.0;
            }
            11 + extra
        };
        let m = self.m as u128;
        let mut q = (m >> shift) as u64;
        let rem = m & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q += 1;
        }
        if big_e >= -1022 {
            let mut be = big_e;
            if q == 1 << 53 {
                q >>= 1;
                be += 1;
                if be > 1023 {
                    return f64::INFINITY;
                }
            }
            f64::from_bits((((be + 1023) as u64) << 52) | (q & ((1u64 << 52) - 1)))
        } else {
            // q counts units of 2^-1074; q == 2^52 is exactly the smallest normal, whose
            // bit pattern is the same number.
            f64::from_bits(q)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for r in [1.0, 0.1, 1e300, 5e-324, 2.2250738585072014e-308, 123456.789] {
            assert_eq!(F80::from_f64(r).to_f64(), r);
        }
        assert_eq!(F80::from_u64(10).mul(E1).to_u64(), 100);
        // 3 * 0.1L is accurate enough in 64 bits to round to the double nearest 0.3.
        assert_eq!(F80::from_u64(3).mul(EM1).to_f64(), 0.3);
    }
}
