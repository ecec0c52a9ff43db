//! The curl examples of docs/gateway.md, run against a live `followd` on
//! the configuration the document shows. Each `sh` block runs in order in
//! one shell; a `text` block right after one is its exact expected output.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::live::Followd;

const DOC: &str = include_str!("../../../docs/gateway.md");
const DOC_BASE: &str = "http://127.0.0.1:8080";

/// The fenced blocks of `text`, as (language, body).
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(language)) => current = Some((language.trim().to_owned(), String::new())),
            (Some(_), Some("")) => blocks.extend(current.take()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

#[test]
fn the_documented_examples_work() {
    let all = blocks(DOC);
    let config = all
        .iter()
        .find(|(language, _)| language == "toml")
        .map(|(_, body)| body.clone())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("follow.db");
    let config = config
        .replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"")
        .replace(
            "database = \"follow.db\"",
            &format!("database = \"{}\"", db.display()),
        );
    let followd = Followd::start(dir.path(), &config);

    let examples = DOC.split("## Examples").nth(1).unwrap();
    let mut script = String::from("set -euo pipefail\n");
    let mut expected = Vec::new();
    let examples = blocks(examples);
    for (index, (language, body)) in examples.iter().enumerate() {
        if language != "sh" {
            continue;
        }
        script.push_str(&body.replace(DOC_BASE, &followd.base));
        script.push_str(&format!("echo '--- block {index} ---'\n"));
        let next = examples.get(index + 1);
        expected.push(
            next.filter(|(l, _)| l == "text")
                .map(|(_, text)| text.clone()),
        );
    }
    assert!(expected.len() >= 8, "the examples were not found");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_followd"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "examples failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let outputs: Vec<&str> = stdout.split("--- block ").collect();
    for (number, want) in expected.iter().enumerate() {
        let Some(want) = want else { continue };
        let got = outputs[number]
            .split_once("---\n")
            .map_or(outputs[number], |(_, rest)| rest);
        assert_eq!(got, want, "output of example block {number}");
    }
    let (clean, _) = followd.terminate();
    assert!(clean);
}
