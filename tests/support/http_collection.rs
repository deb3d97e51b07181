//! docs/api.http: the API's main journeys as an HTTP collection (VS Code's REST Client; JetBrains'
//! HTTP Client reads the same requests), generated from the OpenAPI document: each request's
//! method and path are the document's, each body is the document's example for its operation
//! (the `events/` samples), with the ids of the earlier answers put in. tests/http_collection.rs
//! holds the committed file to this generator and every request in it to the document.

use serde_json::{json, Value};

/// The file's path in the repository.
pub const PATH: &str = "docs/api.http";

/// The runner's own token route: not in the API's document (on AWS, Cognito issues tokens).
pub const LOCAL_TOKEN: &str = "/_local/token";

/// One request of a journey.
struct Step {
    title: &'static str,
    /// A name later requests read the answer of (`{{name.response.body.id}}`).
    name: Option<&'static str>,
    method: &'static str,
    /// The path as sent, `{{variables}}` in it; the query, if any, after `?`.
    path: &'static str,
    /// The token variable it carries (none: a public route).
    token: Option<&'static str>,
    /// The body: the document's example for the operation, changed by `edit`.
    body: Option<Value>,
}

fn example(doc: &Value, method: &str, path: &str) -> Value {
    doc["paths"][path][method]["requestBody"]["content"]["application/json"]["example"].clone()
}

fn steps(doc: &Value) -> Vec<Step> {
    let step = |title, name, method, path, token, body| Step { title, name, method, path, token, body };
    let mut order = example(doc, "post", "/orders");
    if order.get("customerId").is_some() {
        order["customerId"] = json!("{{customerId}}");
    }
    order["lines"] = json!([{"productId": "{{productId}}", "quantity": 2}]);
    vec![
        step(
            "An administrator's token (the runner's development identity provider; on AWS, a Cognito access token of a user in the admin group: docs/DEPLOY.md)",
            Some("adminLogin"),
            "POST",
            LOCAL_TOKEN,
            None,
            Some(json!({"sub": "{{$guid}}", "groups": ["admin"]})),
        ),
        step("A customer's token (likewise)", Some("customerLogin"), "POST", LOCAL_TOKEN, None, Some(json!({"sub": "{{$guid}}"}))),
        step(
            "Register as a customer: the id is the token's subject, the email the token's",
            Some("register"),
            "POST",
            "/customers",
            Some("customerToken"),
            Some(example(doc, "post", "/customers")),
        ),
        step("Who am I", None, "GET", "/me", Some("customerToken"), None),
        step(
            "The administrator sets the customer's credit limit",
            None,
            "PUT",
            "/customers/{{customerId}}/credit-limit",
            Some("adminToken"),
            Some(example(doc, "put", "/customers/{id}/credit-limit")),
        ),
        step(
            "The administrator adds a product",
            Some("newProduct"),
            "POST",
            "/products",
            Some("adminToken"),
            Some(example(doc, "post", "/products")),
        ),
        step(
            "The administrator restocks it",
            None,
            "POST",
            "/products/{{productId}}/restock",
            Some("adminToken"),
            Some(example(doc, "post", "/products/{id}/restock")),
        ),
        step("The catalogue (public)", None, "GET", "/products?limit=20", None, None),
        step("One product (public)", None, "GET", "/products/{{productId}}", None, None),
        step(
            "A shipping quote (public)",
            None,
            "POST",
            "/shipping/quote",
            None,
            Some(example(doc, "post", "/shipping/quote")),
        ),
        step(
            "Place an order (PENDING; the saga approves or rejects it)",
            Some("newOrder"),
            "POST",
            "/orders",
            Some("customerToken"),
            Some(order),
        ),
        step("The order", None, "GET", "/orders/{{orderId}}", Some("customerToken"), None),
        step("Its timeline: each step of the saga", None, "GET", "/orders/{{orderId}}/timeline", Some("customerToken"), None),
        step("Cancel it (once APPROVED)", None, "POST", "/orders/{{orderId}}/cancel", Some("customerToken"), None),
        step("The customer's orders, newest first", None, "GET", "/customers/{{customerId}}/orders?limit=10", Some("customerToken"), None),
    ]
}

/// docs/api.http as the document `doc` makes it.
pub fn generate(doc: &Value) -> String {
    let mut out = String::from(
        "# GENERATED from the OpenAPI document (docs/openapi.json) and its request examples by\n\
         # tests/support/http_collection.rs: do not edit; regenerate with\n\
         # `UPDATE_HTTP=1 cargo nextest run -p system-tests --test http_collection`.\n\
         #\n\
         # The API's main journeys, in order, for VS Code's REST Client (JetBrains' HTTP Client runs the\n\
         # same requests; set the token variables there by hand). As written it talks to the local\n\
         # runner (`cargo run -p local-runner`), which mints tokens. For a deployed stack, set baseUrl to\n\
         # its ApiUrl output and adminToken / customerToken to access tokens of its user pool\n\
         # (docs/DEPLOY.md), and skip the two token requests.\n\n\
         @baseUrl = http://127.0.0.1:3000\n\
         @adminToken = {{adminLogin.response.body.accessToken}}\n\
         @customerToken = {{customerLogin.response.body.accessToken}}\n\
         @customerId = {{register.response.body.id}}\n\
         @productId = {{newProduct.response.body.id}}\n\
         @orderId = {{newOrder.response.body.id}}\n",
    );
    for s in steps(doc) {
        out.push_str(&format!("\n### {}\n", s.title));
        if let Some(name) = s.name {
            out.push_str(&format!("# @name {name}\n"));
        }
        out.push_str(&format!("{} {{{{baseUrl}}}}{}\n", s.method, s.path));
        if let Some(token) = s.token {
            out.push_str(&format!("Authorization: Bearer {{{{{token}}}}}\n"));
        }
        if let Some(body) = s.body {
            let text = serde_json::to_string_pretty(&body).unwrap_or_default();
            out.push_str(&format!("Content-Type: application/json\n\n{text}\n"));
        }
    }
    out
}

/// One request as a collection file spells it.
#[derive(Debug)]
pub struct Parsed {
    pub method: String,
    /// The target after `{{baseUrl}}`, query included.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// The requests of an `.http` file: blocks after `###` lines; in each, `#` comments, then the
/// request line, the headers, a blank line and the body.
pub fn parse(text: &str) -> Vec<Parsed> {
    let mut out = vec![];
    for block in text.split("\n###").skip(1) {
        let mut lines = block.lines().skip(1).filter(|l| !l.starts_with('#') && !l.starts_with('@')).peekable();
        while lines.peek().is_some_and(|l| l.trim().is_empty()) {
            lines.next();
        }
        let Some(request) = lines.next() else { continue };
        let (method, target) = request.split_once(' ').unwrap_or((request, ""));
        let target = target.trim().strip_prefix("{{baseUrl}}").unwrap_or(target.trim()).to_owned();
        let mut headers = vec![];
        for l in lines.by_ref() {
            if l.trim().is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap_or((l, ""));
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        let body: String = lines.collect::<Vec<_>>().join("\n");
        let body = (!body.trim().is_empty()).then_some(body);
        out.push(Parsed { method: method.to_owned(), target, headers, body });
    }
    out
}
