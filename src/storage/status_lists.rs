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
/// that are no longer their licence's head. A slot names its version by leaf index.
pub(crate) fn bits_query(purpose: StatusPurpose) -> &'static str {
    match purpose {
        StatusPurpose::Revocation => {
            "SELECT e.idx FROM status_entries e \
             JOIN licences l ON l.leaf_index = e.leaf_index \
             JOIN licence_heads h ON h.base = l.base \
             WHERE e.issuer = $1 AND e.purpose = 'revocation' AND e.list = $2 \
             AND h.status = 'revoked' ORDER BY e.idx"
        }
        StatusPurpose::Suspension => {
            "SELECT e.idx FROM status_entries e \
             JOIN licences l ON l.leaf_index = e.leaf_index \
             JOIN licence_heads h ON h.base = l.base \
             WHERE e.issuer = $1 AND e.purpose = 'suspension' AND e.list = $2 \
             AND h.status = 'suspended' ORDER BY e.idx"
        }
        StatusPurpose::Supersession => {
            "SELECT e.idx FROM status_entries e \
             JOIN licences l ON l.leaf_index = e.leaf_index \
             JOIN licence_heads h ON h.base = l.base \
             WHERE e.issuer = $1 AND e.purpose = 'revocation' AND e.list = $2 \
             AND h.id <> l.id ORDER BY e.idx"
        }
    }
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
                let rows: Vec<(i64,)> =
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
                    "SELECT DISTINCT issuer, purpose, list FROM status_entries \
                     ORDER BY issuer, purpose, list",
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
            use $crate::domain::status_list::{StatusPurpose, StatusSlot};
            let mut taken = std::collections::HashSet::new();
            for chunk in slots.chunks($crate::storage::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT purpose, list, idx FROM status_entries WHERE issuer = ",
                );
                q.push_bind(issuer.as_str());
                q.push(" AND (purpose, list, idx) IN (");
                let mut list = q.separated(", ");
                for slot in chunk {
                    list.push("(");
                    list.push_bind_unseparated(slot.purpose.as_str());
                    list.push_unseparated(", ");
                    list.push_bind_unseparated(i64::from(slot.list));
                    list.push_unseparated(", ");
                    list.push_bind_unseparated(i64::from(slot.index));
                    list.push_unseparated(")");
                }
                q.push(")");
                for row in q.build().persistent(false).fetch_all(&mut *conn).await? {
                    let purpose: String = row.try_get("purpose")?;
                    let number = |name: &str| -> Result<u32, StoreError> {
                        u32::try_from(row.try_get::<i64, _>(name)?).map_err(StoreError::corrupt)
                    };
                    taken.insert(StatusSlot {
                        purpose: StatusPurpose::parse(&purpose)
                            .ok_or_else(|| StoreError::corrupt(format!("purpose {purpose:?}")))?,
                        list: number("list")?,
                        index: number("idx")?,
                    });
                }
            }
            Ok(taken)
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
            for chunk in rows.chunks($crate::storage::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO status_entries (issuer, purpose, list, idx, leaf_index) ",
                );
                q.push_values(chunk, |mut b, (l, slot, leaf)| {
                    b.push_bind(l.id.issuer().as_str())
                        .push_bind(slot.purpose.as_str())
                        .push_bind(i64::from(slot.list))
                        .push_bind(i64::from(slot.index))
                        .push_bind(*leaf);
                });
                q.build().persistent(false).execute(&mut *conn).await?;
            }
            Ok(())
        }
    };
}
