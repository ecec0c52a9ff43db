//! What the SQLite adapter does with links beyond the shared suite: both
//! ways of reading the links between accounts, link counts under verify
//! and repair, and options and links on disk across a reopen.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use follow_core::{
    Command, ErrorKind, FollowOptions, FollowStore, Languages, ListKind, ListQuery, OptionsUpdate,
};
use follow_store_sqlite::SqliteStore;
use futures::executor::block_on;

fn block(actor: &str, target: &str) -> Command {
    Command::Block {
        actor: account(actor),
        target: account(target),
    }
}

fn mute_account(actor: &str, target: &str) -> Command {
    Command::MuteAccount {
        actor: account(actor),
        target: account(target),
        notifications: false,
        expires_at: Some(at(100)),
    }
}

fn write_ok(store: &SqliteStore, seconds: i64, commands: Vec<Command>) {
    let results = block_on(store.write(batch(seconds, commands))).unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

/// The links between `subject` and `others` as (kind, from, to) names.
fn between(store: &SqliteStore, subject: &str, others: &[&str]) -> BTreeSet<String> {
    let others: Vec<_> = others.iter().map(|o| account(o)).collect();
    let links = block_on(store.links_between(&tenant(), &account(subject), &others)).unwrap();
    let names: BTreeSet<String> = links.iter().map(|(key, _)| key.to_string()).collect();
    assert_eq!(names.len(), links.len(), "each link once: {links:?}");
    names
}

/// The subject's link count picks between reading all of its links and
/// probing each other; both answer the same.
#[test]
fn links_between_answers_the_same_for_few_and_many_links() {
    let store = SqliteStore::open_in_memory().unwrap();
    let ids: Vec<String> = (0..12).map(|i| format!("user{i:02}")).collect();
    let mut commands = vec![register("hub")];
    commands.extend(ids.iter().map(|id| register(id)));
    write_ok(&store, 0, commands);
    // The hub blocks the first four, mutes the next four, and is blocked by
    // the next two: ten links touch it.
    let mut commands = Vec::new();
    for id in &ids[..4] {
        commands.push(block("hub", id));
    }
    for id in &ids[4..8] {
        commands.push(mute_account("hub", id));
    }
    for id in &ids[8..10] {
        commands.push(block(id, "hub"));
    }
    write_ok(&store, 1, commands);
    let hub = block_on(store.node(&tenant(), &node("hub")))
        .unwrap()
        .unwrap();
    assert_eq!(hub.links, 10);

    let expected = |others: &[&str]| -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for other in others {
            let Some(n) = other.strip_prefix("user") else {
                continue;
            };
            let n: usize = n.parse().unwrap();
            out.insert(match n {
                0..4 => format!("block hub -> {other}"),
                4..8 => format!("mute hub -> {other}"),
                8..10 => format!("block {other} -> hub"),
                _ => continue,
            });
        }
        out
    };
    // Fewer others than links: each other probed.
    let few = ["user01", "user05", "user09", "user11"];
    assert_eq!(between(&store, "hub", &few), expected(&few));
    // At least as many others as links: the hub's links read and matched.
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(between(&store, "hub", &all), expected(&all));
    // Duplicates and the subject itself add nothing.
    let repeated = ["user02", "user02", "hub", "user08"];
    assert_eq!(between(&store, "hub", &repeated), expected(&repeated));
    // From the other end, the same links.
    assert_eq!(
        between(&store, "user09", &["hub", "user00"]),
        BTreeSet::from(["block user09 -> hub".to_owned()])
    );
    // No links at all, and an unregistered subject: none.
    assert!(between(&store, "user11", &all).is_empty());
    assert!(between(&store, "nobody", &all).is_empty());
}

/// A write looks for the links between two accounts only when both count
/// some, so a count that lost its links hides them from the decision:
/// verify finds it, repair restores it, and the block holds again.
#[test]
fn verify_and_repair_fix_link_counts() {
    let dir = TempDir::new("link-counts");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        write_ok(
            &store,
            0,
            vec![register("alice"), register("bob"), register("carol")],
        );
        write_ok(&store, 1, vec![block("alice", "bob")]);
        let refused = block_on(store.write(batch(2, vec![follow("bob", "alice")]))).unwrap();
        assert_eq!(
            refused[0].as_ref().unwrap_err().kind(),
            ErrorKind::Forbidden
        );
        assert!(block_on(store.verify()).unwrap().is_ok());
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "UPDATE nodes SET links = 0 WHERE id = 'alice';
             UPDATE nodes SET links = 3 WHERE id = 'carol';
             INSERT INTO links (tenant, kind, from_account, to_account, since, notifications)
             VALUES ('acme', 'mute', 'carol', 'ghost', 0, 1),
                    ('acme', 'shun', 'bob', 'carol', 0, 1);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let report = block_on(store.verify()).unwrap();
    assert!(!report.is_ok());
    let found: Vec<(&str, u64, u64)> = report
        .link_count_mismatches
        .iter()
        .map(|m| (m.node.as_str(), m.stored, m.actual))
        .collect();
    // Every row counts, whatever its kind.
    assert_eq!(found, [("alice", 0, 1), ("bob", 1, 2), ("carol", 3, 2)]);
    let broken: Vec<String> = report
        .broken_links
        .iter()
        .map(|(t, k, f, to)| format!("{t} {k} {f} -> {to}"))
        .collect();
    assert_eq!(
        broken,
        ["acme mute carol -> ghost", "acme shun bob -> carol"]
    );
    assert!(report.count_mismatches.is_empty() && report.dangling_edges.is_empty());

    let other = follow_core::TenantId::new("other").unwrap();
    assert!(
        block_on(store.repair_tenant(&other))
            .unwrap()
            .link_counts_fixed
            .is_empty()
    );
    let repaired = block_on(store.repair()).unwrap();
    assert_eq!(repaired.link_counts_fixed, report.link_count_mismatches);
    let after = block_on(store.verify()).unwrap();
    assert!(after.link_count_mismatches.is_empty());
    assert_eq!(after.broken_links.len(), 2, "repair reports, never deletes");
    let refused = block_on(store.write(batch(3, vec![follow("bob", "alice")]))).unwrap();
    assert_eq!(
        refused[0].as_ref().unwrap_err().kind(),
        ErrorKind::Forbidden
    );
}

/// A link count damaged to 0 hides the node's links from the load: a block
/// written again meets the stored row, fails the batch as `internal` and
/// changes nothing; after `repair` the same block is answered as before.
#[test]
fn a_damaged_link_count_fails_a_write_of_that_link_until_repair() {
    let dir = TempDir::new("damaged-link-count");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        write_ok(&store, 0, vec![register("alice"), register("bob")]);
        write_ok(&store, 1, vec![block("alice", "bob")]);
    }
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE nodes SET links = 0 WHERE id = 'alice'", [])
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let before = block_on(store.verify()).unwrap();
    let failed = block_on(store.write(batch(2, vec![block("alice", "bob")]))).unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Internal, "{failed}");
    assert_eq!(block_on(store.verify()).unwrap(), before, "nothing written");
    block_on(store.repair()).unwrap();
    write_ok(&store, 3, vec![block("alice", "bob")]);
    assert!(block_on(store.verify()).unwrap().is_ok());
    assert_eq!(between(&store, "alice", &["bob"]).len(), 1);
}

/// Options are stored only when they are not the defaults, and read back
/// in the lists, the pairs and across a reopen.
#[test]
fn follow_options_persist_and_defaults_store_nothing() {
    let dir = TempDir::new("options");
    let path = dir.file("graph.db");
    let options = FollowOptions {
        reblogs: false,
        notify: true,
        languages: Languages::parse(["de", "en"]).unwrap(),
    };
    {
        let store = SqliteStore::open(&path).unwrap();
        write_ok(
            &store,
            0,
            vec![register("alice"), register("bob"), register("carol")],
        );
        write_ok(
            &store,
            1,
            vec![
                Command::Follow {
                    follower: account("alice"),
                    target: node("bob"),
                    since: None,
                    options: options.into(),
                },
                Command::Follow {
                    follower: account("carol"),
                    target: node("bob"),
                    since: None,
                    options: OptionsUpdate::NONE,
                },
            ],
        );
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let stored: Vec<(String, Option<String>)> = conn
            .prepare("SELECT follower, options FROM edges ORDER BY follower")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            stored,
            [
                ("alice".to_owned(), options.encode()),
                ("carol".to_owned(), None)
            ]
        );
    }
    let store = SqliteStore::open(&path).unwrap();
    let followers = block_on(store.list(ListQuery {
        tenant: tenant(),
        list: ListKind::Followers,
        subject: node("bob"),
        after: None,
        limit: 10,
    }))
    .unwrap()
    .unwrap();
    let read: Vec<(&str, FollowOptions)> = followers
        .iter()
        .map(|e| (e.node.as_str(), e.options))
        .collect();
    assert_eq!(
        read,
        [("alice", options), ("carol", FollowOptions::default())]
    );
    let pairs = block_on(store.pairs(&tenant(), &node("alice"), &[node("bob")]))
        .unwrap()
        .unwrap();
    assert_eq!(pairs[0].outgoing.unwrap().options, options);
}

/// A stored value no encoder writes is an internal error, not a panic or a
/// default.
#[test]
fn undecodable_link_and_option_values_are_internal_errors() {
    let dir = TempDir::new("bad-links");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        write_ok(
            &store,
            0,
            vec![register("alice"), register("bob"), register("carol")],
        );
        write_ok(
            &store,
            1,
            vec![
                block("alice", "bob"),
                mute_account("alice", "carol"),
                follow("carol", "bob"),
            ],
        );
    }
    let tamper = |sql: &str| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
    };
    tamper("UPDATE links SET options = 'reblogs=yes'");
    let store = SqliteStore::open(&path).unwrap();
    // Both ways of reading links between accounts (alice has two links:
    // probing one other, reading hers for two) decode what they find.
    for others in [vec![account("bob")], vec![account("bob"), account("carol")]] {
        let error =
            block_on(store.links_between(&tenant(), &account("alice"), &others)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Internal);
    }
    // The write path reads the link (both ends count one) and refuses.
    let error = block_on(store.write(batch(2, vec![follow("bob", "alice")]))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Internal);
    drop(store);

    tamper("UPDATE edges SET options = 'nonsense'");
    let store = SqliteStore::open(&path).unwrap();
    let error = block_on(store.list(ListQuery {
        tenant: tenant(),
        list: ListKind::Followers,
        subject: node("bob"),
        after: None,
        limit: 10,
    }))
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Internal);
}
