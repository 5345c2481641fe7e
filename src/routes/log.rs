//! The transparency log, for anyone: the latest signed checkpoint, the checkpoint key, inclusion
//! and consistency proofs, and the leaves themselves. Proofs cost one O(log n) read.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::log::checkpoint::{self, Checkpoint};
use crate::log::merkle::{consistency_plan, empty_root, inclusion_plan, Hash, MerkleError, NodeId};
use crate::routes::parse::position;
use crate::state::AppState;

/// Most leaves one entries request answers.
const MAX_ENTRIES: u64 = 1000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/log/checkpoint", web::get().to(latest_checkpoint))
        .route("/v1/log/key", web::get().to(key))
        .route("/v1/log/proof/inclusion", web::get().to(inclusion))
        .route("/v1/log/proof/consistency", web::get().to(consistency))
        .route("/v1/log/entries", web::get().to(entries));
}

/// The newest signed checkpoint: a C2SP signed note, or `{origin, size, root, note}` with
/// `Accept: application/json`.
#[utoipa::path(get, path = "/v1/log/checkpoint", tag = "log", responses((status = 200, description = "signed note (text/plain) or JSON")))]
pub async fn latest_checkpoint(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let origin = state.settings.log_origin();
    let (size, root, note) = match state.store.latest_checkpoint().await? {
        Some(c) => (c.size, c.root, c.note),
        None => {
            let empty = Checkpoint::new(origin.clone(), 0, empty_root())
                .map_err(|e| ApiError::Internal(e.into()))?;
            (0, empty.root, empty.sign(state.registry_key.signing_key()))
        }
    };
    if wants_json(&req) {
        return Ok(HttpResponse::Ok().json(json!({
            "origin": origin, "size": size, "root": STANDARD.encode(root), "note": note,
        })));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(note))
}

/// The checkpoint verifier key, C2SP vkey form (`<origin>+<hash>+<key>`).
#[utoipa::path(get, path = "/v1/log/key", tag = "log", responses((status = 200, description = "vkey text")))]
pub async fn key(state: web::Data<AppState>) -> HttpResponse {
    let vkey = checkpoint::vkey(
        &state.settings.log_origin(),
        &state.registry_key.verifying_key(),
    );
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{vkey}\n"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// Leaf index (0 to 2^63−1)
    index: u64,
    /// Tree size the proof is against (at most the current size, and 2^63−1)
    size: u64,
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves, with the leaf hash.
#[utoipa::path(get, path = "/v1/log/proof/inclusion", tag = "log", params(InclusionQuery), responses(
    (status = 200, description = "{index, size, leafHash, proof}"), (status = 400, description = "index or size out of range")))]
pub async fn inclusion(
    state: web::Data<AppState>,
    query: web::Query<InclusionQuery>,
) -> Result<HttpResponse, ApiError> {
    let index = position(query.index, "index")?;
    let size = position(query.size, "size")?;
    within_log(&state, size).await?;
    let plan = inclusion_plan(index, size).map_err(proof_error)?;
    let leaf = NodeId { level: 0, index };
    let mut ids = plan.nodes();
    ids.push(leaf);
    let fetched = state.verifier.log_nodes(&ids).await?;
    let proof = plan.assemble(&fetched).map_err(missing)?;
    let leaf_hash = fetched
        .get(&leaf)
        .ok_or_else(|| missing(MerkleError::MissingNode(leaf)))?;
    Ok(HttpResponse::Ok().json(json!({
        "index": index, "size": size, "leafHash": STANDARD.encode(leaf_hash), "proof": encode(&proof),
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The older tree size (0 to 2^63−1)
    from: u64,
    /// The newer tree size (at most the current size, and 2^63−1)
    to: u64,
}

/// The consistency proof between the trees of `from` and `to` leaves.
#[utoipa::path(get, path = "/v1/log/proof/consistency", tag = "log", params(ConsistencyQuery), responses(
    (status = 200, description = "{from, to, proof}"), (status = 400, description = "sizes out of range")))]
pub async fn consistency(
    state: web::Data<AppState>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = position(query.from, "from")?;
    let to = position(query.to, "to")?;
    within_log(&state, to).await?;
    let plan = consistency_plan(from, to).map_err(proof_error)?;
    let fetched = state.verifier.log_nodes(&plan.nodes()).await?;
    let proof = plan.assemble(&fetched).map_err(missing)?;
    Ok(HttpResponse::Ok().json(json!({"from": from, "to": to, "proof": encode(&proof)})))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// First leaf index (0 to 2^63−1)
    start: u64,
    /// Number of leaves, 1–1000
    count: u64,
}

/// Leaves `[start, start + count)`: their data (JCS text) and hash.
#[utoipa::path(get, path = "/v1/log/entries", tag = "log", params(EntriesQuery), responses(
    (status = 200, description = "{entries: [{index, leafHash, data}]}"), (status = 400, description = "invalid_query: start or count out of range")))]
pub async fn entries(
    state: web::Data<AppState>,
    query: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let start = position(query.start, "start")?;
    let count = query.count;
    if !(1..=MAX_ENTRIES).contains(&count) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("count must be 1 to {MAX_ENTRIES}"),
        ));
    }
    let entries: Vec<_> = state
        .store
        .log_entries(start, count)
        .await?
        .into_iter()
        .map(
            |e| json!({"index": e.index, "leafHash": STANDARD.encode(e.leaf_hash), "data": e.data}),
        )
        .collect();
    Ok(HttpResponse::Ok().json(json!({"entries": entries})))
}

/// Refuses sizes past what is committed: a proof for a tree nobody has a checkpoint of.
async fn within_log(state: &AppState, size: u64) -> Result<(), ApiError> {
    state.verifier.log_holds(size).await?.map_err(|current| {
        ApiError::bad_request("size_beyond_log", format!("the log has {current} leaves"))
    })
}

fn proof_error(e: MerkleError) -> ApiError {
    ApiError::bad_request("proof_range", e.to_string())
}

fn missing(e: MerkleError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("log storage is missing a node: {e}"))
}

fn encode(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}
