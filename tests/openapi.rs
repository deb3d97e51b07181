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

/// The text fields' schemas (`maxLength` and `pattern`) accept exactly what the domain accepts, so
/// a client that follows the document is never refused and one that does not is never let
/// through: every character of the planes that matter, alone, inside a name, around it and at the
/// length bound, checked both ways.
#[test]
fn the_text_schemas_accept_exactly_what_the_domain_accepts() {
    let d = bundle::openapi::document();
    let field = |dto: &str, name: &str| {
        let schema = serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": d["components"],
            "allOf": [d["components"]["schemas"][dto]["properties"][name]],
        });
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{dto}.{name}: {e}"))
    };
    let name = field("CreateCustomerDto", "name");
    // The address a token must carry to register (the shop's answer shows it).
    let email = field("CustomerView", "email");
    let street = field("RawAddress", "street");
    let postal = field("RawAddress", "postalCode");
    let product = field("CreateProductDto", "name");
    let chars = (0..=0x3100u32)
        .chain(0xFDF0..=0xFFFF)
        .chain(0x1F600..=0x1F610)
        .chain(0xE0000..=0xE0080)
        .chain(0xE0100..=0xE0102)
        .filter_map(char::from_u32);
    let mut checked = 0;
    let mut disagree = vec![];
    for c in chars {
        let x100 = "x".repeat(99);
        let samples =
            [format!("{c}"), format!("Ada{c}"), format!("{c}Ada{c}"), format!("{c}{x100}"), format!("{c}{x100}x")];
        for s in &samples {
            let cases: [(&str, bool, bool); 3] = [
                ("name", name.is_valid(&Value::from(s.as_str())), domain::CustomerName::parse(s).is_ok()),
                ("product", product.is_valid(&Value::from(s.as_str())), domain::ProductName::parse(s).is_ok()),
                (
                    "street",
                    street.is_valid(&Value::from(s.as_str())),
                    domain::Address::new(s, "City", "Region", "12345", "US").is_ok(),
                ),
            ];
            for (what, spec, server) in cases {
                checked += 1;
                if spec != server {
                    disagree.push(format!("{what} {s:?}: schema {spec}, domain {server}"));
                }
            }
        }
        for s in [format!("{c}1"), format!("1{c}"), format!("{c}")] {
            let (spec, server) = (
                postal.is_valid(&Value::from(s.as_str())),
                domain::Address::new("Street", "City", "Region", &s, "US").is_ok(),
            );
            checked += 1;
            if spec != server {
                disagree.push(format!("postalCode {s:?}: schema {spec}, domain {server}"));
            }
        }
        for s in [format!("a{c}@example.com"), format!("{c}ada@example.com"), format!("ada@exa{c}mple.com")] {
            let (spec, server) = (email.is_valid(&Value::from(s.as_str())), domain::Email::parse(&s).is_ok());
            checked += 1;
            if spec != server {
                disagree.push(format!("email {s:?}: schema {spec}, domain {server}"));
            }
        }
    }
    let local64 = "a".repeat(64);
    for s in [format!("{local64}@example.com"), format!("{local64}b@example.com"), format!("  {local64}@example.com  ")]
    {
        checked += 1;
        if email.is_valid(&Value::from(s.as_str())) != domain::Email::parse(&s).is_ok() {
            disagree.push(format!("email {s:?}"));
        }
    }
    assert!(checked > 100_000, "{checked} checked");
    assert!(
        disagree.is_empty(),
        "{} disagreements, e.g.:\n{}",
        disagree.len(),
        disagree[..disagree.len().min(20)].join("\n")
    );
}
