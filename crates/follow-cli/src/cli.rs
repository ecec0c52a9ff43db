//! The command line: global options and one variant per command, each with
//! its help text and an example.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use follow_core::PageRequest;

/// Inspect, load, migrate and repair a follow graph stored in an embedded
/// SQLite database or in PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "followctl", version, about, max_term_width = 100)]
pub struct Cli {
    /// The database: a file (SQLite), or a `postgres://` URL (optionally
    /// with `?schema=NAME`). Commands that write create it on first use;
    /// commands that only read refuse a missing one.
    #[arg(long, global = true, default_value = "follow.db")]
    pub db: PathBuf,
    /// The tenant to act in.
    #[arg(long, global = true, default_value = "default")]
    pub tenant: String,
    /// Print one JSON document instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// Paging options of a list.
#[derive(Debug, clap::Args)]
pub struct PageArgs {
    /// At most this many items (1..=100).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Continue after this cursor (printed by the previous page).
    #[arg(long)]
    pub cursor: Option<String>,
}

impl PageArgs {
    /// The library's page request.
    pub fn request(&self) -> PageRequest {
        let mut page = match &self.cursor {
            Some(cursor) => PageRequest::after(cursor.clone()),
            None => PageRequest::first(),
        };
        if let Some(limit) = self.limit {
            page = page.with_limit(limit);
        }
        page
    }
}

/// The layout of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `follower,target[,since[,muted]]`, as `export` writes it; a row with
    /// an empty target registers the node alone.
    Csv,
    /// Mastodon's `following_accounts.csv`: `Account address,Show boosts,
    /// Notify on new posts,Languages`, followed by the account of `--as`.
    Mastodon,
}

/// Options of `import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file, or `-` for standard input.
    pub file: PathBuf,
    /// The file's layout.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// The account that follows every row of a Mastodon file.
    #[arg(
        long = "as",
        value_name = "ACCOUNT",
        required_if_eq("format", "mastodon")
    )]
    pub as_account: Option<String>,
    /// Read and check the whole file, report what would change, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Edges per transaction (1..=100000); each committed batch is complete.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Register accounts. Example: `followctl add-account alice bob`
    AddAccount {
        /// Account ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Register channels. Example: `followctl add-channel 120363012345678901@newsletter`
    AddChannel {
        /// Channel JIDs.
        #[arg(required = true)]
        jids: Vec<String>,
    },
    /// Remove a node and its edges. Example: `followctl remove carol`
    Remove {
        /// The node.
        id: String,
    },
    /// TARGET drops FOLLOWER from its followers. Example: `followctl remove-follower bob alice`
    RemoveFollower {
        /// The followed node.
        target: String,
        /// The follower to drop.
        follower: String,
    },
    /// ACTOR follows each TARGET. Example: `followctl follow alice bob carol`
    Follow {
        /// The follower.
        actor: String,
        /// One target or a batch.
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// ACTOR unfollows each TARGET. Example: `followctl unfollow alice bob`
    Unfollow {
        /// The follower.
        actor: String,
        /// One target or a batch.
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// Mute (or with --off unmute) TARGET for ACTOR. Example: `followctl mute alice bob`
    Mute {
        /// The follower.
        actor: String,
        /// The followed node.
        target: String,
        /// Unmute instead.
        #[arg(long)]
        off: bool,
    },
    /// The relation between A and B. Example: `followctl relation alice bob`
    Relation {
        /// First node.
        a: String,
        /// Second node.
        b: String,
    },
    /// Who follows TARGET, newest first. Example: `followctl followers bob --limit 10`
    Followers {
        /// The followed node.
        target: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Whom ACTOR follows, newest first. Example: `followctl following alice`
    Following {
        /// The follower.
        actor: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Whom ACTOR follows and is followed by. Example: `followctl mutuals alice`
    Mutuals {
        /// The node.
        actor: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// A node's following, followers and mutual counts. Example: `followctl counts alice`
    Counts {
        /// The node.
        id: String,
    },
    /// The change feed. Example: `followctl events --after 10 --limit 50`
    Events {
        /// Only events after this position.
        #[arg(long)]
        after: Option<u64>,
        /// At most this many events (1..=1000).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Record activity of TARGET (now, or --at). Example: `followctl touch bob --at 2024-01-01T00:00:00Z`
    Touch {
        /// The active node.
        target: String,
        /// When (RFC 3339); now by default.
        #[arg(long)]
        at: Option<String>,
    },
    /// Follows of ACTOR inactive since a time. Example: `followctl stale alice --since 2024-01-01T00:00:00Z`
    Stale {
        /// The follower.
        actor: String,
        /// Inactive since (RFC 3339).
        #[arg(long)]
        since: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Check the database's counts and integrity. Example: `followctl verify --repair`
    Verify {
        /// Rewrite wrong counts from the edges.
        #[arg(long)]
        repair: bool,
    },
    /// Load follows from a file. Example: `followctl import follows.csv`,
    /// `followctl import --format mastodon --as alice following_accounts.csv`
    Import(ImportArgs),
    /// Write the tenant's graph as CSV `follower,target,since,muted` (to
    /// standard output, or --output). Example: `followctl export --output graph.csv`
    Export {
        /// The file to write; standard output by default.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Build a sample graph and walk through the main scenarios. Example: `followctl --db demo.db demo`
    Demo,
}

/// What a command needs of the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Writes: the file is created on first use.
    Write,
    /// Only reads: a missing file is an error, never created.
    Read,
    /// Only reads, and a missing file reads as an empty graph (a dry run
    /// into a database that does not exist yet).
    ReadOrEmpty,
}

impl Cmd {
    /// What the command needs of the database file.
    pub fn access(&self) -> Access {
        match self {
            Cmd::Relation { .. }
            | Cmd::Followers { .. }
            | Cmd::Following { .. }
            | Cmd::Mutuals { .. }
            | Cmd::Counts { .. }
            | Cmd::Events { .. }
            | Cmd::Stale { .. }
            | Cmd::Export { .. }
            | Cmd::Verify { repair: false } => Access::Read,
            Cmd::Import(args) if args.dry_run => Access::ReadOrEmpty,
            _ => Access::Write,
        }
    }
}
