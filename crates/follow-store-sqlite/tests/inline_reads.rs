//! Point reads on the caller's thread (`SqliteOptions::inline_readers`) and
//! the one-statement `pairs` of one other: the same answers as the reader
//! threads and the full snapshot path.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use follow_core::{FollowStore, NodeId, PairFacts};
use follow_store_sqlite::{SqliteOptions, SqliteStore};
use futures::executor::block_on;

const CHANNEL: &str = "120363@newsletter";

/// alice → bob one way, carol ↔ dave (muted one way), erin alone, alice and
/// bob follow the channel.
fn fill(store: &SqliteStore) {
    let mut commands: Vec<_> = ["alice", "bob", "carol", "dave", "erin", CHANNEL]
        .into_iter()
        .map(register)
        .collect();
    commands.extend([
        follow("alice", "bob"),
        follow("carol", "dave"),
        follow("dave", "carol"),
        mute("dave", "carol", true),
        follow("alice", CHANNEL),
        follow("bob", CHANNEL),
    ]);
    let results = block_on(store.write(batch(0, commands))).unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

/// `pairs` of one other (the one-statement path) and the same other asked
/// twice (the full snapshot path).
fn both_paths(store: &SqliteStore, subject: &str, other: &str) -> Option<PairFacts> {
    let (subject, other) = (node(subject), node(other));
    let one = block_on(store.pairs(&tenant(), &subject, std::slice::from_ref(&other))).unwrap();
    let twice: Option<Vec<PairFacts>> =
        block_on(store.pairs(&tenant(), &subject, &[other.clone(), other.clone()])).unwrap();
    let full = twice.map(|facts| {
        assert_eq!(facts.len(), 2);
        assert_eq!(facts[0], facts[1]);
        facts[0]
    });
    let fast = one.map(|facts| {
        assert_eq!(facts.len(), 1);
        facts[0]
    });
    assert_eq!(fast, full, "{subject} vs {other}");
    fast
}

fn check_every_case(store: &SqliteStore) {
    fill(store);
    // One way.
    let ab = both_paths(store, "alice", "bob").unwrap();
    assert!(ab.exists && ab.outgoing.is_some() && !ab.incoming);
    let ba = both_paths(store, "bob", "alice").unwrap();
    assert!(ba.exists && ba.outgoing.is_none() && ba.incoming);
    // Both ways, one of them muted, with the mutual time.
    let cd = both_paths(store, "carol", "dave").unwrap();
    let out = cd.outgoing.unwrap();
    assert!(cd.exists && !out.muted && cd.incoming);
    assert!(out.mutual_since.is_some());
    let dc = both_paths(store, "dave", "carol").unwrap();
    assert!(dc.exists && dc.outgoing.unwrap().muted && dc.incoming);
    // None.
    let ae = both_paths(store, "alice", "erin").unwrap();
    assert!(ae.exists && ae.outgoing.is_none() && !ae.incoming);
    // Unknown subject, with and without a known other.
    assert!(both_paths(store, "nobody", "alice").is_none());
    assert!(both_paths(store, "nobody", "ghost").is_none());
    // Unknown other.
    let ag = both_paths(store, "alice", "ghost").unwrap();
    assert!(!ag.exists && ag.outgoing.is_none() && !ag.incoming);
    // A channel: followed, never following.
    let ac = both_paths(store, "alice", CHANNEL).unwrap();
    assert!(ac.exists && ac.outgoing.is_some() && !ac.incoming);
    let ca = both_paths(store, CHANNEL, "alice").unwrap();
    assert!(ca.exists && ca.outgoing.is_none() && ca.incoming);
    let ce = both_paths(store, CHANNEL, "erin").unwrap();
    assert!(ce.exists && ce.outgoing.is_none() && !ce.incoming);
    assert!(both_paths(store, "ghost", CHANNEL).is_none());
    // A node goes once its edges are gone, and reads leave it behind.
    let account = |id| follow_core::AccountId::new(id).unwrap();
    let results = block_on(store.write(batch(
        1,
        vec![
            follow_core::Command::Unfollow {
                follower: account("alice"),
                target: node("bob"),
            },
            follow_core::Command::Unfollow {
                follower: account("bob"),
                target: node(CHANNEL),
            },
            follow_core::Command::Remove { node: node("bob") },
        ],
    )))
    .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(!both_paths(store, "alice", "bob").unwrap().exists);
    assert!(both_paths(store, "bob", "alice").is_none());
}

fn file_store(tag: &str, inline_readers: usize) -> (SqliteStore, TempDir) {
    let dir = TempDir::new(tag);
    let options = SqliteOptions {
        inline_readers,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.file("graph.db"), options).unwrap();
    (store, dir)
}

#[test]
fn one_other_answers_as_the_full_path_inline() {
    let (store, _dir) = file_store("pair-inline", 4);
    check_every_case(&store);
}

#[test]
fn one_other_answers_as_the_full_path_on_reader_threads() {
    let (store, _dir) = file_store("pair-readers", 0);
    check_every_case(&store);
}

#[test]
fn one_other_answers_as_the_full_path_in_memory() {
    check_every_case(&SqliteStore::open_in_memory().unwrap());
}

#[test]
fn without_inline_readers_every_read_still_works() {
    let (store, _dir) = file_store("no-inline", 0);
    fill(&store);
    let alice = block_on(store.node(&tenant(), &node("alice")))
        .unwrap()
        .unwrap();
    assert_eq!(alice.counts.following, 2);
    let others: Vec<NodeId> = ["bob", "carol", "dave", "erin", CHANNEL, "ghost"]
        .into_iter()
        .map(node)
        .collect();
    let facts = block_on(store.pairs(&tenant(), &node("alice"), &others))
        .unwrap()
        .unwrap();
    let exists: Vec<bool> = facts.iter().map(|f| f.exists).collect();
    assert_eq!(exists, [true, true, true, true, true, false]);
    assert!(block_on(store.verify()).unwrap().is_ok());
}

/// More readers than pooled connections, racing the writer: some reads run
/// inline, the rest fall back to the reader threads, and every one answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_beyond_the_pool_fall_back_to_reader_threads() {
    let (store, _dir) = file_store("crowd", 1);
    fill(&store);
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for task in 0..16 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for step in 0..50i64 {
                if task == 0 {
                    let command = if step % 2 == 0 {
                        unfollow("alice", "erin")
                    } else {
                        follow("alice", "erin")
                    };
                    store.write(batch(step, vec![command])).await.unwrap();
                }
                let carol = store.node(&tenant(), &node("carol")).await.unwrap();
                assert_eq!(carol.unwrap().counts.mutual, 1);
                let facts = store
                    .pairs(&tenant(), &node("carol"), &[node("dave")])
                    .await
                    .unwrap()
                    .unwrap();
                assert!(facts[0].outgoing.is_some() && facts[0].incoming);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(store.verify().await.unwrap().is_ok());
}
