//! A small per-thread pseudo-random generator, so that the harness needs no dependency.

/// xorshift64*: fast, good enough to vary delays and choices, one independent stream per thread.
pub struct Rng(u64);

impl Rng {
    /// A generator whose stream is fixed by `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        // Spread nearby seeds (thread indices) apart; the state must never be zero.
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True once in `n` calls on average.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}
