//! EventBridge event patterns: parsed once, matched against events shaped as EventBridge
//! delivers them (`source`, `detail-type`, `detail`, ...).
//!
//! Supported: exact values, `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (a value,
//! a list, or a prefix), `exists`, nested objects and `$or`. Anything else (`numeric`, `cidr`,
//! `wildcard`...) is refused when the pattern is parsed, so a runner never routes by a rule it
//! only half understands.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("unsupported pattern operator {operator:?} at {path}")]
    Unsupported { operator: String, path: String },
    #[error("malformed pattern at {path}: {problem}")]
    Malformed { path: String, problem: &'static str },
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Equals(Value),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Value>),
    AnythingButPrefix(String),
    Exists(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Nested(Pattern),
    Leaf(Vec<Matcher>),
}

/// A parsed pattern: every field must match, and at least one branch of each `$or`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    fields: Vec<(String, Node)>,
    ors: Vec<Vec<Pattern>>,
}

fn malformed(path: &str, problem: &'static str) -> PatternError {
    PatternError::Malformed { path: path.to_owned(), problem }
}

fn matcher(v: &Value, path: &str) -> Result<Matcher, PatternError> {
    let Value::Object(m) = v else { return Ok(Matcher::Equals(v.clone())) };
    let (op, arg) = m.iter().next().filter(|_| m.len() == 1).ok_or_else(|| malformed(path, "a matcher has one key"))?;
    let text = || arg.as_str().map(str::to_owned).ok_or_else(|| malformed(path, "expects a string"));
    Ok(match op.as_str() {
        "prefix" => Matcher::Prefix(text()?),
        "suffix" => Matcher::Suffix(text()?),
        "equals-ignore-case" => Matcher::EqualsIgnoreCase(text()?),
        "exists" => Matcher::Exists(arg.as_bool().ok_or_else(|| malformed(path, "exists expects a boolean"))?),
        "anything-but" => match arg {
            Value::Array(values) => {
                if values.iter().any(|x| x.is_object() || x.is_array()) {
                    return Err(malformed(path, "anything-but lists hold plain values"));
                }
                Matcher::AnythingBut(values.clone())
            }
            Value::Object(inner) => match inner.iter().next() {
                Some((k, Value::String(p))) if k == "prefix" && inner.len() == 1 => {
                    Matcher::AnythingButPrefix(p.clone())
                }
                _ => {
                    let op = inner.keys().next().cloned().unwrap_or_default();
                    return Err(PatternError::Unsupported {
                        operator: format!("anything-but/{op}"),
                        path: path.to_owned(),
                    });
                }
            },
            other => Matcher::AnythingBut(vec![other.clone()]),
        },
        other => return Err(PatternError::Unsupported { operator: other.to_owned(), path: path.to_owned() }),
    })
}

impl Pattern {
    pub fn parse(v: &Value) -> Result<Pattern, PatternError> {
        Self::parse_at(v, "$")
    }

    fn parse_at(v: &Value, path: &str) -> Result<Pattern, PatternError> {
        let Value::Object(m) = v else { return Err(malformed(path, "a pattern is an object")) };
        let mut p = Pattern { fields: vec![], ors: vec![] };
        for (k, v) in m {
            let here = format!("{path}.{k}");
            if k == "$or" {
                let branches =
                    v.as_array().filter(|a| !a.is_empty()).ok_or_else(|| malformed(&here, "$or takes a list"))?;
                p.ors.push(branches.iter().map(|b| Self::parse_at(b, &here)).collect::<Result<_, _>>()?);
                continue;
            }
            let node = match v {
                Value::Object(_) => Node::Nested(Self::parse_at(v, &here)?),
                Value::Array(items) if !items.is_empty() => {
                    Node::Leaf(items.iter().map(|i| matcher(i, &here)).collect::<Result<_, _>>()?)
                }
                _ => return Err(malformed(&here, "a field takes a non-empty list or an object")),
            };
            p.fields.push((k.clone(), node));
        }
        Ok(p)
    }

    /// Does `event` (as EventBridge shapes it) match?
    pub fn matches(&self, event: &Value) -> bool {
        let obj = event.as_object();
        self.fields.iter().all(|(k, node)| field_matches(obj, k, node))
            && self.ors.iter().all(|branches| branches.iter().any(|b| b.matches(event)))
    }
}

fn field_matches(obj: Option<&Map<String, Value>>, key: &str, node: &Node) -> bool {
    let value = obj.and_then(|o| o.get(key));
    match node {
        Node::Nested(p) => value.is_some_and(|v| v.is_object() && p.matches(v)),
        Node::Leaf(ms) => ms.iter().any(|m| leaf_matches(value, m)),
    }
}

fn leaf_matches(value: Option<&Value>, m: &Matcher) -> bool {
    match (m, value) {
        (Matcher::Exists(want), v) => *want == v.is_some_and(|v| !v.is_object()),
        (_, None) => false,
        // A list in the event matches when any element does.
        (m, Some(Value::Array(items))) => items.iter().any(|i| scalar_matches(i, m)),
        (m, Some(v)) => scalar_matches(v, m),
    }
}

fn scalar_matches(v: &Value, m: &Matcher) -> bool {
    let s = v.as_str();
    match m {
        Matcher::Equals(want) => v == want,
        Matcher::Prefix(p) => s.is_some_and(|s| s.starts_with(p.as_str())),
        Matcher::Suffix(p) => s.is_some_and(|s| s.ends_with(p.as_str())),
        Matcher::EqualsIgnoreCase(p) => s.is_some_and(|s| s.eq_ignore_ascii_case(p)),
        Matcher::AnythingBut(values) => !values.contains(v),
        Matcher::AnythingButPrefix(p) => s.is_some_and(|s| !s.starts_with(p.as_str())),
        Matcher::Exists(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(detail_type: &str, reason: Option<&str>) -> Value {
        let mut data = json!({"orderId": "o-1"});
        if let Some(r) = reason {
            data["reason"] = json!(r);
        }
        json!({"source": "shop.orders", "detail-type": detail_type, "detail": {"metadata": {}, "data": data}})
    }

    #[test]
    fn source_and_detail_type_must_both_match() {
        let p = Pattern::parse(&json!({"source": ["shop.orders"], "detail-type": ["OrderCreated", "OrderPriced"]}))
            .unwrap();
        assert!(p.matches(&event("OrderCreated", None)));
        assert!(p.matches(&event("OrderPriced", None)));
        assert!(!p.matches(&event("OrderRejected", None)));
        assert!(!p.matches(&json!({"source": "shop.products", "detail-type": "OrderCreated"})));
    }

    #[test]
    fn anything_but_filters_on_detail_data() {
        let p = Pattern::parse(&json!({
            "detail-type": ["OrderRejected"],
            "detail": {"data": {"reason": [{"anything-but": ["OUT_OF_STOCK", "UNKNOWN_PRODUCT"]}]}}
        }))
        .unwrap();
        assert!(p.matches(&event("OrderRejected", Some("TIMED_OUT"))));
        assert!(!p.matches(&event("OrderRejected", Some("OUT_OF_STOCK"))));
        assert!(!p.matches(&event("OrderRejected", None)), "anything-but needs the field");
    }

    #[test]
    fn or_needs_one_branch() {
        let p = Pattern::parse(&json!({
            "source": ["shop.orders"],
            "$or": [
                {"detail-type": ["OrderRejected"], "detail": {"data": {"reason": [{"anything-but": "OUT_OF_STOCK"}]}}},
                {"detail-type": ["OrderCancelled"]}
            ]
        }))
        .unwrap();
        assert!(p.matches(&event("OrderCancelled", None)));
        assert!(p.matches(&event("OrderRejected", Some("TIMED_OUT"))));
        assert!(!p.matches(&event("OrderRejected", Some("OUT_OF_STOCK"))));
        assert!(!p.matches(&event("OrderCreated", None)));
    }

    #[test]
    fn prefix_suffix_exists_and_case() {
        let p = Pattern::parse(
            &json!({"detail-type": [{"prefix": "Order"}], "detail": {"data": {"reason": [{"exists": false}]}}}),
        )
        .unwrap();
        assert!(p.matches(&event("OrderCreated", None)));
        assert!(!p.matches(&event("OrderRejected", Some("X"))));
        let s = Pattern::parse(&json!({"detail-type": [{"suffix": "Failed"}, {"equals-ignore-case": "orderCREATED"}]}))
            .unwrap();
        assert!(s.matches(&event("StockReservationFailed", None)));
        assert!(s.matches(&event("OrderCreated", None)));
        assert!(!s.matches(&event("OrderPriced", None)));
    }

    #[test]
    fn unsupported_operators_are_refused_at_parse_time() {
        for p in [
            json!({"detail": {"total": [{"numeric": [">", 5]}]}}),
            json!({"source": [{"wildcard": "shop.*"}]}),
            json!({"source": [{"anything-but": {"suffix": "x"}}]}),
        ] {
            assert!(matches!(Pattern::parse(&p), Err(PatternError::Unsupported { .. })), "{p}");
        }
        assert!(matches!(Pattern::parse(&json!({"source": []})), Err(PatternError::Malformed { .. })));
        assert!(matches!(Pattern::parse(&json!({"source": "x"})), Err(PatternError::Malformed { .. })));
    }
}
