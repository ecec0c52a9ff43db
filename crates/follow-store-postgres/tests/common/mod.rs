//! Helpers of the PostgreSQL tests: a facade over a fresh store, and a
//! loopback proxy that counts round trips and collects the server's notices.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use follow_core::{
    AccountId, Capabilities, Command, FollowGraph, ManualClock, NodeId, OptionsUpdate, Principal,
    TenantId, Timestamp, WriteBatch,
};
use follow_store_postgres::testing::{TestServer, fresh_schema_name};
use follow_store_postgres::{PostgresOptions, PostgresStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The server of this test binary, or a failure that says how to get one.
pub fn server() -> &'static TestServer {
    TestServer::shared().unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh store on the shared server.
pub async fn store(options: PostgresOptions) -> PostgresStore {
    follow_store_postgres::testing::isolated_store(options)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A second store (another pool, as another process would have) on the
/// schema of `store`, its writes waiting for their events as
/// `isolated_store`'s do.
pub async fn same_schema(store: &PostgresStore, options: PostgresOptions) -> PostgresStore {
    PostgresStore::connect_with(
        server().url(),
        PostgresOptions {
            schema: store.options().schema.clone(),
            event_visibility_wait: options
                .event_visibility_wait
                .max(follow_store_postgres::testing::TEST_VISIBILITY_WAIT),
            ..options
        },
    )
    .await
    .unwrap()
}

/// The tenant the tests write.
pub fn tenant() -> TenantId {
    TenantId::new("acme").unwrap()
}

/// The time the tests' batches carry.
pub fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000).unwrap()
}

/// A batch in which `actor` (required to be registered) follows each of
/// `targets`.
pub fn follow_batch(actor: &str, targets: &[String]) -> WriteBatch {
    let mut batch = WriteBatch::new(tenant(), now()).requiring(NodeId::new(actor).unwrap());
    for target in targets {
        batch = batch.command(Command::Follow {
            follower: AccountId::new(actor).unwrap(),
            target: NodeId::new(target).unwrap(),
            since: None,
            options: OptionsUpdate::NONE,
        });
    }
    batch
}

/// A facade over `store` with a manual clock, and an all-capable principal.
pub fn graph(store: Arc<PostgresStore>) -> (FollowGraph, Principal) {
    let clock = Arc::new(ManualClock::new(
        Timestamp::from_unix_seconds(1_800_000_000).unwrap(),
    ));
    let graph = FollowGraph::builder(store).clock(clock).build();
    let principal = Principal::new(TenantId::new("acme").unwrap(), Capabilities::ALL);
    (graph, principal)
}

/// A fresh schema name, for stores opened by hand.
pub fn schema() -> String {
    fresh_schema_name()
}

/// What the proxy saw.
#[derive(Default)]
struct Seen {
    /// Client sends that followed a server reply: round trips.
    turns: AtomicU64,
    /// Whether the server spoke last.
    server_spoke: AtomicBool,
    /// The message text of every NoticeResponse from the server.
    notices: Mutex<Vec<String>>,
}

/// A TCP proxy in front of the server. A round trip is counted each time
/// the client sends after the server has answered: statements pipelined in
/// one send count once, as they cost one network round trip.
pub struct Proxy {
    port: u16,
    config: tokio_postgres::Config,
    seen: Arc<Seen>,
}

impl Proxy {
    /// Starts a proxy to the shared server on the current runtime.
    pub async fn start() -> Proxy {
        let config: tokio_postgres::Config = server().url().parse().unwrap();
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => panic!("the proxy needs a server on TCP"),
        };
        let upstream = (host, config.get_ports().first().copied().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        seen.server_spoke.store(true, Ordering::SeqCst);
        let shared = seen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(upstream.clone()).await.unwrap();
                tokio::spawn(relay(client, server, shared.clone()));
            }
        });
        Proxy { port, config, seen }
    }

    /// The server's client settings, pointed at the proxy, with extra
    /// server settings (`-c k=v ...`).
    pub fn config(&self, settings: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config.host("127.0.0.1").port(self.port).options(settings);
        if let Some(user) = self.config.get_user() {
            config.user(user);
        }
        if let Some(password) = self.config.get_password() {
            config.password(password);
        }
        if let Some(dbname) = self.config.get_dbname() {
            config.dbname(dbname);
        }
        config
    }

    /// A store on a fresh schema through this proxy, on one connection, so
    /// that its exchanges are the ones counted.
    pub async fn store(&self, event_visibility_wait: std::time::Duration) -> PostgresStore {
        PostgresStore::connect_config(
            self.config(""),
            PostgresOptions {
                schema: Some(schema()),
                max_connections: 1,
                event_visibility_wait,
                ..PostgresOptions::default()
            },
        )
        .await
        .unwrap()
    }

    /// Round trips since the last call.
    pub fn take_round_trips(&self) -> u64 {
        self.seen.turns.swap(0, Ordering::SeqCst)
    }

    /// Notices since the last call.
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.notices.lock().unwrap())
    }
}

async fn relay(client: TcpStream, server: TcpStream, seen: Arc<Seen>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up_seen = seen.clone();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if up_seen.server_spoke.swap(false, Ordering::SeqCst) {
                up_seen.turns.fetch_add(1, Ordering::SeqCst);
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            collect_notices(&mut pending, &seen);
            seen.server_spoke.store(true, Ordering::SeqCst);
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = client_write.shutdown().await;
    };
    tokio::join!(up, down);
}

/// Splits whole backend messages (type byte, length, body) off `pending`
/// and keeps the text of each NoticeResponse.
fn collect_notices(pending: &mut Vec<u8>, seen: &Seen) {
    let mut at = 0;
    while pending.len() >= at + 5 {
        let tag = pending[at];
        let len = u32::from_be_bytes(pending[at + 1..at + 5].try_into().unwrap()) as usize;
        if pending.len() < at + 1 + len {
            break;
        }
        if tag == b'N' {
            let body = &pending[at + 5..at + 1 + len];
            for field in body.split(|b| *b == 0) {
                if let Some((b'M', text)) = field.split_first() {
                    seen.notices
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(text).into_owned());
                }
            }
        }
        at += 1 + len;
    }
    pending.drain(..at);
}

/// A plain client on the schema of `store`, for reaching around it.
pub async fn raw_client(store: &PostgresStore) -> tokio_postgres::Client {
    raw_client_on(&store.options().schema.clone().unwrap()).await
}

/// A plain client on `schema`.
pub async fn raw_client_on(schema: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(server().url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path = {schema}"))
        .await
        .unwrap();
    client
}
