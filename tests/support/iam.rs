//! Which AWS actions code actually calls, on which resources: an SDK interceptor that reads each
//! request as it goes to the wire. ministack does not enforce IAM, so comparing what is called
//! with what the template grants is how least privilege is proven.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

/// (IAM action, table name and index — or "bus" for EventBridge), as called.
pub type Call = (String, String);

/// (table name, partition key) of one item a request reads or writes: what IAM's
/// `dynamodb:LeadingKeys` condition is checked against.
pub type Key = (String, String);

/// Records every DynamoDB/EventBridge request per function name, and every partition key each
/// touches on a table (index queries are not subject to `LeadingKeys` and are not recorded).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    calls: Arc<Mutex<BTreeMap<String, BTreeSet<Call>>>>,
    keys: Arc<Mutex<BTreeMap<String, BTreeSet<Key>>>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

/// One request on the wire, as AWS bills and throttles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub function: String,
    /// The API operation (`GetItem`, `TransactWriteItems`, `PutEvents`, `GetRecords`...).
    pub operation: String,
    /// Items a DynamoDB request reads or writes, or entries of a `PutEvents`.
    pub items: usize,
}

impl Request {
    pub fn is_read(&self) -> bool {
        matches!(self.operation.as_str(), "GetItem" | "BatchGetItem" | "Query" | "Scan" | "TransactGetItems")
    }
    pub fn is_write(&self) -> bool {
        matches!(
            self.operation.as_str(),
            "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem"
        )
    }
}

/// The requests of one invocation, summed: what the request-count test holds each operation to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// DynamoDB read requests (GetItem, BatchGetItem, Query...).
    pub reads: usize,
    /// DynamoDB write requests (PutItem, UpdateItem, TransactWriteItems...).
    pub writes: usize,
    /// Items the reads and the writes touch (a batch's or a transaction's items, one for a
    /// single-item call): what DynamoDB bills read and write request units by.
    pub read_items: usize,
    pub write_items: usize,
    /// EventBridge PutEvents requests and the entries they carry.
    pub put_events: usize,
    pub entries: usize,
    /// DynamoDB Streams requests (the relay's redrive reads its ranges back).
    pub stream_reads: usize,
}

impl Counts {
    pub fn of(requests: &[Request]) -> Counts {
        let mut c = Counts::default();
        for r in requests {
            if r.is_read() {
                c.reads += 1;
                c.read_items += r.items;
            } else if r.is_write() {
                c.writes += 1;
                c.write_items += r.items;
            } else if r.operation == "PutEvents" {
                c.put_events += 1;
                c.entries += r.items;
            } else {
                c.stream_reads += 1;
            }
        }
        c
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            reads: self.reads + o.reads,
            writes: self.writes + o.writes,
            read_items: self.read_items + o.read_items,
            write_items: self.write_items + o.write_items,
            put_events: self.put_events + o.put_events,
            entries: self.entries + o.entries,
            stream_reads: self.stream_reads + o.stream_reads,
        }
    }
}

#[derive(Debug)]
struct Tap {
    function: String,
    /// The stream of the last `GetShardIterator`: a `GetRecords` names only the iterator.
    stream: Mutex<String>,
    calls: Arc<Mutex<BTreeMap<String, BTreeSet<Call>>>>,
    keys: Arc<Mutex<BTreeMap<String, BTreeSet<Key>>>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Recorder {
    /// An interceptor to attach to the clients of `function`.
    pub fn tap(&self, function: &str) -> impl Intercept + 'static {
        Tap {
            function: function.to_owned(),
            stream: Mutex::default(),
            calls: self.calls.clone(),
            keys: self.keys.clone(),
            requests: self.requests.clone(),
        }
    }

    /// How many requests have been recorded so far: a mark to take [`Recorder::since`] from.
    pub fn mark(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Every request recorded after `mark`, in order.
    pub fn since(&self, mark: usize) -> Vec<Request> {
        self.requests.lock().map(|r| r.get(mark..).unwrap_or_default().to_vec()).unwrap_or_default()
    }

    pub fn calls(&self) -> BTreeMap<String, BTreeSet<Call>> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Per function, every (table, partition key) it read or wrote.
    pub fn keys(&self) -> BTreeMap<String, BTreeSet<Key>> {
        self.keys.lock().map(|k| k.clone()).unwrap_or_default()
    }
}

fn pk(item: &Value) -> String {
    item["PK"]["S"].as_str().unwrap_or("<no PK>").to_owned()
}

/// The partition keys one DynamoDB request names, per table.
fn keys_of(target: &str, body: &Value) -> Vec<Key> {
    let op = target.split_once('.').map_or(target, |(_, op)| op);
    let table = |v: &Value| v["TableName"].as_str().unwrap_or("?").to_owned();
    match op {
        "GetItem" | "DeleteItem" | "UpdateItem" => vec![(table(body), pk(&body["Key"]))],
        "PutItem" => vec![(table(body), pk(&body["Item"]))],
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let (kind, inner) = item.as_object()?.iter().next()?;
                let key = if kind == "Put" { &inner["Item"] } else { &inner["Key"] };
                Some((table(inner), pk(key)))
            })
            .collect(),
        "BatchGetItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(t, r)| r["Keys"].as_array().into_iter().flatten().map(move |k| (t.clone(), pk(k))))
            .collect(),
        // A query on an index is checked against the index's own keys, not `LeadingKeys`; the
        // bundle queries no table directly (the manifest grants Query on indexes only).
        "Query" if body["IndexName"].is_string() => vec![],
        other => vec![(table(body), format!("<{other}: keys not read>"))],
    }
}

/// Items one request reads or writes (entries, for PutEvents).
fn items_of(operation: &str, body: &Value) -> usize {
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    match operation {
        "TransactWriteItems" | "TransactGetItems" => len(&body["TransactItems"]),
        "BatchGetItem" => body["RequestItems"].as_object().map_or(0, |m| m.values().map(|r| len(&r["Keys"])).sum()),
        "BatchWriteItem" => body["RequestItems"].as_object().map_or(0, |m| m.values().map(len).sum()),
        "PutEvents" => len(&body["Entries"]),
        _ => 1,
    }
}

fn table_of(v: &Value) -> String {
    let table = v["TableName"].as_str().unwrap_or("?");
    match v["IndexName"].as_str() {
        Some(index) => format!("{table}/index/{index}"),
        None => table.to_owned(),
    }
}

/// The IAM actions one request needs. TransactWriteItems has no action of its own: each item is
/// authorised as the single-item call it stands for.
fn actions(target: &str, body: &Value) -> Vec<Call> {
    let (service, op) = target.split_once('.').unwrap_or(("", target));
    if service.starts_with("AWSEvents") {
        return vec![(format!("events:{op}"), "bus".to_owned())];
    }
    let mut out = vec![];
    match op {
        "TransactWriteItems" => {
            for item in body["TransactItems"].as_array().into_iter().flatten() {
                for (kind, action) in [
                    ("Put", "PutItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                ] {
                    if let Some(inner) = item.get(kind) {
                        out.push((format!("dynamodb:{action}"), table_of(inner)));
                    }
                }
            }
        }
        "BatchGetItem" => {
            for table in body["RequestItems"].as_object().into_iter().flat_map(|m| m.keys()) {
                out.push(("dynamodb:BatchGetItem".to_owned(), table.clone()));
            }
        }
        _ => out.push((format!("dynamodb:{op}"), table_of(body))),
    }
    out
}

impl Intercept for Tap {
    fn name(&self) -> &'static str {
        "iam-recorder"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = ctx.request();
        let target = req.headers().get("x-amz-target").unwrap_or("").to_owned();
        let body: Value = req.body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
        if let Ok(mut requests) = self.requests.lock() {
            let operation = target.split_once('.').map_or(target.as_str(), |(_, op)| op).to_owned();
            requests.push(Request { function: self.function.clone(), items: items_of(&operation, &body), operation });
        }
        if let Some(op) = target.strip_prefix("DynamoDBStreams_20120810.") {
            // `arn:...:table/<name>/stream/<label>` read as `<name>/stream`.
            let mut last = self.stream.lock().map_err(|_| "poisoned")?;
            if let Some(arn) = body["StreamArn"].as_str() {
                *last = arn.split('/').nth(1).map_or_else(|| "?".to_owned(), |t| format!("{t}/stream"));
            }
            if let Ok(mut calls) = self.calls.lock() {
                calls.entry(self.function.clone()).or_default().insert((format!("dynamodb:{op}"), last.clone()));
            }
            return Ok(());
        }
        if let Ok(mut calls) = self.calls.lock() {
            calls.entry(self.function.clone()).or_default().extend(actions(&target, &body));
        }
        if target.starts_with("DynamoDB") {
            if let Ok(mut keys) = self.keys.lock() {
                keys.entry(self.function.clone()).or_default().extend(keys_of(&target, &body));
            }
        }
        Ok(())
    }
}
