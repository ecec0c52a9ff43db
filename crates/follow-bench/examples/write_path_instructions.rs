//! A fixed write workload through the facade, for counting instructions
//! under callgrind (`valgrind --tool=callgrind`): deterministic, so two
//! builds can be compared on a busy machine. Usage:
//! `write_path_instructions <sqlite|memory> <none|import|follow|many>`;
//! a phase's cost is its count less the count of `none` (the setup).

use std::sync::Arc;

use follow_core::{AccountId, Capabilities, FollowGraph, ImportEdge, NodeId, Principal, TenantId};
use follow_store_memory::MemoryStore;
use follow_store_sqlite::{Durability, SqliteOptions, SqliteStore};

type Failure = Box<dyn std::error::Error>;

const USAGE: &str = "usage: write_path_instructions <sqlite|memory> <none|import|follow|many>";

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let (adapter, phase) = match args.as_slice() {
        [_, adapter, phase]
            if ["sqlite", "memory"].contains(&adapter.as_str())
                && ["none", "import", "follow", "many"].contains(&phase.as_str()) =>
        {
            (adapter.as_str(), phase.as_str())
        }
        _ => return Err(USAGE.into()),
    };
    let dir = std::env::temp_dir().join(format!("icount-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store: Arc<dyn follow_core::FollowStore> = match adapter {
        "sqlite" => Arc::new(SqliteStore::open_with(
            dir.join("g.db"),
            SqliteOptions {
                synchronous: Durability::Normal,
                ..SqliteOptions::default()
            },
        )?),
        _ => Arc::new(MemoryStore::new()),
    };
    let graph = FollowGraph::new(store);
    let admin = Principal::new(TenantId::new("acme")?, Capabilities::ALL);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Setup, in every phase: 400 accounts, each following 5 others.
        let mut edges = Vec::new();
        for i in 0..400u32 {
            for k in 1..=5u32 {
                let follower = AccountId::new(&format!("u{i}"))?;
                let target = NodeId::new(&format!("u{}", (i * 7 + k * 13) % 400))?;
                if follower.as_str() != target.as_str() {
                    edges.push(ImportEdge::new(follower, target));
                }
            }
        }
        graph.import(&admin, &edges).await?;
        match phase {
            "import" => {
                // 20,000 new edges in calls of 10,000.
                let mut more = Vec::new();
                for i in 0..2000u32 {
                    for k in 0..10u32 {
                        let follower = AccountId::new(&format!("v{i}"))?;
                        let target = NodeId::new(&format!("w{}", (i * 31 + k * 17) % 5000))?;
                        more.push(ImportEdge::new(follower, target));
                    }
                }
                for chunk in more.chunks(10_000) {
                    graph.import(&admin, chunk).await?;
                }
            }
            "follow" => {
                for i in 0..1000u32 {
                    let (a, b) = (format!("u{}", i % 400), format!("u{}", (i * 3 + 1) % 400));
                    if a != b {
                        graph.follow(&admin, &a, &b).await?;
                        graph.unfollow(&admin, &a, &b).await?;
                    }
                }
            }
            "many" => {
                for i in 0..100u32 {
                    let actor = format!("u{}", i % 400);
                    let targets: Vec<String> = (1..=20)
                        .map(|k| format!("u{}", (i + k * 11) % 400))
                        .filter(|t| *t != actor)
                        .collect();
                    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
                    graph.follow_many(&admin, &actor, &targets).await?;
                    graph.unfollow_many(&admin, &actor, &targets).await?;
                }
            }
            _ => {}
        }
        Ok::<(), Failure>(())
    })?;
    drop(graph);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
