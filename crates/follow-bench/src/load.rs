//! Loading a generated graph into the library's adapters, through the
//! public facade.

use std::fs;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use follow_core::{
    AccountId, Capabilities, DEFAULT_IMPORT_LIMIT, Error, FollowGraph, ImportEdge, NodeId,
    Principal, TenantId, Timestamp,
};
use follow_store_memory::MemoryStore;
use follow_store_sqlite::{SqliteOptions, SqliteStore};

use crate::graph::Graph;

/// The tenant every benchmark uses.
pub const TENANT: &str = "bench";

/// A principal with every capability in [`TENANT`].
pub fn admin() -> Principal {
    let tenant = TenantId::new(TENANT).unwrap_or_else(|_| unreachable!("a valid literal"));
    Principal::new(tenant, Capabilities::ALL)
}

/// The import edges of `graph.edges[range]`.
///
/// # Errors
/// `invalid_argument` if a generated id or time were invalid (a generator bug).
pub fn import_edges(graph: &Graph, from: usize, to: usize) -> Result<Vec<ImportEdge>, Error> {
    graph.edges[from..to]
        .iter()
        .map(|edge| {
            Ok(ImportEdge::new(
                AccountId::new(&graph.name(edge.follower))?,
                NodeId::new(&graph.name(edge.target))?,
            )
            .since(Timestamp::from_unix_micros(edge.since)?))
        })
        .collect()
}

/// Edges per import call into the memory adapter. A memory store gains
/// nothing from bigger calls (there is no commit to amortise), while each
/// call's request and answers stay resident until it returns: calls of
/// 100,000 would add about 25 bytes/edge to the peak of a 1M-edge load.
pub const MEMORY_IMPORT_CHUNK: usize = 10_000;

/// Loads every edge of `graph` through [`FollowGraph::import`], in calls of
/// `chunk` edges (at most the facade's import limit), calling `progress`
/// with the edges loaded so far.
///
/// # Errors
/// The first failing call, or the first edge the store refused.
pub async fn load(
    target: &FollowGraph,
    graph: &Graph,
    chunk: usize,
    mut progress: impl FnMut(usize),
) -> Result<(), Error> {
    let admin = admin();
    let chunk = chunk.clamp(1, target.import_limit());
    let mut done = 0;
    while done < graph.edges.len() {
        let end = (done + chunk).min(graph.edges.len());
        let edges = import_edges(graph, done, end)?;
        for result in target.import(&admin, &edges).await? {
            result?;
        }
        done = end;
        progress(done);
    }
    Ok(())
}

/// A memory-adapter graph loaded with `graph`.
///
/// # Errors
/// As [`load`].
pub async fn memory_graph(
    graph: &Graph,
    progress: impl FnMut(usize),
) -> Result<FollowGraph, Error> {
    let target = FollowGraph::new(Arc::new(MemoryStore::new()));
    load(&target, graph, MEMORY_IMPORT_CHUNK, progress).await?;
    Ok(target)
}

/// Edges per import call into SQLite: a tenth of the graph, and at least
/// the facade's default limit ([`DEFAULT_IMPORT_LIMIT`]). One call is one
/// transaction, and its commit writes every page it dirtied; edges in
/// random order dirty nearly every page of the edge indexes, so the number
/// of calls, not their size, sets the bytes written per edge. Ten calls at
/// every size keep that fixed (a one-million-edge load is ten calls of the
/// default limit, as before).
pub fn sqlite_import_chunk(edges: usize) -> usize {
    (edges / 10).max(DEFAULT_IMPORT_LIMIT)
}

/// A boxed error for setup code.
pub type SetupError = Box<dyn std::error::Error + Send + Sync>;

/// Creates a SQLite database at `path` (replacing any file there) and loads
/// `graph` into it with the adapter's default options.
///
/// # Errors
/// Opening the database or loading it.
pub async fn sqlite_file(
    path: &Path,
    graph: &Graph,
    progress: impl FnMut(usize),
) -> Result<(), SetupError> {
    sqlite_file_with(path, graph, SqliteOptions::default(), progress).await
}

/// [`sqlite_file`] with the adapter's `options`.
///
/// # Errors
/// Opening the database or loading it.
pub async fn sqlite_file_with(
    path: &Path,
    graph: &Graph,
    options: SqliteOptions,
    progress: impl FnMut(usize),
) -> Result<(), SetupError> {
    remove_db(path)?;
    let store = SqliteStore::open_with(path, options)?;
    let chunk = sqlite_import_chunk(graph.edges.len());
    let limit = NonZeroUsize::new(chunk).unwrap_or(NonZeroUsize::MIN);
    let target = FollowGraph::builder(Arc::new(store))
        .import_limit(limit)
        .build();
    load(&target, graph, chunk, progress).await?;
    // Dropping the last handle checkpoints and removes the WAL.
    drop(target);
    Ok(())
}

/// Removes a database file and its `-wal` and `-shm` companions.
///
/// # Errors
/// Any failure but "not found".
pub fn remove_db(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match fs::remove_file(PathBuf::from(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// A directory for benchmark databases: `$CARGO_TARGET_DIR/follow-bench`, or
/// `target/follow-bench` of this workspace.
pub fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("follow-bench")
}

/// A database built once and kept: `build` runs only when `path` has no
/// `.done` marker beside it. Answers `path`.
///
/// # Errors
/// What `build` answers, or writing the marker.
pub fn cached<F>(path: &Path, build: F) -> Result<PathBuf, SetupError>
where
    F: FnOnce(&Path) -> Result<(), SetupError>,
{
    let mut marker = path.as_os_str().to_owned();
    marker.push(".done");
    let marker = PathBuf::from(marker);
    if !marker.exists() || !path.exists() {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        build(path)?;
        fs::write(&marker, b"")?;
    }
    Ok(path.to_owned())
}

/// Copies a database file to `to` (replacing it), so benchmarks that write
/// never change the cached original.
///
/// # Errors
/// Any I/O failure.
pub fn working_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    remove_db(to)?;
    fs::copy(from, to)?;
    Ok(())
}

/// The size of a database: the file plus its WAL, in bytes.
pub fn db_bytes(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            fs::metadata(PathBuf::from(name)).map_or(0, |m| m.len())
        })
        .sum()
}
