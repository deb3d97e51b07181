//! The OpenAPI document (`docs/openapi.json`) is what the code generates
//! (`bundle::openapi::document`): the routes and their security from the manifest, the bodies
//! from the handlers' DTO and view types, the problem types of each route. Regenerate with
//! `UPDATE_OPENAPI=1 cargo nextest run -p system-tests --test openapi`.

use std::path::PathBuf;

use serde_json::Value;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn the_committed_openapi_document_is_what_the_code_generates() {
    let generated = bundle::openapi::document();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(&generated).expect("JSON") + "\n";
        std::fs::write(committed_path(), text).expect("written");
    }
    let committed: Option<Value> =
        std::fs::read_to_string(committed_path()).ok().and_then(|t| serde_json::from_str(&t).ok());
    assert!(
        committed.as_ref() == Some(&generated),
        "docs/openapi.json differs from what the code generates; regenerate: UPDATE_OPENAPI=1 cargo nextest run -p system-tests --test openapi"
    );
}

#[tokio::test]
async fn the_runner_serves_the_document() {
    let r = system_tests::start().await;
    let served = r.send_anonymous("GET", "/openapi.json", &[], None).await;
    assert_eq!(served.status, 200);
    assert_eq!(served.body, bundle::openapi::document());
    assert_eq!(served.body["openapi"], "3.1.0");
}

/// Every example in the document is an instance of its body's schema (the examples are the
/// request bodies of the `events/` samples the replays send, so the schemas describe real input).
#[test]
fn every_request_example_matches_its_schema() {
    let d = bundle::openapi::document();
    let mut checked = 0;
    for (path, item) in d["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let content = &op["requestBody"]["content"]["application/json"];
            let Some(example) = content.get("example") else { continue };
            let schema = serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": d["components"],
                "allOf": [content["schema"]],
            });
            let v = jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            let errors: Vec<String> = v.iter_errors(example).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{method} {path}: the example does not match its schema: {errors:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 8, "every route with a body has a checked example");
}
