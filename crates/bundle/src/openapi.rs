//! The OpenAPI 3.1 document of the HTTP API, generated: the paths, methods and who may call them
//! from the manifest (the same triggers the template and the runner are held to), the bodies from
//! the DTO and view types the handlers use (schemars; OpenAPI 3.1 schemas are JSON Schema
//! 2020-12), the problem types each route answers from the table below. `docs/openapi.json` is
//! this document, committed; a test holds it to the code.

use handlers::dto::{
    CreateCustomerDto, CreateOrderDto, CreateProductDto, CreditLimitDto, QuoteDto, RestockDto, UpdateCustomerDto,
    UpdateProductDto,
};
use handlers::problem::{ProblemBody, TYPE_BASE};
use handlers::views::{CustomerView, OrderView, PageView, ProductView, QuoteView, TimelineView};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::manifest::{Auth, Function, Trigger};

type Body = fn(&mut SchemaGenerator) -> Schema;

fn of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// What the document says of one route beyond its trigger.
struct Route {
    summary: &'static str,
    tag: &'static str,
    body: Option<Body>,
    ok: (u16, Body),
    /// The POST honours an `Idempotency-Key`.
    idempotent: bool,
    /// Query parameters: `limit` and `cursor` (paged), and `status` (order history).
    paged: bool,
    status_filter: bool,
    /// Problem types (and statuses) of this route's own, besides those every route of its shape
    /// answers (see [`problems`]).
    problems: &'static [(u16, &'static str)],
}

const fn route(summary: &'static str, tag: &'static str, ok: (u16, Body)) -> Route {
    Route { summary, tag, body: None, ok, idempotent: false, paged: false, status_filter: false, problems: &[] }
}

const FORBIDDEN: (u16, &str) = (403, "forbidden");
const NOT_FOUND: (u16, &str) = (404, "not-found");
const CONFLICT: (u16, &str) = (409, "conflict");

fn doc(f: Function) -> Option<Route> {
    use Function as F;
    Some(match f {
        F::CreateCustomer => Route {
            body: Some(of::<CreateCustomerDto>),
            idempotent: true,
            problems: &[(409, "already-registered"), (409, "email-taken")],
            ..route("Register the caller as a customer", "customers", (201, of::<CustomerView>))
        },
        F::GetCustomer => Route {
            problems: &[NOT_FOUND],
            ..route("A customer (owner or admin)", "customers", (200, of::<CustomerView>))
        },
        F::GetMe => {
            Route { problems: &[NOT_FOUND], ..route("The caller's customer", "customers", (200, of::<CustomerView>)) }
        }
        F::UpdateCustomer => Route {
            body: Some(of::<UpdateCustomerDto>),
            problems: &[NOT_FOUND, CONFLICT],
            ..route("Change a customer's name or address", "customers", (200, of::<CustomerView>))
        },
        F::ChangeCreditLimit => Route {
            body: Some(of::<CreditLimitDto>),
            problems: &[FORBIDDEN, NOT_FOUND, CONFLICT, (422, "currency-mismatch")],
            ..route("Set a customer's credit limit (admin)", "customers", (200, of::<CustomerView>))
        },
        F::FindOrderHistory => Route {
            paged: true,
            status_filter: true,
            problems: &[NOT_FOUND],
            ..route("A customer's orders, newest first", "orders", (200, of::<PageView<OrderView>>))
        },
        F::CreateProduct => Route {
            body: Some(of::<CreateProductDto>),
            idempotent: true,
            problems: &[FORBIDDEN],
            ..route("Add a product to the catalogue (admin)", "products", (201, of::<ProductView>))
        },
        F::GetProduct => Route { problems: &[NOT_FOUND], ..route("A product", "products", (200, of::<ProductView>)) },
        F::ListProducts => {
            Route { paged: true, ..route("The catalogue, by name", "products", (200, of::<PageView<ProductView>>)) }
        }
        F::UpdateProduct => Route {
            body: Some(of::<UpdateProductDto>),
            problems: &[FORBIDDEN, NOT_FOUND, CONFLICT, (422, "currency-mismatch")],
            ..route("Rename or reprice a product (admin)", "products", (200, of::<ProductView>))
        },
        F::RestockProduct => Route {
            body: Some(of::<RestockDto>),
            idempotent: true,
            problems: &[FORBIDDEN, NOT_FOUND, CONFLICT, (409, "discontinued"), (422, "amount-out-of-range")],
            ..route("Add stock (admin)", "products", (200, of::<ProductView>))
        },
        F::DiscontinueProduct => Route {
            problems: &[FORBIDDEN, NOT_FOUND, CONFLICT],
            ..route("Stop selling a product (admin)", "products", (200, of::<ProductView>))
        },
        F::CreateOrder => Route {
            body: Some(of::<CreateOrderDto>),
            idempotent: true,
            problems: &[
                FORBIDDEN,
                (422, "unknown-reference"),
                (422, "shipping-unavailable"),
                (422, "currency-mismatch"),
                (422, "amount-out-of-range"),
            ],
            ..route("Place an order (the createOrder saga starts)", "orders", (201, of::<OrderView>))
        },
        F::GetOrder => {
            Route { problems: &[NOT_FOUND], ..route("An order (owner or admin)", "orders", (200, of::<OrderView>)) }
        }
        F::GetOrderTimeline => Route {
            problems: &[NOT_FOUND],
            ..route("The steps an order went through", "orders", (200, of::<TimelineView>))
        },
        F::CancelOrder => Route {
            problems: &[NOT_FOUND, CONFLICT, (409, "invalid-state")],
            ..route("Cancel an approved order (stock and credit are released)", "orders", (200, of::<OrderView>))
        },
        F::QuoteShipping => Route {
            body: Some(of::<QuoteDto>),
            problems: &[(422, "shipping-unavailable"), (422, "currency-mismatch"), (422, "amount-out-of-range")],
            ..route("Quote the shipping of some items", "shipping", (200, of::<QuoteView>))
        },
        _ => return None,
    })
}

/// The request body of a route's sample event (`events/<function>.json`, an API Gateway event
/// replayed by the tests), as the document's example of that body.
fn example(f: Function) -> Option<Value> {
    use Function as F;
    let sample = match f {
        F::CreateCustomer => include_str!("../../../events/create-customer.json"),
        F::CreateOrder => include_str!("../../../events/create-order.json"),
        F::CreateProduct => include_str!("../../../events/create-product.json"),
        F::UpdateProduct => include_str!("../../../events/update-product.json"),
        F::RestockProduct => include_str!("../../../events/restock-product.json"),
        F::UpdateCustomer => include_str!("../../../events/update-customer.json"),
        F::ChangeCreditLimit => include_str!("../../../events/change-credit-limit.json"),
        F::QuoteShipping => include_str!("../../../events/quote-shipping.json"),
        _ => return None,
    };
    let event: Value = serde_json::from_str(sample).ok()?;
    serde_json::from_str(event["body"].as_str()?).ok()
}

/// The OpenAPI links of an answer that names a resource: where a client (or a stateful fuzzer)
/// can go next with the id it was given (a create's, `GET /me`'s, or the first item of a page).
/// A link into `create-order` carries only the part of the body the id fills; the rest is the
/// client's.
fn links(f: Function) -> Value {
    use Function as F;
    const CUSTOMER: &[Function] = &[F::GetCustomer, F::UpdateCustomer, F::ChangeCreditLimit, F::FindOrderHistory];
    const PRODUCT: &[Function] = &[F::GetProduct, F::UpdateProduct, F::RestockProduct, F::DiscontinueProduct];
    const ORDER: &[Function] = &[F::GetOrder, F::GetOrderTimeline, F::CancelOrder];
    let (pointer, targets, order_body) = match f {
        F::CreateCustomer | F::GetMe => ("/id", CUSTOMER, json!({"customerId": "$response.body#/id"})),
        F::CreateProduct => ("/id", PRODUCT, json!({"lines": [{"productId": "$response.body#/id", "quantity": 1}]})),
        F::ListProducts => {
            ("/items/0/id", PRODUCT, json!({"lines": [{"productId": "$response.body#/items/0/id", "quantity": 1}]}))
        }
        F::CreateOrder => ("/id", ORDER, Value::Null),
        F::FindOrderHistory => ("/items/0/id", ORDER, Value::Null),
        _ => return Value::Null,
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

/// Every problem type a route answers, by status: its own and those of its shape.
fn problems(r: &Route, has_id: bool, auth: Auth) -> Vec<(u16, &'static str)> {
    let mut all: Vec<(u16, &'static str)> = r.problems.to_vec();
    if r.body.is_some() {
        all.extend([
            (400, "malformed-json"),
            (400, "invalid-body"),
            (400, "invalid-field"),
            (413, "payload-too-large"),
            (415, "unsupported-media-type"),
        ]);
    }
    if has_id {
        all.push((400, "invalid-path-parameter"));
    }
    if r.paged {
        all.extend([(400, "invalid-query-parameter"), (400, "invalid-cursor")]);
    }
    if r.idempotent {
        all.extend([(400, "invalid-idempotency-key"), (422, "idempotency-key-reused")]);
    }
    if auth == Auth::Token {
        all.push((401, "unauthenticated"));
    }
    all.push((500, "internal"));
    all.sort_unstable();
    all.dedup();
    all
}

fn problem_response(status: u16, kinds: &[&str]) -> Value {
    let types: Vec<String> = kinds.iter().map(|k| format!("{TYPE_BASE}{k}")).collect();
    json!({
        "description": kinds.join(", "),
        "content": {"application/problem+json": {"schema": {"allOf": [
            {"$ref": "#/components/schemas/ProblemBody"},
            {"type": "object", "properties": {"type": {"enum": types}, "status": {"const": status}}},
        ]}}},
    })
}

fn operation(f: Function, path: &str, auth: Auth, r: &Route, g: &mut SchemaGenerator) -> Value {
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
    let (status, ok_body) = (r.ok.0, (r.ok.1)(g));
    let mut ok = json!({"description": r.summary, "content": {"application/json": {"schema": ok_body}}});
    if status == 201 {
        ok["headers"] = json!({
            "Location": {"schema": {"type": "string"}, "description": "The created resource."},
            "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}, "description": "Present when the answer is a replay of an earlier request with the same Idempotency-Key."},
        });
    }
    let links = links(f);
    if !links.is_null() {
        ok["links"] = links;
    }
    let mut responses = Map::new();
    responses.insert(status.to_string(), ok);
    let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
    for (s, kind) in problems(r, has_id, auth) {
        by_status.entry(s).or_default().push(kind);
    }
    for (s, kinds) in by_status {
        responses.insert(s.to_string(), problem_response(s, &kinds));
    }
    let mut op = json!({
        "operationId": f.name(),
        "summary": r.summary,
        "tags": [r.tag],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = r.body {
        let mut content = json!({"schema": body(g)});
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
        let Trigger::Http { method, path, auth } = f.trigger() else { continue };
        let Some(r) = doc(f) else { continue };
        let op = operation(f, path, auth, &r, &mut g);
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
        "servers": [{"url": "http://127.0.0.1:3000", "description": "the local runner (shop-local)"}],
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
            let Trigger::Http { method, path, auth } = f.trigger() else { continue };
            let op = &d["paths"][path][method.to_lowercase()];
            assert_eq!(op["operationId"], f.name(), "{method} {path}");
            assert_eq!(op["security"] == json!([]), auth == Auth::Public, "{f}");
            if op.get("requestBody").is_some() {
                let example = &op["requestBody"]["content"]["application/json"]["example"];
                assert!(example.is_object(), "{f}: the request body has an example");
            }
        }
    }
}
