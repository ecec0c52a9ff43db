//! One row of an import file, parsed and validated, or why it is rejected.

use follow_core::{AccountId, ImportEdge, Languages, NodeId, OptionsUpdate, Timestamp};

/// What a row asks for.
#[derive(Debug, Clone)]
pub enum Row {
    /// An edge (its nodes registered as needed).
    Edge(ImportEdge),
    /// A node alone: how `export` writes a node without edges.
    Node(NodeId),
}

/// The header `export` writes. An import file in the tool's format starts
/// with it (its first two to seven columns).
pub const CSV_HEADER: [&str; 7] = [
    "follower",
    "target",
    "since",
    "muted",
    "reblogs",
    "notify",
    "languages",
];

/// The first column of the header Mastodon writes.
const MASTODON_HEADER: &str = "Account address";

fn is_csv_header(record: &csv::StringRecord) -> bool {
    (2..=CSV_HEADER.len()).contains(&record.len())
        && record
            .iter()
            .zip(CSV_HEADER)
            .all(|(got, want)| got.trim().eq_ignore_ascii_case(want))
}

fn is_mastodon_header(record: &csv::StringRecord) -> bool {
    record.get(0).map(str::trim) == Some(MASTODON_HEADER)
}

/// Checks a file's first row is the header of `mastodon`'s format (or the
/// tool's own); otherwise says what was expected, what was found, and the
/// likely fix. Without the check a wrong file (another tool's header, a
/// semicolon-separated file) loads as garbage edges.
pub fn check_header(record: &csv::StringRecord, mastodon: bool) -> Result<(), String> {
    if mastodon && is_mastodon_header(record) || !mastodon && is_csv_header(record) {
        return Ok(());
    }
    let found = record.iter().collect::<Vec<_>>().join(",");
    let expected = if mastodon {
        format!("a Mastodon following export, whose first row starts with {MASTODON_HEADER:?}")
    } else {
        "the header follower,target[,since[,muted[,reblogs[,notify[,languages]]]]] as its \
         first row (as export writes it)"
            .to_owned()
    };
    let hint = if !mastodon && is_mastodon_header(record) {
        "; this is a Mastodon export: use --format mastodon --as ACCOUNT"
    } else if mastodon && is_csv_header(record) {
        "; this is followctl's own format: leave out --format mastodon"
    } else if record.len() == 1 && (found.contains(';') || found.contains('\t')) {
        "; fields must be separated by commas"
    } else {
        ""
    };
    Err(format!(
        "expected {expected}, found {found:?}{hint}; nothing was imported"
    ))
}

/// Why a record is refused before its fields are read: a field that runs
/// over several lines can only come from an unbalanced quote, which makes
/// the reader take the rest of the file as one field.
pub fn check_quotes(record: &csv::StringRecord) -> Result<(), String> {
    match record.iter().find(|f| f.contains(['\n', '\r'])) {
        Some(field) => Err(format!(
            "a quoted field runs over {} lines: an unterminated quote (\"); \
             the lines after it were read into this field and not imported",
            field.lines().count()
        )),
        None => Ok(()),
    }
}

fn field(record: &csv::StringRecord, index: usize) -> &str {
    record.get(index).unwrap_or("").trim()
}

fn flag(name: &str, text: &str) -> Result<Option<bool>, String> {
    match text.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "1" => Ok(Some(true)),
        "false" | "no" | "0" => Ok(Some(false)),
        _ => Err(format!("{name} must be true or false, not {text:?}")),
    }
}

/// A languages field: ISO 639-1 codes separated by `separators`; empty
/// leaves the follow's languages as they are.
fn languages(text: &str, separators: &[char]) -> Result<Option<Languages>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let codes = text.split(separators).filter(|code| !code.is_empty());
    Languages::parse(codes)
        .map(Some)
        .map_err(|e| e.message().to_owned())
}

/// The follow options of a row's three option fields, from `first` on.
fn options(
    record: &csv::StringRecord,
    first: usize,
    separators: &[char],
) -> Result<OptionsUpdate, String> {
    Ok(OptionsUpdate {
        reblogs: flag("reblogs", field(record, first))?,
        notify: flag("notify", field(record, first + 1))?,
        languages: languages(field(record, first + 2), separators)?,
    })
}

/// An edge the library would accept as an import item; its own check
/// decides, so a dry run rejects exactly what an import would.
fn edge(follower: AccountId, target: NodeId) -> Result<ImportEdge, String> {
    let edge = ImportEdge::new(follower, target);
    edge.check().map_err(|e| e.message().to_owned())?;
    Ok(edge)
}

/// A row of the tool's own CSV:
/// `follower,target[,since[,muted[,reblogs[,notify[,languages]]]]]`
/// (languages separated by spaces), or `id` with the other fields empty for
/// a node alone. An empty field leaves the edge's value as it is (a new
/// edge gets the default).
pub fn parse_csv(record: &csv::StringRecord) -> Result<Row, String> {
    if !(1..=CSV_HEADER.len()).contains(&record.len()) {
        return Err(format!(
            "expected 1 to {} fields, found {}",
            CSV_HEADER.len(),
            record.len()
        ));
    }
    let message = |e: follow_core::Error| e.message().to_owned();
    if field(record, 1).is_empty() {
        if (2..CSV_HEADER.len()).any(|index| !field(record, index).is_empty()) {
            return Err("a row without a target must not carry since, muted or options".to_owned());
        }
        return NodeId::parse_field("node", field(record, 0))
            .map(Row::Node)
            .map_err(message);
    }
    let follower = AccountId::parse_field("follower", field(record, 0)).map_err(message)?;
    let target = NodeId::parse_field("target", field(record, 1)).map_err(message)?;
    let mut edge = edge(follower, target)?;
    edge.since = match field(record, 2) {
        "" => None,
        text => Some(Timestamp::parse_rfc3339("since", text).map_err(message)?),
    };
    edge.muted = flag("muted", field(record, 3))?;
    if field(record, 6).contains(',') {
        return Err("languages are separated by spaces (\"en fr\"), not commas".to_owned());
    }
    edge.options = options(record, 4, &[' '])?;
    Ok(Row::Edge(edge))
}

/// Whether `address` is a Mastodon account address: `user@domain`, or a
/// bare local `user`. A user name is letters, digits and `_` (with `.` or
/// `-` inside); a domain is dot-separated labels of letters, digits and
/// `-`, with an optional `:port`.
pub fn is_mastodon_address(address: &str) -> bool {
    let (user, domain) = match address.split_once('@') {
        Some((user, domain)) => (user, Some(domain)),
        None => (address, None),
    };
    let user_ok = !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && user.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && user.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let domain_ok = domain.is_none_or(|domain| {
        let (host, port) = match domain.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        host.split('.').all(label_ok)
            && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    });
    user_ok && domain_ok
}

/// A row of Mastodon's `following_accounts.csv`, followed by `follower`.
///
/// "Show boosts", "Notify on new posts" and "Languages" (codes separated
/// by commas and spaces, as Mastodon writes them) become the follow's
/// options; an empty one leaves the option as it is. The follow is
/// imported unmuted, and an existing follow's mute flag is left alone:
/// "Notify on new posts" is the bell, off by default, not a mute.
pub fn parse_mastodon(record: &csv::StringRecord, follower: &AccountId) -> Result<Row, String> {
    if record.len() > 4 {
        return Err(format!("expected at most 4 fields, found {}", record.len()));
    }
    let address = field(record, 0);
    if !is_mastodon_address(address) {
        return Err(format!(
            "account address {address:?} is not user@domain or a local user name"
        ));
    }
    let target =
        NodeId::parse_field("account address", address).map_err(|e| e.message().to_owned())?;
    let mut edge = edge(follower.clone(), target)?;
    edge.options = options(record, 1, &[',', ' '])?;
    Ok(Row::Edge(edge))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn csv_rows() {
        let Ok(Row::Edge(e)) = parse_csv(&record(&["a", "b", "2024-01-01T00:00:00Z", "true"]))
        else {
            panic!("an edge row");
        };
        assert_eq!((e.follower.as_str(), e.target.as_str()), ("a", "b"));
        assert_eq!(e.muted, Some(true));
        assert!(e.since.is_some());
        assert!(matches!(
            parse_csv(&record(&["a", "", "", ""])),
            Ok(Row::Node(_))
        ));
        assert!(matches!(parse_csv(&record(&["a"])), Ok(Row::Node(_))));
        for bad in [
            vec!["a", "a"],
            vec!["a", "b", "yesterday"],
            vec!["a", "b", "", "maybe"],
            vec!["a", "", "2024-01-01T00:00:00Z"],
            vec!["120363012345678901@newsletter", "b"],
            vec!["a b", "c"],
            vec!["a", "b", "", "", "extra"],
        ] {
            assert!(parse_csv(&record(&bad)).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn csv_rows_carry_follow_options_and_empty_fields_name_none() {
        let options = |fields: &[&str]| match parse_csv(&record(fields)) {
            Ok(Row::Edge(e)) => e.options,
            other => panic!("{other:?}"),
        };
        let named = options(&["a", "b", "", "", "false", "true", "fr en"]);
        assert_eq!(named.reblogs, Some(false));
        assert_eq!(named.notify, Some(true));
        assert_eq!(
            named.languages,
            Some(Languages::parse(["en", "fr"]).unwrap())
        );
        assert_eq!(
            options(&["a", "b", "", "", "", "", ""]),
            OptionsUpdate::NONE
        );
        assert_eq!(options(&["a", "b"]), OptionsUpdate::NONE);
        for bad in [
            vec!["a", "b", "", "", "", "", "en,fr"],
            vec!["a", "b", "", "", "", "", "xx"],
            vec!["a", "b", "", "", "", "sometimes", ""],
            vec!["a", "", "", "", "true", "", ""],
            vec!["a", "", "", "", "", "", "en"],
        ] {
            assert!(parse_csv(&record(&bad)).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn mastodon_rows_carry_boosts_bell_and_languages_as_options() {
        let me = AccountId::new("me").unwrap();
        let Ok(Row::Edge(e)) = parse_mastodon(
            &record(&["x@example.social", "false", "true", "en, de"]),
            &me,
        ) else {
            panic!("an edge row");
        };
        assert_eq!(e.options.reblogs, Some(false));
        assert_eq!(e.options.notify, Some(true));
        assert_eq!(
            e.options.languages,
            Some(Languages::parse(["de", "en"]).unwrap())
        );
        let Ok(Row::Edge(e)) = parse_mastodon(&record(&["x@example.social"]), &me) else {
            panic!("an edge row");
        };
        assert_eq!(e.options, OptionsUpdate::NONE);
        assert!(parse_mastodon(&record(&["x@example.social", "", "", "english"]), &me).is_err());
    }

    #[test]
    fn mastodon_rows_never_carry_a_mute() {
        let me = AccountId::new("me").unwrap();
        let row = |notify: &str| match parse_mastodon(
            &record(&["x@example.social", "true", notify, ""]),
            &me,
        ) {
            Ok(Row::Edge(e)) => e.muted,
            other => panic!("{other:?}"),
        };
        // The bell is off by default: it is not a mute.
        assert_eq!(row("false"), None);
        assert_eq!(row("true"), None);
        assert_eq!(row(""), None);
        assert!(parse_mastodon(&record(&["me", "true", "false", ""]), &me).is_err());
        assert!(parse_mastodon(&record(&["", "true", "false", ""]), &me).is_err());
    }

    #[test]
    fn mastodon_addresses_are_user_at_domain_or_a_local_user() {
        for good in [
            "Gargron@mastodon.social",
            "local_user",
            "a.b-c@sub.example.org",
            "me@localhost:3000",
            "_x@xn--bcher-kva.example",
        ] {
            assert!(is_mastodon_address(good), "{good} was refused");
        }
        for bad in [
            "!V",
            "#",
            "",
            "@user@example.org",
            "user@",
            "user@exa mple.org",
            "user@example..org",
            "user@-example.org",
            "us!er@example.org",
            ".user",
            "user@example.org:",
            "user@example.org:http",
            "a@b@c",
        ] {
            assert!(!is_mastodon_address(bad), "{bad} was accepted");
        }
    }

    #[test]
    fn headers_are_checked_with_a_hint() {
        assert!(check_header(&record(&["follower", "target"]), false).is_ok());
        assert!(check_header(&record(&CSV_HEADER), false).is_ok());
        assert!(check_header(&record(&["Follower", "target", "since", "muted"]), false).is_ok());
        let mastodon = record(&["Account address", "Show boosts", "Notify on new posts"]);
        assert!(check_header(&mastodon, true).is_ok());
        assert!(check_header(&record(&["src", "dst"]), false).is_err());
        assert!(check_header(&record(&["alice", "bob"]), false).is_err());
        assert!(check_header(&record(&["follower"]), false).is_err());
        assert!(check_header(&record(&["target", "follower"]), false).is_err());
        let wrong = check_header(&mastodon, false).unwrap_err();
        assert!(wrong.contains("--format mastodon"), "{wrong}");
        let wrong = check_header(&record(&["follower", "target"]), true).unwrap_err();
        assert!(wrong.contains("leave out --format mastodon"), "{wrong}");
        let wrong = check_header(&record(&["follower;target"]), false).unwrap_err();
        assert!(wrong.contains("commas"), "{wrong}");
    }

    #[test]
    fn a_field_over_several_lines_is_an_unterminated_quote() {
        assert!(check_quotes(&record(&["a", "b"])).is_ok());
        let error = check_quotes(&record(&["a", "b\nc,d\ne,f"])).unwrap_err();
        assert!(error.contains("unterminated quote"), "{error}");
    }
}
