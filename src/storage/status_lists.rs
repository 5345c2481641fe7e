//! Status list slots: which slots the licences took ([`StatusListStore`]), the taken check the
//! intake makes, and the slots the append writes, shared by both backends through the
//! `status_list_store!` macro. The set bits the append keeps are in `status_bits.rs`.

use std::collections::HashMap;

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

/// The SQL of the set bits of a list of `purpose` (`$1` issuer, `$2` list), as the append
/// keeps them in `status_bits` (`write_status_bits`, in `status_bits.rs`): the slots of the
/// versions of revoked (suspended) licences; for supersession, the revocation slots of versions
/// that are no longer their licence's head.
pub(crate) fn bits_query(purpose: StatusPurpose) -> &'static str {
    /// The set bits of `kind` of `issuer`'s list of `$purpose`, one range of the primary key.
    macro_rules! bits {
        ($purpose:literal, $kind:literal) => {
            concat!(
                "SELECT b.idx FROM status_bits b \
                 WHERE b.list_id = (SELECT s.id FROM status_lists s \
                   WHERE s.issuer = $1 AND s.purpose = '",
                $purpose,
                "' AND s.list = $2) AND b.kind = ",
                $kind,
                " ORDER BY b.idx"
            )
        };
    }
    match purpose {
        StatusPurpose::Revocation => bits!("revocation", "0"),
        StatusPurpose::Suspension => bits!("suspension", "0"),
        // A revocation slot of a version that is no longer its licence's head.
        StatusPurpose::Supersession => bits!("revocation", "1"),
    }
}

/// The numbers `status_lists` gives each (issuer, purpose, list) of some issuers.
pub(crate) type ListIds = HashMap<(String, StatusPurpose, u32), i32>;

/// A slot's index as its column's type (below [`crate::domain::status_list::LIST_SIZE`]).
pub(crate) fn slot_index(slot: &crate::domain::status_list::StatusSlot) -> Result<i32, StoreError> {
    i32::try_from(slot.index).map_err(StoreError::corrupt)
}

/// Implements [`StatusListStore`] for a store with a `pool` field, and defines the helpers the
/// intake reads (`taken_slots`) and the append (`write_status_entries`) call, and
/// `write_status_bits` (`status_bits_store!`); `$db` and `$conn` are the backend's database and
/// connection types.
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
            for chunk in named.chunks($crate::storage::rows::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT list_id, idx FROM status_slots WHERE (list_id, idx) IN ",
                );
                let mut keys = Vec::with_capacity(chunk.len());
                for (id, slot) in chunk {
                    keys.push((*id, $crate::storage::status_lists::slot_index(slot)?));
                }
                q.push_tuples(keys, |mut b, (id, index)| {
                    b.push_bind(id).push_bind(index);
                });
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

        /// The rows of `select` (a statement ending in its key column) whose key is one of
        /// `keys`: one `IN (…)` query per thousand keys.
        async fn rows_in<'k, T, K>(
            conn: &mut $conn,
            select: &'static str,
            keys: &'k [K],
        ) -> Result<Vec<T>, StoreError>
        where
            T: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
            K: Copy + sqlx::Encode<'k, $db> + sqlx::Type<$db> + Send + 'k,
        {
            let mut rows = Vec::new();
            for part in keys.chunks($crate::storage::rows::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(select);
                q.push(" IN (");
                let mut list = q.separated(", ");
                for key in part {
                    list.push_bind(*key);
                }
                q.push(")");
                rows.extend(
                    q.build_query_as::<T>()
                        .persistent(false)
                        .fetch_all(&mut *conn)
                        .await?,
                );
            }
            Ok(rows)
        }

        /// The numbers of the status lists of `issuers`, by (issuer, purpose, list).
        async fn issuer_lists(
            conn: &mut $conn,
            issuers: &[&str],
        ) -> Result<$crate::storage::status_lists::ListIds, StoreError> {
            let rows: Vec<(i32, String, String, i64)> = rows_in(
                &mut *conn,
                "SELECT id, issuer, purpose, list FROM status_lists WHERE issuer",
                issuers,
            )
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
            for chunk in rows.chunks($crate::storage::rows::INSERT_CHUNK) {
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

        status_bits_store!($db, $conn);
    };
}
