//! JWT authentication, as sqld does it.
//!
//! With a key configured (`--auth-jwt-key-file`), every Hrana request needs
//! `Authorization: Bearer <jwt>` (scheme case-insensitive) signed with EdDSA (Ed25519);
//! other algorithms are refused. The key file holds one or more PEM `PUBLIC KEY` blocks,
//! or a raw 32-byte Ed25519 public key in URL-safe base64 (padded or not). Claims:
//! `exp` (optional, checked when present), `nbf` (likewise), and the access level:
//! - `p` (fine-grained): `{"rw": {"ns": [...]}, "ro": {"ns": [...]}, ...}`; when
//!   present it decides alone: `rw`/`rwa`/`ddl` listing the namespace give read-write,
//!   `ro`/`roa` read-only, none: refused;
//! - otherwise `id` (legacy namespace scope: must equal the namespace when present) and
//!   `a`: `"ro"`/`"roa"` read-only, `"rw"`/`"rwa"` or absent read-write.
//!
//! Failures are HTTP 401 with a JSON body naming the error kind (`AUTH_HEADER_NOT_FOUND`,
//! `AUTH_HEADER_MALFORMED`, `AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME`, `AUTH_JWT_INVALID`,
//! `AUTH_JWT_EXPIRED`, `AUTH_JWT_IMMATURE`, `AUTH_NAMESPACE_FORBIDDEN`).

use axum::http::HeaderMap;
use base64::Engine as _;
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::http::ApiError;

/// What a request may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

pub struct Auth {
    keys: Vec<DecodingKey>,
    validation: Validation,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    a: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    p: Option<Perms>,
}

#[derive(Deserialize, Default)]
struct Perms {
    #[serde(default)]
    ro: Option<Scope>,
    #[serde(default)]
    rw: Option<Scope>,
    #[serde(default)]
    roa: Option<Scope>,
    #[serde(default)]
    rwa: Option<Scope>,
    #[serde(default)]
    ddl: Option<Scope>,
}

#[derive(Deserialize, Default)]
struct Scope {
    #[serde(default)]
    ns: Option<Vec<String>>,
}

impl Scope {
    fn allows(s: &Option<Scope>, ns: &str) -> bool {
        s.as_ref()
            .and_then(|s| s.ns.as_ref())
            .is_some_and(|list| list.iter().any(|n| n == ns))
    }
}

impl Auth {
    /// Parses the key file's text.
    pub fn from_key_text(text: &str) -> Result<Auth, String> {
        let mut keys = Vec::new();
        if text.contains("-----BEGIN") {
            let mut rest = text;
            while let Some(start) = rest.find("-----BEGIN") {
                let end_marker = rest[start..]
                    .find("-----END")
                    .ok_or("unterminated PEM block in the JWT key file")?;
                let after = start + end_marker;
                let close = rest[after..]
                    .find('\n')
                    .map_or(rest.len(), |i| after + i + 1);
                let block = &rest[start..close];
                keys.push(
                    DecodingKey::from_ed_pem(block.as_bytes())
                        .map_err(|e| format!("invalid Ed25519 PEM public key: {e}"))?,
                );
                rest = &rest[close..];
            }
        } else {
            let raw = text.trim().trim_end_matches('=');
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(raw)
                .map_err(|e| format!("the JWT key is neither PEM nor URL-safe base64: {e}"))?;
            if bytes.len() != 32 {
                return Err(format!(
                    "a raw Ed25519 public key has 32 bytes, this one has {}",
                    bytes.len()
                ));
            }
            keys.push(
                DecodingKey::from_ed_components(raw)
                    .map_err(|e| format!("invalid Ed25519 public key: {e}"))?,
            );
        }
        if keys.is_empty() {
            return Err("the JWT key file holds no key".into());
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = 0;
        Ok(Auth { keys, validation })
    }

    /// Checks a request's token for `namespace`.
    pub fn check(&self, headers: &HeaderMap, namespace: &str) -> Result<Access, ApiError> {
        let h = headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthorized("AUTH_HEADER_NOT_FOUND", "Authorization header not found")
            })?;
        let h = h.to_str().map_err(|_| {
            ApiError::unauthorized(
                "AUTH_HEADER_MALFORMED",
                "Authorization header is not valid text",
            )
        })?;
        let (scheme, token) = h.trim().split_once(' ').ok_or_else(|| {
            ApiError::unauthorized("AUTH_HEADER_MALFORMED", "Authorization header is malformed")
        })?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::unauthorized(
                "AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME",
                format!("Unsupported authorization scheme {scheme:?}"),
            ));
        }
        let token = token.trim();
        let mut last = None;
        for key in &self.keys {
            match jsonwebtoken::decode::<Claims>(token, key, &self.validation) {
                Ok(data) => return access_of(&data.claims, namespace),
                Err(e) => last = Some(e),
            }
        }
        let e = last.expect("at least one key");
        Err(match e.kind() {
            ErrorKind::ExpiredSignature => {
                ApiError::unauthorized("AUTH_JWT_EXPIRED", "The JWT has expired")
            }
            ErrorKind::ImmatureSignature => {
                ApiError::unauthorized("AUTH_JWT_IMMATURE", "The JWT is not valid yet")
            }
            _ => ApiError::unauthorized("AUTH_JWT_INVALID", format!("Invalid JWT: {e}")),
        })
    }
}

fn access_of(c: &Claims, ns: &str) -> Result<Access, ApiError> {
    let forbidden = || {
        ApiError::unauthorized(
            "AUTH_NAMESPACE_FORBIDDEN",
            format!("The token gives no access to namespace {ns:?}"),
        )
    };
    if let Some(p) = &c.p {
        if Scope::allows(&p.rw, ns) || Scope::allows(&p.rwa, ns) || Scope::allows(&p.ddl, ns) {
            return Ok(Access::ReadWrite);
        }
        if Scope::allows(&p.ro, ns) || Scope::allows(&p.roa, ns) {
            return Ok(Access::ReadOnly);
        }
        return Err(forbidden());
    }
    if let Some(id) = &c.id {
        if id != ns {
            return Err(forbidden());
        }
    }
    match c.a.as_deref() {
        None | Some("rw") | Some("rwa") => Ok(Access::ReadWrite),
        Some("ro") | Some("roa") => Ok(Access::ReadOnly),
        Some(other) => Err(ApiError::unauthorized(
            "AUTH_JWT_INVALID",
            format!("Unknown access level {other:?} in claim `a`"),
        )),
    }
}
