//! PostgreSQL's list reads for the intake: the names travel as one array parameter, so the
//! statement's text does not depend on how many there are and it stays prepared (one round
//! trip, where an `IN (…)` list of varying length costs a parse and a describe first).

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, Row};

use crate::domain::identifiers::LicenceId;
use crate::log::batch::LicenceChain;
use crate::storage::StoreError;

/// The current state of the licences with these bases.
pub(crate) async fn intake_chains(
    conn: &mut PgConnection,
    bases: &[String],
) -> Result<HashMap<String, LicenceChain>, StoreError> {
    if bases.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(
        "SELECT h.base, h.id, h.digest, h.status, h.last_event, l.holder, l.jurisdiction \
         FROM licence_heads h JOIN licences l ON l.id = h.id WHERE h.base = ANY($1)",
    )
    .bind(bases)
    .fetch_all(&mut *conn)
    .await?;
    let mut chains = HashMap::with_capacity(rows.len());
    for row in &rows {
        let chain = crate::storage::postgres::decode_chain(row)?;
        chains.insert(chain.base.clone(), chain);
    }
    Ok(chains)
}

/// Which of these licence versions exist.
pub(crate) async fn intake_existing(
    conn: &mut PgConnection,
    ids: &[&LicenceId],
) -> Result<HashSet<LicenceId>, StoreError> {
    // Only licences that already have a chain are asked about: none, for a first version.
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let names: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
    let rows = sqlx::query("SELECT id FROM licences WHERE id = ANY($1)")
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            id.parse().map_err(StoreError::corrupt)
        })
        .collect()
}
