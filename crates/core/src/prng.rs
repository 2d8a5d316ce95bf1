//! The one pseudo-random number generator of synod.
//!
//! Every random draw of a run comes from a [`Prng`] derived from the run's single printed seed,
//! so that seed reproduces the run exactly. The algorithm is pinned here (xoshiro256** seeded
//! through SplitMix64, both public-domain designs by Blackman and Vigna) rather than taken from a
//! crate whose stream might change between versions. Following TigerBeetle's discipline, each
//! subsystem (network, each node, the workload, the fault schedule) gets its own stream derived
//! with [`Prng::derive`], so adding one draw in one place does not reshuffle the others.

/// Probability as an exact integer ratio: parts per million.
///
/// Using integers keeps fault decisions identical across platforms and makes configured
/// probabilities print exactly as they were given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ratio {
    ppm: u32,
}

impl Ratio {
    /// Never.
    pub const NEVER: Ratio = Ratio { ppm: 0 };
    /// Always.
    pub const ALWAYS: Ratio = Ratio { ppm: 1_000_000 };

    /// A probability given in parts per million (clamped to one million).
    pub const fn from_ppm(ppm: u32) -> Ratio {
        Ratio {
            ppm: if ppm > 1_000_000 { 1_000_000 } else { ppm },
        }
    }

    /// A probability from a float in `[0, 1]`, rounded to the nearest part per million.
    /// Returns `None` outside `[0, 1]` or for NaN.
    pub fn from_f64(p: f64) -> Option<Ratio> {
        if (0.0..=1.0).contains(&p) {
            Some(Ratio::from_ppm((p * 1e6).round() as u32))
        } else {
            None
        }
    }

    /// The probability in parts per million.
    pub const fn ppm(self) -> u32 {
        self.ppm
    }

    /// The probability as a float.
    pub fn as_f64(self) -> f64 {
        self.ppm as f64 / 1e6
    }

    /// True when the probability is zero.
    pub const fn is_never(self) -> bool {
        self.ppm == 0
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_f64())
    }
}

/// A seeded, reproducible random stream (xoshiro256**).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Prng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Prng {
    /// A stream determined entirely by `seed`.
    pub fn new(seed: u64) -> Prng {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Prng { s }
    }

    /// An independent stream for a named subsystem, derived from `seed` and `stream` without
    /// consuming draws from any other stream.
    pub fn derive(seed: u64, stream: u64) -> Prng {
        let mut sm = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mixed = splitmix64(&mut sm);
        Prng::new(mixed ^ stream.rotate_left(17))
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift with rejection; unbiased).
    ///
    /// # Panics
    /// If `n` is zero.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Prng::below(0)");
        let mut m = (self.next_u64() as u128) * (n as u128);
        let mut lo = m as u64;
        if lo < n {
            let threshold = n.wrapping_neg() % n;
            while lo < threshold {
                m = (self.next_u64() as u128) * (n as u128);
                lo = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// A uniform integer in `lo..=hi`.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        if lo == 0 && hi == u64::MAX {
            return self.next_u64();
        }
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: Ratio) -> bool {
        if p.ppm == 0 {
            return false;
        }
        if p.ppm >= 1_000_000 {
            return true;
        }
        self.below(1_000_000) < p.ppm as u64
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform float in `(0, 1]` (safe to take the logarithm of).
    pub fn open_unit_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal sample (Box-Muller).
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = self.open_unit_f64();
        let u2 = self.unit_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_streams_differ() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut p = Prng::new(42);
                move |_| p.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..8)
            .map({
                let mut p = Prng::new(42);
                move |_| p.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        let mut c = Prng::derive(42, 1);
        let mut d = Prng::derive(42, 2);
        assert_ne!(c.next_u64(), d.next_u64());
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut p = Prng::new(7);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[p.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn chance_matches_ratio() {
        let mut p = Prng::new(9);
        let r = Ratio::from_f64(0.3).unwrap();
        let hits = (0..100_000).filter(|_| p.chance(r)).count();
        assert!((29_000..31_000).contains(&hits), "{hits}");
        assert!(!Prng::new(1).chance(Ratio::NEVER));
        assert!(Prng::new(1).chance(Ratio::ALWAYS));
        assert_eq!(Ratio::from_f64(1.5), None);
    }
}
