//! The PostgreSQL side of [`log_store!`]: the reads under the log lock and the batch's write,
//! each one statement of fixed text, whatever the batch holds.
//!
//! The sequencer holds the log lock from its first statement to the commit, so every round
//! trip inside the transaction is time no other batch can use. Multi-row `VALUES` lists change
//! their text with their row count and cannot stay prepared, which costs a second round trip
//! (parse and describe) per statement; one `INSERT` per table made a batch about twenty round
//! trips. Here each table's rows travel as arrays, one per column, expanded by `UNNEST`, and
//! every insert is a data-modifying `WITH` of one statement: the batch is written in one round
//! trip by a statement prepared once per connection, while the seal signs; the receipts and the
//! checkpoint follow in a second. References (foreign keys, and the per-statement checks of
//! `migrations/postgres/20261205000017_set_based_references.sql`) are checked at the end of the
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

/// What an accepted batch stores before it is sealed, in one statement: its envelopes (their
/// receipts still empty) and the issuers' heads, its licences and their heads, status events,
/// leaves, nodes and the log's new size. It runs while the seal signs: with everything written
/// after the seal, the signatures' time was a quarter of the writer's, the log lock held and
/// PostgreSQL idle (BENCHMARKS.md).
pub(crate) async fn write_unsealed(
    conn: &mut PgConnection,
    batch: &Batch,
    appended: &Appended,
    nodes: &[(NodeId, Hash)],
) -> Result<(), StoreError> {
    Columns::gather(batch, appended, nodes)?
        .bind(sqlx::query(WRITE_UNSEALED), batch.accepted_at)
        .bind(to_i64(appended.size)?)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The rest, once the batch is sealed: the envelopes' receipts and the signed checkpoint, in
/// one statement.
pub(crate) async fn write_sealed(
    conn: &mut PgConnection,
    batch: &Batch,
    appended: &Appended,
    sealed: &Sealed,
) -> Result<(), StoreError> {
    let digests: Vec<&str> = appended
        .envelopes
        .iter()
        .map(|(i, _)| batch.envelopes[*i].digest.as_str())
        .collect();
    let receipts: Vec<&str> = sealed.stored.iter().map(String::as_str).collect();
    sqlx::query(WRITE_SEALED)
        .bind(&digests)
        .bind(&receipts)
        .bind(to_i64(appended.size)?)
        .bind(&appended.root[..])
        .bind(sealed.checkpoint.as_str())
        .bind(batch.accepted_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `$1`–`$6` envelopes, `$7` the batch's `accepted_at` (every table's), `$8`–`$10` issuer heads,
/// `$11`–`$24` licences, `$25`–`$29` licence heads, `$30`–`$39` status events, `$40`–`$42`
/// leaves, `$43`–`$45` nodes, `$46` the log's new size.
const WRITE_UNSEALED: &str = "\
WITH envelope_rows AS (
    INSERT INTO envelopes (digest, issuer, sequence, previous, document, receipt, first_leaf,
                           accepted_at)
    SELECT e.digest, e.issuer, e.sequence, e.previous, e.document, '', e.first_leaf,
           $7::timestamptz
    FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[])
        AS e(digest, issuer, sequence, previous, document, first_leaf)
), head_rows AS (
    INSERT INTO issuer_heads (issuer, sequence, digest)
    SELECT * FROM UNNEST($8::text[], $9::bigint[], $10::text[])
    ON CONFLICT (issuer) DO UPDATE SET sequence = excluded.sequence, digest = excluded.digest
), licence_rows AS (
    INSERT INTO licences (id, base, version, issuer, type_code, schema_version, holder,
                          jurisdiction, valid_from, valid_until, digest, document, envelope,
                          leaf_index, accepted_at)
    SELECT *, $7::timestamptz FROM UNNEST($11::text[], $12::text[], $13::bigint[], $14::text[],
                             $15::text[], $16::bigint[], $17::text[], $18::text[],
                             $19::timestamptz[], $20::timestamptz[], $21::text[], $22::bytea[],
                             $23::text[], $24::bigint[])
), chain_rows AS (
    INSERT INTO licence_heads (base, id, digest, status, last_event)
    SELECT * FROM UNNEST($25::text[], $26::text[], $27::text[], $28::text[], $29::text[])
    ON CONFLICT (base) DO UPDATE SET id = excluded.id, digest = excluded.digest,
                                     status = excluded.status, last_event = excluded.last_event
), event_rows AS (
    INSERT INTO status_events (base, licence, action, reason, effective_from, digest, previous,
                               document, envelope, leaf_index, accepted_at)
    SELECT *, $7::timestamptz FROM UNNEST($30::text[], $31::text[], $32::text[], $33::text[],
                             $34::timestamptz[], $35::text[], $36::text[], $37::bytea[],
                             $38::text[], $39::bigint[])
), leaf_rows AS (
    INSERT INTO log_leaves (idx, leaf_hash, data)
    SELECT * FROM UNNEST($40::bigint[], $41::bytea[], $42::text[])
), node_rows AS (
    INSERT INTO log_nodes (level, idx, hash)
    SELECT * FROM UNNEST($43::bigint[], $44::bigint[], $45::bytea[])
)
UPDATE log_state SET size = $46 WHERE id = 1";

/// `$1`, `$2` the accepted envelopes' digests and stored receipts, `$3`–`$6` the checkpoint's
/// size, root, note and time.
const WRITE_SEALED: &str = "\
WITH receipt_rows AS (
    UPDATE envelopes SET receipt = r.receipt
    FROM UNNEST($1::text[], $2::text[]) AS r(digest, receipt)
    WHERE envelopes.digest = r.digest
)
INSERT INTO checkpoints (size, root, note, created_at) VALUES ($3, $4, $5, $6)";

mod columns;
