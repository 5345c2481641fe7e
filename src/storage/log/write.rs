//! The SQLite side of [`log_store!`]: reading heads and receipts under the lock and writing
//! envelopes, items and the tree with multi-row inserts (`multirow_writes!`; PostgreSQL's are
//! in `pg.rs`, the node reads both share in `read.rs`).
//!
//! A multi-row statement's text depends on its row count. The batch's inserts go in chunks of
//! a few fixed sizes ([`cached_chunks`](crate::storage::rows::cached_chunks): at most seven texts a
//! table), each prepared once on the writer's connection: parsing them again for every batch
//! took an eighth of SQLite's time on the write path. Reads of a batch's own rows, whose counts
//! vary freely, run unprepared (`persistent(false)`).

/// The SQLite side of [`log_store!`]: reads and writes of a batch as multi-row statements (one
/// per table), which on an in-process database cost no round trips. `$db` and `$conn` are the
/// backend's database and connection types.
macro_rules! multirow_writes {
    ($db:ty, $conn:ty) => {
        /// The log size, the stored heads of the batch's issuers and the receipts of its
        /// envelopes accepted before (repeats), read under the lock.
        async fn batch_reads(
            conn: &mut $conn,
            batch: &Batch,
        ) -> Result<(u64, HashMap<String, ChainHead>, HashMap<String, String>), StoreError> {
            let size: i64 = sqlx::query_scalar("SELECT size FROM log_state WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?;
            let heads = batch_heads(conn, batch).await?;
            Ok((super::log::to_u64(size)?, heads, batch_receipts(conn, batch).await?))
        }

        /// What an accepted batch stores before it is sealed, with multi-row inserts: its
        /// envelopes (their receipts still empty) and the issuers' heads, its items, leaves and
        /// nodes, and the log's new size.
        async fn write_unsealed(
            conn: &mut $conn,
            batch: &Batch,
            appended: &Appended,
            nodes: &[(NodeId, Hash)],
        ) -> Result<(), StoreError> {
            write_envelopes(conn, batch, appended).await?;
            write_items(conn, batch, appended).await?;
            write_log(conn, batch, appended, nodes).await?;
            sqlx::query("UPDATE log_state SET size = $1 WHERE id = 1")
                .bind(super::log::to_i64(appended.size)?)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// The rest, once the batch is sealed: the envelopes' receipts and the signed
        /// checkpoint (the nodes were written before).
        async fn write_sealed(
            conn: &mut $conn,
            batch: &Batch,
            appended: &Appended,
            sealed: &Sealed,
        ) -> Result<(), StoreError> {
            let receipts: Vec<(&str, &str)> = appended
                .envelopes
                .iter()
                .zip(&sealed.stored)
                .map(|((i, _), receipt)| (batch.envelopes[*i].digest.as_str(), receipt.as_str()))
                .collect();
            for chunk in super::rows::cached_chunks(&receipts) {
                let mut q = sqlx::QueryBuilder::<$db>::new("UPDATE envelopes SET receipt = r.column2 FROM (");
                q.push_values(chunk, |mut b, (digest, receipt)| {
                    b.push_bind(*digest).push_bind(*receipt);
                });
                q.push(") AS r WHERE envelopes.digest = r.column1");
                q.build().execute(&mut *conn).await?;
            }
            sqlx::query("INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)")
                .bind(super::log::to_i64(appended.size)?)
                .bind(&appended.root[..])
                .bind(sealed.checkpoint.as_str())
                .bind(batch.accepted_at)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// The stored heads of the batch's issuers, read under the lock.
        async fn batch_heads(
            conn: &mut $conn,
            batch: &Batch,
        ) -> Result<HashMap<String, ChainHead>, StoreError> {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT issuer, sequence, digest FROM issuer_heads WHERE issuer IN (",
            );
            let mut list = q.separated(", ");
            for env in &batch.envelopes {
                list.push_bind(env.issuer.as_str());
            }
            q.push(")");
            let mut heads = HashMap::new();
            for row in q.build().persistent(false).fetch_all(&mut *conn).await? {
                let head = ChainHead {
                    sequence: super::log::to_u64(row.try_get("sequence")?)?,
                    digest: row.try_get("digest")?,
                };
                heads.insert(row.try_get::<String, _>("issuer")?, head);
            }
            Ok(heads)
        }

        /// Receipts of the batch's envelopes that were accepted before (repeats).
        async fn batch_receipts(
            conn: &mut $conn,
            batch: &Batch,
        ) -> Result<HashMap<String, String>, StoreError> {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT digest, receipt FROM envelopes WHERE digest IN (",
            );
            let mut list = q.separated(", ");
            for env in &batch.envelopes {
                list.push_bind(env.digest.as_str());
            }
            q.push(")");
            let mut found = HashMap::new();
            for row in q.build().persistent(false).fetch_all(&mut *conn).await? {
                found.insert(row.try_get("digest")?, row.try_get("receipt")?);
            }
            Ok(found)
        }

        /// Envelope rows with their receipts, and the issuers' new heads.
        async fn write_envelopes(
            conn: &mut $conn,
            batch: &Batch,
            appended: &Appended,
        ) -> Result<(), StoreError> {
            use super::log::to_i64;
            let mut heads: HashMap<&str, (i64, &str)> = HashMap::new();
            for chunk in super::rows::cached_chunks(&appended.envelopes) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO envelopes (digest, issuer, sequence, previous, document, receipt, \
                     accepted_at, first_leaf) ",
                );
                let mut rows = Vec::with_capacity(chunk.len());
                for (i, leaves) in chunk {
                    let env = &batch.envelopes[*i];
                    let first = leaves.first().map_or(appended.size, |l| l.index);
                    rows.push((env, to_i64(env.sequence)?, to_i64(first)?));
                    heads.insert(env.issuer.as_str(), (to_i64(env.sequence)?, &env.digest));
                }
                // The receipt is set once the batch is sealed (`write_sealed`).
                q.push_values(rows, |mut b, (env, sequence, first)| {
                    b.push_bind(env.digest.as_str())
                        .push_bind(env.issuer.as_str())
                        .push_bind(sequence)
                        .push_bind(env.previous.as_deref())
                        .push_bind(env.document.as_str())
                        .push_bind("")
                        .push_bind(batch.accepted_at)
                        .push_bind(first);
                });
                q.build().execute(&mut *conn).await?;
            }
            let heads: Vec<_> = heads.into_iter().collect();
            for chunk in super::rows::cached_chunks(&heads) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO issuer_heads (issuer, sequence, digest) ",
                );
                q.push_values(chunk, |mut b, (issuer, (sequence, digest))| {
                    b.push_bind(*issuer).push_bind(*sequence).push_bind(*digest);
                });
                q.push(
                    " ON CONFLICT (issuer) DO UPDATE SET sequence = excluded.sequence, \
                     digest = excluded.digest",
                );
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// Licences, status events, and the licences' new heads.
        async fn write_items(
            conn: &mut $conn,
            batch: &Batch,
            appended: &Appended,
        ) -> Result<(), StoreError> {
            use super::log::to_i64;
            let mut licences = Vec::new();
            let mut events = Vec::new();
            let mut chains: HashMap<&str, &LicenceChain> = HashMap::new();
            for (i, leaves) in &appended.envelopes {
                let env = &batch.envelopes[*i];
                for (item, leaf) in env.items.iter().zip(leaves) {
                    match item {
                        PendingItem::Licence(l) => licences.push((env, l, to_i64(leaf.index)?)),
                        PendingItem::Status(s) => events.push((env, s, to_i64(leaf.index)?)),
                    }
                }
                for chain in &env.chains {
                    chains.insert(chain.base.as_str(), chain);
                }
            }
            for chunk in super::rows::cached_chunks(&licences) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO licences (id, base, version, issuer, type_code, schema_version, \
                     holder, jurisdiction, valid_from, valid_until, digest, document, envelope, \
                     leaf_index, accepted_at) ",
                );
                q.push_values(chunk, |mut b, (env, l, leaf)| {
                    b.push_bind(l.id.as_str())
                        .push_bind(l.id.base())
                        .push_bind(i64::from(l.id.version()))
                        .push_bind(l.id.issuer().as_str())
                        .push_bind(l.id.type_code().as_str())
                        .push_bind(i64::from(l.schema_version))
                        .push_bind(l.holder.as_str())
                        .push_bind(l.jurisdiction.as_str())
                        .push_bind(l.valid_from)
                        .push_bind(l.valid_until)
                        .push_bind(l.digest.as_str())
                        .push_bind(l.document.as_bytes())
                        .push_bind(env.digest.as_str())
                        .push_bind(*leaf)
                        .push_bind(batch.accepted_at);
                });
                q.build().execute(&mut *conn).await?;
            }
            let chains: Vec<&LicenceChain> = chains.into_values().collect();
            for chunk in super::rows::cached_chunks(&chains) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO licence_heads (base, id, digest, status, last_event) ",
                );
                q.push_values(chunk, |mut b, c| {
                    b.push_bind(c.base.as_str())
                        .push_bind(c.head.as_str())
                        .push_bind(c.head_digest.as_str())
                        .push_bind(c.state.as_str())
                        .push_bind(c.last_event.as_deref());
                });
                q.push(
                    " ON CONFLICT (base) DO UPDATE SET id = excluded.id, digest = excluded.digest, \
                     status = excluded.status, last_event = excluded.last_event",
                );
                q.build().execute(&mut *conn).await?;
            }
            for chunk in super::rows::cached_chunks(&events) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO status_events (base, licence, action, reason, effective_from, \
                     digest, previous, document, envelope, leaf_index, accepted_at) ",
                );
                q.push_values(chunk, |mut b, (env, s, leaf)| {
                    b.push_bind(s.licence.base())
                        .push_bind(s.licence.as_str())
                        .push_bind(s.action.as_str())
                        .push_bind(s.reason.as_str())
                        .push_bind(s.effective_from)
                        .push_bind(s.digest.as_str())
                        .push_bind(s.previous.as_str())
                        .push_bind(s.document.as_bytes())
                        .push_bind(env.digest.as_str())
                        .push_bind(*leaf)
                        .push_bind(batch.accepted_at);
                });
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// Leaves and every node the append completed.
        async fn write_log(
            conn: &mut $conn,
            batch: &Batch,
            appended: &Appended,
            nodes: &[(NodeId, Hash)],
        ) -> Result<(), StoreError> {
            use super::log::to_i64;
            let mut leaves = Vec::new();
            for (i, appended_leaves) in &appended.envelopes {
                for (leaf, data) in appended_leaves.iter().zip(&batch.leaves[*i]) {
                    leaves.push((to_i64(leaf.index)?, &leaf.hash, data.as_str()));
                }
            }
            for chunk in super::rows::cached_chunks(&leaves) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO log_leaves (idx, leaf_hash, data) ",
                );
                q.push_values(chunk, |mut b, (idx, hash, data)| {
                    b.push_bind(*idx).push_bind(&hash[..]).push_bind(*data);
                });
                q.build().execute(&mut *conn).await?;
            }
            let nodes = nodes
                .iter()
                .map(|(id, hash)| Ok((i64::from(id.level), to_i64(id.index)?, hash)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            for chunk in super::rows::cached_chunks(&nodes) {
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO log_nodes (level, idx, hash) ");
                q.push_values(chunk, |mut b, (level, idx, hash)| {
                    b.push_bind(*level).push_bind(*idx).push_bind(&hash[..]);
                });
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

    };
}
