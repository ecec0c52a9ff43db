//! The command line of the relationships between accounts beyond a
//! follow: blocks, account mutes, locked accounts and their follow
//! requests, the relationship object and delivery; and the options a
//! follow or a list read takes.

use clap::Subcommand;

use super::PageArgs;

/// The relationship commands, listed among the others.
#[derive(Debug, Subcommand)]
pub enum RelationCmd {
    /// ACTOR blocks TARGET (accounts only): the follows both ways and any
    /// pending request either way end; while it stands neither can follow
    /// the other. Example: `followctl block alice bob`
    Block {
        /// The blocking account.
        actor: String,
        /// The blocked account.
        target: String,
    },
    /// ACTOR lifts its block of TARGET; nothing the block cut comes back.
    /// Example: `followctl unblock alice bob`
    Unblock {
        /// The blocking account.
        actor: String,
        /// The blocked account.
        target: String,
    },
    /// The accounts ACCOUNT blocks, newest first. Example: `followctl blocks alice --limit 10`
    Blocks {
        /// The blocking account.
        account: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// ACTOR mutes TARGET as an account, followed or not (the follow's own
    /// notification mute is `mute`). Muting again sets both options as
    /// given. Example: `followctl mute-account alice bob --notifications false --for 7d`
    MuteAccount {
        /// The muting account.
        actor: String,
        /// The muted account.
        target: String,
        /// Hide TARGET's notifications too (default true).
        #[arg(long, value_name = "true|false")]
        notifications: Option<bool>,
        /// End the mute after this long (`7d`, `12h`, `30m`); without it
        /// the mute has no end.
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<String>,
    },
    /// ACTOR ends its account mute of TARGET. Example: `followctl unmute-account alice bob`
    UnmuteAccount {
        /// The muting account.
        actor: String,
        /// The muted account.
        target: String,
    },
    /// The accounts ACCOUNT mutes, newest first, with whether
    /// notifications are hidden too and when each mute ends; ended mutes
    /// are left out. Example: `followctl mutes alice`
    Mutes {
        /// The muting account.
        account: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Lock ACCOUNT: a follow of it becomes a request it authorises or
    /// rejects. Example: `followctl lock alice`
    Lock {
        /// The account.
        account: String,
    },
    /// Unlock ACCOUNT: every pending request to follow it is authorised
    /// (the output says how many). Example: `followctl unlock alice`
    Unlock {
        /// The account.
        account: String,
    },
    /// The pending requests to follow ACCOUNT (or with --outgoing, its own
    /// requests), newest first, with the options each follow will have.
    /// Example: `followctl requests alice`, `followctl requests bob --outgoing`
    Requests {
        /// The account.
        account: String,
        /// ACCOUNT's own requests to follow locked accounts.
        #[arg(long)]
        outgoing: bool,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// ACTOR, a locked account, authorises FOLLOWER's request: the follow
    /// is made with the request's options. Example: `followctl authorize alice bob`
    Authorize {
        /// The locked account asked.
        actor: String,
        /// The account that asked to follow it.
        follower: String,
    },
    /// ACTOR rejects FOLLOWER's request: it goes and nothing is made.
    /// Example: `followctl reject alice bob`
    Reject {
        /// The locked account asked.
        actor: String,
        /// The account that asked to follow it.
        follower: String,
    },
    /// ACTOR's relationship to each TARGET (Mastodon's relationship
    /// object), in the order given. Example: `followctl relationship alice bob carol`
    Relationship {
        /// The account whose view it is.
        actor: String,
        /// One target or a batch (at most the library's read batch limit).
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// TARGET's followers, newest first, each with how it receives
    /// TARGET's posts (`notified`, `silent` for a muted follow, `withheld`
    /// when it mutes TARGET as an account) and its follow's options.
    /// Example: `followctl delivery bob --limit 50`
    Delivery {
        /// The author.
        target: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
}

/// The options of a follow; each one left out keeps its value (a new
/// follow gets Mastodon's defaults: reblogs shown, no notification, every
/// language).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FollowOptionArgs {
    /// Show the target's reblogs (boosts).
    #[arg(long, value_name = "true|false")]
    pub reblogs: Option<bool>,
    /// Notify the follower of each new post.
    #[arg(long, value_name = "true|false")]
    pub notify: Option<bool>,
    /// Show only posts in these ISO 639-1 languages, comma-separated
    /// (`en,fr`); `all` shows every language.
    #[arg(long, value_name = "CODES")]
    pub languages: Option<String>,
}

impl FollowOptionArgs {
    /// Whether any option is named.
    pub fn any(&self) -> bool {
        self.reblogs.is_some() || self.notify.is_some() || self.languages.is_some()
    }
}

/// A list read on behalf of a viewer account.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ViewerArgs {
    /// Read the list as this account sees it: accounts it blocks or is
    /// blocked by are left out, and the list is empty when its owner
    /// blocks the viewer.
    #[arg(long, value_name = "ACCOUNT")]
    pub viewer: Option<String>,
    /// With --viewer: show the viewer's relationship to each item.
    #[arg(long, requires = "viewer")]
    pub relationships: bool,
}
