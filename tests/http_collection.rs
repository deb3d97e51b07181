//! docs/api.http, the HTTP collection of the API's main journeys, is what the code generates from
//! the OpenAPI document (`system_tests::http_collection`), and every request in it is one the
//! document describes: its method and path exist, it carries a token exactly where the operation
//! asks for one, and its body is valid against the operation's schema. Regenerate with
//! `UPDATE_HTTP=1 cargo nextest run -p system-tests --test http_collection`.

use serde_json::Value;
use system_tests::http_collection::{generate, parse, LOCAL_TOKEN, PATH};

fn committed() -> String {
    std::fs::read_to_string(system_tests::root().join(PATH)).unwrap_or_default()
}

#[test]
fn the_committed_collection_is_what_the_code_generates() {
    let generated = generate(&bundle::openapi::document());
    if std::env::var("UPDATE_HTTP").is_ok_and(|v| v == "1") {
        std::fs::write(system_tests::root().join(PATH), &generated).expect("written");
    }
    assert!(
        committed() == generated,
        "{PATH} differs from what the code generates; regenerate: UPDATE_HTTP=1 cargo nextest run -p system-tests --test http_collection"
    );
}

/// Every `{{variable}}` as a value the document accepts where the collection uses one: an id.
fn substituted(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").map_or(rest.len(), |e| start + e + 2);
        out.push_str("3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f");
        rest = &rest[end..];
    }
    out + rest
}

/// The document's path template that `path` (variables substituted) is an instance of.
fn template_of<'d>(doc: &'d Value, path: &str) -> Option<&'d str> {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"].as_object()?.keys().map(String::as_str).find(|t| {
        let ts: Vec<&str> = t.split('/').collect();
        ts.len() == segments.len()
            && ts.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
    })
}

#[test]
fn every_request_in_the_collection_is_one_the_document_describes() {
    let doc = bundle::openapi::document();
    let requests = parse(&committed());
    assert!(requests.len() >= 12, "the main journeys: {requests:?}");
    let mut operations = std::collections::BTreeSet::new();
    for r in &requests {
        let (path, _query) = r.target.split_once('?').unwrap_or((&r.target, ""));
        let body = r.body.as_deref().map(|b| {
            serde_json::from_str::<Value>(&substituted(b))
                .unwrap_or_else(|e| panic!("{} {}: a body that is not JSON: {e}", r.method, r.target))
        });
        if path == LOCAL_TOKEN {
            // The runner's own route (not the API's): a subject and groups, nothing else.
            let body = body.expect("a token request has a body");
            assert!(body["sub"].is_string(), "{body}");
            continue;
        }
        let template = template_of(&doc, &substituted(path))
            .unwrap_or_else(|| panic!("{} {}: no such path in the document", r.method, r.target));
        let op = &doc["paths"][template][r.method.to_lowercase()];
        assert!(op.is_object(), "{} {template}: no such operation in the document", r.method);
        operations.insert(op["operationId"].as_str().unwrap_or_default().to_owned());
        let public = op["security"].as_array().is_some_and(Vec::is_empty);
        let carries_token =
            r.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v.starts_with("Bearer "));
        assert_eq!(
            carries_token, !public,
            "{} {template}: a token where the operation asks for one, and only there",
            r.method
        );
        let content = &op["requestBody"]["content"]["application/json"];
        match body {
            Some(body) => {
                let schema = serde_json::json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": doc["components"],
                    "allOf": [content["schema"]],
                });
                let v = jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .expect("a schema that compiles");
                let errors: Vec<String> = v.iter_errors(&body).map(|e| e.to_string()).collect();
                assert!(
                    errors.is_empty(),
                    "{} {template}: the body does not match its schema: {errors:?}\n{body}",
                    r.method
                );
            }
            None => assert!(
                !op["requestBody"]["required"].as_bool().unwrap_or(false),
                "{} {template}: the operation requires a body",
                r.method
            ),
        }
    }
    // The journeys the collection exists for.
    for want in [
        "create-customer",
        "get-me",
        "change-credit-limit",
        "create-product",
        "restock-product",
        "list-products",
        "get-product",
        "quote-shipping",
        "create-order",
        "get-order",
        "get-order-timeline",
        "cancel-order",
    ] {
        assert!(operations.contains(want), "the collection has no {want}: {operations:?}");
    }
}

/// The check above fails for a request the document does not describe (so it can fail).
#[test]
fn a_request_the_document_does_not_describe_is_found_out() {
    let doc = bundle::openapi::document();
    assert!(template_of(&doc, "/orders/3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f/timeline").is_some());
    assert!(template_of(&doc, "/orders/3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f/refund").is_none());
    let parsed = parse("@a = b\n\n### x\n# @name y\nPOST {{baseUrl}}/orders\nAuthorization: Bearer {{t}}\nContent-Type: application/json\n\n{\"lines\": []}\n");
    assert_eq!(parsed.len(), 1);
    assert_eq!((parsed[0].method.as_str(), parsed[0].target.as_str()), ("POST", "/orders"));
    assert_eq!(parsed[0].headers.len(), 2);
    assert_eq!(parsed[0].body.as_deref(), Some("{\"lines\": []}"));
}

/// The collection as a user runs it in their editor: against the runner, in order, each
/// `{{name.response.body.field}}` read from the named answer before it, `{{$guid}}` a new UUID.
/// Every request succeeds (a 409 or 422 is retried for a few seconds: the saga and the orders
/// replica are eventually consistent, and a person clicking through waits as long).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collection_runs_against_the_runner_in_order() {
    let runner = system_tests::start().await;
    let text = committed();
    // The file's variables: `@name = value`.
    let vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix('@')?.split_once(" = "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let names: Vec<Option<String>> = text
        .split("\n###")
        .skip(1)
        .map(|b| b.lines().find_map(|l| l.strip_prefix("# @name ").map(str::to_owned)))
        .collect();
    let mut answers: std::collections::BTreeMap<String, Value> = Default::default();
    let resolve = |s: &str, answers: &std::collections::BTreeMap<String, Value>| -> String {
        let mut s = s.to_owned();
        for _ in 0..3 {
            for (k, v) in &vars {
                s = s.replace(&format!("{{{{{k}}}}}"), v);
            }
            while let Some(i) = s.find("{{$guid}}") {
                s.replace_range(i..i + 9, &uuid::Uuid::new_v4().to_string());
            }
            for (name, body) in answers {
                let prefix = format!("{{{{{name}.response.body.");
                while let Some(i) = s.find(&prefix) {
                    let end = s[i..].find("}}").map(|e| i + e).expect("closed");
                    let field = &s[i + prefix.len()..end];
                    s.replace_range(i..end + 2, body[field].as_str().unwrap_or_default());
                }
            }
        }
        s
    };
    for (r, name) in parse(&text).iter().zip(names) {
        let target = resolve(&r.target, &answers).replace("http://127.0.0.1:3000", "");
        let headers: Vec<(String, String)> = r.headers.iter().map(|(k, v)| (k.clone(), resolve(v, &answers))).collect();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = r.body.as_deref().map(|b| resolve(b, &answers).into_bytes());
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let reply = loop {
            let reply = runner.send_anonymous(&r.method, &target, &headers, body.clone()).await;
            if !matches!(reply.status, 409 | 422) || std::time::Instant::now() > until {
                break reply;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert!(reply.status < 300, "{} {target}: {} {}", r.method, reply.status, reply.body);
        if let Some(name) = name {
            answers.insert(name, reply.body);
        }
    }
    assert_eq!(answers.len(), 5, "every named answer read: {:?}", answers.keys());
}
