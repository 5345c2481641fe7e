//! The OpenID Connect relying party through which holders sign in with the province's identity
//! provider: authorization code flow with PKCE, `state` and `nonce`. The `openidconnect` crate
//! does all JOSE work: discovery, the JWKS, the ID token's signature and its `iss`, `aud`, `exp`,
//! `iat` and `nonce` claims. This module adds what the registry decides: the provider's
//! documents are read lazily and cached for a bounded time (`documents`), an unknown signing key
//! makes it refetch the JWKS once, only asymmetric signatures count and clocks may differ by
//! [`CLOCK_SKEW`] (`id_token`), and the configured claim must name a holder ([`HolderId`]).
//!
//! Nothing here knows HTTP routes or SQL; the holder page (`web::holder_oidc`) keeps the login's
//! `state`, `nonce` and PKCE verifier in a short-lived cookie and the session in the store.

mod documents;
mod id_token;

use std::collections::HashMap;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse as _,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::identifiers::HolderId;
use documents::Documents;
pub use documents::DOCUMENTS_TTL;
pub use id_token::{TokenCheck, CLOCK_SKEW, MAX_TOKEN_AGE};

/// The claim that carries the holder's identifier unless `ELICENCE_OIDC_HOLDER_CLAIM` says
/// otherwise.
pub const DEFAULT_HOLDER_CLAIM: &str = "resident_id";
/// How long any call to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Every claim of the ID token beyond the standard ones, for the configured holder claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OtherClaims(HashMap<String, serde_json::Value>);

impl AdditionalClaims for OtherClaims {}

type TokenFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Client = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<TokenFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in was refused or could not proceed. The `Display` texts never carry a token,
/// code or claim value.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider cannot be reached or answered nonsense (the holder may retry later).
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused to exchange the code (replayed, expired or forged).
    #[error("the identity provider refused the authorization code")]
    CodeRefused,
    /// The ID token failed a check (signature, issuer, audience, expiry, issue time, nonce).
    #[error("the ID token failed the {} check", .0.as_str())]
    IdToken(TokenCheck),
    /// The ID token names no holder in the configured claim.
    #[error("the ID token has no {0} claim")]
    MissingClaim(String),
    /// The configured claim is not a resident ID or USCC.
    #[error("the {0} claim is not a resident ID or USCC")]
    MalformedClaim(String),
}

impl OidcError {
    /// A stable machine-readable code, as in the API's problem documents.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "oidc_unavailable",
            Self::CodeRefused => "oidc_code_refused",
            Self::IdToken(_) => "oidc_id_token_invalid",
            Self::MissingClaim(_) => "oidc_holder_claim_missing",
            Self::MalformedClaim(_) => "oidc_holder_claim_malformed",
        }
    }
}

/// What the holder's browser keeps between leaving for the provider and coming back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

impl PendingLogin {
    /// `state.nonce.verifier`: all three are base64url, so `.` cannot occur inside them.
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.state, self.nonce, self.verifier)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '.');
        let (state, nonce, verifier) = (parts.next()?, parts.next()?, parts.next()?);
        let fine = |s: &str| {
            !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        (fine(state) && fine(nonce) && fine(verifier)).then(|| Self {
            state: state.to_owned(),
            nonce: nonce.to_owned(),
            verifier: verifier.to_owned(),
        })
    }
}

/// The relying party: configuration and the provider's cached documents.
pub struct Oidc {
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect: RedirectUrl,
    post_logout: String,
    claim: String,
    http: reqwest::Client,
    documents: Documents,
}

impl Oidc {
    /// The relying party the settings describe; `None` when OIDC is not configured.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Self>> {
        let (Some(issuer), Some(client_id), Some(secret)) = (
            &settings.oidc_issuer,
            &settings.oidc_client_id,
            &settings.oidc_client_secret,
        ) else {
            return Ok(None);
        };
        let base = settings.public_base();
        let http = reqwest::Client::builder()
            // The provider's answers are never followed elsewhere (no SSRF through redirects).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()?;
        Ok(Some(Self {
            documents: Documents::new(IssuerUrl::new(issuer.clone())?),
            client_id: ClientId::new(client_id.clone()),
            client_secret: ClientSecret::new(secret.expose_secret().to_owned()),
            redirect: RedirectUrl::new(format!("{base}/holder/oidc/callback"))?,
            post_logout: format!("{base}/holder"),
            claim: settings.oidc_holder_claim.clone(),
            http,
        }))
    }

    /// Keeps the provider's documents for `ttl` instead of [`DOCUMENTS_TTL`].
    pub fn with_documents_ttl(mut self, ttl: Duration) -> Self {
        self.documents.set_ttl(ttl);
        self
    }

    /// The provider's URL to send the holder to, and what to keep until it sends them back.
    pub async fn begin(&self) -> Result<(String, PendingLogin), OidcError> {
        let client = self.client(self.metadata().await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        };
        Ok((url.to_string(), pending))
    }

    /// Exchanges the code (with the PKCE verifier) and answers the holder the verified ID
    /// token names. The caller has already matched `state`.
    #[tracing::instrument(skip_all)]
    pub async fn finish(&self, code: &str, pending: &PendingLogin) -> Result<HolderId, OidcError> {
        let metadata = self.metadata().await?;
        let client = self.client(metadata.clone());
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(_) => OidcError::CodeRefused,
                other => OidcError::Unavailable(other.to_string()),
            })?;
        let id_token = response
            .id_token()
            .ok_or(OidcError::IdToken(TokenCheck::Malformed))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let algs = metadata.id_token_signing_alg_values_supported().clone();
        let first = id_token
            .claims(&id_token::verifier(&client, &algs), &nonce)
            .cloned();
        let claims = match first {
            Err(e) if id_token::unknown_key(&e) => {
                // The provider may have rotated its keys since we read them: read them once more.
                let metadata = self.documents.refresh_keys(&self.http, metadata).await?;
                let client = self.client(metadata);
                let again = id_token
                    .claims(&id_token::verifier(&client, &algs), &nonce)
                    .cloned();
                again
            }
            other => other,
        }
        .map_err(|e| OidcError::IdToken(TokenCheck::of(&e)))?;
        self.holder(claims.additional_claims())
    }

    /// Where to send the holder after ending the session here: the provider's
    /// `end_session_endpoint` (RP-initiated logout) when its discovery offers one.
    pub async fn end_session_url(&self) -> Option<String> {
        let metadata = self.metadata().await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let back = PostLogoutRedirectUrl::new(self.post_logout.clone()).ok()?;
        let request = LogoutRequest::from(endpoint)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(back);
        Some(request.http_get_url().to_string())
    }

    /// The origin (`scheme://host:port`) of the provider's `end_session_endpoint`, where
    /// signing out sends the browser on to.
    pub async fn end_session_origin(&self) -> Option<String> {
        let metadata = self.metadata().await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()?;
        let origin = endpoint.url().origin();
        origin.is_tuple().then(|| origin.ascii_serialization())
    }

    fn holder(&self, claims: &OtherClaims) -> Result<HolderId, OidcError> {
        let value = claims
            .0
            .get(&self.claim)
            .ok_or_else(|| OidcError::MissingClaim(self.claim.clone()))?;
        let malformed = || OidcError::MalformedClaim(self.claim.clone());
        let text = value.as_str().ok_or_else(malformed)?.trim();
        HolderId::from_urn(text)
            .or_else(|_| HolderId::parse_bare(text))
            .map_err(|_| malformed())
    }

    fn client(&self, metadata: ProviderMetadataWithLogout) -> Client {
        Client::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// The provider's discovery document and keys (`documents`).
    async fn metadata(&self) -> Result<ProviderMetadataWithLogout, OidcError> {
        self.documents.current(&self.http).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_login_round_trips_and_refuses_junk() {
        let pending = PendingLogin {
            state: "s-1_A".into(),
            nonce: "n".into(),
            verifier: "v".repeat(43),
        };
        assert_eq!(PendingLogin::decode(&pending.encode()), Some(pending));
        assert_eq!(PendingLogin::decode("a.b"), None);
        assert_eq!(PendingLogin::decode("a..c"), None);
        assert_eq!(PendingLogin::decode("a.b.c d"), None);
    }

    #[test]
    fn error_texts_carry_no_secret_and_have_stable_codes() {
        let e = OidcError::MalformedClaim("resident_id".into());
        assert_eq!(e.code(), "oidc_holder_claim_malformed");
        assert!(e.to_string().contains("resident_id"));
    }
}
