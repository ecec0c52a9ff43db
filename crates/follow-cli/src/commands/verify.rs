//! `verify` and `verify --repair`.

use serde_json::json;

use crate::failure::Failure;
use crate::output::Output;
use crate::session::Session;

/// Checks integrity and counts; problems are printed and make the command
/// fail, so a script can gate on it.
pub async fn verify(s: &Session) -> Result<Output, Failure> {
    let report = s.store.verify().await?;
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
    lines.extend(
        report
            .wrong_mutual_marks
            .iter()
            .map(|(t, f, g)| format!("wrong mutual mark {t}: {f} -> {g}")),
    );
    if report.is_ok() {
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
        .with_detail("integrity_errors", report.integrity_errors.len())
        .with_detail("count_mismatches", report.count_mismatches.len())
        .with_detail("dangling_edges", report.dangling_edges.len())
        .with_detail("wrong_mutual_marks", report.wrong_mutual_marks.len())
        .into())
}

/// Rewrites wrong mutual marks and counts from the edges.
pub async fn repair(s: &Session) -> Result<Output, Failure> {
    let report = s.store.repair().await?;
    let mut lines: Vec<String> = report
        .mutual_marks_fixed
        .iter()
        .map(|(t, f, g)| format!("fixed mutual mark {t}: {f} -> {g}"))
        .collect();
    lines.extend(report.counts_fixed.iter().map(|m| {
        format!(
            "fixed count {}/{}: stored {:?} actual {:?}",
            m.tenant, m.node, m.stored, m.actual
        )
    }));
    lines.push(format!(
        "repair: {} counts fixed, {} mutual marks fixed",
        report.counts_fixed.len(),
        report.mutual_marks_fixed.len()
    ));
    Ok(Output {
        lines,
        json: json!({
            "counts_fixed": report.counts_fixed.len(),
            "mutual_marks_fixed": report.mutual_marks_fixed.len(),
        }),
    })
}
