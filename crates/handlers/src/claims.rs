//! The caller of a request, as the HttpApi JWT authorizer hands it over: the verified token's
//! claims in `requestContext.authorizer.jwt.claims`, each flattened to a string. Handlers read the
//! caller here and nowhere else; the local runner (after verifying a token as the authorizer
//! does) and tests put claims in the same place with [`with_claims`].

use std::collections::HashMap;

use app::access::{Caller, ADMIN_GROUP};
use app::AppError;
use domain::Email;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::json;

use crate::problem::ApiError;

/// A verified token's claims as API Gateway passes them: every value a string.
pub type Claims = HashMap<String, String>;

/// The claim that lists a Cognito user's groups.
pub const GROUPS_CLAIM: &str = "cognito:groups";

/// The claim that says what a Cognito token is for: `access` (an access token) or `id` (an ID token).
pub const TOKEN_USE_CLAIM: &str = "token_use";

/// The only `token_use` the API takes. An ID token carries the app client as its `aud`, so the
/// authorizer lets it through; it is meant to tell the client who signed in, not to call an API.
pub const ACCESS_TOKEN: &str = "access";

/// The groups of a groups claim as an HttpApi JWT authorizer passes it: the token's array
/// flattened to one string, `[admin ops]`, its items joined by one space. Cognito group names
/// hold no whitespace, so the split is exact, and each name is compared whole: a group named
/// `ops,admin` or `"admin"` is not `admin`. A claim of any other shape (no brackets, an empty
/// name) lists no group: a claim this code does not understand grants nothing.
///
/// A JSON array (`["admin","ops"]`) is not read as one: no source of these claims writes it (API
/// Gateway, ministack and the runner all flatten as above), and the same text is also the
/// flattening of one group named `"admin","ops"`, which would then make its members admins.
fn groups(claim: &str) -> Vec<&str> {
    let Some(inner) = claim.strip_prefix('[').and_then(|c| c.strip_suffix(']')) else {
        return vec![];
    };
    let names: Vec<&str> = inner.split(' ').collect();
    if inner.is_empty() || names.iter().any(|n| n.is_empty() || n.contains(char::is_whitespace)) {
        return vec![];
    }
    names
}

/// The caller, from the claims the JWT authorizer verified and put in the request context (the
/// local runner puts them in the same fields). Never from the body. No claims on a route that
/// needs a caller means the route is not behind the authorizer: 401, not 500.
pub fn caller(req: &Request) -> Result<Caller, ApiError> {
    let claims = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()),
        _ => None,
    }
    .map(|jwt| &jwt.claims)
    .ok_or(ApiError::Unauthenticated("this route needs a bearer token (Authorization: Bearer <JWT>)"))?;
    if claims.get(TOKEN_USE_CLAIM).map(String::as_str) != Some(ACCESS_TOKEN) {
        return Err(ApiError::Unauthenticated("the bearer token must be an access token (token_use: access)"));
    }
    let subject = claims
        .get("sub")
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .ok_or(ApiError::Unauthenticated("the token's subject must be a UUID"))?;
    let admin = claims.get(GROUPS_CLAIM).is_some_and(|g| groups(g).contains(&ADMIN_GROUP));
    Ok(Caller::new(subject, admin))
}

/// The claims that carry the caller's email as their identity provider verified it: `email`, with
/// `email_verified` true. Cognito writes both in ID tokens; the stack's pre token generation
/// trigger (`token-claims`) adds them to access tokens; the runner's provider issues them.
pub const EMAIL_CLAIM: &str = "email";
pub const EMAIL_VERIFIED_CLAIM: &str = "email_verified";

/// The caller's email, from the verified token's claims (never from a body): present, verified
/// (`email_verified` is `true`, flattened to a string as API Gateway passes it) and an address
/// the shop accepts. Without one the caller cannot register: 403.
pub fn verified_email(req: &Request) -> Result<Email, ApiError> {
    let claims = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()),
        _ => None,
    }
    .map(|jwt| &jwt.claims);
    let verified = claims.filter(|c| c.get(EMAIL_VERIFIED_CLAIM).is_some_and(|v| v == "true"));
    verified.and_then(|c| Email::parse(c.get(EMAIL_CLAIM)?).ok()).ok_or(ApiError::App(AppError::Forbidden(
        "registering needs a token that carries your email address as your identity provider verified it",
    )))
}

/// The claims API Gateway passes for `caller`'s access token: `sub`, `token_use`, and
/// `cognito:groups` for an admin.
pub fn claims_of(caller: &Caller) -> Claims {
    let mut c = Claims::from([
        ("sub".to_owned(), caller.subject().to_string()),
        (TOKEN_USE_CLAIM.to_owned(), ACCESS_TOKEN.to_owned()),
    ]);
    if caller.is_admin() {
        c.insert(GROUPS_CLAIM.to_owned(), format!("[{ADMIN_GROUP}]"));
    }
    c
}

/// The request as API Gateway hands it to a function behind the JWT authorizer, with `claims`
/// in `requestContext.authorizer.jwt.claims`.
pub fn with_claims(req: Request, claims: Claims) -> Request {
    let context = json!({
        "routeKey": "$default",
        "stage": "$default",
        "authorizer": {"jwt": {"claims": claims, "scopes": null}},
        "http": {"method": req.method().as_str(), "path": req.uri().path(), "protocol": "HTTP/1.1",
                 "sourceIp": "127.0.0.1", "userAgent": ""},
        "timeEpoch": 0,
    });
    match serde_json::from_value(context) {
        Ok(ctx) => req.with_request_context(RequestContext::ApiGatewayV2(ctx)),
        // The context above always parses; should it not, the request goes on without claims
        // and the handler answers 401: never more than the token allowed.
        Err(_) => req,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;
    use uuid::Uuid;

    fn request() -> Request {
        lambda_http::http::Request::builder().uri("/me").body(Body::Empty).unwrap()
    }

    /// An access token's claims for `sub`, as API Gateway passes them.
    fn access(sub: Uuid) -> Claims {
        Claims::from([("sub".to_owned(), sub.to_string()), (TOKEN_USE_CLAIM.to_owned(), ACCESS_TOKEN.to_owned())])
    }

    #[test]
    fn the_caller_is_the_subject_and_admin_is_a_group_named_exactly_admin() {
        let sub = Uuid::new_v4();
        for (groups, admin) in [
            (None, false),
            (Some("[admin]"), true),
            (Some("[ops admin]"), true),
            (Some("[admin ops]"), true),
            (Some("[administrators]"), false),
            (Some("[Admin]"), false),
            (Some(""), false),
            (Some("[]"), false),
            // One group whose name holds a comma, brackets or quotes is that group, not admin.
            (Some("[ops,admin]"), false),
            (Some("[admin,ops]"), false),
            (Some("[[admin]]"), false),
            (Some("[\"admin\"]"), false),
            (Some("[\"ops\",\"admin\"]"), false),
            // Not the flattened form of an array: no group at all.
            (Some("admin"), false),
            (Some("[admin"), false),
            (Some("admin]"), false),
            (Some("[ admin]"), false),
            (Some("[ops  admin]"), false),
            (Some("[admin\tops]"), false),
        ] {
            let mut claims = access(sub);
            if let Some(g) = groups {
                claims.insert(GROUPS_CLAIM.to_owned(), g.to_owned());
            }
            let c = caller(&with_claims(request(), claims)).unwrap();
            assert_eq!((c.subject(), c.is_admin()), (sub, admin), "{groups:?}");
        }
        let admin = Caller::new(sub, true);
        assert_eq!(caller(&with_claims(request(), claims_of(&admin))).unwrap(), admin);
        let customer = Caller::new(sub, false);
        assert_eq!(caller(&with_claims(request(), claims_of(&customer))).unwrap(), customer);
    }

    #[test]
    fn an_id_token_or_a_token_without_token_use_is_unauthenticated() {
        let sub = Uuid::new_v4();
        for token_use in [Some("id"), Some("Access"), Some(""), Some("access "), None] {
            let mut claims = access(sub);
            claims.insert(GROUPS_CLAIM.to_owned(), "[admin]".to_owned());
            match token_use {
                Some(u) => claims.insert(TOKEN_USE_CLAIM.to_owned(), u.to_owned()),
                None => claims.remove(TOKEN_USE_CLAIM),
            };
            let refused = caller(&with_claims(request(), claims));
            assert!(matches!(refused, Err(ApiError::Unauthenticated(_))), "token_use {token_use:?}: {refused:?}");
        }
    }

    #[test]
    fn the_email_is_the_tokens_and_only_when_verified() {
        let sub = Uuid::new_v4().to_string();
        let with = |pairs: &[(&str, &str)]| {
            let mut claims = Claims::from([("sub".to_owned(), sub.clone())]);
            claims.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            verified_email(&with_claims(request(), claims))
        };
        let email = with(&[(EMAIL_CLAIM, "Ada@Example.com"), (EMAIL_VERIFIED_CLAIM, "true")]).unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
        for refused in [
            &[(EMAIL_CLAIM, "ada@example.com")][..],
            &[(EMAIL_CLAIM, "ada@example.com"), (EMAIL_VERIFIED_CLAIM, "false")],
            &[(EMAIL_VERIFIED_CLAIM, "true")],
            &[(EMAIL_CLAIM, "not an address"), (EMAIL_VERIFIED_CLAIM, "true")],
        ] {
            assert!(matches!(with(refused), Err(ApiError::App(AppError::Forbidden(_)))), "{refused:?}");
        }
        assert!(verified_email(&request()).is_err(), "no claims at all");
    }

    #[test]
    fn no_claims_or_a_subject_that_is_not_a_uuid_is_unauthenticated() {
        assert!(matches!(caller(&request()), Err(ApiError::Unauthenticated(_))));
        let mut odd = access(Uuid::new_v4());
        odd.insert("sub".to_owned(), "auth0|123".to_owned());
        assert!(matches!(caller(&with_claims(request(), odd)), Err(ApiError::Unauthenticated(_))));
        assert!(matches!(caller(&with_claims(request(), Claims::new())), Err(ApiError::Unauthenticated(_))));
    }
}
