//! The backend-typed reads of [`log_store!`] both backends share (`log_helpers!`): the tree's
//! nodes, one query for many, and rows decoded. Node reads of up to 64 nodes (the frontier, one
//! proof) stay prepared; longer ones, whose texts vary with their counts, run unprepared.

/// Backend-typed helpers of [`log_store!`] both backends share: `$conn` is the backend's
/// connection type.
macro_rules! log_helpers {
    ($store:ty, $db:ty, $conn:ty, $row:ty) => {
        /// The nodes asked for, in one query (one per thousand).
        async fn fetch_nodes(
            conn: &mut $conn,
            ids: &[NodeId],
        ) -> Result<HashMap<NodeId, Hash>, StoreError> {
            let mut nodes = HashMap::with_capacity(ids.len());
            for chunk in ids.chunks(super::rows::INSERT_CHUNK) {
                // Level 0 is the leaf hash, kept once, in `log_leaves` (a proof or the frontier
                // needs at most one or two of them); the rest are in `log_nodes`.
                let (leaves, inner): (Vec<&NodeId>, Vec<&NodeId>) =
                    chunk.iter().partition(|id| id.level == 0);
                let mut q = sqlx::QueryBuilder::<$db>::new("");
                if !leaves.is_empty() {
                    q.push(
                        "SELECT CAST(0 AS BIGINT) AS level, idx, leaf_hash AS hash \
                         FROM log_leaves WHERE idx IN (",
                    );
                    let mut list = q.separated(", ");
                    for id in &leaves {
                        list.push_bind(i64::try_from(id.index).unwrap_or(i64::MAX));
                    }
                    q.push(")");
                }
                if !leaves.is_empty() && !inner.is_empty() {
                    q.push(" UNION ALL ");
                }
                if !inner.is_empty() {
                    q.push("SELECT level, idx, hash FROM log_nodes WHERE (level, idx) IN ");
                    q.push_tuples(&inner, |mut b, id| {
                        b.push_bind(i64::from(id.level));
                        b.push_bind(i64::try_from(id.index).unwrap_or(i64::MAX));
                    });
                }
                // The sequencer's frontier and one proof need at most 64 nodes: those few
                // shapes stay prepared; larger reads (many proofs at once) would each add a
                // statement to the connection's cache.
                let keep = chunk.len() <= 64;
                for row in q.build().persistent(keep).fetch_all(&mut *conn).await? {
                    let level: i64 = row.try_get("level")?;
                    let id = NodeId {
                        level: u8::try_from(level).map_err(StoreError::corrupt)?,
                        index: super::log::to_u64(row.try_get("idx")?)?,
                    };
                    nodes.insert(id, super::log::hash_from(row.try_get("hash")?)?);
                }
            }
            Ok(nodes)
        }

        pub(super) fn decode_chain(row: &$row) -> Result<LicenceChain, StoreError> {
            let status: String = row.try_get("status")?;
            Ok(LicenceChain {
                base: row.try_get("base")?,
                head: row
                    .try_get::<String, _>("id")?
                    .parse()
                    .map_err(StoreError::corrupt)?,
                head_digest: row.try_get("digest")?,
                state: LicenceState::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("licence status {status:?}")))?,
                last_event: row.try_get("last_event")?,
                holder: super::issuers::stored(&row.try_get::<String, _>("holder")?)?,
                jurisdiction: super::issuers::stored(&row.try_get::<String, _>("jurisdiction")?)?,
            })
        }

        fn decode_licence(row: &$row) -> Result<StoredLicence, StoreError> {
            let document = $crate::log::packed::unpack(row.try_get("document")?)
                .map_err(StoreError::corrupt)?;
            Ok(StoredLicence {
                id: row
                    .try_get::<String, _>("id")?
                    .parse()
                    .map_err(StoreError::corrupt)?,
                digest: row.try_get("digest")?,
                document: serde_json::from_str(&document).map_err(StoreError::corrupt)?,
                envelope: row.try_get("envelope")?,
                leaf_index: super::log::to_u64(row.try_get("leaf_index")?)?,
                accepted_at: row.try_get("accepted_at")?,
            })
        }

        fn decode_event(row: &$row) -> Result<StoredEvent, StoreError> {
            let action: String = row.try_get("action")?;
            Ok(StoredEvent {
                licence: row
                    .try_get::<String, _>("licence")?
                    .parse()
                    .map_err(StoreError::corrupt)?,
                action: StatusAction::parse(&action)
                    .ok_or_else(|| StoreError::corrupt(format!("status action {action:?}")))?,
                reason: row.try_get("reason")?,
                effective_from: row.try_get("effective_from")?,
                digest: row.try_get("digest")?,
                previous: row.try_get("previous")?,
                envelope: row.try_get("envelope")?,
                leaf_index: super::log::to_u64(row.try_get("leaf_index")?)?,
                accepted_at: row.try_get("accepted_at")?,
            })
        }
    };
}
