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

use sqlx::{PgConnection, Row};

use super::to_i64;
use crate::log::batch::{Appended, Batch, ChainHead, Sealed};
use crate::log::merkle::{Hash, NodeId};
use crate::storage::StoreError;
use columns::Columns;

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

/// Nothing: PostgreSQL takes the whole batch in one statement once it is sealed
/// ([`write_sealed`]), which its planner and a single round trip make cheaper than two.
pub(crate) async fn write_unsealed(
    _conn: &mut PgConnection,
    _batch: &Batch,
    _appended: &Appended,
    _nodes: &[(NodeId, Hash)],
) -> Result<(), StoreError> {
    Ok(())
}

/// Everything an accepted batch stores (envelopes and issuer heads, licences and their heads,
/// status events, leaves, nodes, the checkpoint and the log size), in one statement.
pub(crate) async fn write_sealed(
    conn: &mut PgConnection,
    batch: &Batch,
    appended: &Appended,
    nodes: &[(NodeId, Hash)],
    sealed: &Sealed,
) -> Result<(), StoreError> {
    let query = Columns::gather(batch, appended, nodes, sealed)?
        .bind(sqlx::query(WRITE_BATCH), batch.accepted_at);
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
                             $21::timestamptz[], $22::text[], $23::bytea[], $24::text[],
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
                             $35::timestamptz[], $36::text[], $37::text[], $38::bytea[],
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

mod columns;
