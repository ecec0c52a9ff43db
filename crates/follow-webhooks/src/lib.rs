//! # follow-webhooks
//!
//! Delivers a tenant's change feed to HTTP endpoints, signed the Standard
//! Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the
//! endpoint's `whsec_` secret).
//!
//! Each endpoint reads its own feed consumer (`webhook-<name>`), in order,
//! one request in flight; an event is acknowledged only after a 2xx answer,
//! and retried with exponential backoff and jitter until then. After a
//! configured number of failed attempts in a row the endpoint is stopped,
//! its reason kept in [`Deliverer::status`], and its position left at the
//! last event it took, so nothing is skipped when it is started again.
//!
//! ```
//! use follow_webhooks::Secret;
//!
//! let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
//! assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
//! # Ok::<(), follow_core::Error>(())
//! ```
//!
//! A host runs a [`Deliverer`] next to its graph, or the
//! `follow-webhooks` binary over a SQLite file.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod deliver;
mod signature;

pub use deliver::{Deliverer, Endpoint, EndpointStatus, Settings, Until, message_id, payload};
pub use signature::Secret;
