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

    /// Parses an RFC 3339 time with any offset (`2026-11-23T10:00:00Z`,
    /// `2026-11-23T12:00:00+02:00`, lowercase `t` and `z` too, fractions of
    /// a second allowed) and normalises it to UTC. Anything else, a space
    /// for the `T` included, is `invalid_argument` naming `field`, the
    /// expected form and the value.
    pub fn parse_rfc3339(field: &str, text: &str) -> Result<Self, Error> {
        let refused = || {
            Error::invalid_argument(
                field,
                format!(
                    "{field} must be an RFC 3339 time such as 2026-11-23T10:00:00Z or \
                     2026-11-23T12:00:00+02:00, not {text:?}"
                ),
            )
            .with_detail("value", text)
        };
        let upper = text.to_ascii_uppercase();
        let (local, offset_seconds) = split_offset(&upper).ok_or_else(refused)?;
        // humantime's strict parser takes exactly `YYYY-MM-DDTHH:MM:SS[.f]Z`.
        let utc_form = format!("{local}Z");
        let local_time =
            humantime::parse_rfc3339(&utc_form).map_err(|cause| refused().with_source(cause))?;
        let micros = local_time
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_micros()).ok())
            .and_then(|m| m.checked_sub(offset_seconds * 1_000_000))
            .ok_or_else(refused)?;
        Self::from_unix_micros(micros).map_err(|_| refused())
    }

    /// This time moved forward by `duration`, saturating at [`Timestamp::MAX`].
    pub fn saturating_add(self, duration: Duration) -> Self {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(micros).min(Self::MAX.0))
    }

    /// This time moved back by `duration`, saturating at [`Timestamp::EPOCH`].
    pub fn saturating_sub(self, duration: Duration) -> Self {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_sub(micros).max(0))
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

/// Splits an upper-cased RFC 3339 time into its local part and its offset
/// east of UTC in seconds; `None` when there is no valid offset.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(local) = text.strip_suffix('Z') {
        return Some((local, 0));
    }
    // `+HH:MM` or `-HH:MM` closes the text.
    let at = text.len().checked_sub(6)?;
    let (local, offset) = (text.get(..at)?, text.get(at..)?);
    let sign = match offset.as_bytes() {
        [b'+', _, _, b':', _, _] => 1,
        [b'-', _, _, b':', _, _] => -1,
        _ => return None,
    };
    let two = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = offset.get(range)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (hours, minutes) = (two(1..3)?, two(4..6)?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((local, sign * (hours * 3600 + minutes * 60)))
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
    fn any_offset_is_normalised_to_utc() {
        let utc = |text: &str| {
            Timestamp::parse_rfc3339("at", text)
                .map(|t| t.to_string())
                .map_err(|e| e.message().to_owned())
        };
        let want = Ok("2024-01-01T00:00:00.000000Z".to_owned());
        assert_eq!(utc("2024-01-01T00:00:00Z"), want);
        assert_eq!(utc("2024-01-01T02:00:00+02:00"), want);
        assert_eq!(utc("2023-12-31T19:30:00-04:30"), want);
        assert_eq!(utc("2024-01-01t00:00:00z"), want);
        assert_eq!(utc("2024-01-01T00:00:00+00:00"), want);
        assert_eq!(utc("2024-01-01T00:00:00-00:00"), want);
        assert_eq!(
            utc("2024-01-01T05:30:00.25+05:30"),
            Ok("2024-01-01T00:00:00.250000Z".to_owned())
        );
    }

    #[test]
    fn a_refused_time_names_the_form_and_the_value() {
        for bad in [
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+2:00",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+02:60",
            "2024-01-01T00:00:00+0200",
            "1970-01-01T00:00:00+01:00",
            "2024-13-01T00:00:00Z",
            "yesterday",
        ] {
            let error = Timestamp::parse_rfc3339("at", bad).err();
            let message = error.as_ref().map(|e| e.message().to_owned());
            assert!(
                message.as_deref().is_some_and(|m| m.contains(bad)
                    && m.contains("2026-11-23T10:00:00Z")
                    && m.starts_with("at ")),
                "{bad}: {message:?}"
            );
            assert_eq!(
                error.map(|e| e.details()["field"].clone()),
                Some("at".into())
            );
        }
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
