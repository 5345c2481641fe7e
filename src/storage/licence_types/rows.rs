//! Reading licence types back: a row into a [`LicenceType`](crate::domain::licence_type::LicenceType)
//! and the versions and transfers attached to it, shared by both backends through
//! `licence_type_helpers!`.

/// Inherent helpers and row decoders shared by both stores.
macro_rules! licence_type_helpers {
    ($store:ty, $row:ty) => {
        impl $store {
            /// Loads versions and transfers for the given types in two queries.
            #[tracing::instrument(level = "debug", skip_all)]
            async fn attach_history(&self, types: &mut [LicenceType]) -> Result<(), StoreError> {
                if types.is_empty() {
                    return Ok(());
                }
                let codes: Vec<String> = types.iter().map(|t| t.code.to_string()).collect();
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT code, version, digest, created_at FROM licence_type_versions \
                     WHERE code IN (",
                );
                let mut list = q.separated(", ");
                for c in &codes {
                    list.push_bind(c.as_str());
                }
                q.push(") ORDER BY code, version");
                for row in q.build().fetch_all(&self.pool).await? {
                    let code: String = row.try_get("code")?;
                    let version = SchemaVersion {
                        version: u32::try_from(row.try_get::<i64, _>("version")?)
                            .map_err(StoreError::corrupt)?,
                        digest: row.try_get("digest")?,
                        created_at: row.try_get("created_at")?,
                    };
                    if let Some(t) = types.iter_mut().find(|t| t.code.as_str() == code) {
                        t.versions.push(version);
                    }
                }
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT code, from_name, from_uscc, from_level, to_name, to_uscc, to_level, \
                     effective_at, reason FROM licence_type_transfers WHERE code IN (",
                );
                let mut list = q.separated(", ");
                for c in &codes {
                    list.push_bind(c.as_str());
                }
                q.push(") ORDER BY id");
                for row in q.build().fetch_all(&self.pool).await? {
                    let code: String = row.try_get("code")?;
                    let transfer = Transfer {
                        from: decode_authority(&row, "from_name", "from_uscc", "from_level")?,
                        to: decode_authority(&row, "to_name", "to_uscc", "to_level")?,
                        effective_at: row.try_get("effective_at")?,
                        reason: row.try_get("reason")?,
                    };
                    if let Some(t) = types.iter_mut().find(|t| t.code.as_str() == code) {
                        t.transfers.push(transfer);
                    }
                }
                Ok(())
            }
        }

        fn decode_authority(
            row: &$row,
            name: &str,
            uscc: &str,
            level: &str,
        ) -> Result<Authority, StoreError> {
            Ok(Authority {
                name: row.try_get(name)?,
                uscc: row
                    .try_get::<String, _>(uscc)?
                    .parse()
                    .map_err(StoreError::corrupt)?,
                level: small(row.try_get(level)?)?,
            })
        }

        fn small<T: TryFrom<u8, Error = String>>(value: i64) -> Result<T, StoreError> {
            let byte = u8::try_from(value).map_err(StoreError::corrupt)?;
            T::try_from(byte).map_err(StoreError::corrupt)
        }

        fn decode_type(row: &$row) -> Result<LicenceType, StoreError> {
            let matters: String = row.try_get("matters")?;
            let status: String = row.try_get("status")?;
            Ok(LicenceType {
                code: row
                    .try_get::<String, _>("code")?
                    .parse()
                    .map_err(StoreError::corrupt)?,
                name_zh: row.try_get("name_zh")?,
                name_en: row.try_get("name_en")?,
                defining_authority: decode_authority(
                    row,
                    "authority_name",
                    "authority_uscc",
                    "authority_level",
                )?,
                issuing_authority_level: small(row.try_get("issuing_level")?)?,
                holder_category: small(row.try_get("holder_category")?)?,
                validity: ValidityRange {
                    min_days: u32::try_from(row.try_get::<i64, _>("min_days")?)
                        .map_err(StoreError::corrupt)?,
                    max_days: u32::try_from(row.try_get::<i64, _>("max_days")?)
                        .map_err(StoreError::corrupt)?,
                },
                matters: serde_json::from_str(&matters).map_err(StoreError::corrupt)?,
                status: TypeStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("status {status:?}")))?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                versions: Vec::new(),
                transfers: Vec::new(),
            })
        }
    };
}
