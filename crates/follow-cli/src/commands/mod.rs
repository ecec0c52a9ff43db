//! One function per command; `run` picks it.

mod demo;
mod edit;
mod feed;
mod links;
mod read;
mod relations;
mod verify;

use follow_core::NodeKind;

use crate::cli::{Cli, Cmd};
use crate::failure::Failure;
use crate::output::Output;
use crate::session::Session;
use crate::transfer::{export, import};
use read::List;

/// Opens the database as the command needs and runs it.
pub async fn run(cli: &Cli, interactive: bool) -> Result<Output, Failure> {
    let access = cli.command.access(cli.db.is_some());
    let s = &Session::open(&cli.db_path(), &cli.tenant, access).await?;
    Ok(match &cli.command {
        Cmd::AddAccount { ids } => edit::register_all(s, ids, NodeKind::Account).await?,
        Cmd::AddChannel { jids } => edit::register_all(s, jids, NodeKind::Channel).await?,
        Cmd::Remove { id } => edit::remove(s, id).await?,
        Cmd::RemoveFollower { actor, follower } => {
            edit::remove_follower(s, actor, follower).await?
        }
        Cmd::Follow {
            actor,
            targets,
            options,
        } if options.any() => edit::follow_with_options(s, actor, targets, options).await?,
        Cmd::Follow { actor, targets, .. } => {
            edit::follow_or_unfollow(s, actor, targets, true).await?
        }
        Cmd::Unfollow { actor, targets } => {
            edit::follow_or_unfollow(s, actor, targets, false).await?
        }
        Cmd::Mute { actor, target, off } => edit::mute(s, actor, target, !off).await?,
        Cmd::Touch { target, at } => edit::touch(s, target, at.as_deref()).await?,
        Cmd::Relation { a, b } => read::relation(s, a, b).await?,
        Cmd::Following {
            actor,
            page,
            viewer,
        } => read::list(s, List::Following, actor, &page.request(), viewer).await?,
        Cmd::Followers {
            target,
            page,
            viewer,
        } => read::list(s, List::Followers, target, &page.request(), viewer).await?,
        Cmd::Mutuals {
            actor,
            page,
            viewer,
        } => read::list(s, List::Mutuals, actor, &page.request(), viewer).await?,
        Cmd::Counts { id } => read::counts(s, id).await?,
        Cmd::Events {
            consumer: Some(command),
            ..
        } => feed::consumer(s, command).await?,
        Cmd::Events { after, limit, .. } => read::events(s, *after, *limit).await?,
        Cmd::LostFollowers { node, since, page } => {
            let question = feed::History::LostFollowers;
            feed::history(s, question, node, since, &page.request()).await?
        }
        Cmd::FollowChanges { actor, since, page } => {
            let question = feed::History::FollowChanges;
            feed::history(s, question, actor, since, &page.request()).await?
        }
        Cmd::Stale { actor, since, page } => read::stale(s, actor, since, &page.request()).await?,
        Cmd::Verify { repair: false } => verify::verify(s).await?,
        Cmd::Verify { repair: true } => verify::repair(s).await?,
        Cmd::Import(args) => import::import(s, args, interactive).await?,
        Cmd::Export { output } => export::export(s, output.as_deref(), interactive).await?,
        Cmd::Demo => demo::demo(s).await?,
        Cmd::Relations(command) => relations::run(s, command).await?,
    })
}
