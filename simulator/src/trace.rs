//! The run's trace digest.
//!
//! Every event of a run (each submission, completion, injected fault, crash and workload
//! decision) is folded into one 64-bit FNV-1a hash. Two runs of the same seed must end
//! with the same digest; a different digest means something nondeterministic (a HashMap
//! iteration, the wall clock, thread timing) leaked into the run, or the code changed.
//!
//! FNV-1a is used instead of `std`'s `DefaultHasher` because the latter's algorithm is not
//! guaranteed to stay the same between Rust releases, and digests are worth comparing
//! across builds.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running FNV-1a digest over little-endian 64-bit words and byte strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest {
    state: u64,
    events: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            state: FNV_OFFSET,
            events: 0,
        }
    }
}

impl Digest {
    pub fn new() -> Self {
        Self::default()
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.state ^= u64::from(b);
            self.state = self.state.wrapping_mul(FNV_PRIME);
        }
    }

    /// Appends one event: a tag naming the event type and its fields. The field count is
    /// hashed too, so events with different arities can never collide by concatenation.
    pub fn event(&mut self, tag: &str, fields: &[u64]) {
        self.events += 1;
        self.write_bytes(tag.as_bytes());
        self.write_bytes(&(fields.len() as u64).to_le_bytes());
        for f in fields {
            self.write_bytes(&f.to_le_bytes());
        }
    }

    /// The digest so far.
    pub fn value(&self) -> u64 {
        self.state
    }

    /// Events recorded so far.
    pub fn events(&self) -> u64 {
        self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_content_matter() {
        let mut a = Digest::new();
        a.event("x", &[1, 2]);
        a.event("y", &[3]);
        let mut b = Digest::new();
        b.event("y", &[3]);
        b.event("x", &[1, 2]);
        assert_ne!(a.value(), b.value());
        let mut c = Digest::new();
        c.event("x", &[1, 2]);
        c.event("y", &[3]);
        assert_eq!(a.value(), c.value());
    }
}
