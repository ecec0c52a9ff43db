//! The schema, its migrations, and the checks made before a file is touched.

use std::fs;
use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::OpenError;

/// `PRAGMA application_id` of a follow-graph database ("FOLW").
pub const APPLICATION_ID: i64 = 0x464F_4C57;

/// The newest schema version this code knows (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 3;

/// Migrations: entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE nodes (
    tenant        TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    registered_at INTEGER NOT NULL,
    last_active   INTEGER,
    following     INTEGER NOT NULL DEFAULT 0 CHECK (following >= 0),
    followers     INTEGER NOT NULL DEFAULT 0 CHECK (followers >= 0),
    mutual        INTEGER NOT NULL DEFAULT 0 CHECK (mutual >= 0),
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE edges (
    tenant       TEXT    NOT NULL,
    follower     TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    since        INTEGER NOT NULL,
    muted        INTEGER NOT NULL,
    mutual_since INTEGER,
    PRIMARY KEY (tenant, follower, target)
) WITHOUT ROWID;

CREATE INDEX edges_followers ON edges (tenant, target, since DESC, follower);
CREATE INDEX edges_following ON edges (tenant, follower, since DESC, target);
CREATE INDEX edges_mutuals ON edges (tenant, follower, mutual_since DESC, target)
    WHERE mutual_since IS NOT NULL;

CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    follower TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    at       INTEGER NOT NULL
);

CREATE INDEX events_tenant ON events (tenant, position);
",
    // The cursor secret, made once with the data by SQLite's own generator
    // (seeded from the operating system), so cursors outlive a restart and
    // cannot be forged by anyone without the file.
    r"
CREATE TABLE cursor_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB    NOT NULL CHECK (length(secret) = 16)
);
INSERT INTO cursor_secret (id, secret) VALUES (1, randomblob(16));
",
    // The change feed: each consumer's acknowledged position, and what
    // retention removed of each tenant's events (always a prefix).
    r"
CREATE TABLE consumers (
    tenant     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    position   INTEGER NOT NULL CHECK (position >= 0),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
) WITHOUT ROWID;

CREATE TABLE pruned (
    tenant  TEXT    NOT NULL PRIMARY KEY,
    through INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    events  INTEGER NOT NULL CHECK (events >= 0)
) WITHOUT ROWID;
",
];

const HEADER: &[u8; 16] = b"SQLite format 3\0";

fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> OpenError + '_ {
    move |source| match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => OpenError::NotADatabase {
            path: path.to_owned(),
        },
        Some(ErrorCode::DatabaseCorrupt) => OpenError::Corrupt {
            path: path.to_owned(),
            detail: source.to_string(),
        },
        _ => OpenError::Sqlite {
            path: path.to_owned(),
            source,
        },
    }
}

/// Checks an existing file without writing to it. `Ok(())` for an absent or
/// empty file (a new database) and for a database of ours this code can open.
pub fn inspect_file(path: &Path) -> Result<(), OpenError> {
    let io = |source| OpenError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    let len = meta.len();
    if len == 0 {
        return Ok(());
    }
    let mut header = [0u8; 100];
    let mut file = fs::File::open(path).map_err(io)?;
    if len < 100 {
        return Err(OpenError::NotADatabase {
            path: path.to_owned(),
        });
    }
    file.read_exact(&mut header).map_err(io)?;
    if &header[..16] != HEADER {
        return Err(OpenError::NotADatabase {
            path: path.to_owned(),
        });
    }
    check_size(path, &header, len)?;

    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(path))?;
    check_connection(&conn, path)
}

/// A file shorter than its header says, with no write-ahead log that could
/// explain it, was truncated.
fn check_size(path: &Path, header: &[u8; 100], len: u64) -> Result<(), OpenError> {
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        size => u64::from(size),
    };
    let pages = u64::from(be32(28));
    let valid = be32(92) == be32(24);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_len = fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    if valid && wal_len == 0 && pages > 0 && len < pages.saturating_mul(page_size) {
        return Err(OpenError::Corrupt {
            path: path.to_owned(),
            detail: format!(
                "file has {len} bytes, its header says {pages} pages of {page_size} bytes"
            ),
        });
    }
    Ok(())
}

/// Brings a connection's schema to [`SCHEMA_VERSION`], stamping the
/// application id on a new database. Each step runs in its own transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let Some(step) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            tx.commit()?;
            return Ok(());
        };
        tx.execute_batch(step)?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};",
            version + 1
        ))?;
        tx.commit()?;
    }
}

/// Whether a connection's database is ours at a version this code knows
/// (checked again on the writer, after [`inspect_file`]).
pub fn check_connection(conn: &Connection, path: &Path) -> Result<(), OpenError> {
    let err = sqlite_err(path);
    let application_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(&err)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(&err)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(&err)?;
    if application_id != APPLICATION_ID && (application_id != 0 || tables != 0 || version != 0) {
        return Err(OpenError::ForeignDatabase {
            path: path.to_owned(),
            application_id,
        });
    }
    if version > SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let corrupt = |detail: String| OpenError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    // Our migrations only ever count up from 0: anything below was written
    // by something else, and would make every call fail on missing tables.
    if version < 0 {
        return Err(corrupt(format!(
            "schema version {version} is not one this adapter writes"
        )));
    }
    for (table, since) in TABLES {
        if version < *since {
            continue;
        }
        let present: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(&err)?;
        if present == 0 {
            return Err(corrupt(format!(
                "schema version {version} but its table {table} is missing"
            )));
        }
    }
    Ok(())
}

/// Each table and the schema version that creates it.
const TABLES: &[(&str, i64)] = &[
    ("nodes", 1),
    ("edges", 1),
    ("events", 1),
    ("cursor_secret", 2),
    ("consumers", 3),
    ("pruned", 3),
];

/// Reads the cursor secret of a migrated database; a missing or malformed
/// one is a damaged database.
pub fn cursor_secret(conn: &Connection, path: &Path) -> Result<[u8; 16], OpenError> {
    let secret: Option<Vec<u8>> = conn
        .query_row("SELECT secret FROM cursor_secret WHERE id = 1", [], |r| {
            r.get(0)
        })
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .map_err(sqlite_err(path))?;
    secret
        .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
        .ok_or_else(|| OpenError::Corrupt {
            path: path.to_owned(),
            detail: "the cursor secret is missing or not 16 bytes".to_owned(),
        })
}
