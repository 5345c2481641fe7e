//! Keeps the verifier's cached snapshot honest: after a successful write to the issuer,
//! authorisation or directory routes, the snapshot is marked stale (the verifier reloads it on
//! its next use).

use std::future::Future;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::web;

use crate::state::AppState;

/// Route prefixes whose successful writes change what the verifier caches.
const CACHED_PREFIXES: [&str; 3] = ["/v1/issuers", "/v1/authorisations", "/v1/licence-types"];

/// Middleware: after a successful write to the issuer, authorisation or directory routes, marks
/// the verifier's cached snapshot stale.
pub fn invalidate_on_change<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let request = res.request();
        let changes = request.method() != Method::GET
            && request.method() != Method::HEAD
            && res.status().is_success()
            && CACHED_PREFIXES
                .iter()
                .any(|p| request.path().starts_with(p));
        if changes {
            if let Some(state) = request.app_data::<web::Data<AppState>>() {
                state.verifier.invalidate();
            }
        }
        Ok(res)
    }
}
