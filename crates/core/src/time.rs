//! Virtual time.
//!
//! synod never reads a wall clock inside a protocol, the simulator or the checker. Time is a
//! plain number of nanoseconds since the start of the run, handed to every handler by its driver
//! ([`crate::Ctx::now`]). Because the values are integers, states that contain them stay
//! `Eq + Hash`, and a run that starts at 0 reads the same on every machine.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;

/// A point in virtual time: nanoseconds since the run began.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Instant(pub u64);

/// A span of virtual time in nanoseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Duration(pub u64);

impl Instant {
    /// The start of every run.
    pub const ZERO: Instant = Instant(0);
    /// A time after every event of any run.
    pub const MAX: Instant = Instant(u64::MAX);

    /// `n` milliseconds after the start of the run.
    pub const fn from_millis(n: u64) -> Instant {
        Instant(n * 1_000_000)
    }

    /// `n` seconds after the start of the run.
    pub const fn from_secs(n: u64) -> Instant {
        Instant(n * 1_000_000_000)
    }

    /// Nanoseconds since the start of the run.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }

    /// Seconds since the start, as a float (for display and plotting only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0);

    /// `n` nanoseconds.
    pub const fn from_nanos(n: u64) -> Duration {
        Duration(n)
    }
    /// `n` microseconds.
    pub const fn from_micros(n: u64) -> Duration {
        Duration(n * 1_000)
    }
    /// `n` milliseconds.
    pub const fn from_millis(n: u64) -> Duration {
        Duration(n * 1_000_000)
    }
    /// `n` seconds.
    pub const fn from_secs(n: u64) -> Duration {
        Duration(n * 1_000_000_000)
    }
    /// The span in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The span in seconds, as a float (for display and statistics only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// The span in milliseconds, as a float (for display and statistics only).
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// `self * k`, saturating at the largest representable span.
    pub fn saturating_mul(self, k: u64) -> Duration {
        Duration(self.0.saturating_mul(k))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// # Panics
    /// If `earlier` is after `self` (use [`Instant::saturating_since`] when that can happen).
    fn sub(self, earlier: Instant) -> Duration {
        Duration(
            self.0
                .checked_sub(earlier.0)
                .expect("Instant subtraction went negative"),
        )
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

impl Sub for Duration {
    type Output = Duration;
    fn sub(self, d: Duration) -> Duration {
        Duration(self.0.saturating_sub(d.0))
    }
}

fn fmt_nanos(n: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if n == 0 {
        return write!(f, "0s");
    }
    for (scale, unit) in UNITS {
        if n >= scale {
            if n.is_multiple_of(scale) {
                return write!(f, "{}{}", n / scale, unit);
            }
            let v = n as f64 / scale as f64;
            return write!(f, "{}{}", trim_float(v), unit);
        }
    }
    unreachable!()
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_nanos(self.0, f)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_nanos(self.0, f)
    }
}

/// Why a duration string could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError(pub String);

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a duration (write a number and a unit: 250ms, 2s, 1.5s, 10us, 3m)",
            self.0
        )
    }
}

impl std::error::Error for ParseDurationError {}

impl FromStr for Duration {
    type Err = ParseDurationError;

    /// Reads `250ms`, `2s`, `1.5s`, `10us`, `100ns`, `3m`; a bare number means milliseconds.
    fn from_str(s: &str) -> Result<Duration, ParseDurationError> {
        let err = || ParseDurationError(s.to_string());
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        if num.is_empty() {
            return Err(err());
        }
        let scale: u64 = match unit.trim() {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "" | "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            _ => return Err(err()),
        };
        if let Some((whole, frac)) = num.split_once('.') {
            // Exact decimal arithmetic: no float rounding in parsed durations.
            let whole: u64 = if whole.is_empty() {
                0
            } else {
                whole.parse().map_err(|_| err())?
            };
            if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            let frac_val: u64 = frac.parse().map_err(|_| err())?;
            let frac_scale = 10u64.pow(frac.len() as u32);
            let nanos = whole
                .checked_mul(scale)
                .and_then(|w| w.checked_add(frac_val * scale / frac_scale))
                .ok_or_else(err)?;
            Ok(Duration(nanos))
        } else {
            let v: u64 = num.parse().map_err(|_| err())?;
            v.checked_mul(scale).map(Duration).ok_or_else(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_exactly() {
        assert_eq!("2s".parse::<Duration>().unwrap(), Duration::from_secs(2));
        assert_eq!(
            "1.5s".parse::<Duration>().unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            "250ms".parse::<Duration>().unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            "10us".parse::<Duration>().unwrap(),
            Duration::from_micros(10)
        );
        assert_eq!("7".parse::<Duration>().unwrap(), Duration::from_millis(7));
        assert_eq!(
            "0.001s".parse::<Duration>().unwrap(),
            Duration::from_millis(1)
        );
        assert!("fast".parse::<Duration>().is_err());
        assert!("1.s".parse::<Duration>().is_err());
        assert!("-1s".parse::<Duration>().is_err());
    }

    #[test]
    fn displays_round_trip() {
        for s in ["2s", "1.5s", "250ms", "10us", "3ns"] {
            let d: Duration = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
            assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
        }
    }
}
