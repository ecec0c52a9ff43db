//! Helpers of the unit tests: a migrated database, and what SQLite makes of
//! a statement (its query plan, its bytecode).

#![allow(clippy::unwrap_used)]

use rusqlite::Connection;

/// A connection to a new in-memory database with the store's schema.
pub(crate) fn migrated() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::schema::migrate(&mut conn).unwrap();
    conn
}

/// The detail of each step of `sql`'s query plan (unbound parameters plan
/// as NULL, which is all a plan needs).
pub(crate) fn query_plan(conn: &Connection, sql: &str) -> Vec<String> {
    column_of(conn, &format!("EXPLAIN QUERY PLAN {sql}"), 3)
}

/// The opcodes of `sql`'s bytecode program.
pub(crate) fn opcodes(conn: &Connection, sql: &str) -> Vec<String> {
    program(conn, sql)
        .into_iter()
        .map(|(op, _, _)| op)
        .collect()
}

/// Each instruction of `sql`'s bytecode program: its opcode, P1 and P2.
pub(crate) fn program(conn: &Connection, sql: &str) -> Vec<(String, i64, i64)> {
    let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
    let mut rows = stmt.raw_query();
    let mut program = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        program.push((
            row.get(1).unwrap(),
            row.get(2).unwrap(),
            row.get(3).unwrap(),
        ));
    }
    program
}

fn column_of(conn: &Connection, explain: &str, column: usize) -> Vec<String> {
    let mut stmt = conn.prepare(explain).unwrap();
    let mut rows = stmt.raw_query();
    let mut values = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        values.push(row.get::<_, String>(column).unwrap());
    }
    values
}
