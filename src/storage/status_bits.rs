//! The set bits of the status lists (`status_bits`), kept by the append: which bits a licence's
//! versions set given its head ([`set_bits`]), and the rewrite of those of every licence a
//! batch changed (`write_status_bits`, defined for each backend by `status_bits_store!`). A
//! list's read is then one range of this table (`status_lists::bits_query`).

use std::collections::HashMap;

use super::StoreError;
use crate::domain::status_list::StatusPurpose;

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

/// Defines `write_status_bits`, which the append calls after `write_status_entries`, for a
/// backend (`$db`, `$conn`), with `rows_in` (`status_list_store!`) in scope.
macro_rules! status_bits_store {
    ($db:ty, $conn:ty) => {
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
            // PostgreSQL without statistics sorted every slot of the registry for it. (The
            // append's transaction plans by key: `begin_locked`.)
            let bases: Vec<&str> = bases.iter().map(String::as_str).collect();
            let rows: Vec<(String, String, i64)> = rows_in(
                &mut *conn,
                "SELECT base, id, leaf_index FROM licences WHERE base",
                &bases,
            )
            .await?;
            let versions: std::collections::HashMap<i64, (String, String)> = rows
                .into_iter()
                .map(|(base, id, leaf)| (leaf, (base, id)))
                .collect();
            let rows: Vec<(String, String, String)> = rows_in(
                &mut *conn,
                "SELECT base, id, status FROM licence_heads WHERE base",
                &bases,
            )
            .await?;
            let heads: std::collections::HashMap<String, (String, String)> = rows
                .into_iter()
                .map(|(base, id, status)| (base, (id, status)))
                .collect();
            let leaves: Vec<i64> = versions.keys().copied().collect();
            let slots: Vec<(i32, i32, i64)> = rows_in(
                &mut *conn,
                "SELECT list_id, idx, leaf_index FROM status_slots WHERE leaf_index",
                &leaves,
            )
            .await?;
            let mut lists: Vec<i32> = slots.iter().map(|s| s.0).collect();
            lists.sort_unstable();
            lists.dedup();
            let rows: Vec<(i32, String)> = rows_in(
                &mut *conn,
                "SELECT id, purpose FROM status_lists WHERE id",
                &lists,
            )
            .await?;
            let purposes = rows
                .into_iter()
                .map(|(id, purpose)| {
                    $crate::domain::status_list::StatusPurpose::parse(&purpose)
                        .map(|purpose| (id, purpose))
                        .ok_or_else(|| StoreError::corrupt(format!("purpose {purpose:?}")))
                })
                .collect::<Result<std::collections::HashMap<_, _>, _>>()?;
            let bits =
                $crate::storage::status_bits::set_bits(&versions, &heads, &slots, &purposes)?;
            // Every bit of these slots is dropped, then those the heads call for now are set.
            for part in slots.chunks($crate::storage::rows::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "DELETE FROM status_bits WHERE (list_id, idx) IN ",
                );
                q.push_tuples(part, |mut b, (id, idx, _)| {
                    b.push_bind(*id).push_bind(*idx);
                });
                q.build().persistent(false).execute(&mut *conn).await?;
            }
            for part in bits.chunks($crate::storage::rows::INSERT_CHUNK) {
                let mut q =
                    sqlx::QueryBuilder::<$db>::new("INSERT INTO status_bits (list_id, idx, kind) ");
                q.push_values(part, |mut b, (id, idx, kind)| {
                    b.push_bind(*id).push_bind(*idx).push_bind(*kind);
                });
                q.build().persistent(false).execute(&mut *conn).await?;
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
