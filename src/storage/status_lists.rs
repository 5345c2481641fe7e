//! Status list slots: which slots the licences took ([`StatusListStore`]), the taken check the
//! intake makes, and the rows the append writes, shared by both backends through the
//! `status_list_store!` macro.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::identifiers::Uscc;
use crate::domain::status_list::StatusPurpose;

/// Reads for the published status lists.
#[async_trait]
pub trait StatusListStore: Send + Sync + 'static {
    /// The indices of `issuer`'s list `list` for `purpose` whose bit is set: the slots taken by
    /// a version of a licence that is now revoked (revocation) or suspended (suspension), and
    /// the revocation slots of versions a later one replaced (supersession).
    async fn status_list_bits(
        &self,
        issuer: &Uscc,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Vec<u32>, StoreError>;

    /// Every list of every issuer with at least one slot taken (each revocation list with its
    /// supersession twin), sorted: what the trust bundle references.
    async fn status_lists_in_use(&self) -> Result<Vec<(Uscc, StatusPurpose, u32)>, StoreError>;
}

/// The SQL of the set bits of a list of `purpose` (`$1` issuer, `$2` list): the slots of the
/// versions of revoked (suspended) licences; for supersession, the revocation slots of versions
/// that are no longer their licence's head. A slot (`status_slots`) names its list by the
/// list's number in `status_lists` and its version by leaf index.
pub(crate) fn bits_query(purpose: StatusPurpose) -> &'static str {
    /// The slots of `issuer`'s list of `$purpose` whose version meets `$condition`. The list is
    /// walked by key: its slots in order, and for each the version's row by leaf index and its
    /// licence's head by base. The version's facts are a scalar subquery per slot, which
    /// PostgreSQL runs as such (it does not turn it into a join): as a join, the planner took a
    /// hash join over every row of `licences` or `licence_heads` at ten million licences (6–16 s
    /// a list, against 1.4–2.8 s by key).
    macro_rules! bits {
        ($purpose:literal, $condition:literal) => {
            concat!(
                "SELECT e.idx FROM status_slots e \
                 WHERE e.list_id = (SELECT s.id FROM status_lists s \
                   WHERE s.issuer = $1 AND s.purpose = '",
                $purpose,
                "' AND s.list = $2) \
                 AND (SELECT CASE WHEN ",
                $condition,
                " THEN 1 ELSE 0 END FROM licences l JOIN licence_heads h ON h.base = l.base \
                   WHERE l.leaf_index = e.leaf_index) = 1 \
                 ORDER BY e.idx"
            )
        };
    }
    match purpose {
        StatusPurpose::Revocation => bits!("revocation", "h.status = 'revoked'"),
        StatusPurpose::Suspension => bits!("suspension", "h.status = 'suspended'"),
        // A revocation slot of a version that is no longer its licence's head.
        StatusPurpose::Supersession => bits!("revocation", "h.id <> l.id"),
    }
}

/// The numbers `status_lists` gives each (issuer, purpose, list) of some issuers.
pub(crate) type ListIds = std::collections::HashMap<(String, StatusPurpose, u32), i32>;

/// A slot's index as its column's type (below [`crate::domain::status_list::LIST_SIZE`]).
pub(crate) fn slot_index(slot: &crate::domain::status_list::StatusSlot) -> Result<i32, StoreError> {
    i32::try_from(slot.index).map_err(StoreError::corrupt)
}

/// Implements [`StatusListStore`] for a store with a `pool` field, and defines the helpers the
/// intake reads (`taken_slots`) and the append (`write_status_entries`) call; `$db` and `$conn`
/// are the backend's database and connection types.
macro_rules! status_list_store {
    ($store:ty, $db:ty, $conn:ty) => {
        #[async_trait]
        impl $crate::storage::StatusListStore for $store {
            #[tracing::instrument(level = "debug", skip_all)]
            async fn status_list_bits(
                &self,
                issuer: &Uscc,
                purpose: $crate::domain::status_list::StatusPurpose,
                list: u32,
            ) -> Result<Vec<u32>, StoreError> {
                let rows: Vec<(i32,)> =
                    sqlx::query_as($crate::storage::status_lists::bits_query(purpose))
                        .bind(issuer.as_str())
                        .bind(i64::from(list))
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter()
                    .map(|(i,)| u32::try_from(i).map_err(StoreError::corrupt))
                    .collect()
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn status_lists_in_use(
                &self,
            ) -> Result<Vec<(Uscc, $crate::domain::status_list::StatusPurpose, u32)>, StoreError>
            {
                use $crate::domain::status_list::StatusPurpose;
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT issuer, purpose, list FROM status_lists ORDER BY issuer, purpose, list",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut lists = Vec::with_capacity(rows.len() * 3 / 2);
                for (issuer, purpose, list) in rows {
                    let issuer: Uscc = $crate::storage::issuers::stored(&issuer)?;
                    let purpose = StatusPurpose::parse(&purpose)
                        .ok_or_else(|| StoreError::corrupt(format!("purpose {purpose:?}")))?;
                    let list = u32::try_from(list).map_err(StoreError::corrupt)?;
                    // A revocation list's slots are also the supersession list's.
                    if purpose == StatusPurpose::Revocation {
                        lists.push((issuer.clone(), StatusPurpose::Supersession, list));
                    }
                    lists.push((issuer, purpose, list));
                }
                lists.sort();
                Ok(lists)
            }
        }

        /// Which of `slots` of `issuer` are taken already.
        #[tracing::instrument(level = "debug", skip_all)]
        async fn taken_slots(
            conn: &mut $conn,
            issuer: &Uscc,
            slots: &[$crate::domain::status_list::StatusSlot],
        ) -> Result<std::collections::HashSet<$crate::domain::status_list::StatusSlot>, StoreError>
        {
            use $crate::domain::status_list::StatusSlot;
            let lists = issuer_lists(&mut *conn, &[issuer.as_str()]).await?;
            // Only slots of lists that exist can be taken.
            let named: Vec<(i32, &StatusSlot)> = slots
                .iter()
                .filter_map(|slot| {
                    let key = (issuer.as_str().to_owned(), slot.purpose, slot.list);
                    lists.get(&key).map(|&id| (id, slot))
                })
                .collect();
            let mut taken = std::collections::HashSet::new();
            for chunk in named.chunks($crate::storage::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT list_id, idx FROM status_slots WHERE (list_id, idx) IN (",
                );
                let mut list = q.separated(", ");
                for (id, slot) in chunk {
                    list.push("(");
                    list.push_bind_unseparated(*id);
                    list.push_unseparated(", ");
                    list.push_bind_unseparated($crate::storage::status_lists::slot_index(slot)?);
                    list.push_unseparated(")");
                }
                q.push(")");
                let rows: Vec<(i32, i32)> = q
                    .build_query_as()
                    .persistent(false)
                    .fetch_all(&mut *conn)
                    .await?;
                let rows: std::collections::HashSet<(i32, i32)> = rows.into_iter().collect();
                for (id, slot) in chunk {
                    let index = $crate::storage::status_lists::slot_index(slot)?;
                    if rows.contains(&(*id, index)) {
                        taken.insert(**slot);
                    }
                }
            }
            Ok(taken)
        }

        /// The numbers of the status lists of `issuers`, by (issuer, purpose, list).
        async fn issuer_lists(
            conn: &mut $conn,
            issuers: &[&str],
        ) -> Result<$crate::storage::status_lists::ListIds, StoreError> {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT id, issuer, purpose, list FROM status_lists WHERE issuer IN (",
            );
            let mut list = q.separated(", ");
            for issuer in issuers {
                list.push_bind(*issuer);
            }
            q.push(")");
            let rows: Vec<(i32, String, String, i64)> = q
                .build_query_as()
                .persistent(false)
                .fetch_all(&mut *conn)
                .await?;
            rows.into_iter()
                .map(|(id, issuer, purpose, list)| {
                    let purpose = $crate::domain::status_list::StatusPurpose::parse(&purpose)
                        .ok_or_else(|| StoreError::corrupt(format!("purpose {purpose:?}")))?;
                    let list = u32::try_from(list).map_err(StoreError::corrupt)?;
                    Ok(((issuer, purpose, list), id))
                })
                .collect()
        }

        /// The slots the batch's accepted licences take (inside the append's transaction: the
        /// primary key refuses a slot taken twice, whatever the intake saw).
        #[tracing::instrument(level = "debug", skip_all)]
        async fn write_status_entries(
            conn: &mut $conn,
            batch: &Batch,
            appended: &$crate::log::batch::Appended,
        ) -> Result<(), StoreError> {
            let mut rows = Vec::new();
            for (i, leaves) in &appended.envelopes {
                for (item, leaf) in batch.envelopes[*i].items.iter().zip(leaves) {
                    if let $crate::log::batch::PendingItem::Licence(l) = item {
                        let leaf = $crate::storage::log::to_i64(leaf.index)?;
                        rows.extend(l.status.iter().map(|slot| (l, slot, leaf)));
                    }
                }
            }
            if rows.is_empty() {
                return Ok(());
            }
            let mut issuers: Vec<&str> = rows
                .iter()
                .map(|(l, _, _)| l.id.issuer().as_str())
                .collect();
            issuers.sort_unstable();
            issuers.dedup();
            let mut lists = issuer_lists(&mut *conn, &issuers).await?;
            // A list's row is created before the first slot naming it (once per 131,072 slots).
            for (l, slot, _) in &rows {
                let key = (l.id.issuer().as_str().to_owned(), slot.purpose, slot.list);
                if !lists.contains_key(&key) {
                    let (id,): (i32,) = sqlx::query_as(
                        "INSERT INTO status_lists (issuer, purpose, list) VALUES ($1, $2, $3) \
                         RETURNING id",
                    )
                    .bind(&key.0)
                    .bind(key.1.as_str())
                    .bind(i64::from(key.2))
                    .fetch_one(&mut *conn)
                    .await?;
                    lists.insert(key, id);
                }
            }
            for chunk in rows.chunks($crate::storage::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO status_slots (list_id, idx, leaf_index) ",
                );
                let mut values = Vec::with_capacity(chunk.len());
                for (l, slot, leaf) in chunk {
                    let key = (l.id.issuer().as_str().to_owned(), slot.purpose, slot.list);
                    let index = $crate::storage::status_lists::slot_index(slot)?;
                    values.push((lists[&key], index, *leaf));
                }
                q.push_values(values, |mut b, (id, index, leaf)| {
                    b.push_bind(id).push_bind(index).push_bind(leaf);
                });
                q.build().persistent(false).execute(&mut *conn).await?;
            }
            Ok(())
        }
    };
}
