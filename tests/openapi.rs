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
