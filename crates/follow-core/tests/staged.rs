//! `apply_batch_staged` must leave a store exactly as `apply_batch` does,
//! answer the same, and keep every `WriteTxn` contract, for any batch.

use std::collections::BTreeMap;

use follow_core::apply::{WriteTxn, apply_batch, apply_batch_staged};
use follow_core::{
    AccountId, Command, CommandResult, CountDelta, Edge, Error, Event, EventPosition, NewEvent,
    NodeId, NodeRecord, TenantId, Timestamp, WriteBatch,
};
use proptest::prelude::*;

/// Rows of one tenant, refusing every call its contract rules out, so a
/// staged write the contract forbids fails the test.
#[derive(Debug, Clone, Default, PartialEq)]
struct Rows {
    nodes: BTreeMap<NodeId, NodeRecord>,
    edges: BTreeMap<(AccountId, NodeId), Edge>,
    events: Vec<Event>,
}

fn broken(what: &str) -> Error {
    Error::internal(format!("contract broken: {what}"))
}

impl WriteTxn for Rows {
    fn node(&mut self, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        Ok(self.nodes.get(id).cloned())
    }

    fn insert_node(&mut self, node: &NodeRecord) -> Result<(), Error> {
        match self.nodes.insert(node.id.clone(), node.clone()) {
            None => Ok(()),
            Some(_) => Err(broken("insert of a present node")),
        }
    }

    fn delete_node(&mut self, id: &NodeId) -> Result<(), Error> {
        if !self.edges_touching(id)?.is_empty() {
            return Err(broken("delete of a node edges still touch"));
        }
        self.nodes
            .remove(id)
            .map(drop)
            .ok_or_else(|| broken("delete of an absent node"))
    }

    fn set_last_active(&mut self, id: &NodeId, at: Timestamp) -> Result<(), Error> {
        let node = self
            .nodes
            .get_mut(id)
            .ok_or_else(|| broken("touch absent"))?;
        node.last_active = Some(at);
        Ok(())
    }

    fn edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<Option<Edge>, Error> {
        Ok(self.edges.get(&(follower.clone(), target.clone())).copied())
    }

    fn put_edge(&mut self, follower: &AccountId, target: &NodeId, edge: Edge) -> Result<(), Error> {
        self.edges.insert((follower.clone(), target.clone()), edge);
        Ok(())
    }

    fn delete_edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<(), Error> {
        self.edges
            .remove(&(follower.clone(), target.clone()))
            .map(drop)
            .ok_or_else(|| broken("delete of an absent edge"))
    }

    fn add_counts(&mut self, id: &NodeId, delta: CountDelta) -> Result<(), Error> {
        let node = self
            .nodes
            .get_mut(id)
            .ok_or_else(|| broken("counts of absent"))?;
        node.counts = node.counts.apply(delta)?;
        Ok(())
    }

    fn edges_touching(&mut self, id: &NodeId) -> Result<Vec<(AccountId, NodeId)>, Error> {
        Ok(self
            .edges
            .keys()
            .filter(|(follower, target)| follower.as_str() == id.as_str() || target == id)
            .cloned()
            .collect())
    }

    fn append_event(&mut self, event: NewEvent) -> Result<Event, Error> {
        let position = EventPosition(self.events.len() as u64 + 1);
        let event = event.at_position(tenant(), position);
        self.events.push(event.clone());
        Ok(event)
    }
}

fn tenant() -> TenantId {
    TenantId::new("t").unwrap_or_else(|_| unreachable!("a valid literal"))
}

const NODES: [&str; 4] = ["a", "b", "c", "120363000000000001@newsletter"];

fn node(index: usize) -> NodeId {
    NodeId::new(NODES[index % NODES.len()]).unwrap_or_else(|_| unreachable!("a valid literal"))
}

fn account(index: usize) -> AccountId {
    AccountId::new(NODES[index % 3]).unwrap_or_else(|_| unreachable!("a valid literal"))
}

fn time(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000 + seconds)
        .unwrap_or_else(|_| unreachable!("in range"))
}

fn command() -> impl Strategy<Value = Command> {
    let ends = (0..3usize, 0..4usize);
    prop_oneof![
        2 => (0..4usize).prop_map(|n| Command::Register { node: node(n) }),
        1 => (0..4usize).prop_map(|n| Command::Remove { node: node(n) }),
        1 => (0..4usize, 0..5i64).prop_map(|(n, at)| Command::Touch { node: node(n), at: time(at) }),
        4 => (ends.clone(), proptest::option::of(0..5i64)).prop_map(|((f, t), since)| {
            Command::Follow { follower: account(f), target: node(t), since: since.map(time) }
        }),
        2 => ends.clone().prop_map(|(f, t)| Command::Unfollow { follower: account(f), target: node(t) }),
        2 => (ends.clone(), any::<bool>()).prop_map(|((f, t), muted)| {
            Command::SetMute { follower: account(f), target: node(t), muted }
        }),
        1 => ends.prop_map(|(f, t)| Command::RemoveFollower { target: node(t), follower: account(f) }),
    ]
}

fn batch() -> impl Strategy<Value = WriteBatch> {
    (
        0..10i64,
        proptest::option::of(0..4usize),
        proptest::collection::vec(command(), 1..16),
    )
        .prop_map(|(at, requires, commands)| WriteBatch {
            tenant: tenant(),
            at: time(at),
            requires: requires.map(node),
            commands,
        })
}

/// Results in a comparable form: errors by their text.
fn answers(results: Result<Vec<CommandResult>, Error>) -> Result<Vec<String>, String> {
    results
        .map(|all| {
            all.into_iter()
                .map(|result| format!("{:?}", result.map_err(|e| e.to_string())))
                .collect()
        })
        .map_err(|e| e.to_string())
}

proptest! {
    #[test]
    fn staged_batches_match_direct_ones(batches in proptest::collection::vec(batch(), 1..6)) {
        let (mut direct, mut staged) = (Rows::default(), Rows::default());
        for batch in &batches {
            let expected = answers(apply_batch(&mut direct, batch));
            let got = answers(apply_batch_staged(&mut staged, batch));
            // A broken contract fails the batch as a whole or one command.
            prop_assert!(!format!("{got:?}").contains("contract broken"), "{got:?}");
            prop_assert_eq!(got, expected);
            prop_assert_eq!(&staged, &direct);
        }
    }
}
