//! A change set as the commit binds it: one array per column, each list
//! in key order but the puts (inserts, then updates), whose order the
//! statement does not need.

use follow_core::CountDelta;

/// Everything a batch persists, as bound arrays.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub(crate) tenant: String,
    /// The store's event base ([`crate::positions`]).
    pub(crate) event_base: i64,
    pub(crate) edge_deletes: (Vec<String>, Vec<String>),
    pub(crate) link_deletes: LinkKeys,
    pub(crate) node_deletes: Vec<String>,
    pub(crate) node_inserts: NodeRows,
    pub(crate) edge_puts: EdgeRows,
    pub(crate) link_puts: LinkRows,
    /// Changes made in place, to rows this transaction holds exclusively.
    pub(crate) node_updates: NodeDeltas,
    /// Counter changes appended as rows ([`crate::counters`]).
    pub(crate) counter_deltas: CounterDeltas,
    /// The nodes whose counter deltas to fold into their rows first.
    pub(crate) folds: Vec<String>,
    /// The transaction's id, which keys its counter deltas.
    pub(crate) xact: i64,
    pub(crate) events: EventRows,
}

/// Full node rows.
#[derive(Debug, Default, Clone)]
pub(crate) struct NodeRows {
    pub(crate) ids: Vec<String>,
    pub(crate) registered_at: Vec<i64>,
    pub(crate) last_active: Vec<Option<i64>>,
    pub(crate) following: Vec<i64>,
    pub(crate) followers: Vec<i64>,
    pub(crate) mutual: Vec<i64>,
    pub(crate) locked: Vec<bool>,
    pub(crate) links: Vec<i64>,
}

/// Full edge rows.
#[derive(Debug, Default, Clone)]
pub(crate) struct EdgeRows {
    pub(crate) followers: Vec<String>,
    pub(crate) targets: Vec<String>,
    pub(crate) since: Vec<i64>,
    pub(crate) muted: Vec<bool>,
    pub(crate) mutual_since: Vec<Option<i64>>,
    pub(crate) options: Vec<Option<String>>,
}

/// Link keys.
#[derive(Debug, Default, Clone)]
pub(crate) struct LinkKeys {
    pub(crate) kinds: Vec<&'static str>,
    pub(crate) froms: Vec<String>,
    pub(crate) tos: Vec<String>,
}

/// Full link rows.
#[derive(Debug, Default, Clone)]
pub(crate) struct LinkRows {
    pub(crate) keys: LinkKeys,
    pub(crate) since: Vec<i64>,
    pub(crate) notifications: Vec<bool>,
    pub(crate) expires_at: Vec<Option<i64>>,
    pub(crate) options: Vec<Option<String>>,
}

/// Counter and link-count deltas with, beside each node, its locked flag
/// and new last activity.
#[derive(Debug, Default, Clone)]
pub(crate) struct NodeDeltas {
    pub(crate) counts: CounterDeltas,
    pub(crate) locked: Vec<Option<bool>>,
    pub(crate) last_active: Vec<Option<i64>>,
}

/// Counter and link-count deltas, a row per node.
#[derive(Debug, Default, Clone)]
pub(crate) struct CounterDeltas {
    pub(crate) ids: Vec<String>,
    pub(crate) following: Vec<i64>,
    pub(crate) followers: Vec<i64>,
    pub(crate) mutual: Vec<i64>,
    pub(crate) links: Vec<i64>,
}

impl CounterDeltas {
    /// Adds `id`'s row.
    pub(crate) fn push(&mut self, id: &str, counts: &CountDelta, links: i64) {
        self.ids.push(id.to_owned());
        self.following.push(counts.following);
        self.followers.push(counts.followers);
        self.mutual.push(counts.mutual);
        self.links.push(links);
    }

    fn truncated(&self, n: usize) -> CounterDeltas {
        CounterDeltas {
            ids: cut(&self.ids, n),
            following: cut(&self.following, n),
            followers: cut(&self.followers, n),
            mutual: cut(&self.mutual, n),
            links: cut(&self.links, n),
        }
    }
}

/// Events in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct EventRows {
    pub(crate) kinds: Vec<&'static str>,
    pub(crate) followers: Vec<String>,
    pub(crate) targets: Vec<String>,
    pub(crate) at: Vec<i64>,
}

/// The first `n` items of `v`.
fn cut<T: Clone>(v: &[T], n: usize) -> Vec<T> {
    v[..n.min(v.len())].to_vec()
}

impl LinkKeys {
    fn truncated(&self, n: usize) -> LinkKeys {
        LinkKeys {
            kinds: cut(&self.kinds, n),
            froms: cut(&self.froms, n),
            tos: cut(&self.tos, n),
        }
    }
}

impl Changes {
    /// How many rows and events it writes.
    pub(crate) fn len(&self) -> usize {
        self.edge_deletes.0.len()
            + self.link_deletes.kinds.len()
            + self.node_deletes.len()
            + self.node_inserts.ids.len()
            + self.edge_puts.followers.len()
            + self.link_puts.keys.kinds.len()
            + self.node_updates.counts.ids.len()
            + self.counter_deltas.ids.len()
            + self.events.kinds.len()
    }

    /// Its first `rows` rows, in commit order (for fault injection).
    pub(crate) fn truncated(&self, rows: usize) -> Changes {
        let mut left = rows;
        let mut take = |len: usize| {
            let n = len.min(left);
            left -= n;
            n
        };
        let d = take(self.edge_deletes.0.len());
        let ld = take(self.link_deletes.kinds.len());
        let nd = take(self.node_deletes.len());
        let ni = take(self.node_inserts.ids.len());
        let ep = take(self.edge_puts.followers.len());
        let lp = take(self.link_puts.keys.kinds.len());
        let nu = take(self.node_updates.counts.ids.len());
        let cd = take(self.counter_deltas.ids.len());
        let ev = take(self.events.kinds.len());
        let n = &self.node_inserts;
        let p = &self.edge_puts;
        let l = &self.link_puts;
        let u = &self.node_updates;
        let e = &self.events;
        Changes {
            tenant: self.tenant.clone(),
            event_base: self.event_base,
            edge_deletes: (cut(&self.edge_deletes.0, d), cut(&self.edge_deletes.1, d)),
            link_deletes: self.link_deletes.truncated(ld),
            node_deletes: cut(&self.node_deletes, nd),
            node_inserts: NodeRows {
                ids: cut(&n.ids, ni),
                registered_at: cut(&n.registered_at, ni),
                last_active: cut(&n.last_active, ni),
                following: cut(&n.following, ni),
                followers: cut(&n.followers, ni),
                mutual: cut(&n.mutual, ni),
                locked: cut(&n.locked, ni),
                links: cut(&n.links, ni),
            },
            edge_puts: EdgeRows {
                followers: cut(&p.followers, ep),
                targets: cut(&p.targets, ep),
                since: cut(&p.since, ep),
                muted: cut(&p.muted, ep),
                mutual_since: cut(&p.mutual_since, ep),
                options: cut(&p.options, ep),
            },
            link_puts: LinkRows {
                keys: l.keys.truncated(lp),
                since: cut(&l.since, lp),
                notifications: cut(&l.notifications, lp),
                expires_at: cut(&l.expires_at, lp),
                options: cut(&l.options, lp),
            },
            node_updates: NodeDeltas {
                counts: u.counts.truncated(nu),
                locked: cut(&u.locked, nu),
                last_active: cut(&u.last_active, nu),
            },
            counter_deltas: self.counter_deltas.truncated(cd),
            folds: self.folds.clone(),
            xact: self.xact,
            events: EventRows {
                kinds: cut(&e.kinds, ev),
                followers: cut(&e.followers, ev),
                targets: cut(&e.targets, ev),
                at: cut(&e.at, ev),
            },
        }
    }
}
