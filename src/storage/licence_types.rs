//! SQL of the directory of licence types, shared by both backends through macros.

use crate::domain::licence_type::TypeFilter;

#[macro_use]
mod rows;

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern and wraps it in `%…%`.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The filter's bind values, in the order the list queries expect them.
pub(crate) struct FilterBinds {
    pub status: Option<&'static str>,
    pub holder_category: Option<i64>,
    pub authority: Option<String>,
    pub text: Option<String>,
}

impl From<&TypeFilter> for FilterBinds {
    fn from(f: &TypeFilter) -> Self {
        Self {
            status: f.status.map(|s| s.as_str()),
            holder_category: f.holder_category.map(|c| i64::from(u8::from(c))),
            authority: f.authority.as_ref().map(|u| u.as_str().to_owned()),
            text: f
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(like_pattern),
        }
    }
}

pub(crate) const TYPE_COLUMNS: &str = "code, name_zh, name_en, authority_name, authority_uscc, \
     authority_level, issuing_level, holder_category, min_days, max_days, matters, status, \
     created_at, updated_at";

pub(crate) const TYPE_WHERE: &str = "($1 IS NULL OR status = $1) \
     AND ($2 IS NULL OR holder_category = $2) \
     AND ($3 IS NULL OR authority_uscc = $3) \
     AND ($4 IS NULL OR LOWER(name_zh) LIKE $4 ESCAPE '\\' OR LOWER(name_en) LIKE $4 ESCAPE '\\')";

/// Implements [`DirectoryStore`](super::DirectoryStore) for a store with a `pool` field.
macro_rules! licence_type_store {
    ($store:ty) => {
        #[async_trait]
        impl DirectoryStore for $store {
            #[tracing::instrument(level = "debug", skip_all)]
        async fn insert_licence_type(
            &self,
            new: &NewLicenceType,
            status: TypeStatus,
            digest: &str,
            at: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            let at = $crate::storage::shared::now_micros(at);
            let matters = serde_json::to_string(&new.matters).map_err(StoreError::corrupt)?;
            let schema =
                serde_json::to_string(new.schema.document()).map_err(StoreError::corrupt)?;
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO licence_types (code, name_zh, name_en, authority_name, \
                 authority_uscc, authority_level, issuing_level, holder_category, min_days, \
                 max_days, matters, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
            )
            .bind(new.code.as_str())
            .bind(&new.name_zh)
            .bind(&new.name_en)
            .bind(&new.defining_authority.name)
            .bind(new.defining_authority.uscc.as_str())
            .bind(i64::from(new.defining_authority.level.value()))
            .bind(i64::from(new.issuing_authority_level.value()))
            .bind(i64::from(u8::from(new.holder_category)))
            .bind(i64::from(new.validity.min_days))
            .bind(i64::from(new.validity.max_days))
            .bind(matters)
            .bind(status.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "licence type"))?;
            sqlx::query(
                "INSERT INTO licence_type_versions (code, version, schema, digest, created_at) \
                 VALUES ($1, 1, $2, $3, $4)",
            )
            .bind(new.code.as_str())
            .bind(schema)
            .bind(digest)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }

            #[tracing::instrument(level = "debug", skip_all)]
        async fn licence_type(&self, code: &TypeCode) -> Result<Option<LicenceType>, StoreError> {
            let sql = format!(
                "SELECT {} FROM licence_types WHERE code = $1",
                $crate::storage::licence_types::TYPE_COLUMNS
            );
            let row = sqlx::query(&sql)
                .bind(code.as_str())
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Ok(None) };
            let mut types = vec![decode_type(&row)?];
            self.attach_history(&mut types).await?;
            Ok(types.pop())
        }

            #[tracing::instrument(level = "debug", skip_all)]
        async fn list_licence_types(
            &self,
            filter: &TypeFilter,
        ) -> Result<(Vec<LicenceType>, u64), StoreError> {
            let binds = $crate::storage::licence_types::FilterBinds::from(filter);
            let count_sql = format!(
                "SELECT COUNT(*) AS n FROM licence_types WHERE {}",
                $crate::storage::licence_types::TYPE_WHERE
            );
            let total: i64 = sqlx::query_scalar(&count_sql)
                .bind(binds.status)
                .bind(binds.holder_category)
                .bind(binds.authority.as_deref())
                .bind(binds.text.as_deref())
                .fetch_one(&self.pool)
                .await?;
            let sql = format!(
                "SELECT {} FROM licence_types WHERE {} ORDER BY code LIMIT $5 OFFSET $6",
                $crate::storage::licence_types::TYPE_COLUMNS,
                $crate::storage::licence_types::TYPE_WHERE
            );
            let rows = sqlx::query(&sql)
                .bind(binds.status)
                .bind(binds.holder_category)
                .bind(binds.authority.as_deref())
                .bind(binds.text.as_deref())
                .bind(i64::from(filter.limit))
                .bind(i64::from(filter.offset))
                .fetch_all(&self.pool)
                .await?;
            let mut types = rows.iter().map(decode_type).collect::<Result<Vec<_>, _>>()?;
            self.attach_history(&mut types).await?;
            Ok((types, u64::try_from(total).unwrap_or(0)))
        }

            #[tracing::instrument(level = "debug", skip_all)]
        async fn add_schema_version(
            &self,
            code: &TypeCode,
            schema: &Value,
            digest: &str,
            at: DateTime<Utc>,
        ) -> Result<u32, StoreError> {
            let at = $crate::storage::shared::now_micros(at);
            let text = serde_json::to_string(schema).map_err(StoreError::corrupt)?;
            let mut tx = self.pool.begin().await?;
            let version: i64 = sqlx::query_scalar(
                "INSERT INTO licence_type_versions (code, version, schema, digest, created_at) \
                 SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 \
                 FROM licence_type_versions WHERE code = $1 RETURNING version",
            )
            .bind(code.as_str())
            .bind(text)
            .bind(digest)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, "schema version"))?;
            sqlx::query("UPDATE licence_types SET updated_at = $1 WHERE code = $2")
                .bind(at)
                .bind(code.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            u32::try_from(version).map_err(StoreError::corrupt)
        }

            #[tracing::instrument(level = "debug", skip_all)]
        async fn schema_document(
            &self,
            code: &TypeCode,
            version: u32,
        ) -> Result<Option<Value>, StoreError> {
            let text: Option<String> = sqlx::query_scalar(
                "SELECT schema FROM licence_type_versions WHERE code = $1 AND version = $2",
            )
            .bind(code.as_str())
            .bind(i64::from(version))
            .fetch_optional(&self.pool)
            .await?;
            text.map(|t| serde_json::from_str(&t).map_err(StoreError::corrupt))
                .transpose()
        }

            #[tracing::instrument(level = "debug", skip_all)]
        async fn set_type_status(
            &self,
            code: &TypeCode,
            from: TypeStatus,
            to: TypeStatus,
            at: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            let done = sqlx::query(
                "UPDATE licence_types SET status = $1, updated_at = $2 \
                 WHERE code = $3 AND status = $4",
            )
            .bind(to.as_str())
            .bind($crate::storage::shared::now_micros(at))
            .bind(code.as_str())
            .bind(from.as_str())
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict(format!(
                    "licence type {code} is no longer {}",
                    from.as_str()
                )))
            }
        }

            #[tracing::instrument(level = "debug", skip_all)]
        async fn transfer_licence_type(
            &self,
            code: &TypeCode,
            transfer: &Transfer,
        ) -> Result<(), StoreError> {
            let at = $crate::storage::shared::now_micros(transfer.effective_at);
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "UPDATE licence_types SET authority_name = $1, authority_uscc = $2, \
                 authority_level = $3, updated_at = $4 \
                 WHERE code = $5 AND authority_uscc = $6",
            )
            .bind(&transfer.to.name)
            .bind(transfer.to.uscc.as_str())
            .bind(i64::from(transfer.to.level.value()))
            .bind(at)
            .bind(code.as_str())
            .bind(transfer.from.uscc.as_str())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!(
                    "licence type {code} changed authority concurrently"
                )));
            }
            sqlx::query(
                "INSERT INTO licence_type_transfers (code, from_name, from_uscc, from_level, \
                 to_name, to_uscc, to_level, effective_at, reason) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(code.as_str())
            .bind(&transfer.from.name)
            .bind(transfer.from.uscc.as_str())
            .bind(i64::from(transfer.from.level.value()))
            .bind(&transfer.to.name)
            .bind(transfer.to.uscc.as_str())
            .bind(i64::from(transfer.to.level.value()))
            .bind(at)
            .bind(transfer.reason.as_deref())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("Food_100%"), "%food\\_100\\%%");
        assert_eq!(like_pattern("营业"), "%营业%");
    }
}
