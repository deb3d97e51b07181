//! The OpenAPI 3.1 document of the HTTP API, generated: the paths, methods and who may call them
//! from the manifest (the same triggers the template and the runner are held to), the bodies from
//! the DTO and view types the handlers use (schemars; OpenAPI 3.1 schemas are JSON Schema
//! 2020-12), the problem types each route answers from the table below. `docs/openapi.json` is
//! this document, committed; a test holds it to the code.

use handlers::problem::{ProblemBody, ProblemKind, TYPE_BASE};
use handlers::views::ViewType;
use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};

use crate::manifest::{Auth, Doc, Function, Trigger};

/// The request body of a route's sample event (`events/<function>.json`, an API Gateway event
/// replayed by the tests), as the document's example of that body.
fn example(f: Function) -> Option<Value> {
    let event: Value = serde_json::from_str(f.sample_event()).ok()?;
    serde_json::from_str(event["body"].as_str()?).ok()
}

/// The OpenAPI links of an answer that names a resource: where a client (or a stateful fuzzer)
/// can go next with the id it was given (a create's, `GET /me`'s, or the first item of a page).
/// A link into `create-order` carries only the part of the body the id fills; the rest is the
/// client's. Only the functions that hand out an id a client did not have link onwards.
fn links(f: Function, view: ViewType) -> Value {
    use Function as F;
    const CUSTOMER: &[Function] = &[F::GetCustomer, F::UpdateCustomer, F::ChangeCreditLimit, F::FindOrderHistory];
    const PRODUCT: &[Function] = &[F::GetProduct, F::UpdateProduct, F::RestockProduct, F::DiscontinueProduct];
    const ORDER: &[Function] = &[F::GetOrder, F::GetOrderTimeline, F::CancelOrder];
    let hands_out_an_id = matches!(f, F::CreateCustomer | F::GetMe | F::CreateProduct | F::CreateOrder)
        || matches!(view, ViewType::ProductPage | ViewType::OrderPage);
    if !hands_out_an_id {
        return Value::Null;
    }
    let (pointer, targets, order_body) = match view {
        ViewType::Customer => ("/id", CUSTOMER, json!({"customerId": "$response.body#/id"})),
        ViewType::Product => ("/id", PRODUCT, json!({"lines": [{"productId": "$response.body#/id", "quantity": 1}]})),
        ViewType::ProductPage => {
            ("/items/0/id", PRODUCT, json!({"lines": [{"productId": "$response.body#/items/0/id", "quantity": 1}]}))
        }
        ViewType::Order => ("/id", ORDER, Value::Null),
        ViewType::OrderPage => ("/items/0/id", ORDER, Value::Null),
        ViewType::Timeline | ViewType::Quote => return Value::Null,
    };
    let id = json!({"id": format!("$response.body#{pointer}")});
    let mut out = Map::new();
    for t in targets {
        out.insert(t.name().to_owned(), json!({"operationId": t.name(), "parameters": id}));
    }
    if !order_body.is_null() {
        out.insert(
            F::CreateOrder.name().to_owned(),
            json!({"operationId": F::CreateOrder.name(), "requestBody": order_body}),
        );
    }
    Value::Object(out)
}

/// Every problem a route answers: its own and those of its shape.
pub fn problems(doc: &Doc, has_id: bool, auth: Auth, uses_store: bool) -> Vec<ProblemKind> {
    use ProblemKind as K;
    let mut all: Vec<ProblemKind> = doc.problems.to_vec();
    if doc.body.is_some() {
        all.extend([K::MalformedJson, K::InvalidBody, K::InvalidField, K::PayloadTooLarge, K::UnsupportedMediaType]);
    }
    if has_id {
        all.push(K::InvalidPathParameter);
    }
    if doc.paged {
        all.extend([K::InvalidQueryParameter, K::InvalidCursor]);
    }
    if doc.idempotent {
        all.extend([K::InvalidIdempotencyKey, K::IdempotencyKeyReused]);
    }
    if doc.if_match {
        all.extend([K::InvalidIfMatch, K::PreconditionFailed]);
    }
    if auth == Auth::Token {
        all.push(K::Unauthenticated);
    }
    all.push(K::Internal);
    if uses_store {
        all.push(K::ServiceUnavailable);
    }
    all.sort_unstable_by_key(|k| (k.status(), k.slug()));
    all.dedup();
    all
}

fn problem_response(status: u16, kinds: &[&str]) -> Value {
    let types: Vec<String> = kinds.iter().map(|k| format!("{TYPE_BASE}{k}")).collect();
    let mut response = json!({
        "description": kinds.join(", "),
        "content": {"application/problem+json": {"schema": {"allOf": [
            {"$ref": "#/components/schemas/ProblemBody"},
            {"type": "object", "properties": {"type": {"enum": types}, "status": {"const": status}}},
        ]}}},
    });
    if status == ProblemKind::ServiceUnavailable.status() {
        response["headers"] = json!({"Retry-After": {"schema": {"type": "integer"},
            "description": "Seconds to wait before trying again: the route's context is down for a moment; nothing was written."}});
    }
    response
}

fn operation(f: Function, path: &str, auth: Auth, r: &Doc, summary: &str, g: &mut SchemaGenerator) -> Value {
    let has_id = path.contains("{id}");
    let mut parameters = vec![];
    if has_id {
        parameters.push(
            json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}),
        );
    }
    if r.paged {
        parameters.push(json!({"name": "limit", "in": "query", "required": false,
            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}));
        parameters.push(json!({"name": "cursor", "in": "query", "required": false,
            "description": "The `nextCursor` of the previous page of the same query, as it was given: an opaque token. Any other value, even one of the right shape, is a 400 `invalid-cursor`.",
            "schema": {"type": "string", "minLength": 1, "maxLength": app::page::MAX_CURSOR_LEN, "pattern": "^[A-Za-z0-9_-]+$"}}));
    }
    if r.status_filter {
        let status = g.subschema_for::<domain::OrderStatus>();
        parameters.push(json!({"name": "status", "in": "query", "required": false, "schema": status}));
    }
    if r.idempotent {
        parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false,
            "description": "1 to 128 printable ASCII characters, no spaces. A retry with the same key and body answers as the first request and writes nothing; the same key with another body is refused.",
            "schema": {"type": "string", "minLength": 1, "maxLength": app::ports::IdempotencyKey::MAX_LEN, "pattern": "^[!-~]+$"}}));
    }
    if r.if_match {
        parameters.push(json!({"name": "If-Match", "in": "header", "required": false,
            "description": "The `ETag` a read of the product answered (or `*`). The write happens only if the product is still at that revision, in the same conditional write; otherwise it answers 412 `precondition-failed` and writes nothing. Without it (or with an empty value), the write is made whatever the revision. Any other value (a list, a weak tag) is a 400 `invalid-if-match`.",
            "schema": {"type": "string", "pattern": "^(|\\*|\"[1-9][0-9]{0,9}\")$"}, "example": "\"3\""}));
    }
    let (status, ok_body) = (r.ok.0, r.ok.1.schema(g));
    let mut ok = json!({"description": summary, "content": {"application/json": {"schema": ok_body}}});
    let mut headers = Map::new();
    if status == 201 {
        headers
            .insert("Location".into(), json!({"schema": {"type": "string"}, "description": "The created resource."}));
        headers.insert("Idempotent-Replayed".into(), json!({"schema": {"type": "string", "enum": ["true"]}, "description": "Present when the answer is a replay of an earlier request with the same Idempotency-Key."}));
    }
    if r.ok.1 == ViewType::Product {
        headers.insert("ETag".into(), json!({"required": true, "schema": {"type": "string", "pattern": "^\"[1-9][0-9]{0,9}\"$"},
            "description": "The product's catalogue revision (its name, price and discontinuation; not its stock, which every order moves), as a strong entity tag: send it back in `If-Match` to make a write conditional on it."}));
    }
    if !headers.is_empty() {
        ok["headers"] = Value::Object(headers);
    }
    let links = links(f, r.ok.1);
    if !links.is_null() {
        ok["links"] = links;
    }
    let mut responses = Map::new();
    responses.insert(status.to_string(), ok);
    let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
    for kind in problems(r, has_id, auth, !f.permissions().is_empty()) {
        by_status.entry(kind.status()).or_default().push(kind.slug());
    }
    for (s, kinds) in by_status {
        responses.insert(s.to_string(), problem_response(s, &kinds));
    }
    let mut op = json!({
        "operationId": f.name(),
        "summary": summary,
        "tags": [r.tag],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = r.body {
        let mut content = json!({"schema": body.schema(g)});
        if let Some(e) = example(f) {
            content["example"] = e;
        }
        op["requestBody"] = json!({"required": true, "content": {"application/json": content}});
    }
    if auth == Auth::Public {
        op["security"] = json!([]);
    }
    op
}

/// Drops `"default": null`, which schemars writes for an optional field that is absent by default
/// (`#[serde(default)]`): absent is not null, and a body may not send null for such a field.
fn drop_null_defaults(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("default") == Some(&Value::Null) {
                m.remove("default");
            }
            m.values_mut().for_each(drop_null_defaults);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_null_defaults),
        _ => {}
    }
}

/// The OpenAPI 3.1 document of every HTTP route of the bundle.
pub fn document() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas/".into();
    settings.meta_schema = None;
    let mut g = settings.into_generator();
    let mut paths: std::collections::BTreeMap<String, Map<String, Value>> = Default::default();
    for f in Function::ALL {
        let Trigger::Http { method, path, auth, doc } = f.trigger() else { continue };
        let op = operation(f, path, auth, &doc, f.spec().summary, &mut g);
        paths.entry(path.to_owned()).or_default().insert(method.to_lowercase(), op);
    }
    g.subschema_for::<ProblemBody>();
    let mut d = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "shop-saga",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "An e-commerce backend on AWS Lambda: customers with credit, a catalogue with stock, and orders placed through a choreography saga. Every error is an RFC 9457 problem (application/problem+json). Money is integer minor units.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [
            {"url": "http://127.0.0.1:3000", "description": "the local runner (shop-local)"},
            {"url": "https://{apiId}.execute-api.{region}.amazonaws.com",
             "description": "a deployed stack: its ApiUrl output (`sam list stack-outputs`)",
             "variables": {
                 "apiId": {"default": "abc123defg", "description": "the HTTP API's id: the first label of ApiUrl"},
                 "region": {"default": "us-east-1", "description": "the AWS Region the stack is deployed in"}}},
        ],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": g.definitions(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An access token of the stack's Cognito user pool (or the issuer given as JwtIssuer); the local runner issues development tokens."}},
        },
    });
    drop_null_defaults(&mut d);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_http_route_is_documented_once_with_its_security() {
        let d = document();
        for f in Function::ALL {
            let Trigger::Http { method, path, auth, .. } = f.trigger() else { continue };
            let op = &d["paths"][path][method.to_lowercase()];
            assert_eq!(op["operationId"], f.name(), "{method} {path}");
            assert_eq!(op["security"] == json!([]), auth == Auth::Public, "{f}");
            if op.get("requestBody").is_some() {
                let example = &op["requestBody"]["content"]["application/json"]["example"];
                assert!(example.is_object(), "{f}: the request body has an example");
            }
        }
    }

    /// The statuses the document gives each problem are those the one mapping answers with
    /// (`handlers::problem`), and every problem a route can answer is documented on some route:
    /// all but the router's own.
    #[test]
    fn every_problem_kind_is_documented_with_the_status_it_answers() {
        let d = document();
        let mut documented = std::collections::BTreeMap::new();
        for path in d["paths"].as_object().unwrap().values() {
            for op in path.as_object().unwrap().values() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    let schema = &response["content"]["application/problem+json"]["schema"];
                    let Some(types) = schema["allOf"][1]["properties"]["type"]["enum"].as_array() else { continue };
                    for t in types {
                        let slug = t.as_str().unwrap().trim_start_matches(TYPE_BASE).to_owned();
                        documented.insert(slug, status.parse::<u16>().unwrap());
                    }
                }
            }
        }
        for k in ProblemKind::ALL {
            let routers_own = matches!(k, ProblemKind::RouteNotFound | ProblemKind::MethodNotAllowed);
            assert_eq!(documented.get(k.slug()).copied(), (!routers_own).then_some(k.status()), "{k:?}");
        }
    }
}
