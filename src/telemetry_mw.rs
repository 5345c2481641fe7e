//! Echoes the per-request id that `tracing-actix-web` assigns in an `x-request-id` header, so
//! a client can quote it and an operator can find the request's log lines; and builds each
//! request's root span only when it is listened for, with its target redacted: presentation
//! tokens in the path and secrets in the query string never reach logs or traces (a logged
//! multi-use presentation URL would still scan).

use std::future::Future;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage};
use tracing::{Level, Span};
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

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

/// The root span of each request, built only when something listens for it. The default
/// builder reads the route template, connection info and user agent of every request before
/// the level filter is consulted: ~3 % of a verification request's CPU with logging at `warn`.
pub struct RootSpan;

impl RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // The default builder's spans have its module as their target; ours keep it, so that
        // log filters written for it still apply.
        if !tracing::enabled!(target: "tracing_actix_web::root_span_builder", Level::INFO) {
            return Span::none();
        }
        let route = request.match_pattern();
        let uri = request.uri();
        let target = redacted_target(uri.path(), uri.query(), route.as_deref());
        let route = route.unwrap_or_else(|| "default".to_owned());
        let method = request.method().as_str();
        let user_agent = request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let request_id = request.extensions().get::<RequestId>().copied();
        let connection = request.connection_info();
        tracing::info_span!(
            target: "tracing_actix_web::root_span_builder",
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = ?request.version(),
            http.scheme = %connection.scheme(),
            http.host = %connection.host(),
            http.client_ip = %connection.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %target,
            http.status_code = tracing::field::Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            request_id = %request_id.map(|id| id.to_string()).unwrap_or_default(),
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Route parameters that hold a secret or a person's identity: their values are never logged.
const SECRET_PARAMS: [&str; 2] = ["{token}", "{holder}"];
/// Query parameters whose names contain one of these hold secrets.
const SECRET_QUERY_NAMES: [&str; 6] = ["token", "key", "secret", "password", "auth", "sig"];
/// What stands in for a redacted value.
const REDACTED: &str = "{redacted}";

/// The request target as it may be logged. On a matched route, the values of the secret
/// parameters become their names (`/p/{token}`); on an unmatched one, every segment that
/// could be a token. In the query, secret-named parameters and token-like values go.
pub fn redacted_target(path: &str, query: Option<&str>, route: Option<&str>) -> String {
    let mut target = match route {
        Some(route) => redacted_path(path, route),
        None => path
            .split('/')
            .map(|segment| {
                if token_like(segment) {
                    REDACTED
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/"),
    };
    if let Some(query) = query {
        target.push('?');
        target.push_str(&redacted_query(query));
    }
    target
}

/// `path` with the segments the route's secret parameters matched replaced by their names;
/// when the two do not line up segment by segment (a parameter spanning segments), the route.
fn redacted_path(path: &str, route: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let pattern: Vec<&str> = route.split('/').collect();
    if segments.len() != pattern.len() {
        return route.to_owned();
    }
    segments
        .iter()
        .zip(&pattern)
        .map(|(segment, part)| {
            if SECRET_PARAMS.contains(part) {
                *part
            } else {
                *segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn redacted_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let lower = name.to_ascii_lowercase();
            let secret = SECRET_QUERY_NAMES.iter().any(|s| lower.contains(s));
            if secret || token_like(value) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Could be a token: 16 or more base64url or hex characters (presentation tokens are 32,
/// bearer tokens 64), or percent-encoding that might hide one.
fn token_like(text: &str) -> bool {
    text.len() >= 16
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'%')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "7JxzXqkSHzo0DoZfcNQ0n2kisuEJxvtY";

    #[test]
    fn secret_route_parameters_are_named_not_shown() {
        let path = format!("/v1/presentations/{TOKEN}/qr.png");
        let route = "/v1/presentations/{token}/qr.png";
        assert_eq!(redacted_target(&path, None, Some(route)), route);
        let holder = "/v1/holders/urn:cn:rid:11010519491231002X/tokens";
        assert_eq!(
            redacted_target(holder, None, Some("/v1/holders/{holder}/tokens")),
            "/v1/holders/{holder}/tokens"
        );
        let licence = "/v1/licences/urn:elicence:X-Y-Z-001/status";
        assert_eq!(
            redacted_target(licence, None, Some("/v1/licences/{id}/status")),
            licence,
            "identifiers that are no secret stay"
        );
    }

    #[test]
    fn unmatched_paths_lose_their_token_like_segments() {
        let path = format!("/p/{TOKEN}/more");
        assert_eq!(redacted_target(&path, None, None), "/p/{redacted}/more");
        assert_eq!(redacted_target("/nope/x", None, None), "/nope/x");
    }

    #[test]
    fn query_secrets_are_redacted() {
        let query = format!("start=0&count=1&access_token=abc&q={TOKEN}&lang=en");
        assert_eq!(
            redacted_target("/v1/log/entries", Some(&query), Some("/v1/log/entries")),
            "/v1/log/entries?start=0&count=1&access_token={redacted}&q={redacted}&lang=en"
        );
    }
}
