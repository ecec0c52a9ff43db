//! `verify` and `verify --repair`, for the tenant of `--tenant`.

use follow_store_sqlite::{CountMismatch, LinkCountMismatch, LinkName, VerifyReport};
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::output::{Output, Status, to_json};
use crate::session::Session;

fn edge_json((tenant, follower, target): &(String, String, String)) -> Value {
    json!({"tenant": tenant, "follower": follower, "target": target})
}

fn mismatch_json(m: &CountMismatch) -> Result<Value, Failure> {
    Ok(json!({"tenant": m.tenant, "node": m.node,
              "stored": to_json(&m.stored)?, "actual": to_json(&m.actual)?}))
}

fn link_json((tenant, kind, from, to): &LinkName) -> Value {
    json!({"tenant": tenant, "kind": kind, "from": from, "to": to})
}

fn link_mismatch_json(m: &LinkCountMismatch) -> Value {
    json!({"tenant": m.tenant, "node": m.node, "stored": m.stored, "actual": m.actual})
}

fn counts_text(c: &follow_core::Counts) -> String {
    format!(
        "following={} followers={} mutual={}",
        c.following, c.followers, c.mutual
    )
}

/// Every node a finding is about, once, in order.
fn affected_nodes(report: &VerifyReport) -> Vec<String> {
    let mut nodes: Vec<String> = report
        .count_mismatches
        .iter()
        .map(|m| m.node.clone())
        .chain(
            report
                .dangling_edges
                .iter()
                .chain(&report.wrong_mutual_marks)
                .flat_map(|(_, f, t)| [f.clone(), t.clone()]),
        )
        .chain(report.link_count_mismatches.iter().map(|m| m.node.clone()))
        .chain(
            report
                .broken_links
                .iter()
                .flat_map(|(_, _, f, t)| [f.clone(), t.clone()]),
        )
        .collect();
    nodes.sort();
    nodes.dedup();
    nodes
}

/// Checks integrity and the tenant's counts, edges, mutual marks, link
/// counts and links.
/// Findings are not an error of the command: they are its answer, listed in
/// both forms, with their own exit status so a script can gate on it.
pub async fn verify(s: &Session) -> Result<Output, Failure> {
    let report = s.backend.verify_tenant(s.principal.tenant()).await?;
    let mut lines: Vec<String> = report
        .integrity_errors
        .iter()
        .map(|e| format!("integrity: {e}"))
        .collect();
    lines.extend(report.count_mismatches.iter().map(|m| {
        format!(
            "count mismatch {}: stored {} actual {}",
            m.node,
            counts_text(&m.stored),
            counts_text(&m.actual)
        )
    }));
    lines.extend(
        report
            .dangling_edges
            .iter()
            .map(|(_, f, g)| format!("dangling edge: {f} -> {g}")),
    );
    lines.extend(
        report
            .wrong_mutual_marks
            .iter()
            .map(|(_, f, g)| format!("wrong mutual mark: {f} -> {g}")),
    );
    lines.extend(report.link_count_mismatches.iter().map(|m| {
        format!(
            "link count mismatch {}: stored {} actual {}",
            m.node, m.stored, m.actual
        )
    }));
    lines.extend(
        report
            .broken_links
            .iter()
            .map(|(_, kind, f, g)| format!("broken link: {kind} {f} -> {g}")),
    );
    let tenant = s.principal.tenant().as_str();
    if report.is_ok() {
        lines.push(format!("verify: ok (tenant {tenant})"));
        return Ok(Output::new(lines, json!({"ok": true, "tenant": tenant})));
    }
    let nodes = affected_nodes(&report);
    lines.push(format!(
        "verify: problems found (tenant {tenant}); affected nodes: {}; \
         `followctl verify --repair` rewrites counts and mutual marks from the edges \
         and link counts from the links",
        if nodes.is_empty() {
            "none".to_owned()
        } else {
            nodes.join(", ")
        }
    ));
    let mismatches = report
        .count_mismatches
        .iter()
        .map(mismatch_json)
        .collect::<Result<Vec<_>, _>>()?;
    let json = json!({
        "ok": false,
        "code": "verify_findings",
        "tenant": tenant,
        "affected_nodes": nodes,
        "integrity_errors": report.integrity_errors,
        "count_mismatches": mismatches,
        "dangling_edges": report.dangling_edges.iter().map(edge_json).collect::<Vec<_>>(),
        "wrong_mutual_marks": report.wrong_mutual_marks.iter().map(edge_json).collect::<Vec<_>>(),
        "link_count_mismatches": report.link_count_mismatches.iter().map(link_mismatch_json).collect::<Vec<_>>(),
        "broken_links": report.broken_links.iter().map(link_json).collect::<Vec<_>>(),
    });
    Ok(Output::new(lines, json).with_status(Status::Findings))
}

/// Rewrites the tenant's wrong mutual marks and counts from the edges,
/// and link counts from the links.
pub async fn repair(s: &Session) -> Result<Output, Failure> {
    let report = s.backend.repair_tenant(s.principal.tenant()).await?;
    let mut lines: Vec<String> = report
        .mutual_marks_fixed
        .iter()
        .map(|(_, f, g)| format!("fixed mutual mark: {f} -> {g}"))
        .collect();
    lines.extend(report.counts_fixed.iter().map(|m| {
        format!(
            "fixed count {}: stored {} actual {}",
            m.node,
            counts_text(&m.stored),
            counts_text(&m.actual)
        )
    }));
    lines.extend(report.link_counts_fixed.iter().map(|m| {
        format!(
            "fixed link count {}: stored {} actual {}",
            m.node, m.stored, m.actual
        )
    }));
    let tenant = s.principal.tenant().as_str();
    lines.push(format!(
        "repair: {} counts fixed, {} mutual marks fixed, {} link counts fixed (tenant {tenant})",
        report.counts_fixed.len(),
        report.mutual_marks_fixed.len(),
        report.link_counts_fixed.len()
    ));
    Ok(Output::new(
        lines,
        json!({
            "tenant": tenant,
            "counts_fixed": report.counts_fixed.len(),
            "mutual_marks_fixed": report.mutual_marks_fixed.len(),
            "nodes_fixed": report.counts_fixed.iter().map(|m| m.node.clone()).collect::<Vec<_>>(),
            "mutual_marks_fixed_edges": report.mutual_marks_fixed.iter().map(edge_json).collect::<Vec<_>>(),
            "link_counts_fixed": report.link_counts_fixed.iter().map(link_mismatch_json).collect::<Vec<_>>(),
        }),
    ))
}
