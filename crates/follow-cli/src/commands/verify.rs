//! `verify` and `verify --repair`.

use serde_json::json;

use crate::failure::Failure;
use crate::output::Output;
use crate::session::{Backend, Session};

/// What verify found, whatever the backend: problems by kind.
struct Found {
    lines: Vec<String>,
    integrity_errors: usize,
    count_mismatches: usize,
    dangling_edges: usize,
    wrong_mutual_marks: usize,
}

fn edges(lines: &mut Vec<String>, what: &str, edges: &[(String, String, String)]) {
    lines.extend(
        edges
            .iter()
            .map(|(t, f, g)| format!("{what} {t}: {f} -> {g}")),
    );
}

async fn found(s: &Session) -> Result<Found, Failure> {
    let mut lines = Vec::new();
    let found = match &s.backend {
        Backend::Sqlite(store) => {
            let report = store.verify().await?;
            lines.extend(
                report
                    .integrity_errors
                    .iter()
                    .map(|e| format!("integrity: {e}")),
            );
            lines.extend(report.count_mismatches.iter().map(|m| {
                format!(
                    "count mismatch {}/{}: stored {:?} actual {:?}",
                    m.tenant, m.node, m.stored, m.actual
                )
            }));
            edges(&mut lines, "dangling edge", &report.dangling_edges);
            edges(&mut lines, "wrong mutual mark", &report.wrong_mutual_marks);
            Found {
                lines,
                integrity_errors: report.integrity_errors.len(),
                count_mismatches: report.count_mismatches.len(),
                dangling_edges: report.dangling_edges.len(),
                wrong_mutual_marks: report.wrong_mutual_marks.len(),
            }
        }
        Backend::Postgres(store) => {
            let report = store.verify().await?;
            lines.extend(report.count_mismatches.iter().map(|m| {
                format!(
                    "count mismatch {}/{}: stored {:?} actual {:?}",
                    m.tenant, m.node, m.stored, m.actual
                )
            }));
            edges(&mut lines, "dangling edge", &report.dangling_edges);
            edges(&mut lines, "wrong mutual mark", &report.wrong_mutual_marks);
            lines.extend(
                report
                    .event_order_errors
                    .iter()
                    .map(|(t, p)| format!("integrity: event position {p} repeated ({t})")),
            );
            Found {
                lines,
                integrity_errors: report.event_order_errors.len(),
                count_mismatches: report.count_mismatches.len(),
                dangling_edges: report.dangling_edges.len(),
                wrong_mutual_marks: report.wrong_mutual_marks.len(),
            }
        }
    };
    Ok(found)
}

/// Checks integrity and counts; problems are printed and make the command
/// fail, so a script can gate on it.
pub async fn verify(s: &Session) -> Result<Output, Failure> {
    let Found {
        mut lines,
        integrity_errors,
        count_mismatches,
        dangling_edges,
        wrong_mutual_marks,
    } = found(s).await?;
    if lines.is_empty() {
        lines.push("verify: ok".to_owned());
        return Ok(Output {
            lines,
            json: json!({"ok": true}),
        });
    }
    for line in &lines {
        eprintln!("{line}");
    }
    Err(follow_core::Error::internal("verify found problems")
        .with_detail("integrity_errors", integrity_errors)
        .with_detail("count_mismatches", count_mismatches)
        .with_detail("dangling_edges", dangling_edges)
        .with_detail("wrong_mutual_marks", wrong_mutual_marks)
        .into())
}

/// Rewrites wrong mutual marks and counts from the edges.
pub async fn repair(s: &Session) -> Result<Output, Failure> {
    let (mut lines, counts, marks) = match &s.backend {
        Backend::Sqlite(store) => {
            let report = store.repair().await?;
            let mut lines = Vec::new();
            edges(&mut lines, "fixed mutual mark", &report.mutual_marks_fixed);
            lines.extend(report.counts_fixed.iter().map(|m| {
                format!(
                    "fixed count {}/{}: stored {:?} actual {:?}",
                    m.tenant, m.node, m.stored, m.actual
                )
            }));
            (
                lines,
                report.counts_fixed.len(),
                report.mutual_marks_fixed.len(),
            )
        }
        Backend::Postgres(store) => {
            let report = store.repair().await?;
            let mut lines = Vec::new();
            edges(&mut lines, "fixed mutual mark", &report.mutual_marks_fixed);
            lines.extend(report.counts_fixed.iter().map(|m| {
                format!(
                    "fixed count {}/{}: stored {:?} actual {:?}",
                    m.tenant, m.node, m.stored, m.actual
                )
            }));
            (
                lines,
                report.counts_fixed.len(),
                report.mutual_marks_fixed.len(),
            )
        }
    };
    lines.push(format!(
        "repair: {counts} counts fixed, {marks} mutual marks fixed"
    ));
    Ok(Output {
        lines,
        json: json!({
            "counts_fixed": counts,
            "mutual_marks_fixed": marks,
        }),
    })
}
