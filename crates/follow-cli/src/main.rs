//! `followctl`: inspect and edit a follow graph stored in an embedded SQLite
//! database (first slice: nodes, follows, mutes, lists, counts, verify, demo).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use follow_core::{
    AccountId, Applied, Capabilities, Error, EventPosition, FollowGraph, ImportEdge, ItemResult,
    ListEntry, NodeId, Outcome, Page, PageRequest, Principal, TenantId, Timestamp,
};
use follow_store_sqlite::{OpenError, SqliteStore};
use serde_json::{Value, json};

/// Command-line tool for the follow graph on an embedded SQLite database.
#[derive(Debug, Parser)]
#[command(name = "followctl", version, about)]
struct Cli {
    /// The database file, created on first use.
    #[arg(long, global = true, default_value = "follow.db")]
    db: PathBuf,
    /// The tenant to act in.
    #[arg(long, global = true, default_value = "default")]
    tenant: String,
    /// Print one JSON document instead of plain lines.
    #[arg(long, global = true)]
    json: bool,
    /// What to do.
    #[command(subcommand)]
    command: Cmd,
}

/// Paging options of a list.
#[derive(Debug, clap::Args)]
struct PageArgs {
    /// At most this many items (1..=100).
    #[arg(long)]
    limit: Option<u32>,
    /// Continue after this cursor (printed by the previous page).
    #[arg(long)]
    cursor: Option<String>,
}

impl PageArgs {
    fn request(&self) -> PageRequest {
        let mut page = match &self.cursor {
            Some(cursor) => PageRequest::after(cursor.clone()),
            None => PageRequest::first(),
        };
        if let Some(limit) = self.limit {
            page = page.with_limit(limit);
        }
        page
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
enum Cmd {
    /// Register accounts. Example: `followctl add-account alice bob`
    AddAccount {
        /// Account ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Register channels. Example: `followctl add-channel 120363012345678901@newsletter`
    AddChannel {
        /// Channel JIDs.
        #[arg(required = true)]
        jids: Vec<String>,
    },
    /// Remove a node and its edges. Example: `followctl remove carol`
    Remove {
        /// The node.
        id: String,
    },
    /// TARGET drops FOLLOWER from its followers. Example: `followctl remove-follower bob alice`
    RemoveFollower {
        /// The followed node.
        target: String,
        /// The follower to drop.
        follower: String,
    },
    /// ACTOR follows each TARGET. Example: `followctl follow alice bob carol`
    Follow {
        /// The follower.
        actor: String,
        /// One target or a batch.
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// ACTOR unfollows each TARGET. Example: `followctl unfollow alice bob`
    Unfollow {
        /// The follower.
        actor: String,
        /// One target or a batch.
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// Mute (or with --off unmute) TARGET for ACTOR. Example: `followctl mute alice bob`
    Mute {
        /// The follower.
        actor: String,
        /// The followed node.
        target: String,
        /// Unmute instead.
        #[arg(long)]
        off: bool,
    },
    /// The relation between A and B. Example: `followctl relation alice bob`
    Relation {
        /// First node.
        a: String,
        /// Second node.
        b: String,
    },
    /// Who follows TARGET, newest first. Example: `followctl followers bob --limit 10`
    Followers {
        /// The followed node.
        target: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Whom ACTOR follows, newest first. Example: `followctl following alice`
    Following {
        /// The follower.
        actor: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Whom ACTOR follows and is followed by. Example: `followctl mutuals alice`
    Mutuals {
        /// The node.
        actor: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// The change feed. Example: `followctl events --after 10 --limit 50`
    Events {
        /// Only events after this position.
        #[arg(long)]
        after: Option<u64>,
        /// At most this many events.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Record activity of TARGET (now, or --at). Example: `followctl touch bob --at 2024-01-01T00:00:00Z`
    Touch {
        /// The active node.
        target: String,
        /// When (RFC 3339); now by default.
        #[arg(long)]
        at: Option<String>,
    },
    /// Follows of ACTOR inactive since a time. Example: `followctl stale alice --since 2024-01-01T00:00:00Z`
    Stale {
        /// The follower.
        actor: String,
        /// Inactive since (RFC 3339).
        #[arg(long)]
        since: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// A node's following, followers and mutual counts. Example: `followctl counts alice`
    Counts {
        /// The node.
        id: String,
    },
    /// Check the database's counts and integrity. Example: `followctl verify --repair`
    Verify {
        /// Rewrite wrong counts from the edges.
        #[arg(long)]
        repair: bool,
    },
    /// Load follows from CSV `follower,target[,since]` (`-` for stdin). Example: `followctl import follows.csv`
    Import {
        /// The CSV file, or `-` for standard input.
        file: PathBuf,
    },
    /// Build a sample graph and walk through the main scenarios. Example: `followctl --db demo.db demo`
    Demo,
}

/// What a command prints: plain lines, or one JSON document.
struct Output {
    lines: Vec<String>,
    json: Value,
}

fn open_error(error: OpenError) -> Error {
    Error::unavailable(error.to_string())
}

fn applied_text(applied: &Applied) -> String {
    match applied.outcome {
        follow_core::Outcome::Changed => "changed".to_owned(),
        follow_core::Outcome::Unchanged => "unchanged".to_owned(),
    }
}

/// Serializes a value to JSON, mapping a failure to an `internal` error.
macro_rules! to_value_impl {
    ($value:expr) => {
        serde_json::to_value($value).map_err(|e| Error::internal(e.to_string()))
    };
}

fn batch_lines(label: &str, items: &[ItemResult<Applied>]) -> Vec<String> {
    items
        .iter()
        .map(|item| match &item.result {
            Ok(applied) => format!("{label} {}: {}", item.target, applied_text(applied)),
            Err(error) => format!(
                "{label} {}: error {}: {}",
                item.target,
                error.code(),
                error.message()
            ),
        })
        .collect()
}

fn page_output(title: &str, page: &Page<ListEntry>) -> Result<Output, Error> {
    let mut lines: Vec<String> = page
        .items
        .iter()
        .map(|e| format!("{title} {} since {} muted={}", e.node, e.since, e.muted))
        .collect();
    if page.items.is_empty() {
        lines.push(format!("{title}: none"));
    }
    if let Some(cursor) = &page.next_cursor {
        lines.push(format!("next cursor: {cursor}"));
    }
    Ok(Output {
        lines,
        json: to_value_impl!(page)?,
    })
}

async fn register_all(
    graph: &FollowGraph,
    principal: &Principal,
    ids: &[String],
) -> Result<Output, Error> {
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for id in ids {
        let applied = graph.register(principal, id).await?;
        lines.push(format!("register {id}: {}", applied_text(&applied)));
        items.push(json!({"id": id, "result": to_value_impl!(&applied)?}));
    }
    Ok(Output {
        lines,
        json: Value::Array(items),
    })
}

async fn edges(
    graph: &FollowGraph,
    principal: &Principal,
    actor: &str,
    targets: &[String],
    follow: bool,
) -> Result<Output, Error> {
    let label = if follow { "follow" } else { "unfollow" };
    if let [target] = targets {
        let applied = if follow {
            graph.follow(principal, actor, target).await?
        } else {
            graph.unfollow(principal, actor, target).await?
        };
        return Ok(Output {
            lines: vec![format!(
                "{label} {actor} -> {target}: {}",
                applied_text(&applied)
            )],
            json: to_value_impl!(&applied)?,
        });
    }
    let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
    let items = if follow {
        graph.follow_many(principal, actor, &refs).await?
    } else {
        graph.unfollow_many(principal, actor, &refs).await?
    };
    Ok(Output {
        lines: batch_lines(&format!("{label} {actor} ->"), &items),
        json: to_value_impl!(&items)?,
    })
}

/// One CSV row parsed into an edge, or the reason it is rejected.
fn parse_row(record: &csv::StringRecord) -> Result<ImportEdge, String> {
    if !(2..=3).contains(&record.len()) {
        return Err(format!("expected 2 or 3 fields, found {}", record.len()));
    }
    let field = |i: usize| record.get(i).unwrap_or("").trim();
    let follower =
        AccountId::parse_field("follower", field(0)).map_err(|e| e.message().to_owned())?;
    let target = NodeId::parse_field("target", field(1)).map_err(|e| e.message().to_owned())?;
    let since = match field(2) {
        "" => None,
        text => Some(Timestamp::parse_rfc3339("since", text).map_err(|e| e.message().to_owned())?),
    };
    Ok(ImportEdge {
        follower,
        target,
        since,
    })
}

/// Running totals of an import.
#[derive(Default)]
struct ImportTally {
    rows: u64,
    created: u64,
    present: u64,
    rejected: Vec<(u64, String)>,
}

async fn flush(
    graph: &FollowGraph,
    principal: &Principal,
    chunk: &mut Vec<(u64, ImportEdge)>,
    tally: &mut ImportTally,
) -> Result<(), Error> {
    if chunk.is_empty() {
        return Ok(());
    }
    let edges: Vec<ImportEdge> = chunk.iter().map(|(_, e)| e.clone()).collect();
    let results = graph.import(principal, &edges).await?;
    for ((line, _), result) in chunk.iter().zip(results) {
        match result {
            Ok(applied) => match applied.outcome {
                Outcome::Changed => tally.created += 1,
                Outcome::Unchanged => tally.present += 1,
            },
            Err(error) => tally
                .rejected
                .push((*line, format!("{}: {}", error.code(), error.message()))),
        }
    }
    chunk.clear();
    Ok(())
}

async fn import(
    graph: &FollowGraph,
    principal: &Principal,
    file: &std::path::Path,
) -> Result<Output, Error> {
    let input: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(file).map_err(|e| {
            Error::invalid_argument("file", format!("cannot open {}: {e}", file.display()))
        })?)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let limit = graph.import_limit().max(1);
    let mut tally = ImportTally::default();
    let mut chunk: Vec<(u64, ImportEdge)> = Vec::with_capacity(limit);
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, csv::Position::line);
                let is_header = first && record.get(0).map(str::trim) == Some("follower");
                first = false;
                if is_header {
                    continue;
                }
                tally.rows += 1;
                match parse_row(&record) {
                    Ok(edge) => {
                        chunk.push((line, edge));
                        if chunk.len() >= limit {
                            flush(graph, principal, &mut chunk, &mut tally).await?;
                        }
                    }
                    Err(reason) => tally.rejected.push((line, reason)),
                }
            }
            Err(error) => {
                if !matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) {
                    flush(graph, principal, &mut chunk, &mut tally).await?;
                    return Err(Error::invalid_argument("file", error.to_string()));
                }
                first = false;
                tally.rows += 1;
                let line = error.position().map_or(line, csv::Position::line);
                tally.rejected.push((line, error.to_string()));
            }
        }
    }
    flush(graph, principal, &mut chunk, &mut tally).await?;
    tally.rejected.sort_by_key(|(line, _)| *line);
    let mut lines: Vec<String> = tally
        .rejected
        .iter()
        .map(|(line, reason)| format!("line {line}: rejected: {reason}"))
        .collect();
    lines.push(format!(
        "import: {} rows read, {} edges created, {} already present, {} rejected",
        tally.rows,
        tally.created,
        tally.present,
        tally.rejected.len()
    ));
    let rejected: Vec<Value> = tally
        .rejected
        .iter()
        .map(|(line, reason)| json!({"line": line, "reason": reason}))
        .collect();
    Ok(Output {
        lines,
        json: json!({
            "rows": tally.rows,
            "created": tally.created,
            "already_present": tally.present,
            "rejected": rejected,
        }),
    })
}

async fn demo(graph: &FollowGraph, p: &Principal) -> Result<Output, Error> {
    const NEWS: &str = "120363012345678901@newsletter";
    let mut lines = Vec::new();
    let mut steps = Vec::new();
    for id in ["alice", "bob", "carol", "dave", NEWS] {
        let applied = graph.register(p, id).await?;
        lines.push(format!("register {id}: {}", applied_text(&applied)));
        steps.push(json!({"step": "register", "id": id, "result": to_value_impl!(&applied)?}));
    }
    for (actor, target) in [
        ("alice", NEWS),
        ("alice", NEWS),
        ("bob", NEWS),
        ("carol", NEWS),
        ("alice", "bob"),
        ("bob", "alice"),
    ] {
        let applied = graph.follow(p, actor, target).await?;
        lines.push(format!(
            "follow {actor} -> {target}: {}",
            applied_text(&applied)
        ));
        steps.push(json!({"step": "follow", "actor": actor, "target": target,
            "result": to_value_impl!(&applied)?}));
    }
    let muted = graph.mute(p, "carol", NEWS).await?;
    lines.push(format!("mute carol -> {NEWS}: {}", applied_text(&muted)));
    steps.push(json!({"step": "mute", "actor": "carol", "target": NEWS,
        "result": to_value_impl!(&muted)?}));
    let relation = graph.relation(p, "alice", "bob").await?;
    lines.push(format!("relation alice bob: {relation:?}"));
    steps.push(json!({"step": "relation", "a": "alice", "b": "bob",
        "result": to_value_impl!(&relation)?}));
    let batch = graph
        .unfollow_many(p, "alice", &[NEWS, "dave", "nobody"])
        .await?;
    lines.extend(batch_lines("unfollow alice ->", &batch));
    steps.push(
        json!({"step": "unfollow_many", "actor": "alice", "result": to_value_impl!(&batch)?}),
    );
    let mut page = PageRequest::first().with_limit(1);
    loop {
        let followers = graph.followers(p, NEWS, &page).await?;
        for e in &followers.items {
            lines.push(format!(
                "follower of {NEWS}: {} since {} muted={}",
                e.node, e.since, e.muted
            ));
        }
        steps.push(
            json!({"step": "followers", "target": NEWS, "result": to_value_impl!(&followers)?}),
        );
        match followers.next_cursor {
            Some(cursor) => {
                lines.push(format!("next cursor: {cursor}"));
                page = PageRequest::after(cursor).with_limit(1);
            }
            None => break,
        }
    }
    for id in [NEWS, "alice", "bob"] {
        let counts = graph.counts(p, id).await?;
        lines.push(format!(
            "counts {id}: following={} followers={} mutual={}",
            counts.following, counts.followers, counts.mutual
        ));
        steps.push(json!({"step": "counts", "id": id, "result": to_value_impl!(&counts)?}));
    }
    let events = graph.events(p, None, Some(100)).await?;
    for event in &events {
        lines.push(format!(
            "event #{} {:?} {} -> {}",
            event.position, event.kind, event.follower, event.target
        ));
    }
    steps.push(json!({"step": "events", "result": to_value_impl!(&events)?}));
    Ok(Output {
        lines,
        json: json!({"steps": steps}),
    })
}

async fn run(cli: &Cli) -> Result<Output, Error> {
    let tenant = TenantId::new(&cli.tenant)?;
    let principal = Principal::new(tenant, Capabilities::ALL);
    let store = Arc::new(SqliteStore::open(&cli.db).map_err(open_error)?);
    let graph = FollowGraph::new(store.clone());
    let p = &principal;
    match &cli.command {
        Cmd::AddAccount { ids } => register_all(&graph, p, ids).await,
        Cmd::AddChannel { jids } => register_all(&graph, p, jids).await,
        Cmd::Follow { actor, targets } => edges(&graph, p, actor, targets, true).await,
        Cmd::Unfollow { actor, targets } => edges(&graph, p, actor, targets, false).await,
        Cmd::Mute { actor, target, off } => {
            let applied = graph.set_mute(p, actor, target, !off).await?;
            let verb = if *off { "unmute" } else { "mute" };
            Ok(Output {
                lines: vec![format!(
                    "{verb} {actor} -> {target}: {}",
                    applied_text(&applied)
                )],
                json: to_value_impl!(&applied)?,
            })
        }
        Cmd::Relation { a, b } => {
            let relation = graph.relation(p, a, b).await?;
            Ok(Output {
                lines: vec![format!("relation {a} {b}: {relation:?}")],
                json: json!({"a": a, "b": b, "relation": to_value_impl!(&relation)?}),
            })
        }
        Cmd::Followers { target, page } => {
            let list = graph.followers(p, target, &page.request()).await?;
            page_output("follower", &list)
        }
        Cmd::Following { actor, page } => {
            let list = graph.following(p, actor, &page.request()).await?;
            page_output("following", &list)
        }
        Cmd::Counts { id } => {
            let counts = graph.counts(p, id).await?;
            Ok(Output {
                lines: vec![format!(
                    "{id}: following={} followers={} mutual={}",
                    counts.following, counts.followers, counts.mutual
                )],
                json: json!({"id": id, "counts": to_value_impl!(&counts)?}),
            })
        }
        Cmd::Verify { repair: true } => {
            let report = store.repair().await?;
            let mut lines: Vec<String> = report
                .counts_fixed
                .iter()
                .map(|m| {
                    format!(
                        "fixed count {}/{}: stored {:?} actual {:?}",
                        m.tenant, m.node, m.stored, m.actual
                    )
                })
                .collect();
            lines.push(format!(
                "repair: {} counts fixed",
                report.counts_fixed.len()
            ));
            Ok(Output {
                lines,
                json: json!({"counts_fixed": report.counts_fixed.len()}),
            })
        }
        Cmd::Verify { repair: false } => {
            let report = store.verify().await?;
            let mut lines: Vec<String> = report
                .integrity_errors
                .iter()
                .map(|e| format!("integrity: {e}"))
                .collect();
            lines.extend(report.count_mismatches.iter().map(|m| {
                format!(
                    "count mismatch {}/{}: stored {:?} actual {:?}",
                    m.tenant, m.node, m.stored, m.actual
                )
            }));
            lines.extend(
                report
                    .dangling_edges
                    .iter()
                    .map(|(t, f, g)| format!("dangling edge {t}: {f} -> {g}")),
            );
            lines.push(if report.is_ok() {
                "verify: ok".to_owned()
            } else {
                "verify: problems found".to_owned()
            });
            let json = json!({
                "ok": report.is_ok(),
                "integrity_errors": report.integrity_errors,
                "count_mismatches": report.count_mismatches.len(),
                "dangling_edges": report.dangling_edges.len(),
            });
            if report.is_ok() {
                Ok(Output { lines, json })
            } else {
                for line in &lines {
                    eprintln!("{line}");
                }
                Err(Error::internal("verify found problems")
                    .with_detail("count_mismatches", report.count_mismatches.len())
                    .with_detail("dangling_edges", report.dangling_edges.len()))
            }
        }
        Cmd::Remove { id } => {
            let applied = graph.remove(p, id).await?;
            Ok(Output {
                lines: vec![format!("remove {id}: {}", applied_text(&applied))],
                json: to_value_impl!(&applied)?,
            })
        }
        Cmd::RemoveFollower { target, follower } => {
            let applied = graph.remove_follower(p, target, follower).await?;
            Ok(Output {
                lines: vec![format!(
                    "remove-follower {target} <- {follower}: {}",
                    applied_text(&applied)
                )],
                json: to_value_impl!(&applied)?,
            })
        }
        Cmd::Mutuals { actor, page } => {
            let list = graph.mutuals(p, actor, &page.request()).await?;
            page_output("mutual", &list)
        }
        Cmd::Events { after, limit } => {
            let events = graph.events(p, after.map(EventPosition), *limit).await?;
            let mut lines: Vec<String> = events
                .iter()
                .map(|e| {
                    format!(
                        "event #{} {:?} {} -> {} at {}",
                        e.position, e.kind, e.follower, e.target, e.at
                    )
                })
                .collect();
            if events.is_empty() {
                lines.push("events: none".to_owned());
            }
            Ok(Output {
                lines,
                json: to_value_impl!(&events)?,
            })
        }
        Cmd::Touch { target, at } => {
            let at = at
                .as_deref()
                .map(|t| Timestamp::parse_rfc3339("at", t))
                .transpose()?;
            let applied = graph.touch(p, target, at).await?;
            Ok(Output {
                lines: vec![format!("touch {target}: {}", applied_text(&applied))],
                json: to_value_impl!(&applied)?,
            })
        }
        Cmd::Stale { actor, since, page } => {
            let since = Timestamp::parse_rfc3339("since", since)?;
            let list = graph
                .stale_following(p, actor, since, &page.request())
                .await?;
            let mut lines: Vec<String> = list
                .items
                .iter()
                .map(|e| {
                    format!(
                        "stale {} since {} active {} muted={}",
                        e.node, e.since, e.active_at, e.muted
                    )
                })
                .collect();
            if list.items.is_empty() {
                lines.push("stale: none".to_owned());
            }
            if let Some(cursor) = &list.next_cursor {
                lines.push(format!("next cursor: {cursor}"));
            }
            Ok(Output {
                lines,
                json: to_value_impl!(&list)?,
            })
        }
        Cmd::Import { file } => import(&graph, p, file).await,
        Cmd::Demo => demo(&graph, p).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match futures::executor::block_on(run(&cli)) {
        Ok(output) => {
            if cli.json {
                println!("{}", output.json);
            } else {
                for line in output.lines {
                    println!("{line}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            if cli.json {
                println!("{}", error.to_json());
            }
            eprintln!("error: {}: {}", error.code(), error.message());
            ExitCode::FAILURE
        }
    }
}
