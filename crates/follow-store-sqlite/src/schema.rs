//! The schema, its migrations, and the checks made before a file is touched.

use std::fs;
use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::OpenError;

/// `PRAGMA application_id` of a follow-graph database ("FOLW").
pub const APPLICATION_ID: i64 = 0x464F_4C57;

/// The newest schema version this code knows (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 4;

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
    // Relationships beyond follows. `ADD COLUMN` rewrites no row: a row
    // written before reads the column's default (unlocked, no links, default
    // options), so the step costs about the same on any size of graph. Options
    // are NULL when they are the defaults (most follows).
    //
    // Links are keyed (kind, from, to) within the tenant. Every lookup of
    // one link knows both ends, so the primary key serves either direction
    // (the link other → subject is the key (kind, other, subject)); the two
    // list indexes serve the pages of links made by and made to an account.
    r"
ALTER TABLE nodes ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN links INTEGER NOT NULL DEFAULT 0 CHECK (links >= 0);
ALTER TABLE edges ADD COLUMN options TEXT;

CREATE TABLE links (
    tenant        TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    from_account  TEXT    NOT NULL,
    to_account    TEXT    NOT NULL,
    since         INTEGER NOT NULL,
    notifications INTEGER NOT NULL,
    expires_at    INTEGER,
    options       TEXT,
    PRIMARY KEY (tenant, kind, from_account, to_account)
) WITHOUT ROWID;

CREATE INDEX links_outgoing ON links (tenant, kind, from_account, since DESC, to_account);
CREATE INDEX links_incoming ON links (tenant, kind, to_account, since DESC, from_account);
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
    ("links", 4),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A header saying `pages` pages of `page_size`, valid when
    /// `valid_for` equals the change counter.
    fn header(page_size: u16, pages: u32, change: u32, valid_for: u32) -> [u8; 100] {
        let mut header = [0u8; 100];
        header[..16].copy_from_slice(HEADER);
        header[16..18].copy_from_slice(&page_size.to_be_bytes());
        header[24..28].copy_from_slice(&change.to_be_bytes());
        header[28..32].copy_from_slice(&pages.to_be_bytes());
        header[92..96].copy_from_slice(&valid_for.to_be_bytes());
        header
    }

    fn corrupt(result: Result<(), OpenError>) -> bool {
        matches!(result, Err(OpenError::Corrupt { .. }))
    }

    /// Every byte of the page count and of the counters matters: they are
    /// all different, so a misread one changes the size or the validity.
    #[test]
    fn a_file_shorter_than_its_valid_header_says_is_corrupt() {
        let dir = std::env::temp_dir().join(format!("follow-schema-{}", std::process::id()));
        fs::create_dir_all(&dir).ok();
        let path = dir.join("graph.db");
        let pages = 0x0001_0203u32;
        let change = 0x0A0B_0C0D;
        let size = u64::from(pages) * 4096;
        let valid = header(4096, pages, change, change);
        assert!(!corrupt(check_size(&path, &valid, size)));
        assert!(!corrupt(check_size(&path, &valid, size + 1)));
        assert!(corrupt(check_size(&path, &valid, size - 1)));
        // A header the last writer did not vouch for says nothing.
        let stale = header(4096, pages, change, change + 1);
        assert!(!corrupt(check_size(&path, &stale, size - 1)));
        // Page size 1 stands for 65,536.
        let big = header(1, 3, change, change);
        assert!(corrupt(check_size(&path, &big, 3 * 65_536 - 1)));
        assert!(!corrupt(check_size(&path, &big, 3 * 65_536)));
        // No page count: nothing to compare.
        assert!(!corrupt(check_size(
            &path,
            &header(4096, 0, change, change),
            1
        )));
        // A write-ahead log may hold the pages the file lacks.
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        fs::write(&wal, b"frames").ok();
        assert!(!corrupt(check_size(&path, &valid, size - 1)));
        fs::write(&wal, b"").ok();
        assert!(corrupt(check_size(&path, &valid, size - 1)));
        fs::remove_dir_all(&dir).ok();
    }
}
