//! `import`: reads a file in chunks, loads each chunk in one transaction
//! (or, with `--dry-run`, only compares it with the database), and sums up.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use follow_core::{AccountId, EventKind, ImportEdge, NodeId};
use serde_json::{Value, json};

use super::rows::{self, Row};
use crate::cli::{Format, ImportArgs};
use crate::failure::Failure;
use crate::interrupt::Interrupt;
use crate::output::{Output, Status};
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
    /// Present edges whose follow options the row changed.
    option_changes: u64,
    /// Rows whose target is locked: a follow request, not an edge.
    requests: u64,
    /// Counted by the dry run only: a real import registers nodes inside
    /// its batches without saying which were new.
    nodes_new: u64,
    rejected: u64,
    listed: Vec<(u64, String)>,
    /// Batches committed (or, in a dry run, compared).
    batches: u64,
    /// Rows read up to the end of the last committed batch.
    committed_rows: u64,
    /// The file's last line inside the last committed batch.
    committed_line: u64,
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
    /// from the database once, with whether it is locked.
    DryRun {
        new_edges: HashSet<(NodeId, NodeId)>,
        seen_nodes: HashMap<NodeId, bool>,
    },
}

/// How often (in rows) the progress bar is moved while a batch is read.
const PROGRESS_EVERY: u64 = 1000;

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
    let (input, size) = open_input(&args.file)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let interrupt = Interrupt::watch();
    let bar = progress::bar(size, interactive);
    let mut mode = if args.dry_run {
        Mode::DryRun {
            new_edges: HashSet::new(),
            seen_nodes: HashMap::new(),
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
        if interrupt.requested() {
            bar.finish_and_clear();
            return Err(interrupted(&tally, args));
        }
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                if std::mem::take(&mut first) {
                    // The header decides how to read every row: a file
                    // without the expected one is refused before anything
                    // is written.
                    rows::check_header(&record, follower.is_some()).map_err(|why| {
                        bar.finish_and_clear();
                        Failure::bad_header(
                            format!("{}: {why}", args.file.display()),
                            json!({"file": args.file.display().to_string(), "line": line}),
                        )
                    })?;
                    continue;
                }
                tally.rows += 1;
                let row = rows::check_quotes(&record).and_then(|()| match &follower {
                    Some(follower) => rows::parse_mastodon(&record, follower),
                    None => rows::parse_csv(&record),
                });
                match row {
                    Ok(row) => chunk.push((line, row)),
                    Err(reason) => tally.reject(line, reason),
                }
            }
            // A row that is not UTF-8 is one bad row; anything else (an
            // unreadable file) ends the import after what is committed.
            Err(error) if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) => {
                tally.rows += 1;
                let line = error.position().map_or(0, csv::Position::line);
                if std::mem::take(&mut first) {
                    bar.finish_and_clear();
                    return Err(Failure::bad_header(
                        format!("{}: the header row is not UTF-8", args.file.display()),
                        json!({"file": args.file.display().to_string(), "line": line}),
                    ));
                }
                tally.reject(line, error.to_string());
            }
            Err(error) => {
                bar.finish_and_clear();
                return Err(stopped(&tally, &args.file, &error));
            }
        }
        if tally.rows % PROGRESS_EVERY == 0 {
            bar.set_position(reader.position().byte());
            bar.set_message(progress::rows_message(tally.rows, false));
        }
        if chunk.len() >= batch_size {
            if interrupt.requested() {
                bar.finish_and_clear();
                return Err(interrupted(&tally, args));
            }
            bar.set_message(progress::rows_message(tally.rows, true));
            if let Err(failure) = flush(s, &mut mode, &mut chunk, &mut tally).await {
                bar.finish_and_clear();
                return Err(failed(&tally, failure));
            }
            tally.committed_rows = tally.rows;
            tally.committed_line = reader.position().line().saturating_sub(1);
        }
    }
    if let Err(failure) = flush(s, &mut mode, &mut chunk, &mut tally).await {
        bar.finish_and_clear();
        return Err(failed(&tally, failure));
    }
    tally.committed_rows = tally.rows;
    bar.finish_and_clear();
    let output = summary(&tally, args.dry_run);
    Ok(if tally.rejected > 0 {
        output.with_status(Status::Partial)
    } else {
        output
    })
}

/// The file (or standard input) and its size; a directory or unreadable
/// file is a `file_error`.
fn open_input(path: &Path) -> Result<(Box<dyn Read>, Option<u64>), Failure> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::stdin().lock()), None));
    }
    let file = std::fs::File::open(path).map_err(|e| Failure::file(path, &e))?;
    let metadata = file.metadata().map_err(|e| Failure::file(path, &e))?;
    if metadata.is_dir() {
        let error = std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory");
        return Err(Failure::file(path, &error));
    }
    Ok((Box::new(file), Some(metadata.len())))
}

/// Ctrl-C: what is committed stays; say how much, and how to go on.
fn interrupted(tally: &Tally, args: &ImportArgs) -> Failure {
    let details = json!({
        "dry_run": args.dry_run,
        "rows_committed": tally.committed_rows,
        "batches_committed": tally.batches,
        "edges_created": tally.edges_new,
        "last_committed_line": tally.committed_line,
    });
    if args.dry_run {
        return Failure::interrupted("dry run stopped, nothing written".to_owned(), details);
    }
    Failure::interrupted(
        format!(
            "{} rows committed in {} batches (through line {}, {} edges created); \
             the rows after them were not written. To resume, run the same import again: \
             rows already committed count as already present",
            tally.committed_rows, tally.batches, tally.committed_line, tally.edges_new
        ),
        details,
    )
}

/// The file could not be read on: what was committed before stays.
fn stopped(tally: &Tally, path: &Path, error: &csv::Error) -> Failure {
    Failure::file_message(
        path,
        format!(
            "{}: import stopped after {} rows ({} committed in {} batches, {} edges created): {error}",
            path.display(),
            tally.rows,
            tally.committed_rows,
            tally.batches,
            tally.edges_new
        ),
    )
}

/// The database refused a batch: what was committed before stays, and
/// the code is the database's.
fn failed(tally: &Tally, failure: Failure) -> Failure {
    failure.prefixed(&format!(
        "import stopped after {} rows committed in {} batches ({} edges created, each \
         committed batch complete)",
        tally.committed_rows, tally.batches, tally.edges_new
    ))
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
    tally.batches += 1;
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
                Some(EventKind::FollowRequested) => tally.requests += 1,
                Some(EventKind::OptionsChanged) => {
                    tally.edges_present += 1;
                    tally.option_changes += 1;
                }
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
    seen_nodes: &mut HashMap<NodeId, bool>,
) -> Result<(), Failure> {
    let tenant = s.principal.tenant();
    for (_, row) in chunk {
        let nodes = match row {
            Row::Node(node) => vec![node.clone()],
            Row::Edge(edge) => vec![NodeId::from(edge.follower.clone()), edge.target.clone()],
        };
        for node in nodes {
            if seen_nodes.contains_key(&node) {
                continue;
            }
            let record = s.store.node(tenant, &node).await?;
            if record.is_none() {
                tally.nodes_new += 1;
            }
            seen_nodes.insert(node, record.is_some_and(|record| record.locked));
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
                if edge.options.apply(current.options) != current.options {
                    tally.option_changes += 1;
                }
            }
            // A locked target gets a request (once: a pending one stays).
            None if seen_nodes.get(&edge.target).copied().unwrap_or(false) => {
                tally.requests += 1;
                new_edges.insert(key);
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
             {} edges already present; {} mute changes; {} option changes; \
             {} follow requests; {} rows rejected",
            tally.rows,
            tally.edges_new,
            tally.nodes_new,
            tally.edges_present,
            tally.mute_changes,
            tally.option_changes,
            tally.requests,
            tally.rejected
        )
    } else {
        format!(
            "import: {} rows read; {} edges created; {} already present; {} mute changes; \
             {} option changes; {} follow requests; {} rows rejected",
            tally.rows,
            tally.edges_new,
            tally.edges_present,
            tally.mute_changes,
            tally.option_changes,
            tally.requests,
            tally.rejected
        )
    });
    let rejected: Vec<Value> = tally
        .listed
        .iter()
        .map(|(line, reason)| json!({"line": line, "reason": reason}))
        .collect();
    Output::new(
        lines,
        json!({
            "dry_run": dry_run,
            "rows": tally.rows,
            "edges_created": tally.edges_new,
            "nodes_created": dry_run.then_some(tally.nodes_new),
            "edges_already_present": tally.edges_present,
            "mute_changes": tally.mute_changes,
            "option_changes": tally.option_changes,
            "follow_requests": tally.requests,
            "rejected": tally.rejected,
            "rejected_rows": rejected,
        }),
    )
}
