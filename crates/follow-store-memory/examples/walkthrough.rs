//! Builds a small graph through the facade and prints each step's outcome:
//! the seeds' scenarios (follow, follow again, mute by default, a batch with a
//! per-item error, paging with a cursor, counts, events).

use std::sync::Arc;

use follow_core::{
    Capabilities, Error, FollowGraph, ManualClock, PageRequest, Principal, TenantId, Timestamp,
};
use follow_store_memory::MemoryStore;

const NEWS: &str = "120363012345678901@newsletter";

async fn run() -> Result<(), Error> {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
        1_795_000_000,
    )?));
    let graph = FollowGraph::builder(Arc::new(MemoryStore::new()))
        .clock(clock.clone())
        .build();
    let admin = Principal::new(TenantId::new("acme")?, Capabilities::ALL);

    for id in ["alice", "bob", "carol", "dave", NEWS] {
        println!(
            "register {id:<32} -> {:?}",
            graph.register(&admin, id).await?.outcome
        );
    }
    for (actor, target) in [
        ("alice", NEWS),
        ("alice", NEWS),
        ("bob", NEWS),
        ("carol", NEWS),
        ("alice", "bob"),
        ("bob", "alice"),
    ] {
        clock.advance(std::time::Duration::from_secs(1));
        let applied = graph.follow(&admin, actor, target).await?;
        println!("follow {actor} -> {target:<32} -> {:?}", applied.outcome);
    }
    println!(
        "mute alice -> news (default true)   -> {:?}",
        graph.mute(&admin, "alice", NEWS).await?.outcome
    );
    println!(
        "relation alice/bob                  -> {:?}",
        graph.relation(&admin, "alice", "bob").await?
    );

    println!("unfollow_many alice [news, dave, nobody, alice]:");
    for item in graph
        .unfollow_many(&admin, "alice", &[NEWS, "dave", "nobody", "alice"])
        .await?
    {
        match item.result {
            Ok(applied) => println!("  {:<32} {:?}", item.target, applied.outcome),
            Err(error) => println!("  {:<32} error {}", item.target, error.code()),
        }
    }

    let mut page = PageRequest::first().with_limit(1);
    loop {
        let followers = graph.followers(&admin, NEWS, &page).await?;
        for entry in &followers.items {
            println!(
                "follower of news: {} since {} muted={}",
                entry.node, entry.since, entry.muted
            );
        }
        match followers.next_cursor {
            Some(cursor) => page = PageRequest::after(cursor).with_limit(1),
            None => break,
        }
    }
    println!("counts news  -> {:?}", graph.counts(&admin, NEWS).await?);
    for event in graph.events(&admin, None, Some(100)).await? {
        println!(
            "event #{} {:?} {} -> {}",
            event.position, event.kind, event.follower, event.target
        );
    }
    Ok(())
}

fn main() {
    if let Err(error) = futures::executor::block_on(run()) {
        eprintln!("{}", error.to_json());
        std::process::exit(1);
    }
}
