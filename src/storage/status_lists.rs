//! Status list slots: which slots the licences took ([`StatusListStore`]), the taken check the
//! intake makes, and the rows the append writes, shared by both backends through the
//! `status_list_store!` macro.

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
/// keeps them in `status_bits` (`write_status_bits`, in `status_list_store!`): the slots of the
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

/// The set bits (`status_bits` rows: list number, index, kind) of the slots of some licences'
/// versions, given each version's licence base and identifier by leaf index, each licence's
/// head (identifier, status) by base, each slot (list number, index, leaf index) and each
/// list's purpose. Kind 0: the licence is revoked (a revocation slot) or suspended (a
/// suspension slot); kind 1: a revocation slot of a version that is not its licence's head.
pub(crate) fn set_bits(
    versions: &HashMap<i64, (String, String)>,
    heads: &HashMap<String, (String, String)>,
    slots: &[(i32, i32, i64)],
    purposes: &HashMap<i32, StatusPurpose>,
) -> Result<Vec<(i32, i32, i32)>, StoreError> {
    let mut bits = Vec::new();
    for &(list, idx, leaf) in slots {
        let (base, id) = versions
            .get(&leaf)
            .ok_or_else(|| StoreError::corrupt(format!("slot of leaf {leaf} without a version")))?;
        let (head, status) = heads
            .get(base)
            .ok_or_else(|| StoreError::corrupt(format!("licence {base} without a head")))?;
        let purpose = purposes
            .get(&list)
            .ok_or_else(|| StoreError::corrupt(format!("slot of unknown list {list}")))?;
        let state = match purpose {
            StatusPurpose::Revocation => "revoked",
            StatusPurpose::Suspension => "suspended",
            StatusPurpose::Supersession => {
                return Err(StoreError::corrupt("a supersession list row"))
            }
        };
        if status == state {
            bits.push((list, idx, 0));
        }
        if *purpose == StatusPurpose::Revocation && head != id {
            bits.push((list, idx, 1));
        }
    }
    Ok(bits)
}

/// What makes a backend's planner read by key for the rest of a transaction, and undoes it.
/// PostgreSQL without statistics (a bulk-loaded table autovacuum has not analysed yet) took a
/// thousand bases `IN (…)` for most of `licences` and scanned all of it: 3.4 s a read at ten
/// million licences, where the index takes milliseconds. SQLite always reads these by key.
pub(crate) trait KeyedReads {
    const ON: Option<&'static str>;
    const OFF: Option<&'static str>;
}

impl KeyedReads for sqlx::Postgres {
    const ON: Option<&'static str> = Some("SET LOCAL enable_seqscan = off");
    const OFF: Option<&'static str> = Some("SET LOCAL enable_seqscan TO DEFAULT");
}

impl KeyedReads for sqlx::Sqlite {
    const ON: Option<&'static str> = None;
    const OFF: Option<&'static str> = None;
}

/// The numbers `status_lists` gives each (issuer, purpose, list) of some issuers.
pub(crate) type ListIds = HashMap<(String, StatusPurpose, u32), i32>;

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

        /// Rewrites the set bits (`status_bits`) of every licence the batch gave a status
        /// change or a version after the first: the only ways its head's status or version
        /// moves. A first version without a status change is active and the head: no bit.
        #[tracing::instrument(level = "debug", skip_all)]
        async fn write_status_bits(
            conn: &mut $conn,
            batch: &Batch,
            appended: &$crate::log::batch::Appended,
        ) -> Result<(), StoreError> {
            use $crate::log::batch::PendingItem;
            let mut bases: Vec<String> = appended
                .envelopes
                .iter()
                .flat_map(|(i, _)| &batch.envelopes[*i].items)
                .filter_map(|item| match item {
                    PendingItem::Licence(l) if l.id.version() > 1 => Some(l.id.base()),
                    PendingItem::Licence(_) => None,
                    PendingItem::Status(s) => Some(s.licence.base()),
                })
                .collect();
            bases.sort_unstable();
            bases.dedup();
            if bases.is_empty() {
                return Ok(());
            }
            // Each read goes by key (a base, a leaf index, a list number): as one join,
            // PostgreSQL without statistics sorted every slot of the registry for it, and it
            // scanned all of `licences` for a list of bases (`KeyedReads`).
            use $crate::storage::status_lists::KeyedReads as _;
            if let Some(on) = <$db>::ON {
                sqlx::query(on).execute(&mut *conn).await?;
            }
            let chunk = $crate::storage::log::INSERT_CHUNK;
            let mut versions = std::collections::HashMap::new();
            let mut heads = std::collections::HashMap::new();
            for part in bases.chunks(chunk) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT base, id, leaf_index FROM licences WHERE base IN (",
                );
                let mut list = q.separated(", ");
                for base in part {
                    list.push_bind(base.as_str());
                }
                q.push(")");
                let rows: Vec<(String, String, i64)> = q
                    .build_query_as()
                    .persistent(false)
                    .fetch_all(&mut *conn)
                    .await?;
                versions.extend(rows.into_iter().map(|(base, id, leaf)| (leaf, (base, id))));
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT base, id, status FROM licence_heads WHERE base IN (",
                );
                let mut list = q.separated(", ");
                for base in part {
                    list.push_bind(base.as_str());
                }
                q.push(")");
                let rows: Vec<(String, String, String)> = q
                    .build_query_as()
                    .persistent(false)
                    .fetch_all(&mut *conn)
                    .await?;
                heads.extend(
                    rows.into_iter()
                        .map(|(base, id, status)| (base, (id, status))),
                );
            }
            let leaves: Vec<i64> = versions.keys().copied().collect();
            let mut slots: Vec<(i32, i32, i64)> = Vec::new();
            for part in leaves.chunks(chunk) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT list_id, idx, leaf_index FROM status_slots WHERE leaf_index IN (",
                );
                let mut list = q.separated(", ");
                for leaf in part {
                    list.push_bind(*leaf);
                }
                q.push(")");
                slots.extend(
                    q.build_query_as::<(i32, i32, i64)>()
                        .persistent(false)
                        .fetch_all(&mut *conn)
                        .await?,
                );
            }
            let mut lists: Vec<i32> = slots.iter().map(|s| s.0).collect();
            lists.sort_unstable();
            lists.dedup();
            let mut purposes = std::collections::HashMap::new();
            for part in lists.chunks(chunk) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT id, purpose FROM status_lists WHERE id IN (",
                );
                let mut list = q.separated(", ");
                for id in part {
                    list.push_bind(*id);
                }
                q.push(")");
                let rows: Vec<(i32, String)> = q
                    .build_query_as()
                    .persistent(false)
                    .fetch_all(&mut *conn)
                    .await?;
                for (id, purpose) in rows {
                    let purpose = $crate::domain::status_list::StatusPurpose::parse(&purpose)
                        .ok_or_else(|| StoreError::corrupt(format!("purpose {purpose:?}")))?;
                    purposes.insert(id, purpose);
                }
            }
            let bits =
                $crate::storage::status_lists::set_bits(&versions, &heads, &slots, &purposes)?;
            // Every bit of these slots is dropped, then those the heads call for now are set.
            for part in slots.chunks(chunk) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "DELETE FROM status_bits WHERE (list_id, idx) IN (",
                );
                let mut list = q.separated(", ");
                for (id, idx, _) in part {
                    list.push("(");
                    list.push_bind_unseparated(*id);
                    list.push_unseparated(", ");
                    list.push_bind_unseparated(*idx);
                    list.push_unseparated(")");
                }
                q.push(")");
                q.build().persistent(false).execute(&mut *conn).await?;
            }
            for part in bits.chunks(chunk) {
                let mut q =
                    sqlx::QueryBuilder::<$db>::new("INSERT INTO status_bits (list_id, idx, kind) ");
                q.push_values(part, |mut b, (id, idx, kind)| {
                    b.push_bind(*id).push_bind(*idx).push_bind(*kind);
                });
                q.build().persistent(false).execute(&mut *conn).await?;
            }
            if let Some(off) = <$db>::OFF {
                sqlx::query(off).execute(&mut *conn).await?;
            }
            Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_head() {
        let own = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        // Licence B: version 1 (leaf 10) replaced by version 2 (leaf 20).
        let versions = HashMap::from([(10, own("B", "B.1")), (20, own("B", "B.2"))]);
        let purposes = HashMap::from([
            (1, StatusPurpose::Revocation),
            (2, StatusPurpose::Suspension),
        ]);
        // Revocation slots 5 (version 1) and 6 (version 2); suspension slot 5 (version 1).
        let slots = [(1, 5, 10), (1, 6, 20), (2, 5, 10)];
        let bits = |status: &str| {
            let heads = HashMap::from([("B".to_owned(), own("B.2", status))]);
            set_bits(&versions, &heads, &slots, &purposes).expect("consistent rows")
        };
        assert_eq!(bits("revoked"), vec![(1, 5, 0), (1, 5, 1), (1, 6, 0)]);
        assert_eq!(bits("suspended"), vec![(1, 5, 1), (2, 5, 0)]);
        assert_eq!(bits("active"), vec![(1, 5, 1)]);

        let heads = HashMap::from([("B".to_owned(), own("B.2", "active"))]);
        let orphan = [(1, 7, 30)];
        assert!(set_bits(&versions, &heads, &orphan, &purposes).is_err());
        assert!(set_bits(&versions, &HashMap::new(), &slots, &purposes).is_err());
    }
}
