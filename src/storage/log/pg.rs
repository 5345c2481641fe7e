//! The PostgreSQL side of [`log_store!`]: the reads under the log lock and the batch's write,
//! each one statement of fixed text, whatever the batch holds.
//!
//! The sequencer holds the log lock from its first statement to the commit, so every round
//! trip inside the transaction is time no other batch can use. Multi-row `VALUES` lists change
//! their text with their row count and cannot stay prepared, which costs a second round trip
//! (parse and describe) per statement; one `INSERT` per table made a batch about twenty round
//! trips. Here each table's rows travel as arrays, one per column, expanded by `UNNEST`, and
//! every insert is a data-modifying `WITH` of one statement: the batch is written in one round
//! trip by a statement prepared once per connection. Foreign keys are checked at the end of the
//! statement, so rows of one sub-statement may reference rows of another.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use super::to_i64;
use crate::log::batch::{Appended, Batch, ChainHead, LicenceChain, PendingItem, Sealed};
use crate::log::merkle::{Hash, NodeId};
use crate::storage::StoreError;

/// The log size, the stored heads of the batch's issuers and the receipts of its envelopes
/// accepted before (repeats), read under the lock in one statement: the size is the row
/// without a key, a head has a sequence, a receipt has none.
pub(crate) async fn batch_reads(
    conn: &mut PgConnection,
    batch: &Batch,
) -> Result<(u64, HashMap<String, ChainHead>, HashMap<String, String>), StoreError> {
    let issuers: Vec<&str> = batch.envelopes.iter().map(|e| e.issuer.as_str()).collect();
    let digests: Vec<&str> = batch.envelopes.iter().map(|e| e.digest.as_str()).collect();
    let rows = sqlx::query(
        "SELECT NULL AS key, size AS sequence, NULL AS value FROM log_state WHERE id = 1 \
         UNION ALL \
         SELECT issuer, sequence, digest FROM issuer_heads WHERE issuer = ANY($1) \
         UNION ALL \
         SELECT digest, NULL, receipt FROM envelopes WHERE digest = ANY($2)",
    )
    .bind(&issuers)
    .bind(&digests)
    .fetch_all(&mut *conn)
    .await?;
    let (mut size, mut heads, mut receipts) = (None, HashMap::new(), HashMap::new());
    for row in rows {
        let key: Option<String> = row.try_get("key")?;
        let number: Option<i64> = row.try_get("sequence")?;
        let value: Option<String> = row.try_get("value")?;
        match (key, number, value) {
            (None, Some(n), None) => size = Some(super::to_u64(n)?),
            (Some(issuer), Some(n), Some(digest)) => {
                let sequence = super::to_u64(n)?;
                heads.insert(issuer, ChainHead { sequence, digest });
            }
            (Some(digest), None, Some(receipt)) => {
                receipts.insert(digest, receipt);
            }
            _ => return Err(StoreError::corrupt("an unexpected row under the log lock")),
        }
    }
    let size = size.ok_or_else(|| StoreError::corrupt("the log state row is missing"))?;
    Ok((size, heads, receipts))
}

/// Everything an accepted batch stores (envelopes and issuer heads, licences and their heads,
/// status events, leaves, nodes, the checkpoint and the log size), in one statement.
pub(crate) async fn write_batch(
    conn: &mut PgConnection,
    batch: &Batch,
    appended: &Appended,
    nodes: &[(NodeId, Hash)],
    sealed: &Sealed,
) -> Result<(), StoreError> {
    let columns = Columns::gather(batch, appended, nodes, sealed)?;
    let query = sqlx::query(WRITE_BATCH);
    let query = columns.envelopes.bind(query).bind(batch.accepted_at);
    let query = columns.heads.bind(query);
    let query = columns.licences.bind(query);
    let query = columns.chains.bind(query);
    let query = columns.events.bind(query);
    let query = columns.log.bind(query);
    query
        .bind(to_i64(appended.size)?)
        .bind(&appended.root[..])
        .bind(sealed.checkpoint.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `$1`–`$7` envelopes, `$8` the batch's `accepted_at` (every table's), `$9`–`$11` issuer heads,
/// `$12`–`$25` licences, `$26`–`$30` licence heads, `$31`–`$40` status events, `$41`–`$43`
/// leaves, `$44`–`$46` nodes, `$47`–`$49` the checkpoint's size, root and note.
const WRITE_BATCH: &str = "\
WITH envelope_rows AS (
    INSERT INTO envelopes (digest, issuer, sequence, previous, document, receipt, first_leaf,
                           accepted_at)
    SELECT *, $8::timestamptz FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                             $6::text[], $7::bigint[])
), head_rows AS (
    INSERT INTO issuer_heads (issuer, sequence, digest)
    SELECT * FROM UNNEST($9::text[], $10::bigint[], $11::text[])
    ON CONFLICT (issuer) DO UPDATE SET sequence = excluded.sequence, digest = excluded.digest
), licence_rows AS (
    INSERT INTO licences (id, base, version, issuer, type_code, schema_version, holder,
                          jurisdiction, valid_from, valid_until, digest, document, envelope,
                          leaf_index, accepted_at)
    SELECT *, $8::timestamptz FROM UNNEST($12::text[], $13::text[], $14::bigint[], $15::text[], $16::text[],
                             $17::bigint[], $18::text[], $19::text[], $20::timestamptz[],
                             $21::timestamptz[], $22::text[], $23::text[], $24::text[],
                             $25::bigint[])
), chain_rows AS (
    INSERT INTO licence_heads (base, id, digest, status, last_event)
    SELECT * FROM UNNEST($26::text[], $27::text[], $28::text[], $29::text[], $30::text[])
    ON CONFLICT (base) DO UPDATE SET id = excluded.id, digest = excluded.digest,
                                     status = excluded.status, last_event = excluded.last_event
), event_rows AS (
    INSERT INTO status_events (base, licence, action, reason, effective_from, digest, previous,
                               document, envelope, leaf_index, accepted_at)
    SELECT *, $8::timestamptz FROM UNNEST($31::text[], $32::text[], $33::text[], $34::text[],
                             $35::timestamptz[], $36::text[], $37::text[], $38::text[],
                             $39::text[], $40::bigint[])
), leaf_rows AS (
    INSERT INTO log_leaves (idx, leaf_hash, data)
    SELECT * FROM UNNEST($41::bigint[], $42::bytea[], $43::text[])
), node_rows AS (
    INSERT INTO log_nodes (level, idx, hash)
    SELECT * FROM UNNEST($44::bigint[], $45::bigint[], $46::bytea[])
), checkpoint_row AS (
    INSERT INTO checkpoints (size, root, note, created_at) VALUES ($47, $48, $49, $8::timestamptz)
)
UPDATE log_state SET size = $47 WHERE id = 1";

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// The batch's rows, one vector per column.
#[derive(Default)]
struct Columns<'a> {
    envelopes: EnvelopeColumns<'a>,
    heads: HeadColumns<'a>,
    licences: LicenceColumns<'a>,
    chains: ChainColumns<'a>,
    events: EventColumns<'a>,
    log: LogColumns<'a>,
}

impl<'a> Columns<'a> {
    fn gather(
        batch: &'a Batch,
        appended: &'a Appended,
        nodes: &'a [(NodeId, Hash)],
        sealed: &'a Sealed,
    ) -> Result<Self, StoreError> {
        let mut columns = Self::default();
        let mut heads: HashMap<&str, (i64, &str)> = HashMap::new();
        let mut chains: HashMap<&str, &LicenceChain> = HashMap::new();
        for ((i, leaves), receipt) in appended.envelopes.iter().zip(&sealed.receipts) {
            let env = &batch.envelopes[*i];
            let first = leaves.first().map_or(appended.size, |l| l.index);
            columns.envelopes.push(env, receipt, to_i64(first)?)?;
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
}

#[derive(Default)]
struct EnvelopeColumns<'a> {
    digest: Vec<&'a str>,
    issuer: Vec<&'a str>,
    sequence: Vec<i64>,
    previous: Vec<Option<&'a str>>,
    document: Vec<&'a str>,
    receipt: Vec<&'a str>,
    first_leaf: Vec<i64>,
}

impl<'a> EnvelopeColumns<'a> {
    fn push(
        &mut self,
        env: &'a crate::log::batch::PendingEnvelope,
        receipt: &'a str,
        first_leaf: i64,
    ) -> Result<(), StoreError> {
        self.digest.push(&env.digest);
        self.issuer.push(env.issuer.as_str());
        self.sequence.push(to_i64(env.sequence)?);
        self.previous.push(env.previous.as_deref());
        self.document.push(&env.document);
        self.receipt.push(receipt);
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
            .bind(self.receipt)
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
    document: Vec<&'a str>,
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
        self.document.push(&l.document);
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
    document: Vec<&'a str>,
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
        self.document.push(&s.document);
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
