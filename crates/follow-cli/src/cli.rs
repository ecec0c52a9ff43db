//! The command line: global options and one variant per command, each with
//! its help text and an example.

mod relations;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use follow_core::PageRequest;

pub use relations::{FollowOptionArgs, RelationCmd, ViewerArgs};

/// Inspect, load, migrate and repair a follow graph stored in an embedded
/// SQLite database.
#[derive(Debug, Parser)]
#[command(name = "followctl", version, about, max_term_width = 100)]
pub struct Cli {
    /// The database: a file (default `follow.db`), or a `postgres://` URL
    /// (optionally with `?schema=NAME`). Only `add-account`,
    /// `add-channel` and `import` create a missing file; every other command
    /// refuses it.
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
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
    /// `follower,target[,since[,muted[,reblogs[,notify[,languages]]]]]`,
    /// as `export` writes it (languages separated by spaces); a row with an
    /// empty target registers the node alone.
    Csv,
    /// Mastodon's `following_accounts.csv`: `Account address,Show boosts,
    /// Notify on new posts,Languages`, followed by the account of `--as`
    /// with those options.
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
    /// Register accounts (no channel JIDs). Example: `followctl add-account alice bob`
    AddAccount {
        /// Account ids; if one is not an account id, none is registered.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Register channels (JIDs: digits then `@newsletter`). Example:
    /// `followctl add-channel 120363012345678901@newsletter`
    AddChannel {
        /// Channel JIDs; if one is not a channel JID, none is registered.
        #[arg(required = true)]
        jids: Vec<String>,
    },
    /// Remove a node and its edges. Example: `followctl remove carol`
    Remove {
        /// The node.
        id: String,
    },
    /// ACTOR drops FOLLOWER from its followers: FOLLOWER's follow of ACTOR
    /// ends. Both are named flags, so the order cannot be mixed up. Example:
    /// `followctl remove-follower --actor alice --follower erin` (alice drops erin)
    RemoveFollower {
        /// The followed account or channel, who drops the follower.
        #[arg(long)]
        actor: String,
        /// The follower to drop.
        #[arg(long)]
        follower: String,
    },
    /// ACTOR follows each TARGET; a locked target gets a follow request
    /// (`requested`). Options apply to each target. Example: `followctl
    /// follow alice bob carol`, `followctl follow alice bob --reblogs false --languages en,fr`
    Follow {
        /// The follower.
        actor: String,
        /// One target or a batch.
        #[arg(required = true)]
        targets: Vec<String>,
        /// The follow's options.
        #[command(flatten)]
        options: FollowOptionArgs,
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
    /// Who follows TARGET, newest first (as --viewer sees it). Example:
    /// `followctl followers bob --limit 10`, `followctl followers bob
    /// --viewer alice --relationships`
    Followers {
        /// The followed node.
        target: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
        /// Read as a viewer account sees it.
        #[command(flatten)]
        viewer: ViewerArgs,
    },
    /// Whom ACTOR follows, newest first (as --viewer sees it). Example:
    /// `followctl following alice`
    Following {
        /// The follower.
        actor: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
        /// Read as a viewer account sees it.
        #[command(flatten)]
        viewer: ViewerArgs,
    },
    /// Whom ACTOR follows and is followed by (as --viewer sees it).
    /// Example: `followctl mutuals alice`
    Mutuals {
        /// The node.
        actor: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
        /// Read as a viewer account sees it.
        #[command(flatten)]
        viewer: ViewerArgs,
    },
    /// A node's following, followers and mutual counts. Example: `followctl counts alice`
    Counts {
        /// The node.
        id: String,
    },
    /// The change feed, and its consumers. Example: `followctl events
    /// --after 10 --limit 50`, `followctl events consumers`
    #[command(args_conflicts_with_subcommands = true)]
    Events {
        /// Only events after this position.
        #[arg(long)]
        after: Option<u64>,
        /// At most this many events (1..=1000).
        #[arg(long)]
        limit: Option<u32>,
        /// A consumer command instead of reading the feed.
        #[command(subcommand)]
        consumer: Option<ConsumerCmd>,
    },
    /// Who stopped following NODE since a time (unfollowed it or was
    /// removed), while the feed retains it. Example:
    /// `followctl lost-followers alice --since 2024-01-01T00:00:00Z`
    LostFollowers {
        /// The followed node.
        node: String,
        /// Since (RFC 3339).
        #[arg(long)]
        since: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// What ACTOR followed or unfollowed since a time, while the feed
    /// retains it. Example: `followctl follow-changes alice --since 2024-01-01T00:00:00Z`
    FollowChanges {
        /// The follower.
        actor: String,
        /// Since (RFC 3339).
        #[arg(long)]
        since: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
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
    /// Write the tenant's graph as CSV
    /// `follower,target,since,muted,reblogs,notify,languages` (to standard
    /// output, or --output). Example: `followctl export --output graph.csv`
    Export {
        /// The file to write; standard output by default.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Build a sample graph and walk through the main scenarios, under a
    /// heading per scenario. Runs on a fresh in-memory database unless
    /// `--db` is given, so it never touches `follow.db`. Example: `followctl demo`
    Demo,
    /// Blocks, account mutes, locked accounts and follow requests, the
    /// relationship object, delivery.
    #[command(flatten)]
    Relations(RelationCmd),
}

/// The consumer commands of `events`.
#[derive(Debug, Subcommand)]
pub enum ConsumerCmd {
    /// Every consumer with its position and lag. Example: `followctl events consumers`
    Consumers,
    /// Register a consumer (an existing one is left as it is). Example:
    /// `followctl events register webhooks --from latest`
    Register {
        /// The consumer's name.
        name: String,
        /// Start at the oldest retained event or after the newest.
        #[arg(long, value_enum, default_value_t = Start::Oldest)]
        from: Start,
    },
    /// Acknowledge every event up to POSITION for a consumer (never moves
    /// it back). Example: `followctl events ack webhooks 1200`
    Ack {
        /// The consumer's name.
        name: String,
        /// The last processed position.
        position: u64,
    },
    /// Remove events every consumer acknowledged that are older than
    /// --keep, in short transactions. Example: `followctl events prune --keep 7d`
    Prune {
        /// How long acknowledged events are kept (e.g. `7d`, `12h`, `0s`).
        #[arg(long)]
        keep: String,
        /// Also remove unacknowledged events older than this; their
        /// consumers then fail with `fell_behind`.
        #[arg(long)]
        keep_unacknowledged: Option<String>,
        /// Events per transaction.
        #[arg(long, default_value_t = follow_core::feed::DEFAULT_PRUNE_STEP)]
        step: usize,
    },
}

/// Where a new consumer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Start {
    /// The oldest retained event.
    Oldest,
    /// After the newest event.
    Latest,
}

/// The database used when `--db` is not given.
pub const DEFAULT_DB: &str = "follow.db";

impl Cli {
    /// The database file: `--db`, or [`DEFAULT_DB`].
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB))
    }
}

/// What a command needs of the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Can succeed on an empty database: a missing file is created.
    Create,
    /// Needs what is in the database: a missing file is an error, never
    /// created (a mistyped path must not leave an empty database behind).
    Existing,
    /// Only reads, and a missing file reads as an empty graph (a dry run
    /// into a database that does not exist yet).
    ReadOrEmpty,
    /// A fresh database in memory (the demo without `--db`).
    Scratch,
}

impl Cmd {
    /// What the command needs of the database file; `db_given` says whether
    /// `--db` was on the command line.
    pub fn access(&self, db_given: bool) -> Access {
        match self {
            Cmd::AddAccount { .. } | Cmd::AddChannel { .. } => Access::Create,
            Cmd::Import(args) if args.dry_run => Access::ReadOrEmpty,
            Cmd::Import(_) => Access::Create,
            Cmd::Demo if db_given => Access::Create,
            Cmd::Demo => Access::Scratch,
            _ => Access::Existing,
        }
    }
}
