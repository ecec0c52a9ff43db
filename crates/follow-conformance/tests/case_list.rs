//! The suite's one list of cases (`__cases!`) names every case the crate
//! defines, and nothing else: a case written but not listed would never run.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `(method, rule)` of every `pub async fn` in `src/cases/<method>.rs` and
/// in the submodules of a method, `src/cases/<method>/*.rs`.
fn defined() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cases");
    let mut cases = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let method = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if method == "mod" {
            continue;
        }
        let files: Vec<PathBuf> = if path.is_dir() {
            let entries = std::fs::read_dir(&path).unwrap();
            entries.map(|entry| entry.unwrap().path()).collect()
        } else {
            vec![path]
        };
        for file in files {
            cases.extend(
                rules_in(&file)
                    .into_iter()
                    .map(|rule| (method.clone(), rule)),
            );
        }
    }
    cases
}

/// The names of the `pub async fn`s of one file.
fn rules_in(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// `(method, rule)` of every case the suite runs (models aside), as the
/// crate's own list answers them.
fn listed() -> BTreeSet<(String, String)> {
    #[derive(Default)]
    struct Unused;
    #[async_trait::async_trait]
    impl follow_conformance::StoreFactory for Unused {
        async fn create(&self) -> std::sync::Arc<dyn follow_core::FollowStore> {
            unreachable!("the list is read, not run")
        }
        async fn create_failing_after(
            &self,
            _: usize,
        ) -> Option<std::sync::Arc<dyn follow_core::FollowStore>> {
            None
        }
        async fn dispose(&self, _: std::sync::Arc<dyn follow_core::FollowStore>) {}
    }
    let all = follow_conformance::cases::<Unused>();
    let names: BTreeSet<(String, String)> = all
        .iter()
        .map(|(name, _)| (name.method.to_owned(), name.rule.to_owned()))
        .collect();
    assert_eq!(names.len(), all.len(), "a case is listed twice");
    names
}

#[test]
fn every_case_is_listed_once_and_every_listed_case_exists() {
    let (defined, listed) = (defined(), listed());
    assert!(defined.len() > 40, "found only {} cases", defined.len());
    let missing: Vec<_> = defined.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&defined).collect();
    assert!(missing.is_empty(), "cases never run: {missing:?}");
    assert!(unknown.is_empty(), "listed but not defined: {unknown:?}");
}
