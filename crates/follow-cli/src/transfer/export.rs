//! `export`: the tenant's graph as CSV that `import` reads back into the
//! same graph and counts.

use std::io::Write;
use std::path::{Path, PathBuf};

use follow_core::{MAX_PAGE_LIMIT, NodeRecord, PageRequest};
use serde_json::json;

use super::rows::CSV_HEADER;
use crate::failure::Failure;
use crate::interrupt::Interrupt;
use crate::output::Output;
use crate::progress;
use crate::session::Session;

/// Totals of an export.
#[derive(Debug, Default)]
struct Written {
    edges: u64,
    lone_nodes: u64,
}

/// Writes every edge as `follower,target,since,muted,reblogs,notify,languages`
/// (languages separated by spaces, empty for all) and every node without
/// edges as `id,,,,,,`; to `output` through a temporary file renamed
/// at the end, so a failed or interrupted export leaves no partial file.
pub async fn export(
    s: &Session,
    output: Option<&Path>,
    interactive: bool,
) -> Result<Output, Failure> {
    let Some(path) = output else {
        let stdout = std::io::stdout().lock();
        let written = write_all(s, stdout, Path::new("standard output"), false, None).await?;
        // The CSV is the output; the summary goes to standard error.
        eprintln!("{}", summary_line(&written));
        return Ok(Output::new(Vec::new(), json!(null)));
    };
    let partial = partial_path(path);
    let interrupt = Interrupt::watch();
    let file = std::fs::File::create(&partial).map_err(|e| Failure::file(&partial, &e))?;
    let written = match write_all(s, file, &partial, interactive, Some(&interrupt)).await {
        Ok(written) => written,
        Err(failure) => {
            let _ = std::fs::remove_file(&partial);
            return Err(failure);
        }
    };
    std::fs::rename(&partial, path).map_err(|e| Failure::file(path, &e))?;
    Ok(Output::line(
        format!("{} to {}", summary_line(&written), path.display()),
        json!({"edges": written.edges, "lone_nodes": written.lone_nodes,
               "file": path.display().to_string()}),
    ))
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn summary_line(written: &Written) -> String {
    format!(
        "export: {} edges and {} nodes without edges",
        written.edges, written.lone_nodes
    )
}

/// A write error on `path` (a closed pipe on standard output).
fn write_failure(path: &Path, error: csv::Error) -> Failure {
    match error.kind() {
        csv::ErrorKind::Io(io) => Failure::write(path, io),
        _ => Failure::file_message(path, format!("{}: {error}", path.display())),
    }
}

/// Walks the nodes in id order and each one's following list; stops with
/// `interrupted` when Ctrl-C is pressed.
async fn write_all(
    s: &Session,
    sink: impl Write,
    path: &Path,
    interactive: bool,
    interrupt: Option<&Interrupt>,
) -> Result<Written, Failure> {
    let (graph, p) = (&s.graph, &s.principal);
    let mut csv = csv::Writer::from_writer(sink);
    csv.write_record(CSV_HEADER)
        .map_err(|e| write_failure(path, e))?;
    let bar = progress::bar(None, interactive);
    let mut written = Written::default();
    let mut nodes = PageRequest::first().with_limit(MAX_PAGE_LIMIT);
    loop {
        let page = graph.nodes(p, &nodes).await?;
        for node in &page.items {
            if interrupt.is_some_and(Interrupt::requested) {
                bar.finish_and_clear();
                return Err(Failure::interrupted(
                    format!(
                        "export stopped after {} edges; nothing was kept",
                        written.edges
                    ),
                    json!({"edges_written": written.edges}),
                ));
            }
            write_node(s, &mut csv, path, node, &mut written).await?;
        }
        bar.set_message(format!("{} edges", written.edges));
        match page.next_cursor {
            Some(cursor) => nodes = PageRequest::after(cursor).with_limit(MAX_PAGE_LIMIT),
            None => break,
        }
    }
    csv.flush().map_err(|e| Failure::write(path, &e))?;
    bar.finish_and_clear();
    Ok(written)
}

async fn write_node<W: Write>(
    s: &Session,
    csv: &mut csv::Writer<W>,
    path: &Path,
    node: &NodeRecord,
    written: &mut Written,
) -> Result<(), Failure> {
    let io = |e: csv::Error| write_failure(path, e);
    let id = node.id.as_str();
    if node.counts.following == 0 {
        if node.counts.followers == 0 {
            let mut record = [""; CSV_HEADER.len()];
            record[0] = id;
            csv.write_record(record).map_err(io)?;
            written.lone_nodes += 1;
        }
        return Ok(());
    }
    let mut request = PageRequest::first().with_limit(MAX_PAGE_LIMIT);
    loop {
        let page = match s.graph.following(&s.principal, id, &request).await {
            Ok(page) => page,
            // Removed while the export ran: it has no edges to write.
            Err(error) if error.kind() == follow_core::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        for entry in &page.items {
            let since = entry.since.to_string();
            let options = &entry.options;
            let languages: Vec<&str> = options.languages.codes().collect();
            csv.write_record([
                id,
                entry.node.as_str(),
                &since,
                flag(entry.muted),
                flag(options.reblogs),
                flag(options.notify),
                &languages.join(" "),
            ])
            .map_err(io)?;
            written.edges += 1;
        }
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(MAX_PAGE_LIMIT),
            None => return Ok(()),
        }
    }
}

fn flag(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}
