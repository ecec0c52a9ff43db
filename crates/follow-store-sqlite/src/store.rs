//! The store: opening, its threads, and the [`FollowStore`] implementation.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, TryLockError};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use crossbeam_channel::Sender;
use follow_core::{
    AccountId, CommandResult, Error, ErrorKind, Event, EventPosition, FollowStore, Link, LinkEntry,
    LinkKey, LinkQuery, ListEntry, ListQuery, NodeId, NodeRecord, PairFacts, StaleEntry,
    StaleQuery, TenantId, WriteBatch,
};
use futures::channel::oneshot;
use rusqlite::{Connection, OpenFlags};

use crate::error::{OpenError, closed};
use crate::verify::{RepairReport, VerifyReport};
use crate::writer::{Job, WriterJob};
use crate::{feed, links, queries, schema, verify, writer};
use follow_core::Timestamp;
use follow_core::feed::{ConsumerName, ConsumerState, FeedState, PruneStep};

/// How durable an acknowledged write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous = NORMAL`: an acknowledged write survives a crash of the
    /// process, but the last commits may be lost on power loss or an OS
    /// crash. Fewer fsyncs.
    Normal,
    /// `synchronous = FULL`: an acknowledged write survives power loss.
    #[default]
    Full,
}

/// Options of [`SqliteStore::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Durability of acknowledged writes (default [`Durability::Full`]).
    pub synchronous: Durability,
    /// Reader connections, each on its own thread (default 4, at least 1).
    /// An in-memory store reads on its writer connection instead.
    pub readers: usize,
    /// How long a connection waits on a lock held by another process before
    /// giving up with `unavailable` (default 30 s).
    pub busy_timeout: Duration,
    /// The most queued jobs committed in one group (default 512).
    pub max_group: usize,
    /// Extra reader connections on which point reads (`node`, and `pairs`
    /// and `links_between` of at most 4 others) run on the caller's thread,
    /// saving the hop to a reader thread (default 4; 0 sends every read to
    /// the reader threads).
    /// A read never waits for one: when none is free, or the database is
    /// busy, it goes to the reader threads. Ignored in memory.
    pub inline_readers: usize,
    /// A testing aid: every batch's commit fails with `unavailable` after
    /// writing this many rows of its change set, to prove that a failed
    /// commit leaves nothing behind (default `None`: never).
    pub fail_commits_after: Option<usize>,
    /// The edge rows a batch must write before it may build the edge
    /// table's secondary indexes in bulk rather than entry by entry
    /// (default 10,000; `usize::MAX` never does). A batch takes that path
    /// only when it also writes at least as many edge rows as the table
    /// holds for all tenants, such as the first calls of an import into a
    /// new file; it writes the same rows either way.
    pub rebuild_indexes_from: usize,
}

/// The most others a `pairs` or `links_between` read may ask about and
/// still run on the caller's thread: each other costs up to three index
/// seeks for `pairs`, and one (the subject's link count) or six (a probe of
/// the link each way per kind) for `links_between`.
pub(crate) const INLINE_PAIRS: usize = 4;

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Durability::Full,
            readers: 4,
            busy_timeout: Duration::from_secs(30),
            max_group: 512,
            inline_readers: 4,
            fail_commits_after: None,
            rebuild_indexes_from: crate::rebuild::DEFAULT_REBUILD_FROM,
        }
    }
}

/// Which of a database's files were there before an open: a refused open
/// removes the ones it created (SQLite makes `-wal` and `-shm` files for a
/// WAL-mode database even to read it, and cannot remove them from a
/// read-only connection), so it leaves the directory as it found it.
struct Sidecars(Vec<(PathBuf, bool)>);

impl Sidecars {
    fn note(path: &Path) -> Self {
        let files = ["", "-wal", "-shm", "-journal"].map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = PathBuf::from(name);
            let existed = file.exists();
            (file, existed)
        });
        Sidecars(files.into())
    }

    /// Removes the files that did not exist when [`Sidecars::note`] ran.
    /// They hold nothing: the open that made them failed before writing.
    fn remove_new(&self) {
        for (file, existed) in &self.0 {
            if !existed {
                let _ = std::fs::remove_file(file);
            }
        }
    }
}

/// Where a store lives.
#[derive(Debug, Clone)]
enum Location {
    Memory,
    File(PathBuf),
}

/// The follow graph's storage in one SQLite database.
///
/// Dropping the store finishes the queued work, closes its connections and
/// joins its threads.
pub struct SqliteStore {
    location: Location,
    /// Read from the file when it opens ([`FollowStore::cursor_secret`]).
    cursor_secret: [u8; 16],
    writer: Option<Sender<WriterJob>>,
    readers: Option<Sender<Job>>,
    /// Connections for reads on the caller's thread, empty in memory.
    inline: Vec<Mutex<Connection>>,
    threads: Vec<JoinHandle<()>>,
}

pub(crate) fn configure(
    conn: &Connection,
    path: &Path,
    options: &SqliteOptions,
) -> Result<(), OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    conn.busy_timeout(options.busy_timeout).map_err(sqlite)?;
    conn.set_prepared_statement_cache_capacity(64);
    // Every statement keeps the plan it was prepared with. Otherwise SQLite
    // plans a statement again whenever a value bound to it changes, if it
    // judges that the plan may depend on that value: the write path's loads
    // (`FROM (VALUES …) CROSS JOIN nodes`) are such statements, and a kept
    // plan saves planning them again on every write. No statement
    // here has a plan that a value should change: none uses LIKE, and no
    // statistics are gathered.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(sqlite)?;
    let sync = match options.synchronous {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    // temp_store = MEMORY keeps a group's savepoint journals off disk.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;"
    ))
    .map_err(sqlite)
}

/// The writer's page cache, in KiB. SQLite's default (2 MiB) is far smaller
/// than the indexes a write touches at random: on a one-million-edge graph a
/// bulk import spent about a third of its time spilling and re-reading pages
/// (`pagerStress`, `readDbPage`); 128 MiB took it from 53 s to 40 s.
const WRITER_CACHE_KIB: u32 = 128 * 1024;

fn configure_writer(conn: &Connection, path: &Path) -> Result<(), OpenError> {
    // Room for the write path's multi-row statements besides the others.
    conn.set_prepared_statement_cache_capacity(64 + crate::multirow::STATEMENTS);
    conn.execute_batch(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB};"))
        .map_err(|source| OpenError::Sqlite {
            path: path.to_owned(),
            source,
        })
}

fn spawn(
    name: &str,
    path: &Path,
    body: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, OpenError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map_err(|source| OpenError::Io {
            path: path.to_owned(),
            source,
        })
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` with default options.
    ///
    /// An absent or empty (0-byte) file becomes a new database.
    ///
    /// # Errors
    /// See [`SqliteStore::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens (or creates) the database at `path`.
    ///
    /// # Errors
    /// A typed [`OpenError`] for a file that is not a database, is damaged,
    /// has a newer schema, or belongs to another application; the file is
    /// then left byte-identical.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, OpenError> {
        let path = path.as_ref().to_owned();
        let found = Sidecars::note(&path);
        // Every connection of a failed open is closed when `open_file`
        // returns; only then may what they left behind go.
        Self::open_file(path, options).inspect_err(|_| found.remove_new())
    }

    fn open_file(path: PathBuf, options: SqliteOptions) -> Result<Self, OpenError> {
        schema::inspect_file(&path)?;
        let sqlite = |source| OpenError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(sqlite)?;
        configure(&conn, &path, &options)?;
        configure_writer(&conn, &path)?;
        schema::check_connection(&conn, &path)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .map_err(sqlite)?;
        schema::migrate(&mut conn).map_err(sqlite)?;
        schema::check_connection(&conn, &path)?;
        let cursor_secret = schema::cursor_secret(&conn, &path)?;

        let open_reader = || -> Result<Connection, OpenError> {
            let reader = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sqlite)?;
            configure(&reader, &path, &options)?;
            reader
                .execute_batch("PRAGMA query_only = ON")
                .map_err(sqlite)?;
            Ok(reader)
        };
        let mut readers = Vec::new();
        for _ in 0..options.readers.max(1) {
            readers.push(open_reader()?);
        }
        let mut inline = Vec::new();
        for _ in 0..options.inline_readers {
            let conn = open_reader()?;
            // A busy database sends the read to a reader thread instead of
            // making the caller's thread wait.
            conn.busy_timeout(Duration::ZERO).map_err(sqlite)?;
            inline.push(Mutex::new(conn));
        }
        let (read_tx, read_rx) = crossbeam_channel::unbounded::<Job>();
        let mut store = Self::start(Location::File(path.clone()), conn, cursor_secret, &options)?;
        for (i, mut conn) in readers.into_iter().enumerate() {
            let jobs = read_rx.clone();
            store.threads.push(spawn(
                &format!("follow-sqlite-reader-{i}"),
                &path,
                move || {
                    while let Ok(job) = jobs.recv() {
                        job(&mut conn);
                    }
                },
            )?);
        }
        store.readers = Some(read_tx);
        store.inline = inline;
        Ok(store)
    }

    /// A new, empty database in memory, gone when the store is dropped.
    /// Reads run on the writer's connection, between groups.
    ///
    /// # Errors
    /// Only if SQLite or a thread cannot start.
    pub fn open_in_memory() -> Result<Self, OpenError> {
        Self::open_in_memory_with(SqliteOptions::default())
    }

    /// [`SqliteStore::open_in_memory`] with options (`readers` is ignored).
    ///
    /// # Errors
    /// Only if SQLite or a thread cannot start.
    pub fn open_in_memory_with(options: SqliteOptions) -> Result<Self, OpenError> {
        let path = PathBuf::from(":memory:");
        let sqlite = |source| OpenError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open_in_memory().map_err(sqlite)?;
        configure(&conn, &path, &options)?;
        configure_writer(&conn, &path)?;
        schema::migrate(&mut conn).map_err(sqlite)?;
        let cursor_secret = schema::cursor_secret(&conn, &path)?;
        Self::start(Location::Memory, conn, cursor_secret, &options)
    }

    fn start(
        location: Location,
        conn: Connection,
        cursor_secret: [u8; 16],
        options: &SqliteOptions,
    ) -> Result<Self, OpenError> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let settings = writer::Settings {
            max_group: options.max_group,
            fail_after: options.fail_commits_after,
            normal_cache_kib: WRITER_CACHE_KIB,
            rebuild_from: options.rebuild_indexes_from,
        };
        let path = match &location {
            Location::File(p) => p.clone(),
            Location::Memory => PathBuf::from(":memory:"),
        };
        let thread = spawn("follow-sqlite-writer", &path, move || {
            writer::run(conn, rx, settings);
        })?;
        Ok(SqliteStore {
            location,
            cursor_secret,
            writer: Some(tx),
            readers: None,
            inline: Vec::new(),
            threads: vec![thread],
        })
    }

    /// The database file, `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Location::File(p) => Some(p),
            Location::Memory => None,
        }
    }

    /// Runs `f` on a reader connection (the writer's, in memory).
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        match &self.readers {
            Some(readers) => readers.send(job).map_err(|_| closed())?,
            None => self.exclusive(job)?,
        }
        rx.await.map_err(|_| closed())?
    }

    /// Runs a bounded point read on an idle pooled connection, on the
    /// caller's thread. `None` when it should go to a reader thread instead:
    /// no pool (in memory, or `inline_readers: 0`), no idle connection, or
    /// the database answered busy or locked (`unavailable`), which a reader
    /// thread may wait out under `busy_timeout` without holding up the
    /// caller's runtime.
    ///
    /// The first free connection is taken, so under light load one
    /// connection serves every read and keeps its page cache warm.
    fn inline<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error>,
    ) -> Option<Result<T, Error>> {
        let conn = self.inline.iter().find_map(|slot| match slot.try_lock() {
            Ok(conn) => Some(conn),
            // A read that panicked left its statements reset on unwinding,
            // so the connection is still good.
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        })?;
        match f(&conn) {
            Err(e) if e.kind() == ErrorKind::Unavailable => None,
            out => Some(out),
        }
    }

    /// Runs `f` on the writer connection between write groups.
    async fn on_writer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.exclusive(Box::new(move |conn| {
            let _ = tx.send(f(conn));
        }))?;
        rx.await.map_err(|_| closed())?
    }

    fn exclusive(&self, job: Job) -> Result<(), Error> {
        self.writer
            .as_ref()
            .ok_or_else(closed)?
            .send(WriterJob::Exclusive(job))
            .map_err(|_| closed())
    }

    /// Recomputes every count from the edges and compares, looks for edges
    /// with an unregistered end, and runs `PRAGMA integrity_check`, all in
    /// one snapshot.
    ///
    /// # Errors
    /// A storage failure (`unavailable` or `internal`).
    pub async fn verify(&self) -> Result<VerifyReport, Error> {
        self.read(|conn| verify::verify(conn, None)).await
    }

    /// [`SqliteStore::verify`] for one tenant: the integrity check covers
    /// the whole file, the rest only `tenant`'s nodes and edges.
    ///
    /// # Errors
    /// A storage failure (`unavailable` or `internal`).
    pub async fn verify_tenant(&self, tenant: &TenantId) -> Result<VerifyReport, Error> {
        let tenant = tenant.clone();
        self.read(move |conn| verify::verify(conn, Some(tenant.as_str())))
            .await
    }

    /// Rewrites every count that disagrees with the edges, in one write
    /// transaction on the writer, and reports what it changed.
    ///
    /// # Errors
    /// A storage failure (`unavailable` or `internal`).
    pub async fn repair(&self) -> Result<RepairReport, Error> {
        self.repair_in(None).await
    }

    /// [`SqliteStore::repair`] of one tenant's counts and marks only.
    ///
    /// # Errors
    /// A storage failure (`unavailable` or `internal`).
    pub async fn repair_tenant(&self, tenant: &TenantId) -> Result<RepairReport, Error> {
        self.repair_in(Some(tenant.clone())).await
    }

    async fn repair_in(&self, tenant: Option<TenantId>) -> Result<RepairReport, Error> {
        let (tx, rx) = oneshot::channel();
        self.exclusive(Box::new(move |conn| {
            let _ = tx.send(verify::repair(conn, tenant.as_ref().map(TenantId::as_str)));
        }))?;
        rx.await.map_err(|_| closed())?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Every reader (pooled ones too) closes before the writer, and none
        // while it closes: SQLite checkpoints the WAL into the main file and
        // removes it only in a connection that closes while no other is
        // open, so two closing at once may both skip it and leave the WAL
        // behind. No inline read is running here (they borrow the store), so
        // every pooled connection is unlocked and closes right now.
        self.inline.clear();
        self.readers.take();
        let mut threads = self.threads.drain(..);
        let writer = threads.next();
        for reader in threads {
            // A panicked thread has nothing left to finish.
            let _ = reader.join();
        }
        self.writer.take();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

impl fmt::Display for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::Memory => f.write_str("sqlite::memory:"),
            Location::File(p) => write!(f, "sqlite:{}", p.display()),
        }
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl FollowStore for SqliteStore {
    async fn write(&self, batch: WriteBatch) -> Result<Vec<CommandResult>, Error> {
        let (reply, rx) = oneshot::channel();
        self.writer
            .as_ref()
            .ok_or_else(closed)?
            .send(WriterJob::Write { batch, reply })
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    async fn node(&self, tenant: &TenantId, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        if let Some(out) = self.inline(|conn| queries::node(conn, tenant, id)) {
            return out;
        }
        let (tenant, id) = (tenant.clone(), id.clone());
        self.read(move |conn| queries::node(conn, &tenant, &id))
            .await
    }

    async fn pairs(
        &self,
        tenant: &TenantId,
        subject: &NodeId,
        others: &[NodeId],
    ) -> Result<Option<Vec<PairFacts>>, Error> {
        if others.len() <= INLINE_PAIRS
            && let Some(out) = self.inline(|conn| queries::pairs(conn, tenant, subject, others))
        {
            return out;
        }
        let (tenant, subject, others) = (tenant.clone(), subject.clone(), others.to_vec());
        self.read(move |conn| queries::pairs(conn, &tenant, &subject, &others))
            .await
    }

    async fn list(&self, query: ListQuery) -> Result<Option<Vec<ListEntry>>, Error> {
        self.read(move |conn| queries::list(conn, &query)).await
    }

    async fn links_between(
        &self,
        tenant: &TenantId,
        subject: &AccountId,
        others: &[AccountId],
    ) -> Result<Vec<(LinkKey, Link)>, Error> {
        if others.len() <= INLINE_PAIRS
            && let Some(out) =
                self.inline(|conn| links::links_between(conn, tenant, subject, others))
        {
            return out;
        }
        let (tenant, subject, others) = (tenant.clone(), subject.clone(), others.to_vec());
        self.read(move |conn| links::links_between(conn, &tenant, &subject, &others))
            .await
    }

    async fn links(&self, query: LinkQuery) -> Result<Option<Vec<LinkEntry>>, Error> {
        self.read(move |conn| links::links(conn, &query)).await
    }

    async fn stale_following(&self, query: StaleQuery) -> Result<Option<Vec<StaleEntry>>, Error> {
        self.read(move |conn| queries::stale_following(conn, &query))
            .await
    }

    async fn nodes(
        &self,
        tenant: &TenantId,
        after: Option<&NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeRecord>, Error> {
        let (tenant, after) = (tenant.clone(), after.cloned());
        self.read(move |conn| queries::nodes(conn, &tenant, after.as_ref(), limit))
            .await
    }

    async fn events_after(
        &self,
        tenant: &TenantId,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        let tenant = tenant.clone();
        self.read(move |conn| queries::events_after(conn, &tenant, after, limit))
            .await
    }

    fn cursor_secret(&self) -> [u8; 16] {
        self.cursor_secret
    }

    async fn consumer(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
    ) -> Result<Option<ConsumerState>, Error> {
        let (tenant, name) = (tenant.clone(), name.clone());
        self.read(move |conn| feed::consumer(conn, &tenant, &name))
            .await
    }

    async fn consumers(&self, tenant: &TenantId) -> Result<Vec<ConsumerState>, Error> {
        let tenant = tenant.clone();
        self.read(move |conn| feed::consumers(conn, &tenant)).await
    }

    async fn acknowledge(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
        position: EventPosition,
        at: Timestamp,
    ) -> Result<ConsumerState, Error> {
        let (tenant, name) = (tenant.clone(), name.clone());
        self.on_writer(move |conn| feed::acknowledge(conn, &tenant, &name, position, at))
            .await
    }

    async fn feed_state(&self, tenant: &TenantId) -> Result<FeedState, Error> {
        let tenant = tenant.clone();
        // One snapshot for both reads.
        self.read(move |conn| {
            let tx = conn.transaction().map_err(crate::error::map_sql)?;
            let state = feed::feed_state(&tx, &tenant);
            drop(tx);
            state
        })
        .await
    }

    async fn prune_events(&self, step: PruneStep) -> Result<u64, Error> {
        self.on_writer(move |conn| feed::prune_events(conn, &step))
            .await
    }
}

/// The fallbacks of the inline path, which the public API cannot reach
/// deterministically: every pooled connection taken, and a busy answer.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use follow_core::{Command, Timestamp};
    use futures::executor::block_on;

    use super::*;

    fn open(tag: &str, inline_readers: usize) -> (SqliteStore, PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("follow-sqlite-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let options = SqliteOptions {
            inline_readers,
            ..SqliteOptions::default()
        };
        let store = SqliteStore::open_with(dir.join("graph.db"), options).unwrap();
        let tenant = TenantId::new("acme").unwrap();
        let mut batch = WriteBatch::new(tenant, Timestamp::from_unix_seconds(1).unwrap());
        for id in ["alice", "bob"] {
            batch.commands.push(Command::Register {
                node: NodeId::new(id).unwrap(),
            });
        }
        batch.commands.push(Command::Follow {
            follower: follow_core::AccountId::new("alice").unwrap(),
            target: NodeId::new("bob").unwrap(),
            since: None,
            options: follow_core::OptionsUpdate::NONE,
        });
        block_on(store.write(batch)).unwrap();
        (store, dir)
    }

    fn idle(store: &SqliteStore) -> usize {
        store.inline.iter().filter(|s| s.try_lock().is_ok()).count()
    }

    #[test]
    fn reads_go_to_reader_threads_while_every_pooled_connection_is_taken() {
        let (store, dir) = open("taken", 2);
        let taken: Vec<_> = store.inline.iter().map(|s| s.try_lock().unwrap()).collect();
        assert!(store.inline(|_| Ok(())).is_none(), "no idle connection");
        let (tenant, alice, bob) = (
            TenantId::new("acme").unwrap(),
            NodeId::new("alice").unwrap(),
            NodeId::new("bob").unwrap(),
        );
        let node = block_on(store.node(&tenant, &bob)).unwrap().unwrap();
        assert_eq!(node.counts.followers, 1);
        let pairs = block_on(store.pairs(&tenant, &alice, std::slice::from_ref(&bob)))
            .unwrap()
            .unwrap();
        assert!(pairs[0].exists && pairs[0].outgoing.is_some());
        drop(taken);
        assert_eq!(store.inline(|_| Ok(7)).unwrap().unwrap(), 7);
        assert_eq!(idle(&store), 2);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_busy_inline_read_falls_back_and_keeps_its_connection() {
        let (store, dir) = open("busy", 1);
        let busy = || {
            crate::error::map_sql(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                None,
            ))
        };
        assert!(store.inline(|_| Err::<(), _>(busy())).is_none());
        assert_eq!(idle(&store), 1, "the connection is free again");
        // Any other error is the answer, not a reason to retry elsewhere.
        let internal = store.inline(|_| Err::<(), _>(Error::internal("boom")));
        assert_eq!(internal.unwrap().unwrap_err().kind(), ErrorKind::Internal);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn no_pool_without_inline_readers_or_in_memory() {
        let (store, dir) = open("none", 0);
        assert!(store.inline(|_| Ok(())).is_none());
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
        let memory = SqliteStore::open_in_memory().unwrap();
        assert!(memory.inline(|_| Ok(())).is_none());
    }
}
