//! Cognito's pre token generation trigger (event version 2): the user pool calls it before it
//! issues a user's tokens and adds what it answers to them. It puts the user's email, with
//! `email_verified`, in the access token, once the pool has verified the address: the API's JWT
//! authorizer passes the access token's claims, and Cognito writes the email only in ID tokens.
//! An address the pool has not verified is left out, so the API never takes one nobody proved
//! (registering then answers 403). Groups and scopes are left as Cognito made them.

use serde_json::{json, Value};

use crate::claims::{EMAIL_CLAIM, EMAIL_VERIFIED_CLAIM};

/// The trigger's answer to `event`: the event, with the claims to add to the access token in
/// `response.claimsAndScopeOverrideDetails` when the user's email is verified, and unchanged
/// otherwise (whatever it is: nothing here fails).
pub fn add_verified_email(mut event: Value) -> Value {
    let attributes = &event["request"]["userAttributes"];
    let verified = matches!(&attributes["email_verified"], Value::String(v) if v == "true")
        || attributes["email_verified"] == Value::Bool(true);
    let Some(email) = attributes["email"].as_str().filter(|_| verified).map(str::to_owned) else {
        return event;
    };
    if let Some(fields) = event.as_object_mut() {
        let overrides = json!({
            "accessTokenGeneration": {"claimsToAddOrOverride": {EMAIL_CLAIM: email, EMAIL_VERIFIED_CLAIM: true}}
        });
        let response = fields.entry("response").or_insert_with(|| json!({}));
        match response.as_object_mut() {
            Some(r) => {
                r.insert("claimsAndScopeOverrideDetails".to_owned(), overrides);
            }
            None => *response = json!({ "claimsAndScopeOverrideDetails": overrides }),
        }
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 2 event as Cognito sends it for a sign-in (events/token-claims.json's shape).
    fn event(attributes: Value) -> Value {
        json!({
            "version": "2", "triggerSource": "TokenGeneration_Authentication", "region": "us-east-1",
            "userPoolId": "us-east-1_EXAMPLE", "userName": "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b7c9a10",
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "1example23456789"},
            "request": {"userAttributes": attributes,
                        "groupConfiguration": {"groupsToOverride": ["admin"], "iamRolesToOverride": [], "preferredRole": null},
                        "scopes": ["aws.cognito.signin.user.admin"]},
            "response": {"claimsAndScopeOverrideDetails": null}
        })
    }

    #[test]
    fn a_verified_email_goes_into_the_access_token_and_nothing_else_changes() {
        let answer = add_verified_email(event(json!({"email": "ada@example.com", "email_verified": "true"})));
        let details = &answer["response"]["claimsAndScopeOverrideDetails"];
        assert_eq!(
            details,
            &json!({"accessTokenGeneration": {"claimsToAddOrOverride": {"email": "ada@example.com", "email_verified": true}}})
        );
        assert!(details.get("groupOverrideDetails").is_none(), "the user's groups stay as Cognito made them");
        assert_eq!(answer["request"], event(json!({"email": "ada@example.com", "email_verified": "true"}))["request"]);
    }

    #[test]
    fn an_unverified_or_missing_email_adds_nothing() {
        for attributes in [
            json!({"email": "ada@example.com", "email_verified": "false"}),
            json!({"email": "ada@example.com"}),
            json!({"email_verified": "true"}),
            json!({}),
        ] {
            let e = event(attributes.clone());
            assert_eq!(add_verified_email(e.clone()), e, "{attributes}");
        }
    }

    #[test]
    fn an_event_of_another_shape_is_answered_as_it_came() {
        for odd in [json!(null), json!([1, 2]), json!("text"), json!({"request": {"userAttributes": 7}})] {
            assert_eq!(add_verified_email(odd.clone()), odd);
        }
        let no_response = json!({"request": {"userAttributes": {"email": "a@example.com", "email_verified": true}}});
        let answer = add_verified_email(no_response);
        assert_eq!(
            answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"]
                ["email"],
            "a@example.com"
        );
    }
}
