//! `import`: reads a file in chunks, loads each chunk in one transaction
//! (or, with `--dry-run`, only compares it with the database), and sums up.

use std::collections::HashSet;
use std::io::Read;

use follow_core::{AccountId, EventKind, ImportEdge, NodeId};
use serde_json::{Value, json};

use super::rows::{self, Row};
use crate::cli::{Format, ImportArgs};
use crate::failure::Failure;
use crate::output::Output;
use crate::progress;
use crate::session::Session;

/// At most this many rejected rows are listed; all are counted.
const LISTED_REJECTS: usize = 1000;

/// Running totals of an import.
#[derive(Debug, Default)]
struct Tally {
    rows: u64,
    edges_new: u64,
    edges_present: u64,
    mute_changes: u64,
    /// Counted by the dry run only: a real import registers nodes inside
    /// its batches without saying which were new.
    nodes_new: u64,
    rejected: u64,
    listed: Vec<(u64, String)>,
}

impl Tally {
    fn reject(&mut self, line: u64, reason: String) {
        self.rejected += 1;
        if self.listed.len() < LISTED_REJECTS {
            self.listed.push((line, reason));
        }
    }
}

/// What happens to each chunk: written, or only compared.
enum Mode {
    Apply,
    /// Edges the file creates before the current chunk, so a row repeated
    /// later in the file counts as present, as it would on import; and every
    /// node already looked at (present or to be created), so each is read
    /// from the database once.
    DryRun {
        new_edges: HashSet<(NodeId, NodeId)>,
        seen_nodes: HashSet<NodeId>,
    },
}

/// Runs `import`.
pub async fn import(s: &Session, args: &ImportArgs, interactive: bool) -> Result<Output, Failure> {
    let follower = match (args.format, &args.as_account) {
        (Format::Mastodon, Some(account)) => Some(AccountId::parse_field("as", account)?),
        (Format::Mastodon, None) => {
            return Err(follow_core::Error::invalid_argument(
                "as",
                "a Mastodon file needs --as ACCOUNT, the account that follows",
            )
            .into());
        }
        (Format::Csv, _) => None,
    };
    let (input, size): (Box<dyn Read>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = std::fs::File::open(&args.file).map_err(|e| Failure::file(&args.file, &e))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let bar = progress::bar(size, interactive);
    let mut mode = if args.dry_run {
        Mode::DryRun {
            new_edges: HashSet::new(),
            seen_nodes: HashSet::new(),
        }
    } else {
        Mode::Apply
    };
    let batch_size = args.batch_size as usize;
    let mut tally = Tally::default();
    let mut chunk: Vec<(u64, Row)> = Vec::with_capacity(batch_size);
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                if std::mem::take(&mut first) && rows::is_header(&record) {
                    continue;
                }
                tally.rows += 1;
                let row = match &follower {
                    Some(follower) => rows::parse_mastodon(&record, follower),
                    None => rows::parse_csv(&record),
                };
                match row {
                    Ok(row) => chunk.push((line, row)),
                    Err(reason) => tally.reject(line, reason),
                }
            }
            // A row that is not UTF-8 is one bad row; anything else (an
            // unreadable file) ends the import after what is committed.
            Err(error) if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) => {
                first = false;
                tally.rows += 1;
                let line = error.position().map_or(0, csv::Position::line);
                tally.reject(line, error.to_string());
            }
            Err(error) => {
                flush(s, &mut mode, &mut chunk, &mut tally).await?;
                bar.finish_and_clear();
                return Err(stopped(&tally, error.to_string()));
            }
        }
        if chunk.len() >= batch_size {
            if let Err(failure) = flush(s, &mut mode, &mut chunk, &mut tally).await {
                bar.finish_and_clear();
                return Err(stopped(&tally, failure.message().to_owned()));
            }
            bar.set_position(reader.position().byte());
            bar.set_message(format!("{} rows", tally.rows));
        }
    }
    if let Err(failure) = flush(s, &mut mode, &mut chunk, &mut tally).await {
        bar.finish_and_clear();
        return Err(stopped(&tally, failure.message().to_owned()));
    }
    bar.finish_and_clear();
    Ok(summary(&tally, args.dry_run))
}

/// A failure mid-file: what was committed before it stays, and says so.
fn stopped(tally: &Tally, why: String) -> Failure {
    follow_core::Error::unavailable(format!(
        "import stopped after {} rows ({} edges created, each committed batch complete): {why}",
        tally.rows, tally.edges_new
    ))
    .into()
}

async fn flush(
    s: &Session,
    mode: &mut Mode,
    chunk: &mut Vec<(u64, Row)>,
    tally: &mut Tally,
) -> Result<(), Failure> {
    if chunk.is_empty() {
        return Ok(());
    }
    match mode {
        Mode::Apply => apply(s, chunk, tally).await?,
        Mode::DryRun {
            new_edges,
            seen_nodes,
        } => compare(s, chunk, tally, new_edges, seen_nodes).await?,
    }
    chunk.clear();
    Ok(())
}

async fn apply(s: &Session, chunk: &[(u64, Row)], tally: &mut Tally) -> Result<(), Failure> {
    let mut lines = Vec::with_capacity(chunk.len());
    let mut edges: Vec<ImportEdge> = Vec::with_capacity(chunk.len());
    for (line, row) in chunk {
        match row {
            Row::Node(node) => {
                s.graph.register(&s.principal, node.as_str()).await?;
            }
            Row::Edge(edge) => {
                lines.push(*line);
                edges.push(edge.clone());
            }
        }
    }
    if edges.is_empty() {
        return Ok(());
    }
    let results = s.graph.import(&s.principal, &edges).await?;
    for (line, result) in lines.into_iter().zip(results) {
        match result {
            Ok(applied) => match applied.event.map(|e| e.kind) {
                Some(EventKind::Followed) => tally.edges_new += 1,
                Some(_) => {
                    tally.edges_present += 1;
                    tally.mute_changes += 1;
                }
                None => tally.edges_present += 1,
            },
            Err(error) => tally.reject(line, format!("{}: {}", error.code(), error.message())),
        }
    }
    Ok(())
}

async fn compare(
    s: &Session,
    chunk: &[(u64, Row)],
    tally: &mut Tally,
    new_edges: &mut HashSet<(NodeId, NodeId)>,
    seen_nodes: &mut HashSet<NodeId>,
) -> Result<(), Failure> {
    let tenant = s.principal.tenant();
    for (_, row) in chunk {
        let nodes = match row {
            Row::Node(node) => vec![node.clone()],
            Row::Edge(edge) => vec![NodeId::from(edge.follower.clone()), edge.target.clone()],
        };
        for node in nodes {
            if seen_nodes.contains(&node) {
                continue;
            }
            if s.store.node(tenant, &node).await?.is_none() {
                tally.nodes_new += 1;
            }
            seen_nodes.insert(node);
        }
        let Row::Edge(edge) = row else { continue };
        let follower = NodeId::from(edge.follower.clone());
        let key = (follower.clone(), edge.target.clone());
        if new_edges.contains(&key) {
            tally.edges_present += 1;
            continue;
        }
        let present = s
            .store
            .pairs(tenant, &follower, std::slice::from_ref(&edge.target))
            .await?
            .and_then(|pairs| pairs.first().and_then(|pair| pair.outgoing));
        match present {
            Some(current) => {
                tally.edges_present += 1;
                if edge.muted.is_some_and(|muted| muted != current.muted) {
                    tally.mute_changes += 1;
                }
            }
            None => {
                tally.edges_new += 1;
                new_edges.insert(key);
            }
        }
    }
    Ok(())
}

fn summary(tally: &Tally, dry_run: bool) -> Output {
    let mut lines: Vec<String> = tally
        .listed
        .iter()
        .map(|(line, reason)| format!("line {line}: rejected: {reason}"))
        .collect();
    if tally.rejected > tally.listed.len() as u64 {
        lines.push(format!(
            "… {} more rejected rows not listed",
            tally.rejected - tally.listed.len() as u64
        ));
    }
    lines.push(if dry_run {
        format!(
            "dry run, nothing written: {} rows read; would create {} edges and {} nodes; \
             {} edges already present; {} mute changes; {} rows rejected",
            tally.rows,
            tally.edges_new,
            tally.nodes_new,
            tally.edges_present,
            tally.mute_changes,
            tally.rejected
        )
    } else {
        format!(
            "import: {} rows read; {} edges created; {} already present; {} mute changes; \
             {} rows rejected",
            tally.rows, tally.edges_new, tally.edges_present, tally.mute_changes, tally.rejected
        )
    });
    let rejected: Vec<Value> = tally
        .listed
        .iter()
        .map(|(line, reason)| json!({"line": line, "reason": reason}))
        .collect();
    Output {
        lines,
        json: json!({
            "dry_run": dry_run,
            "rows": tally.rows,
            "edges_created": tally.edges_new,
            "nodes_created": dry_run.then_some(tally.nodes_new),
            "edges_already_present": tally.edges_present,
            "mute_changes": tally.mute_changes,
            "rejected": tally.rejected,
            "rejected_rows": rejected,
        }),
    }
}
