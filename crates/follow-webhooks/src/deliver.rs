//! The deliverer: one consumer and one task per endpoint.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::{ExponentialBuilder, Retryable};
use follow_core::feed::ConsumerStart;
use follow_core::{Error, Event, FollowGraph, Principal};
use serde_json::json;

use crate::Secret;

/// One receiving endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its name: the consumer `webhook-<name>` keeps its position.
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// The signing secret.
    pub secret: Secret,
}

/// How deliveries are made and retried.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The longest a request may take before it counts as failed.
    pub request_timeout: Duration,
    /// The first retry's delay; each next one doubles, with jitter.
    pub min_delay: Duration,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
    /// Consecutive failed attempts after which an endpoint is disabled.
    pub max_failures: usize,
    /// Events read from the feed at a time.
    pub batch: u32,
    /// How long an idle endpoint waits before reading the feed again.
    pub poll_interval: Duration,
    /// Where a newly registered endpoint's consumer starts.
    pub start: ConsumerStart,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            request_timeout: Duration::from_secs(10),
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            max_failures: 10,
            batch: 100,
            poll_interval: Duration::from_secs(1),
            start: ConsumerStart::Oldest,
        }
    }
}

/// An endpoint's state, as the host sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointStatus {
    /// Events delivered and acknowledged by this process.
    pub delivered: u64,
    /// Failed attempts in a row.
    pub consecutive_failures: usize,
    /// Why the endpoint was stopped, once it was.
    pub disabled: Option<String>,
}

/// Whether a run goes on when the feed is drained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Return once every endpoint has caught up (or is disabled).
    Idle,
    /// Keep polling for ever.
    Forever,
}

/// Delivers one tenant's feed (the principal's) to its endpoints: each
/// endpoint reads its own consumer in order, with one request in flight,
/// and acknowledges an event only after a 2xx answer, so a crash between
/// the two delivers that one event again (at-least-once).
#[derive(Debug)]
pub struct Deliverer {
    graph: Arc<FollowGraph>,
    principal: Principal,
    endpoints: Vec<Endpoint>,
    settings: Settings,
    client: reqwest::Client,
    status: Vec<Arc<Mutex<EndpointStatus>>>,
}

impl Deliverer {
    /// A deliverer of `principal`'s tenant (which needs `read` and `admin`).
    ///
    /// # Errors
    /// `internal` when the HTTP client cannot be built.
    pub fn new(
        graph: Arc<FollowGraph>,
        principal: Principal,
        endpoints: Vec<Endpoint>,
        settings: Settings,
    ) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .build()
            .map_err(|e| Error::internal("cannot build the HTTP client").with_source(e))?;
        let status = endpoints.iter().map(|_| Arc::default()).collect();
        Ok(Deliverer {
            graph,
            principal,
            endpoints,
            settings,
            client,
            status,
        })
    }

    /// The consumer name of an endpoint.
    pub fn consumer_name(endpoint: &str) -> String {
        format!("webhook-{endpoint}")
    }

    /// Each endpoint's status, in configuration order.
    pub fn status(&self) -> Vec<(String, EndpointStatus)> {
        self.endpoints
            .iter()
            .zip(&self.status)
            .map(|(endpoint, status)| {
                let status = status.lock().map(|s| s.clone()).unwrap_or_default();
                (endpoint.name.clone(), status)
            })
            .collect()
    }

    /// Registers every endpoint's consumer and delivers until `until`.
    ///
    /// # Errors
    /// The first error of the feed itself (storage, `fell_behind`); a
    /// failing endpoint is disabled instead, the others go on.
    pub async fn run(&self, until: Until) -> Result<(), Error> {
        for endpoint in &self.endpoints {
            let name = Self::consumer_name(&endpoint.name);
            self.graph
                .register_consumer(&self.principal, &name, self.settings.start)
                .await?;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (endpoint, status) in self.endpoints.iter().zip(&self.status) {
            let worker = Worker {
                graph: self.graph.clone(),
                principal: self.principal.clone(),
                endpoint: endpoint.clone(),
                settings: self.settings.clone(),
                client: self.client.clone(),
                status: status.clone(),
            };
            tasks.spawn(async move { worker.run(until).await });
        }
        let mut first = Ok(());
        while let Some(done) = tasks.join_next().await {
            let outcome =
                done.map_err(|e| Error::internal("a delivery task failed").with_source(e));
            if first.is_ok() {
                first = outcome.and_then(|result| result);
            }
        }
        first
    }
}

struct Worker {
    graph: Arc<FollowGraph>,
    principal: Principal,
    endpoint: Endpoint,
    settings: Settings,
    client: reqwest::Client,
    status: Arc<Mutex<EndpointStatus>>,
}

impl Worker {
    fn update(&self, f: impl FnOnce(&mut EndpointStatus)) {
        if let Ok(mut status) = self.status.lock() {
            f(&mut status);
        }
    }

    async fn run(&self, until: Until) -> Result<(), Error> {
        let consumer = Deliverer::consumer_name(&self.endpoint.name);
        loop {
            let events = self
                .graph
                .consumer_events(&self.principal, &consumer, Some(self.settings.batch))
                .await?;
            if events.is_empty() {
                match until {
                    Until::Idle => return Ok(()),
                    Until::Forever => {
                        tokio::time::sleep(self.settings.poll_interval).await;
                        continue;
                    }
                }
            }
            for event in events {
                if let Err(reason) = self.deliver(&event).await {
                    self.update(|status| status.disabled = Some(reason));
                    return Ok(());
                }
                self.graph
                    .acknowledge(&self.principal, &consumer, event.position)
                    .await?;
                self.update(|status| status.delivered += 1);
            }
        }
    }

    /// POSTs one event until a 2xx answer, retrying with exponential
    /// backoff and jitter; `Err` with the last failure once
    /// `max_failures` attempts in a row failed.
    async fn deliver(&self, event: &Event) -> Result<(), String> {
        let body = payload(event);
        let id = message_id(event);
        let retries = self.settings.max_failures.saturating_sub(1);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.settings.min_delay)
            .with_max_delay(self.settings.max_delay)
            .with_jitter()
            .with_max_times(retries);
        let attempt = || async {
            let outcome = self.post(&id, &body).await;
            self.update(|status| match &outcome {
                Ok(()) => status.consecutive_failures = 0,
                Err(_) => status.consecutive_failures += 1,
            });
            outcome
        };
        attempt.retry(backoff).sleep(tokio::time::sleep).await
    }

    async fn post(&self, id: &str, body: &[u8]) -> Result<(), String> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let signature = self.endpoint.secret.sign(id, timestamp, body);
        let response = self
            .client
            .post(&self.endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!("{} timed out", self.endpoint.url)
                } else {
                    format!("{}: {e}", self.endpoint.url)
                }
            })?;
        let code = response.status();
        if code.is_success() {
            Ok(())
        } else {
            Err(format!("{} answered {code}", self.endpoint.url))
        }
    }
}

/// The `webhook-id` of an event: the same on every attempt, so a receiver
/// can drop a duplicate. Positions are unique within a store.
pub fn message_id(event: &Event) -> String {
    format!("follow_{}", event.position)
}

/// The JSON body of an event.
pub fn payload(event: &Event) -> Vec<u8> {
    let kind = serde_json::to_value(event.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let document = json!({
        "type": format!("follow.{kind}"),
        "timestamp": event.at.to_string(),
        "data": event,
    });
    document.to_string().into_bytes()
}
