//! A batch's rows as PostgreSQL arrays, one vector per column, for the statement of
//! [`write_unsealed`](super::write_unsealed).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::log::batch::{Appended, Batch, LicenceChain, PendingItem};
use crate::log::merkle::{Hash, NodeId};
use crate::storage::log::to_i64;
use crate::storage::StoreError;

pub(super) type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// The batch's rows, one vector per column.
#[derive(Default)]
pub(super) struct Columns<'a> {
    envelopes: EnvelopeColumns<'a>,
    heads: HeadColumns<'a>,
    licences: LicenceColumns<'a>,
    chains: ChainColumns<'a>,
    events: EventColumns<'a>,
    log: LogColumns<'a>,
}

impl<'a> Columns<'a> {
    pub(super) fn gather(
        batch: &'a Batch,
        appended: &'a Appended,
        nodes: &'a [(NodeId, Hash)],
    ) -> Result<Self, StoreError> {
        let mut columns = Self::default();
        let mut heads: HashMap<&str, (i64, &str)> = HashMap::new();
        let mut chains: HashMap<&str, &LicenceChain> = HashMap::new();
        for (i, leaves) in &appended.envelopes {
            let env = &batch.envelopes[*i];
            let first = leaves.first().map_or(appended.size, |l| l.index);
            columns.envelopes.push(env, to_i64(first)?)?;
            heads.insert(env.issuer.as_str(), (to_i64(env.sequence)?, &env.digest));
            for chain in &env.chains {
                chains.insert(chain.base.as_str(), chain);
            }
            for ((item, leaf), data) in env.items.iter().zip(leaves).zip(&batch.leaves[*i]) {
                let index = to_i64(leaf.index)?;
                match item {
                    PendingItem::Licence(l) => columns.licences.push(&env.digest, l, index),
                    PendingItem::Status(s) => columns.events.push(&env.digest, s, index),
                }
                columns.log.push_leaf(index, &leaf.hash, data);
            }
        }
        for (issuer, (sequence, digest)) in heads {
            columns.heads.issuer.push(issuer);
            columns.heads.sequence.push(sequence);
            columns.heads.digest.push(digest);
        }
        for chain in chains.into_values() {
            columns.chains.push(chain);
        }
        for (id, hash) in nodes {
            columns.log.push_node(id, hash)?;
        }
        Ok(columns)
    }

    /// Binds every column in the order of the statement's parameters (`$1`–`$45`).
    pub(super) fn bind<'q>(self, query: Query<'q>, accepted_at: DateTime<Utc>) -> Query<'q>
    where
        'a: 'q,
    {
        let query = self.envelopes.bind(query).bind(accepted_at);
        let query = self.heads.bind(query);
        let query = self.licences.bind(query);
        let query = self.chains.bind(query);
        let query = self.events.bind(query);
        self.log.bind(query)
    }
}

#[derive(Default)]
struct EnvelopeColumns<'a> {
    digest: Vec<&'a str>,
    issuer: Vec<&'a str>,
    sequence: Vec<i64>,
    previous: Vec<Option<&'a str>>,
    document: Vec<&'a str>,
    first_leaf: Vec<i64>,
}

impl<'a> EnvelopeColumns<'a> {
    fn push(
        &mut self,
        env: &'a crate::log::batch::PendingEnvelope,
        first_leaf: i64,
    ) -> Result<(), StoreError> {
        self.digest.push(&env.digest);
        self.issuer.push(env.issuer.as_str());
        self.sequence.push(to_i64(env.sequence)?);
        self.previous.push(env.previous.as_deref());
        self.document.push(&env.document);
        self.first_leaf.push(first_leaf);
        Ok(())
    }

    fn bind<'q>(self, query: Query<'q>) -> Query<'q>
    where
        'a: 'q,
    {
        query
            .bind(self.digest)
            .bind(self.issuer)
            .bind(self.sequence)
            .bind(self.previous)
            .bind(self.document)
            .bind(self.first_leaf)
    }
}

#[derive(Default)]
struct HeadColumns<'a> {
    issuer: Vec<&'a str>,
    sequence: Vec<i64>,
    digest: Vec<&'a str>,
}

impl<'a> HeadColumns<'a> {
    fn bind<'q>(self, query: Query<'q>) -> Query<'q>
    where
        'a: 'q,
    {
        query
            .bind(self.issuer)
            .bind(self.sequence)
            .bind(self.digest)
    }
}

/// Licence rows; `base`, `issuer` and `type_code` are derived from the identifier.
#[derive(Default)]
struct LicenceColumns<'a> {
    id: Vec<&'a str>,
    base: Vec<String>,
    version: Vec<i64>,
    issuer: Vec<&'a str>,
    type_code: Vec<&'a str>,
    schema_version: Vec<i64>,
    holder: Vec<&'a str>,
    jurisdiction: Vec<&'a str>,
    valid_from: Vec<DateTime<Utc>>,
    valid_until: Vec<DateTime<Utc>>,
    digest: Vec<&'a str>,
    document: Vec<&'a [u8]>,
    envelope: Vec<&'a str>,
    leaf_index: Vec<i64>,
}

impl<'a> LicenceColumns<'a> {
    fn push(&mut self, envelope: &'a str, l: &'a crate::log::batch::NewLicence, leaf: i64) {
        self.id.push(l.id.as_str());
        self.base.push(l.id.base());
        self.version.push(i64::from(l.id.version()));
        self.issuer.push(l.id.issuer().as_str());
        self.type_code.push(l.id.type_code().as_str());
        self.schema_version.push(i64::from(l.schema_version));
        self.holder.push(&l.holder);
        self.jurisdiction.push(&l.jurisdiction);
        self.valid_from.push(l.valid_from);
        self.valid_until.push(l.valid_until);
        self.digest.push(&l.digest);
        self.document.push(l.document.as_bytes());
        self.envelope.push(envelope);
        self.leaf_index.push(leaf);
    }

    fn bind<'q>(self, query: Query<'q>) -> Query<'q>
    where
        'a: 'q,
    {
        query
            .bind(self.id)
            .bind(self.base)
            .bind(self.version)
            .bind(self.issuer)
            .bind(self.type_code)
            .bind(self.schema_version)
            .bind(self.holder)
            .bind(self.jurisdiction)
            .bind(self.valid_from)
            .bind(self.valid_until)
            .bind(self.digest)
            .bind(self.document)
            .bind(self.envelope)
            .bind(self.leaf_index)
    }
}

#[derive(Default)]
struct ChainColumns<'a> {
    base: Vec<&'a str>,
    id: Vec<&'a str>,
    digest: Vec<&'a str>,
    status: Vec<&'static str>,
    last_event: Vec<Option<&'a str>>,
}

impl<'a> ChainColumns<'a> {
    fn push(&mut self, chain: &'a LicenceChain) {
        self.base.push(&chain.base);
        self.id.push(chain.head.as_str());
        self.digest.push(&chain.head_digest);
        self.status.push(chain.state.as_str());
        self.last_event.push(chain.last_event.as_deref());
    }

    fn bind<'q>(self, query: Query<'q>) -> Query<'q>
    where
        'a: 'q,
    {
        query
            .bind(self.base)
            .bind(self.id)
            .bind(self.digest)
            .bind(self.status)
            .bind(self.last_event)
    }
}

/// Status event rows; `base` is derived from the identifier.
#[derive(Default)]
struct EventColumns<'a> {
    base: Vec<String>,
    licence: Vec<&'a str>,
    action: Vec<&'static str>,
    reason: Vec<&'a str>,
    effective_from: Vec<DateTime<Utc>>,
    digest: Vec<&'a str>,
    previous: Vec<&'a str>,
    document: Vec<&'a [u8]>,
    envelope: Vec<&'a str>,
    leaf_index: Vec<i64>,
}

impl<'a> EventColumns<'a> {
    fn push(&mut self, envelope: &'a str, s: &'a crate::log::batch::NewStatusEvent, leaf: i64) {
        self.base.push(s.licence.base());
        self.licence.push(s.licence.as_str());
        self.action.push(s.action.as_str());
        self.reason.push(&s.reason);
        self.effective_from.push(s.effective_from);
        self.digest.push(&s.digest);
        self.previous.push(&s.previous);
        self.document.push(s.document.as_bytes());
        self.envelope.push(envelope);
        self.leaf_index.push(leaf);
    }

    fn bind<'q>(self, query: Query<'q>) -> Query<'q>
    where
        'a: 'q,
    {
        query
            .bind(self.base)
            .bind(self.licence)
            .bind(self.action)
            .bind(self.reason)
            .bind(self.effective_from)
            .bind(self.digest)
            .bind(self.previous)
            .bind(self.document)
            .bind(self.envelope)
            .bind(self.leaf_index)
    }
}

/// Leaves and the nodes the append completed.
#[derive(Default)]
struct LogColumns<'a> {
    leaf_index: Vec<i64>,
    leaf_hash: Vec<&'a [u8]>,
    leaf_data: Vec<&'a str>,
    node_level: Vec<i64>,
    node_index: Vec<i64>,
    node_hash: Vec<&'a [u8]>,
}

impl<'a> LogColumns<'a> {
    fn push_leaf(&mut self, index: i64, hash: &'a Hash, data: &'a str) {
        self.leaf_index.push(index);
        self.leaf_hash.push(&hash[..]);
        self.leaf_data.push(data);
    }

    fn push_node(&mut self, id: &NodeId, hash: &'a Hash) -> Result<(), StoreError> {
        self.node_level.push(i64::from(id.level));
        self.node_index.push(to_i64(id.index)?);
        self.node_hash.push(&hash[..]);
        Ok(())
    }

    fn bind<'q>(self, query: Query<'q>) -> Query<'q>
    where
        'a: 'q,
    {
        query
            .bind(self.leaf_index)
            .bind(self.leaf_hash)
            .bind(self.leaf_data)
            .bind(self.node_level)
            .bind(self.node_index)
            .bind(self.node_hash)
    }
}
