//! Prometheus metrics in the text exposition format: requests and their
//! latency by route and status, failures by face and code. Hand-rolled:
//! three metric families do not justify an exporter crate.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::failure::FailureCode;
use crate::state::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Latency {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Route → method → status → latency. Nested so that a request already
/// seen is recorded by borrowed lookups, without allocating.
type Requests = HashMap<String, HashMap<String, BTreeMap<u16, Latency>>>;

#[derive(Debug, Default)]
struct Tables {
    requests: Requests,
    failures: BTreeMap<(&'static str, &'static str), u64>,
}

/// The counters of one process.
#[derive(Debug, Default)]
pub struct Metrics {
    tables: Mutex<Tables>,
}

impl Metrics {
    /// Records one finished request.
    pub fn record(
        &self,
        method: &str,
        route: &str,
        status: u16,
        elapsed: Duration,
        failure: Option<&'static str>,
    ) {
        let Ok(mut tables) = self.tables.lock() else {
            return;
        };
        let seconds = elapsed.as_secs_f64();
        if !tables.requests.contains_key(route) {
            tables.requests.insert(route.to_owned(), HashMap::new());
        }
        let methods = tables
            .requests
            .get_mut(route)
            .unwrap_or_else(|| unreachable!("inserted above"));
        if !methods.contains_key(method) {
            methods.insert(method.to_owned(), BTreeMap::new());
        }
        let latency = methods
            .get_mut(method)
            .unwrap_or_else(|| unreachable!("inserted above"))
            .entry(status)
            .or_default();
        latency.count += 1;
        latency.sum += seconds;
        for (bucket, bound) in latency.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        if let Some(code) = failure {
            *tables.failures.entry((face_of(route), code)).or_default() += 1;
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let Ok(tables) = self.tables.lock() else {
            return String::new();
        };
        let mut out = String::new();
        out.push_str("# HELP followd_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE followd_requests_total counter\n");
        let sorted: BTreeMap<(&str, &str, u16), &Latency> = tables
            .requests
            .iter()
            .flat_map(|(route, methods)| {
                methods.iter().flat_map(move |(method, statuses)| {
                    statuses.iter().map(move |(status, latency)| {
                        ((method.as_str(), route.as_str(), *status), latency)
                    })
                })
            })
            .collect();
        for ((method, route, status), latency) in &sorted {
            let _ = writeln!(
                out,
                "followd_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                latency.count
            );
        }
        out.push_str("# HELP followd_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE followd_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(&str, &str), Latency> = BTreeMap::new();
        for ((method, route, _), latency) in &sorted {
            let total = by_route.entry((*method, *route)).or_default();
            total.count += latency.count;
            total.sum += latency.sum;
            for (sum, add) in total.buckets.iter_mut().zip(latency.buckets) {
                *sum += add;
            }
        }
        for ((method, route), latency) in by_route {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (bound, count) in BUCKETS.iter().zip(latency.buckets) {
                let _ = writeln!(
                    out,
                    "followd_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "followd_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                latency.count
            );
            let _ = writeln!(
                out,
                "followd_request_duration_seconds_sum{{{labels}}} {}",
                latency.sum
            );
            let _ = writeln!(
                out,
                "followd_request_duration_seconds_count{{{labels}}} {}",
                latency.count
            );
        }
        out.push_str("# HELP followd_errors_total Failed requests by face and error code.\n");
        out.push_str("# TYPE followd_errors_total counter\n");
        for ((face, code), count) in &tables.failures {
            let _ = writeln!(
                out,
                "followd_errors_total{{face=\"{face}\",code=\"{code}\"}} {count}"
            );
        }
        out
    }
}

fn face_of(route: &str) -> &'static str {
    if route.starts_with("/api/") {
        "gateway"
    } else if route.starts_with("/v4/") {
        "tencent"
    } else if route.starts_with("/v2/") {
        "channels"
    } else {
        "service"
    }
}

/// Middleware: one log line and one metrics sample per request. The route
/// is the matched pattern, never the raw path (which may hold ids), and the
/// query string (which may hold credentials) is never logged.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let failure = response
        .extensions()
        .get::<FailureCode>()
        .map(|code| code.0);
    tracing::info!(
        method = %method,
        route = %route,
        status,
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        error = failure.unwrap_or(""),
        "request"
    );
    state
        .metrics
        .record(method.as_str(), route, status, elapsed, failure);
    response
}
