//! Time: a microsecond timestamp and the injected clock the facade reads.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A moment in UTC, in microseconds since the Unix epoch, between 1970 and
/// the end of year 9999. Serialises as RFC 3339 (`2026-11-23T10:00:00.000001Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);
    /// The last representable microsecond (9999-12-31T23:59:59.999999Z).
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999_999);

    /// From microseconds since the epoch; out of range is `invalid_argument`.
    pub fn from_unix_micros(micros: i64) -> Result<Self, Error> {
        if (0..=Self::MAX.0).contains(&micros) {
            Ok(Timestamp(micros))
        } else {
            Err(Error::invalid_argument(
                "time",
                format!("{micros} µs is outside 1970-01-01..=9999-12-31"),
            ))
        }
    }

    /// From whole seconds since the epoch.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, Error> {
        let micros = seconds
            .checked_mul(1_000_000)
            .ok_or_else(|| Error::invalid_argument("time", "seconds out of range"))?;
        Self::from_unix_micros(micros)
    }

    /// Microseconds since the epoch.
    pub fn as_unix_micros(self) -> i64 {
        self.0
    }

    /// From a [`SystemTime`], clamped into the representable range.
    pub fn from_system_time(time: SystemTime) -> Self {
        let micros = time
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp(micros.min(Self::MAX.0))
    }

    /// As a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.0.unsigned_abs())
    }

    /// Parses RFC 3339 in UTC (`2026-11-23T10:00:00Z`, fractions allowed);
    /// anything else is `invalid_argument` naming `field`.
    pub fn parse_rfc3339(field: &str, text: &str) -> Result<Self, Error> {
        humantime::parse_rfc3339_weak(text)
            .map(Self::from_system_time)
            .map_err(|cause| {
                Error::invalid_argument(field, format!("{field} is not an RFC 3339 time"))
                    .with_source(cause)
            })
    }

    /// This time moved forward by `duration`, saturating at [`Timestamp::MAX`].
    pub fn saturating_add(self, duration: Duration) -> Self {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(micros).min(Self::MAX.0))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0).max(0).unsigned_abs())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            humantime::format_rfc3339_micros(self.to_system_time())
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339("time", &text).map_err(serde::de::Error::custom)
    }
}

/// Where the facade reads the time. Injected so tests control it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }
}

/// A clock that moves only when told to; for tests and replays.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(AtomicI64::new(start.0))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(micros).min(Timestamp::MAX.0))
            });
    }

    /// Sets the clock to `to` (it may go backwards, as real clocks do).
    pub fn set(&self, to: Timestamp) {
        self.0.store(to.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_with_micros() {
        let ts = Timestamp::from_unix_micros(1_790_000_000_123_456).ok();
        let text = ts.map(|t| t.to_string());
        let back = text
            .as_deref()
            .and_then(|t| Timestamp::parse_rfc3339("at", t).ok());
        assert_eq!(back, ts);
        assert_eq!(
            Timestamp::parse_rfc3339("at", "2026-11-23T10:00:00Z")
                .map(|t| t.as_unix_micros())
                .ok(),
            Some(1_795_428_000_000_000)
        );
    }

    #[test]
    fn out_of_range_and_garbage_are_invalid() {
        assert!(Timestamp::from_unix_micros(-1).is_err());
        assert!(Timestamp::from_unix_micros(i64::MAX).is_err());
        assert!(Timestamp::from_unix_seconds(i64::MAX).is_err());
        assert!(Timestamp::parse_rfc3339("since", "yesterday").is_err());
        assert!(Timestamp::parse_rfc3339("since", "").is_err());
    }

    #[test]
    fn manual_clock_moves_when_told() {
        let clock = ManualClock::new(Timestamp::EPOCH);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now().as_unix_micros(), 2_000_000);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Timestamp::MAX);
    }
}
