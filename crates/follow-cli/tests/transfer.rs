//! `import` and `export` through the real binary: round trips, Mastodon
//! files, dry runs, and an import killed half-way.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{cleanup, followctl, graph_state, stdout, temp_db, temp_file};

const NEWS: &str = "120363012345678901@newsletter";

/// Every node's counts, through `counts --json`, for comparing two graphs.
fn counts(db: &std::path::Path, ids: &[&str]) -> Vec<serde_json::Value> {
    ids.iter()
        .map(|id| {
            let out = stdout(followctl(db).args(["--json", "counts", id]));
            serde_json::from_str::<serde_json::Value>(&out).unwrap()["counts"].clone()
        })
        .collect()
}

fn sorted_rows(csv: &str) -> Vec<String> {
    let mut rows: Vec<String> = csv.lines().skip(1).map(str::to_owned).collect();
    rows.sort();
    rows
}

#[test]
fn export_then_import_gives_the_same_graph_and_counts() {
    let (a, b) = (temp_db("export-a"), temp_db("export-b"));
    stdout(followctl(&a).args(["add-account", "alice", "bob", "carol", "loner"]));
    stdout(followctl(&a).args(["add-channel", NEWS, "120363000000000001@newsletter"]));
    stdout(followctl(&a).args(["follow", "alice", "bob", "carol", NEWS]));
    stdout(followctl(&a).args(["follow", "bob", "alice", NEWS]));
    stdout(followctl(&a).args(["mute", "bob", NEWS]));
    let exported = stdout(followctl(&a).arg("export"));
    assert_eq!(
        exported.lines().next(),
        Some("follower,target,since,muted,reblogs,notify,languages")
    );
    // 5 edges, and the two nodes without any edge.
    assert_eq!(exported.lines().count(), 1 + 5 + 2, "{exported}");

    let file = temp_file("graph.csv");
    let out = stdout(followctl(&a).args(["export", "--output"]).arg(&file));
    assert!(
        out.contains("export: 5 edges and 2 nodes without edges"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), exported);

    let out = stdout(followctl(&b).arg("import").arg(&file));
    assert!(out.contains("5 edges created"), "{out}");
    let again = stdout(followctl(&b).arg("export"));
    assert_eq!(sorted_rows(&again), sorted_rows(&exported));
    let ids = ["alice", "bob", "carol", "loner", NEWS];
    assert_eq!(counts(&a, &ids), counts(&b, &ids));
    assert!(stdout(followctl(&b).arg("verify")).contains("verify: ok"));

    // Importing the same file again changes nothing.
    let out = stdout(followctl(&b).arg("import").arg(&file));
    assert!(
        out.contains("0 edges created; 5 already present; 0 mute changes"),
        "{out}"
    );
    let _ = std::fs::remove_file(&file);
    cleanup(&a);
    cleanup(&b);
}

#[test]
fn mastodon_following_export_is_followed_by_the_named_account() {
    let db = temp_db("mastodon");
    let file = temp_file("following_accounts.csv");
    std::fs::write(
        &file,
        "Account address,Show boosts,Notify on new posts,Languages\n\
         Gargron@mastodon.social,true,false,\n\
         someone@fosstodon.org,false,true,\"en,de\"\n\
         has space@example.org,true,false,\n\
         !V,true,false,\n\
         #,true,false,\n\
         localfriend,true,false,\n",
    )
    .unwrap();
    let import = |db: &std::path::Path| {
        let output = followctl(db)
            .args([
                "import",
                "--format",
                "mastodon",
                "--as",
                "me@example.social",
            ])
            .arg(&file)
            .assert()
            // Rejected rows make the exit status say so.
            .code(3)
            .get_output()
            .clone();
        String::from_utf8(output.stdout).unwrap()
    };
    let out = import(&db);
    for line in [4, 5, 6] {
        assert!(out.contains(&format!("line {line}: rejected: ")), "{out}");
    }
    assert!(
        out.contains("account address \"!V\" is not user@domain"),
        "{out}"
    );
    assert!(
        out.contains("6 rows read; 3 edges created; 0 already present; 0 mute changes"),
        "{out}"
    );
    let following = |db: &std::path::Path| {
        let out = stdout(followctl(db).args(["--json", "following", "me@example.social"]));
        let page: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut items: Vec<(String, bool)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["node"].as_str().unwrap().to_owned(),
                    i["muted"].as_bool().unwrap(),
                )
            })
            .collect();
        items.sort();
        items
    };
    // The bell is off by default in Mastodon: no follow is imported muted.
    assert_eq!(
        following(&db),
        [
            ("Gargron@mastodon.social".to_owned(), false),
            ("localfriend".to_owned(), false),
            ("someone@fosstodon.org".to_owned(), false),
        ]
    );
    // "Show boosts", "Notify on new posts" and "Languages" are the
    // follows' options.
    let out = stdout(followctl(&db).args([
        "--json",
        "relationship",
        "me@example.social",
        "someone@fosstodon.org",
        "Gargron@mastodon.social",
    ]));
    let items: serde_json::Value = serde_json::from_str(&out).unwrap();
    let someone = &items[0]["result"];
    assert_eq!(someone["showing_reblogs"], false, "{out}");
    assert_eq!(someone["notifying"], true, "{out}");
    assert_eq!(
        someone["languages"],
        serde_json::json!(["de", "en"]),
        "{out}"
    );
    let gargron = &items[1]["result"];
    assert_eq!(gargron["showing_reblogs"], true, "{out}");
    assert_eq!(gargron["notifying"], false, "{out}");
    assert_eq!(gargron["languages"], serde_json::Value::Null, "{out}");
    // A mute set since is kept by a re-import.
    stdout(followctl(&db).args(["mute", "me@example.social", "localfriend"]));
    let out = import(&db);
    assert!(
        out.contains("0 edges created; 3 already present; 0 mute changes"),
        "{out}"
    );
    assert!(following(&db).contains(&("localfriend".to_owned(), true)));
    // --as is required for this format.
    followctl(&db)
        .args(["import", "--format", "mastodon"])
        .arg(&file)
        .assert()
        .failure();
    let _ = std::fs::remove_file(&file);
    cleanup(&db);
}

#[test]
fn dry_run_reports_without_writing() {
    let db = temp_db("dry-run");
    stdout(followctl(&db).args(["add-account", "alice", "bob"]));
    stdout(followctl(&db).args(["follow", "alice", "bob"]));
    let before = graph_state(&db);
    let rows = "follower,target,since,muted\n\
                alice,bob,,true\n\
                alice,carol\n\
                alice,carol\n\
                dave,alice\n\
                bad id,alice\n";
    let dry_run = |db: &std::path::Path| {
        let output = followctl(db)
            .args(["import", "--dry-run", "-"])
            .write_stdin(rows)
            .assert()
            .code(3)
            .get_output()
            .clone();
        String::from_utf8(output.stdout).unwrap()
    };
    let out = dry_run(&db);
    assert!(
        out.contains(
            "dry run, nothing written: 5 rows read; would create 2 edges and 2 nodes; \
             2 edges already present; 1 mute changes; 0 option changes; 0 follow requests; \
             1 rows rejected"
        ),
        "{out}"
    );
    assert!(graph_state(&db) == before, "the dry run wrote");
    let out = stdout(followctl(&db).args(["counts", "alice"]));
    assert_eq!(out.trim(), "alice: following=1 followers=0 mutual=0");
    // The real import does what the dry run said.
    let output = followctl(&db)
        .args(["import", "-"])
        .write_stdin(rows)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(
        out.contains(
            "5 rows read; 2 edges created; 2 already present; 1 mute changes; \
             0 option changes; 0 follow requests; 1 rows rejected"
        ),
        "{out}"
    );
    // A dry run into a database that does not exist reads it as empty and
    // does not create it.
    let missing = temp_db("dry-run-missing");
    let out = dry_run(&missing);
    assert!(
        out.contains("would create 3 edges and 4 nodes; 1 edges already present"),
        "{out}"
    );
    assert!(!missing.exists());
    cleanup(&db);
}

#[test]
fn an_import_killed_half_way_leaves_whole_batches_and_right_counts() {
    let db = temp_db("killed");
    let file = temp_file("big.csv");
    const BATCH: usize = 200;
    let mut rows = String::from("follower,target\n");
    for i in 0..40_000 {
        rows.push_str(&format!("u{},hub{}\n", i, i % 7));
    }
    std::fs::write(&file, rows).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("followctl"))
        .arg("--db")
        .arg(&db)
        .args(["import", "--batch-size", &BATCH.to_string()])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some batches are in (the schema alone makes a WAL of a
    // few pages; each batch adds tens of KiB), or give up waiting and kill
    // anyway.
    let wal = {
        let mut p = db.clone().into_os_string();
        p.push("-wal");
        std::path::PathBuf::from(p)
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 1024 * 1024) {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();

    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
    let exported = stdout(followctl(&db).arg("export"));
    let edges = exported
        .lines()
        .skip(1)
        .filter(|r| !r.ends_with(",,,"))
        .count();
    eprintln!("edges committed before the kill: {edges} of 40000");
    assert_eq!(edges % BATCH, 0, "a batch was cut: {edges} edges");
    // A hub no committed batch registered has no counts to read.
    let hubs: u64 = (0..7)
        .map(|h| {
            let out = followctl(&db)
                .args(["--json", "counts", &format!("hub{h}")])
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            if !out.status.success() {
                assert!(text.contains("not_found"), "{text}");
                return 0;
            }
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            value["counts"]["followers"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(hubs, edges as u64);
    // Importing again completes the graph.
    let out = stdout(followctl(&db).arg("import").arg(&file));
    assert!(out.contains("40000 rows read"), "{out}");
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
    let _ = std::fs::remove_file(&file);
    cleanup(&db);
}

#[test]
fn export_then_import_reproduces_follow_options() {
    let (a, b) = (temp_db("options-a"), temp_db("options-b"));
    stdout(followctl(&a).args(["add-account", "alice", "bob", "carol"]));
    stdout(followctl(&a).args(["add-channel", NEWS]));
    stdout(followctl(&a).args([
        "follow",
        "alice",
        "bob",
        NEWS,
        "--reblogs",
        "false",
        "--notify",
        "true",
        "--languages",
        "fr,en",
    ]));
    stdout(followctl(&a).args(["follow", "bob", "alice", "carol"]));
    stdout(followctl(&a).args(["follow", "carol", "alice", "--notify", "true"]));
    let exported = stdout(followctl(&a).arg("export"));
    let alice_bob = exported
        .lines()
        .find(|row| row.starts_with("alice,bob,"))
        .unwrap();
    assert!(alice_bob.ends_with(",false,false,true,en fr"), "{exported}");
    let bob_carol = exported
        .lines()
        .find(|row| row.starts_with("bob,carol,"))
        .unwrap();
    assert!(bob_carol.ends_with(",false,true,false,"), "{exported}");

    let out = stdout(
        followctl(&b)
            .args(["import", "-"])
            .write_stdin(exported.clone()),
    );
    assert!(out.contains("5 edges created"), "{out}");
    let again = stdout(followctl(&b).arg("export"));
    assert_eq!(sorted_rows(&again), sorted_rows(&exported));
    let relationship = |db: &std::path::Path, actor: &str, targets: &[&str]| {
        let out = stdout(
            followctl(db)
                .args(["--json", "relationship", actor])
                .args(targets),
        );
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    for (actor, targets) in [("alice", &["bob", NEWS][..]), ("carol", &["alice"][..])] {
        assert_eq!(
            relationship(&a, actor, targets),
            relationship(&b, actor, targets)
        );
    }
    let alice = relationship(&b, "alice", &["bob"]);
    assert_eq!(
        alice[0]["result"]["languages"],
        serde_json::json!(["en", "fr"])
    );
    assert_eq!(alice[0]["result"]["showing_reblogs"], false);

    // Options named on an existing edge change it; empty fields keep it.
    let out = stdout(followctl(&b).args(["import", "-"]).write_stdin(
        "follower,target,since,muted,reblogs,notify,languages\n\
         alice,bob,,,true,,\n\
         bob,carol,,,,,\n",
    ));
    assert!(
        out.contains("0 edges created; 2 already present; 0 mute changes; 1 option changes"),
        "{out}"
    );
    let alice = relationship(&b, "alice", &["bob"]);
    assert_eq!(alice[0]["result"]["showing_reblogs"], true);
    assert_eq!(alice[0]["result"]["notifying"], true);
    assert_eq!(
        alice[0]["result"]["languages"],
        serde_json::json!(["en", "fr"])
    );
    assert!(stdout(followctl(&b).arg("verify")).contains("verify: ok"));

    // Languages are separated by spaces; a bad code or flag is one
    // rejected row.
    let output = followctl(&b)
        .args(["import", "-"])
        .write_stdin(
            "follower,target,since,muted,reblogs,notify,languages\n\
             alice,carol,,,,,\"en,fr\"\n\
             alice,carol,,,,,xx\n\
             alice,carol,,,maybe,,\n\
             alice,carol,,,,,de\n",
        )
        .assert()
        .code(3)
        .get_output()
        .clone();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(
        out.contains("line 2: rejected: languages are separated by spaces"),
        "{out}"
    );
    assert!(
        out.contains("line 3: rejected: \"xx\" is not an ISO 639-1"),
        "{out}"
    );
    assert!(
        out.contains("line 4: rejected: reblogs must be true or false"),
        "{out}"
    );
    assert!(out.contains("1 edges created"), "{out}");
    cleanup(&a);
    cleanup(&b);
}

#[test]
fn importing_a_follow_of_a_locked_account_makes_a_request() {
    let db = temp_db("import-locked");
    stdout(followctl(&db).args(["add-account", "alice", "bob"]));
    stdout(followctl(&db).args(["lock", "bob"]));
    let rows = "follower,target,since,muted,reblogs,notify,languages\n\
                alice,bob,,,false,,\n";
    let out = stdout(
        followctl(&db)
            .args(["import", "--dry-run", "-"])
            .write_stdin(rows),
    );
    assert!(
        out.contains("would create 0 edges and 0 nodes; 0 edges already present; 0 mute changes; 0 option changes; 1 follow requests"),
        "{out}"
    );
    let out = stdout(followctl(&db).args(["import", "-"]).write_stdin(rows));
    assert!(out.contains("0 edges created; 0 already present; 0 mute changes; 0 option changes; 1 follow requests"), "{out}");
    let out = stdout(followctl(&db).args(["--json", "requests", "bob"]));
    let page: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(page["items"][0]["account"], "alice", "{out}");
    assert_eq!(
        page["items"][0]["link"]["options"]["reblogs"], false,
        "{out}"
    );
    cleanup(&db);
}
