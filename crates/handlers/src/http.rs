//! The HTTP handlers, one per route. Each only translates: request → command → service →
//! response. The edge around them is not theirs: `bundle::wire` hands a route that needs a token
//! its verified [`Caller`] (from the manifest's `Auth`) and turns every error into problem+json
//! with [`finish`]. The same functions run in the Lambda binaries and in the local runner.

use std::str::FromStr;

use app::access::Caller;
use app::commands::{
    AddProduct, ChangeCreditLimit, PlaceOrder, QuoteShipping, RegisterCustomer, Restock, UpdateCustomer, UpdateProduct,
};
use app::customers::CustomerService;
use app::idempotency::Created;
use app::orders::{quote_shipping as quote, OrderPlacement, OrderService};
use app::page::PageSize;
use app::ports::IdempotencyKey;
use app::products::ProductService;
use app::AppError;
use domain::{CustomerId, DomainError, Money, OrderId, OrderStatus, Product, ProductId, ShippingCostService};
use lambda_http::http::header::{CONTENT_TYPE, ETAG};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::dto::{
    CreateCustomerDto, CreateOrderDto, CreateProductDto, CreditLimitDto, QuoteDto, RestockDto, UpdateCustomerDto,
    UpdateProductDto,
};
use crate::problem::{problem_response, ApiError};
use crate::views::{CustomerView, OrderView, PageView, ProductView, QuoteView, TimelineView};

/// Request bodies above this size are refused before parsing: the largest valid order (50
/// lines) is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Whether a request's `Content-Type` is `application/json` (parameters such as `charset` aside).
pub fn is_json(headers: &lambda_http::http::HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false)
}

/// Reads a JSON body into a DTO and converts it into a command.
fn command<D, C>(req: &Request) -> Result<C, ApiError>
where
    D: DeserializeOwned,
    C: TryFrom<D, Error = DomainError>,
{
    if !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge { max: MAX_BODY_BYTES });
    }
    let dto: D = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::InvalidBody(e),
        _ => ApiError::MalformedJson(e),
    })?;
    C::try_from(dto).map_err(ApiError::from)
}

/// The `{id}` of the path and the command of the body: a request that changes a resource.
fn change<I: FromStr, D, C>(req: &Request) -> Result<(I, C), ApiError>
where
    D: DeserializeOwned,
    C: TryFrom<D, Error = DomainError>,
{
    Ok((path_id(req)?, command::<D, C>(req)?))
}

fn path_id<T: FromStr>(req: &Request) -> Result<T, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first("id"))
        .and_then(|s| T::from_str(s).ok())
        .ok_or(ApiError::InvalidPathId("id"))
}

fn query<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref().and_then(|q| q.first(name))
}

fn page_size(req: &Request) -> Result<PageSize, ApiError> {
    match query(req, "limit") {
        None => Ok(PageSize::DEFAULT),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .and_then(PageSize::new)
            .ok_or(ApiError::InvalidQuery { param: "limit", reason: "must be a whole number from 1 to 100" }),
    }
}

fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    match req.headers().get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().ok().and_then(IdempotencyKey::parse).map(Some).ok_or(ApiError::InvalidIdempotencyKey),
    }
}

/// The `If-Match` of a write: `None` when absent, empty (a field with no value names no tag, as
/// some clients send an optional header they have no value for) or `*` (the product exists: a
/// missing one is a 404 anyway), else the catalogue revision of the one strong entity tag it names, as
/// [`product`] answers it in `ETag` (`"<revision>"`, digits, no leading zero). Anything else (a
/// list, a weak tag, a tag of another form) is refused: no answer of this API could have given it.
fn if_match(req: &Request) -> Result<Option<u64>, ApiError> {
    let Some(v) = req.headers().get("if-match") else { return Ok(None) };
    let v = v.to_str().map_err(|_| ApiError::InvalidIfMatch)?.trim();
    if v.is_empty() || v == "*" {
        return Ok(None);
    }
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|r| (1..=10).contains(&r.len()) && !r.starts_with('0') && r.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|r| r.parse().ok())
        .map(Some)
        .ok_or(ApiError::InvalidIfMatch)
}

/// `status` with the product's view and its `ETag`: its catalogue revision (name, price,
/// discontinuation), which an `If-Match` on a later write names. Stock figures move with every
/// order and are not part of it: an order does not make an operator's edit stale.
fn product(status: StatusCode, p: &Product) -> Result<Response<Body>, ApiError> {
    let mut r = json(status, &ProductView::from(p))?;
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", p.revision())) {
        r.headers_mut().insert(ETAG, tag);
    }
    Ok(r)
}

fn json(status: StatusCode, value: &impl Serialize) -> Result<Response<Body>, ApiError> {
    let text = serde_json::to_string(value).map_err(|e| ApiError::App(AppError::Serialization(e)))?;
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
}

/// 201 with the created resource's view, its `Location`, and whether it is a replay.
fn created<R>(c: &Created<R>, view: &impl Serialize, location: String) -> Result<Response<Body>, ApiError> {
    located(c, json(StatusCode::CREATED, view)?, location)
}

/// `r` with the created resource's `Location`, and whether it is a replay.
fn located<R>(c: &Created<R>, mut r: Response<Body>, location: String) -> Result<Response<Body>, ApiError> {
    if let Ok(v) = location.parse() {
        r.headers_mut().insert("location", v);
    }
    if c.replayed {
        r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(r)
}

/// What a handler answers: a response, or the error [`finish`] renders as problem+json.
pub type Reply = Result<Response<Body>, ApiError>;

/// The answer to a request for `instance` (its path): the handler's response, or its error as
/// problem+json.
pub fn finish(instance: &str, reply: Reply) -> Response<Body> {
    reply.unwrap_or_else(|e| problem_response(&e, instance))
}

/// POST /customers: the caller registers themselves, with the email their token carries (as their
/// identity provider verified it) and the configured credit limit.
pub async fn create_customer(svc: &CustomerService, credit_limit: Money, caller: Caller, req: Request) -> Reply {
    let key = idempotency_key(&req)?;
    let email = crate::claims::verified_email(&req)?;
    let cmd: RegisterCustomer = command::<CreateCustomerDto, _>(&req)?;
    let c = svc.register(&caller, email, cmd, credit_limit, key.as_ref()).await?;
    created(&c, &CustomerView::from(&c.resource), format!("/customers/{}", c.resource.id()))
}

/// GET /customers/{id}
pub async fn get_customer(svc: &CustomerService, caller: Caller, req: Request) -> Reply {
    json(StatusCode::OK, &CustomerView::from(&svc.get(&caller, path_id::<CustomerId>(&req)?).await?))
}

/// GET /me: the caller's own customer.
pub async fn get_me(svc: &CustomerService, caller: Caller, _req: Request) -> Reply {
    json(StatusCode::OK, &CustomerView::from(&svc.get(&caller, caller.customer_id()).await?))
}

/// PATCH /customers/{id}
pub async fn update_customer(svc: &CustomerService, caller: Caller, req: Request) -> Reply {
    let (id, cmd): (CustomerId, UpdateCustomer) = change::<_, UpdateCustomerDto, _>(&req)?;
    json(StatusCode::OK, &CustomerView::from(&svc.update(&caller, id, cmd).await?))
}

/// PUT /customers/{id}/credit-limit
pub async fn change_credit_limit(svc: &CustomerService, caller: Caller, req: Request) -> Reply {
    let (id, cmd): (CustomerId, ChangeCreditLimit) = change::<_, CreditLimitDto, _>(&req)?;
    json(StatusCode::OK, &CustomerView::from(&svc.change_credit_limit(&caller, id, cmd).await?))
}

/// GET /customers/{id}/orders?status=&limit=&cursor=
pub async fn find_order_history(svc: &OrderService, caller: Caller, req: Request) -> Reply {
    let customer: CustomerId = path_id(&req)?;
    let page = svc.history(&caller, customer, status(&req)?, page_size(&req)?, query(&req, "cursor")).await?;
    json(StatusCode::OK, &PageView::<OrderView>::of(page))
}

/// GET /orders?status=&limit=&cursor= (admins): every customer's orders of one status, PENDING
/// when none is given, oldest first.
pub async fn list_orders(svc: &OrderService, caller: Caller, req: Request) -> Reply {
    let status = status(&req)?.unwrap_or(OrderStatus::Pending);
    let page = svc.by_status(&caller, status, page_size(&req)?, query(&req, "cursor")).await?;
    json(StatusCode::OK, &PageView::<OrderView>::of(page))
}

/// The `status` query parameter, when given.
fn status(req: &Request) -> Result<Option<OrderStatus>, ApiError> {
    query(req, "status").map(OrderStatus::from_str).transpose().map_err(|_| ApiError::InvalidQuery {
        param: "status",
        reason: "must be PENDING, APPROVED, REJECTED or CANCELLED",
    })
}

/// POST /products (admins; Idempotency-Key honoured: a retry adds once)
pub async fn create_product(svc: &ProductService, caller: Caller, req: Request) -> Reply {
    let key = idempotency_key(&req)?;
    let cmd: AddProduct = command::<CreateProductDto, _>(&req)?;
    let c = svc.add(&caller, cmd, key.as_ref()).await?;
    located(&c, product(StatusCode::CREATED, &c.resource)?, format!("/products/{}", c.resource.id()))
}

/// GET /products/{id}, with its `ETag`.
pub async fn get_product(svc: &ProductService, req: Request) -> Reply {
    product(StatusCode::OK, &svc.get(path_id::<ProductId>(&req)?).await?)
}

/// PATCH /products/{id} (If-Match honoured: a stale revision is a 412 and changes nothing)
pub async fn update_product(svc: &ProductService, caller: Caller, req: Request) -> Reply {
    let expected = if_match(&req)?;
    let (id, cmd): (ProductId, UpdateProduct) = change::<_, UpdateProductDto, _>(&req)?;
    product(StatusCode::OK, &svc.update(&caller, id, cmd, expected).await?)
}

/// POST /products/{id}/restock (Idempotency-Key honoured: a retry adds once; If-Match honoured)
pub async fn restock_product(svc: &ProductService, caller: Caller, req: Request) -> Reply {
    let key = idempotency_key(&req)?;
    let expected = if_match(&req)?;
    let (id, cmd): (ProductId, Restock) = change::<_, RestockDto, _>(&req)?;
    let done = svc.restock(&caller, id, cmd, key.as_ref(), expected).await?;
    let mut r = product(StatusCode::OK, &done.resource)?;
    if done.replayed {
        r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(r)
}

/// POST /products/{id}/discontinue (If-Match honoured)
pub async fn discontinue_product(svc: &ProductService, caller: Caller, req: Request) -> Reply {
    let expected = if_match(&req)?;
    product(StatusCode::OK, &svc.discontinue(&caller, path_id(&req)?, expected).await?)
}

/// GET /products?limit=&cursor=
pub async fn list_products(svc: &ProductService, req: Request) -> Reply {
    json(StatusCode::OK, &PageView::<ProductView>::of(svc.list(page_size(&req)?, query(&req, "cursor")).await?))
}

/// POST /orders
pub async fn create_order(svc: &OrderPlacement, caller: Caller, req: Request) -> Reply {
    let key = idempotency_key(&req)?;
    let cmd: PlaceOrder = command::<CreateOrderDto, _>(&req)?;
    let c = svc.place(&caller, cmd, key.as_ref()).await?;
    created(&c, &OrderView::from(&c.resource), format!("/orders/{}", c.resource.id()))
}

/// GET /orders/{id}
pub async fn get_order(svc: &OrderService, caller: Caller, req: Request) -> Reply {
    json(StatusCode::OK, &OrderView::from(&svc.get(&caller, path_id::<OrderId>(&req)?).await?))
}

/// GET /orders/{id}/timeline: the steps of the order's saga, to its customer or an admin.
pub async fn get_order_timeline(svc: &OrderService, caller: Caller, req: Request) -> Reply {
    json(StatusCode::OK, &TimelineView::from(&svc.get(&caller, path_id::<OrderId>(&req)?).await?))
}

/// POST /orders/{id}/cancel
pub async fn cancel_order(svc: &OrderService, caller: Caller, req: Request) -> Reply {
    json(StatusCode::OK, &OrderView::from(&svc.cancel(&caller, path_id::<OrderId>(&req)?).await?))
}

/// POST /shipping/quote
pub async fn quote_shipping(shipping: &ShippingCostService, req: Request) -> Reply {
    let cmd: QuoteShipping = command::<QuoteDto, _>(&req)?;
    json(StatusCode::OK, &QuoteView::from(quote(shipping, &cmd)?))
}
