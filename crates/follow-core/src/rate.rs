//! Per-tenant rate limits: a token bucket on the injected clock.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use crate::{Error, TenantId, Timestamp};

/// A tenant's allowed call rate (Tencent IM: 200 calls per second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl RateLimit {
    /// `calls` per second, with a burst of as many.
    pub fn per_second(calls: NonZeroU32) -> Self {
        RateLimit {
            per_second: calls,
            burst: calls,
        }
    }

    /// The same rate with another burst (calls allowed at once after a pause).
    pub fn with_burst(self, burst: NonZeroU32) -> Self {
        RateLimit { burst, ..self }
    }
}

/// One token, in the bucket's fixed-point units.
const TOKEN: u64 = 1_000_000;

#[derive(Debug)]
struct Bucket {
    units: u64,
    updated: Timestamp,
}

/// The buckets of every limited tenant. Off (and free) unless configured.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    default: Option<RateLimit>,
    per_tenant: HashMap<TenantId, Option<RateLimit>>,
    buckets: Mutex<HashMap<TenantId, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(
        default: Option<RateLimit>,
        per_tenant: HashMap<TenantId, Option<RateLimit>>,
    ) -> Self {
        RateLimiter {
            default,
            per_tenant,
            buckets: Mutex::default(),
        }
    }

    fn limit_of(&self, tenant: &TenantId) -> Option<RateLimit> {
        match self.per_tenant.get(tenant) {
            Some(own) => *own,
            None => self.default,
        }
    }

    /// Takes one call from the tenant's bucket, or answers `rate_limited`
    /// with the wait until the next token. Reads the clock only for a
    /// limited tenant: an unlimited read never needs the time.
    pub(crate) fn check(
        &self,
        tenant: &TenantId,
        now: impl FnOnce() -> Timestamp,
    ) -> Result<(), Error> {
        let Some(limit) = self.limit_of(tenant) else {
            return Ok(());
        };
        let now = now();
        let capacity = u64::from(limit.burst.get()) * TOKEN;
        let refill_per_micro = u64::from(limit.per_second.get());
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(tenant.clone()).or_insert(Bucket {
            units: capacity,
            updated: now,
        });
        // A clock that steps back refills nothing rather than failing.
        let elapsed = u64::try_from(now.since(bucket.updated).as_micros()).unwrap_or(u64::MAX);
        bucket.units = bucket
            .units
            .saturating_add(elapsed.saturating_mul(refill_per_micro))
            .min(capacity);
        bucket.updated = bucket.updated.max(now);
        if bucket.units >= TOKEN {
            bucket.units -= TOKEN;
            return Ok(());
        }
        let missing = TOKEN - bucket.units;
        let wait_micros = missing.div_ceil(refill_per_micro);
        Err(Error::rate_limited(Duration::from_micros(wait_micros)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn tenant(name: &str) -> TenantId {
        TenantId::new(name).unwrap_or_else(|e| panic!("{e}"))
    }

    fn limit(calls: u32) -> RateLimit {
        RateLimit::per_second(NonZeroU32::new(calls).unwrap_or(NonZeroU32::MIN))
    }

    #[test]
    fn allows_the_burst_then_limits_then_refills() {
        let limiter = RateLimiter::new(Some(limit(200)), HashMap::new());
        let acme = tenant("acme");
        let t0 = Timestamp::EPOCH;
        for _ in 0..200 {
            assert!(limiter.check(&acme, || t0).is_ok());
        }
        let refused = limiter.check(&acme, || t0).err();
        assert_eq!(
            refused.as_ref().map(Error::kind),
            Some(ErrorKind::RateLimited)
        );
        assert_eq!(
            refused.and_then(|e| e.retry_after()),
            Some(Duration::from_millis(5))
        );
        assert!(
            limiter
                .check(&acme, || t0.saturating_add(Duration::from_millis(5)))
                .is_ok()
        );
    }

    #[test]
    fn tenants_have_their_own_buckets_and_overrides() {
        let mut overrides = HashMap::new();
        overrides.insert(tenant("free"), None);
        let limiter = RateLimiter::new(Some(limit(1)), overrides);
        let now = Timestamp::EPOCH;
        assert!(limiter.check(&tenant("a"), || now).is_ok());
        assert!(limiter.check(&tenant("a"), || now).is_err());
        assert!(limiter.check(&tenant("b"), || now).is_ok());
        for _ in 0..1000 {
            assert!(limiter.check(&tenant("free"), || now).is_ok());
        }
    }

    #[test]
    fn a_clock_stepping_back_does_not_refill_or_fail() {
        let limiter = RateLimiter::new(Some(limit(1)), HashMap::new());
        let later = Timestamp::EPOCH.saturating_add(Duration::from_secs(10));
        assert!(limiter.check(&tenant("a"), || later).is_ok());
        assert!(limiter.check(&tenant("a"), || Timestamp::EPOCH).is_err());
    }

    #[test]
    fn the_clock_is_read_only_for_a_limited_tenant() {
        let mut overrides = HashMap::new();
        overrides.insert(tenant("free"), None);
        let limiter = RateLimiter::new(Some(limit(5)), overrides);
        let reads = std::cell::Cell::new(0);
        let clock = || {
            reads.set(reads.get() + 1);
            Timestamp::EPOCH
        };
        assert!(limiter.check(&tenant("free"), clock).is_ok());
        assert_eq!(reads.get(), 0);
        assert!(limiter.check(&tenant("a"), clock).is_ok());
        assert_eq!(reads.get(), 1);
    }
}
