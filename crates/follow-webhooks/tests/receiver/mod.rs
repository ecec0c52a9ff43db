//! A webhook receiver on 127.0.0.1 that fails, times out and answers
//! slowly at chosen requests, verifies every signature and records what
//! it got.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use follow_webhooks::Secret;

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the receiver does with the request of a given index.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Ok,
    Fail(u16),
    /// Sleep this long, then answer 200 (a timeout if longer than the
    /// deliverer waits).
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub body: serde_json::Value,
    pub signed: bool,
    pub answered: u16,
}

#[derive(Default)]
pub struct Inner {
    pub script: Mutex<Vec<Answer>>,
    /// Answer for requests past the script.
    pub otherwise: Mutex<Option<Answer>>,
    pub requests: Mutex<Vec<Received>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

impl Inner {
    /// Requests that were answered 2xx, in order of arrival.
    pub fn accepted(&self) -> Vec<Received> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .filter(|r| r.answered == 200)
            .cloned()
            .collect()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

/// Counts a request out when its handler ends, also when the server drops
/// it because the client went away.
struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _counted = InFlight(inner.clone());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap_or(0);
    let signed =
        Secret::parse(SECRET)
            .unwrap()
            .verify(&id, timestamp, &body, &header("webhook-signature"));
    let index = inner.count();
    let answer = {
        let script = inner.script.lock().unwrap();
        script
            .get(index)
            .copied()
            .or(*inner.otherwise.lock().unwrap())
            .unwrap_or(Answer::Ok)
    };
    let status = match answer {
        Answer::Ok => 200,
        Answer::Fail(code) => code,
        Answer::Slow(_) => 200,
    };
    inner.requests.lock().unwrap().push(Received {
        id,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        signed,
        answered: status,
    });
    if let Answer::Slow(delay) = answer {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).unwrap()
}

/// Starts a receiver; answers its URL and its state.
pub async fn start(script: Vec<Answer>, otherwise: Option<Answer>) -> (String, Arc<Inner>) {
    let inner = Arc::new(Inner::default());
    *inner.script.lock().unwrap() = script;
    *inner.otherwise.lock().unwrap() = otherwise;
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(inner.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/hook"), inner)
}
