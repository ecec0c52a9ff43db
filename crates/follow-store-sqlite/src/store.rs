//! The store: opening, its threads, and the [`FollowStore`] implementation.

use std::fmt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use crossbeam_channel::Sender;
use follow_core::{
    CommandResult, Error, Event, EventPosition, FollowStore, ListEntry, ListQuery, NodeId,
    NodeRecord, PairFacts, StaleEntry, StaleQuery, TenantId, WriteBatch,
};
use futures::channel::oneshot;
use rusqlite::{Connection, OpenFlags};

use crate::error::{OpenError, closed};
use crate::verify::{RepairReport, VerifyReport};
use crate::writer::{Job, WriterJob};
use crate::{queries, schema, verify, writer};

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
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Durability::Full,
            readers: 4,
            busy_timeout: Duration::from_secs(30),
            max_group: 512,
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
    writer: Option<Sender<WriterJob>>,
    readers: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

fn configure(conn: &Connection, path: &Path, options: &SqliteOptions) -> Result<(), OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    conn.busy_timeout(options.busy_timeout).map_err(sqlite)?;
    conn.set_prepared_statement_cache_capacity(64);
    let sync = match options.synchronous {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    // temp_store = MEMORY keeps each batch's savepoint journal off disk.
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

        let mut readers = Vec::new();
        for _ in 0..options.readers.max(1) {
            let reader = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sqlite)?;
            configure(&reader, &path, &options)?;
            reader
                .execute_batch("PRAGMA query_only = ON")
                .map_err(sqlite)?;
            readers.push(reader);
        }
        let (read_tx, read_rx) = crossbeam_channel::unbounded::<Job>();
        let mut store = Self::start(Location::File(path.clone()), conn, &options)?;
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
        Self::start(Location::Memory, conn, &options)
    }

    fn start(
        location: Location,
        conn: Connection,
        options: &SqliteOptions,
    ) -> Result<Self, OpenError> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let max_group = options.max_group;
        let path = match &location {
            Location::File(p) => p.clone(),
            Location::Memory => PathBuf::from(":memory:"),
        };
        let thread = spawn("follow-sqlite-writer", &path, move || {
            writer::run(conn, rx, max_group);
        })?;
        Ok(SqliteStore {
            location,
            writer: Some(tx),
            readers: None,
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
        self.read(|conn| verify::verify(conn)).await
    }

    /// Rewrites every count that disagrees with the edges, in one write
    /// transaction on the writer, and reports what it changed.
    ///
    /// # Errors
    /// A storage failure (`unavailable` or `internal`).
    pub async fn repair(&self) -> Result<RepairReport, Error> {
        let (tx, rx) = oneshot::channel();
        self.exclusive(Box::new(move |conn| {
            let _ = tx.send(verify::repair(conn));
        }))?;
        rx.await.map_err(|_| closed())?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Readers close first, so the writer's connection is the last one:
        // SQLite checkpoints the WAL into the main file and removes it only
        // when the last connection closes, and a `query_only` reader closing
        // last leaves the WAL behind.
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
        let (tenant, subject, others) = (tenant.clone(), subject.clone(), others.to_vec());
        self.read(move |conn| queries::pairs(conn, &tenant, &subject, &others))
            .await
    }

    async fn list(&self, query: ListQuery) -> Result<Option<Vec<ListEntry>>, Error> {
        self.read(move |conn| queries::list(conn, &query)).await
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
}
