//! Echoes the per-request id that `tracing-actix-web` assigns in an `x-request-id` header, so
//! a client can quote it and an operator can find the request's log lines.

use std::future::Future;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::HttpMessage;
use tracing_actix_web::RequestId;

/// Middleware adding `x-request-id` to every response.
pub fn echo_request_id<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let id = req.extensions().get::<RequestId>().copied();
    let fut = srv.call(req);
    async move {
        let mut res = fut.await?;
        if let Some(id) = id {
            if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
                res.headers_mut()
                    .insert(HeaderName::from_static("x-request-id"), value);
            }
        }
        Ok(res)
    }
}
