//! A PostgreSQL server for tests and benchmarks, provisioned by the tests
//! themselves.
//!
//! [`TestServer::shared`] answers the server named by
//! `FOLLOW_TEST_POSTGRES_URL` if set; otherwise it starts a throwaway
//! cluster once per process from the PostgreSQL binaries on the machine
//! (`/usr/lib/postgresql/*/bin`, or `FOLLOW_PG_BIN`): `initdb` and `pg_ctl`
//! in a temporary directory, as the `postgres` user when running as root,
//! listening on a free loopback port. A watchdog process stops the cluster
//! and deletes its directory once this process has exited, however it
//! exits; a cluster left behind by a killed run is stopped by the next one.
//!
//! [`isolated_store`] opens a fresh, empty store in a schema of its own, so
//! every test case has its own graph on the shared server;
//! [`recycle_isolated`] empties that schema for the next one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{Layout, OpenError, PostgresOptions, PostgresStore};

/// The environment variable naming an existing server to test against.
pub const URL_VARIABLE: &str = "FOLLOW_TEST_POSTGRES_URL";

/// How to get a server when none is found.
pub const HOW_TO_RUN: &str = "PostgreSQL tests need a server: install PostgreSQL \
(`bash scripts/setup/postgres.sh`, or `apt-get install -y postgresql`) so the tests can start \
a throwaway cluster, or set FOLLOW_TEST_POSTGRES_URL=postgres://user@host/db to use an existing \
database (each test case then creates a schema of its own in it)";

/// A server the tests connect to.
#[derive(Debug)]
pub struct TestServer {
    url: String,
    cluster: Option<Cluster>,
}

/// A throwaway cluster this process started.
#[derive(Debug)]
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    /// Whether `fsync` stays on.
    durable: bool,
}

static SHARED: OnceLock<Result<TestServer, String>> = OnceLock::new();

impl TestServer {
    /// The server of this process: the one `FOLLOW_TEST_POSTGRES_URL` names,
    /// or a throwaway cluster started on first use.
    ///
    /// # Errors
    /// No URL and no PostgreSQL binaries, or the cluster failed to start;
    /// the message says how to run the tests.
    pub fn shared() -> Result<&'static TestServer, String> {
        SHARED
            .get_or_init(|| match std::env::var(URL_VARIABLE) {
                Ok(url) if !url.is_empty() => Ok(TestServer { url, cluster: None }),
                _ => TestServer::start_local(),
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A throwaway cluster of this caller's own (for tests that stop and
    /// restart the server), whatever `FOLLOW_TEST_POSTGRES_URL` says.
    ///
    /// # Errors
    /// No PostgreSQL binaries, or the cluster failed to start.
    pub fn start_local() -> Result<TestServer, String> {
        TestServer::start_cluster(false)
    }

    /// A throwaway cluster with PostgreSQL's default durability (`fsync`
    /// on): for benchmarks, whose commits must cost what they cost.
    ///
    /// # Errors
    /// No PostgreSQL binaries, or the cluster failed to start.
    pub fn start_durable() -> Result<TestServer, String> {
        TestServer::start_cluster(true)
    }

    fn start_cluster(durable: bool) -> Result<TestServer, String> {
        let bin = find_binaries().ok_or_else(|| HOW_TO_RUN.to_owned())?;
        stop_abandoned_clusters();
        let as_postgres = running_as_root();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "follow-pg-{}-{stamp}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir))?;
        }
        let port = free_port()?;
        let cluster = Cluster {
            dir,
            bin,
            port,
            as_postgres,
            durable,
        };
        cluster.init()?;
        cluster.start()?;
        cluster.watch(std::process::id())?;
        Ok(TestServer {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            cluster: Some(cluster),
        })
    }

    /// The server's URL (a superuser on the throwaway cluster).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The port of a throwaway cluster.
    pub fn port(&self) -> Option<u16> {
        self.cluster.as_ref().map(|c| c.port)
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m
    /// immediate`). Only for a throwaway cluster.
    ///
    /// # Errors
    /// A server not started here, or `pg_ctl` failing.
    pub fn stop_immediately(&self) -> Result<(), String> {
        self.local()?.stop("immediate")
    }

    /// Starts the stopped server again. Only for a throwaway cluster.
    ///
    /// # Errors
    /// A server not started here, or `pg_ctl` failing.
    pub fn restart(&self) -> Result<(), String> {
        self.local()?.start()
    }

    fn local(&self) -> Result<&Cluster, String> {
        self.cluster
            .as_ref()
            .ok_or_else(|| format!("{} names a server this test did not start", self.url))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(cluster) = &self.cluster {
            let _ = cluster.stop("fast");
            let _ = std::fs::remove_dir_all(&cluster.dir);
        }
    }
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn init(&self) -> Result<(), String> {
        run(self.command("initdb").arg("-D").arg(self.data()).args([
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]))
    }

    fn start(&self) -> Result<(), String> {
        // fsync off: these clusters are thrown away, and a stopped server
        // (even `-m immediate`) loses nothing committed without it; only an
        // OS crash would.
        let fast = if self.durable {
            ""
        } else {
            " -c fsync=off -c full_page_writes=off"
        };
        let settings = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 \
             -c shared_buffers=128MB{fast}",
            self.port,
            self.dir.display()
        );
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &settings, "start"]))
    }

    fn stop(&self, mode: &str) -> Result<(), String> {
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-m", mode, "stop"]))
    }

    /// A detached shell that stops the cluster once process `pid` is gone:
    /// statics are never dropped, and a test binary may be killed.
    fn watch(&self, pid: u32) -> Result<(), String> {
        let stop = self.stop_script();
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 0.5; done; {stop}; rm -rf '{}'",
            self.dir.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("starting the cluster's watchdog: {e}"))
    }

    fn stop_script(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        let runner = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        format!(
            "{runner}'{}' -D '{}' -m fast -w stop >/dev/null 2>&1",
            pg_ctl.display(),
            self.data().display()
        )
    }
}

/// Emptied schemas of each layout, ready for the next [`isolated_store`]:
/// creating a schema (and dropping one) costs far more than emptying it.
static CLEAN: Mutex<Vec<(Layout, String)>> = Mutex::new(Vec::new());

/// The layout of every schema [`isolated_store`] made.
static LAYOUTS: Mutex<BTreeMap<String, Layout>> = Mutex::new(BTreeMap::new());

/// How long a test's write waits for its events to become readable when
/// its options leave [`PostgresOptions::event_visibility_wait`] at zero:
/// the tests read what they wrote at once, while other tests on the same
/// server hold older transactions (a schema's migration takes 100–220 ms).
pub const TEST_VISIBILITY_WAIT: Duration = Duration::from_secs(20);

/// Opens a fresh, empty store on the shared server, in a schema no other
/// open store uses (a new one, or one [`recycle_isolated`] emptied), its
/// writes waiting up to [`TEST_VISIBILITY_WAIT`] for their events unless
/// the options set a wait.
///
/// # Errors
/// No server (see [`TestServer::shared`]), or opening failed.
pub async fn isolated_store(options: PostgresOptions) -> Result<PostgresStore, String> {
    let server = TestServer::shared()?;
    let reused = {
        let mut clean = CLEAN.lock().map_err(|e| e.to_string())?;
        let at = clean
            .iter()
            .position(|(layout, _)| *layout == options.layout);
        at.map(|at| clean.swap_remove(at).1)
    };
    let schema = reused.unwrap_or_else(fresh_schema_name);
    LAYOUTS
        .lock()
        .map_err(|e| e.to_string())?
        .insert(schema.clone(), options.layout);
    let event_visibility_wait = if options.event_visibility_wait.is_zero() {
        TEST_VISIBILITY_WAIT
    } else {
        options.event_visibility_wait
    };
    PostgresStore::connect_with(
        server.url(),
        PostgresOptions {
            schema: Some(schema),
            event_visibility_wait,
            ..options
        },
    )
    .await
    .map_err(|e| e.to_string())
}

/// Opens a fresh, empty store on `server`, in a new schema of its own.
///
/// # Errors
/// Opening failed.
pub async fn isolated_store_on(
    server: &TestServer,
    options: PostgresOptions,
) -> Result<PostgresStore, OpenError> {
    PostgresStore::connect_with(
        server.url(),
        PostgresOptions {
            schema: Some(fresh_schema_name()),
            ..options
        },
    )
    .await
}

/// Creates `schema` on `server` at schema version `version` (at most
/// [`crate::SCHEMA_VERSION`]), running the migrations up to it exactly as a
/// store of that version did: an old database for migration tests to fill
/// with data and open.
///
/// # Errors
/// The server refused, or the schema exists at a newer version.
pub async fn create_at_version(
    server: &TestServer,
    schema: &str,
    layout: Layout,
    version: i32,
) -> Result<(), String> {
    if !crate::schema::valid_schema_name(schema) {
        return Err(format!("invalid schema name {schema:?}"));
    }
    let mut config: tokio_postgres::Config = server.url().parse().map_err(|e| format!("{e}"))?;
    config.options(format!("-c search_path={schema}"));
    let (mut client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let migrated = crate::schema::migrate(
        &mut client,
        Some(schema),
        layout,
        true,
        version,
        server.url(),
    )
    .await
    .map_err(|e| e.to_string());
    drop(client);
    let _ = driver.await;
    migrated.map(drop)
}

/// A schema name no other store of any test process uses.
pub fn fresh_schema_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!(
        "follow_test_{}_{}_{}",
        std::process::id(),
        stamp % 1_000_000_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Empties the schema of a store [`isolated_store`] made (named in its
/// `Display`, `...?schema=NAME`), clock included, and keeps it for the next
/// [`isolated_store`] of the same layout. Call it once no other handle to
/// the store is left. A store without such a schema is left alone.
///
/// # Errors
/// No server, or the server refused.
pub async fn recycle_isolated(store: &(dyn std::fmt::Display + Sync)) -> Result<(), String> {
    let shown = store.to_string();
    let Some((_, schema)) = shown.split_once("?schema=") else {
        return Ok(());
    };
    let Some(layout) = LAYOUTS
        .lock()
        .map_err(|e| e.to_string())?
        .get(schema)
        .copied()
    else {
        return Ok(());
    };
    let server = TestServer::shared()?;
    let (client, connection) = tokio_postgres::connect(server.url(), tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let emptied = client
        .batch_execute(&format!(
            "BEGIN;
             DELETE FROM {schema}.follow_edges;
             DELETE FROM {schema}.follow_links;
             DELETE FROM {schema}.follow_nodes;
             DELETE FROM {schema}.follow_node_deltas;
             DELETE FROM {schema}.follow_events;
             DELETE FROM {schema}.follow_consumers;
             DELETE FROM {schema}.follow_pruned;
             UPDATE {schema}.follow_cursor_secret SET secret = uuid_send(gen_random_uuid());
             COMMIT;"
        ))
        .await
        .map_err(|e| e.to_string());
    drop(client);
    let _ = driver.await;
    emptied?;
    CLEAN
        .lock()
        .map_err(|e| e.to_string())?
        .push((layout, schema.to_owned()));
    Ok(())
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The directory of `initdb` and `pg_ctl`: `FOLLOW_PG_BIN`, else the newest
/// `/usr/lib/postgresql/N/bin`, else `pg_config --bindir`.
fn find_binaries() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("FOLLOW_PG_BIN").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    (output.status.success() && has_tools(&dir)).then_some(dir)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// Stops clusters whose test process is gone (killed before its watchdog
/// could act, or the watchdog itself killed).
fn stop_abandoned_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("follow-pg-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next() else {
            continue;
        };
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        let data = entry.path().join("data");
        if data.join("postmaster.pid").exists()
            && let Some(bin) = find_binaries()
        {
            let cluster = Cluster {
                dir: entry.path(),
                bin,
                port: 0,
                as_postgres: running_as_root(),
                durable: false,
            };
            let _ = cluster.stop("immediate");
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// Opens a transaction on `client` that stands as a writer of a store
/// would, from its load to its end: it holds a transaction id and the
/// advisory lock keyed by it that later writes wait on for their events to
/// become readable. With `as_writer` false it only holds the id, as a
/// transaction of some other program on the server would. End it with
/// `COMMIT` or `ROLLBACK`.
///
/// # Errors
/// The server refused.
pub async fn begin_older_transaction(
    client: &tokio_postgres::Client,
    as_writer: bool,
) -> Result<(), String> {
    let take = if as_writer {
        format!(
            "SELECT pg_advisory_xact_lock(pg_current_xact_id()::text::bigint # {})",
            crate::positions::WRITER_LOCK_BITS
        )
    } else {
        "SELECT pg_current_xact_id()".to_owned()
    };
    client
        .batch_execute(&format!("BEGIN; {take};"))
        .await
        .map_err(|e| e.to_string())
}
