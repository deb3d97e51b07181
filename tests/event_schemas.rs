//! The events on the bus as a published contract: a JSON Schema per event type under
//! `schemas/events/`, generated from the types the domain emits (`app::bus::schemas`).
//!
//! - The committed schemas are what the code generates (regenerate with
//!   `UPDATE_EVENT_SCHEMAS=1 cargo nextest run -p system-tests --test event_schemas`).
//! - A change that would break a consumer (a required field removed, renamed, made optional or
//!   retyped; an enum or tagged-union value removed) is refused at the same schema version: raise
//!   that event type's version (`domain::SchemaVersions`), which writes its new `.v<N>.json` file
//!   beside the old ones; the other types keep theirs.
//! - The code reads every version of a type it claims to (back to its `oldest_read`): each of
//!   those is committed, and nothing the current version requires is missing from it.
//! - Every sample in `events/` and every event a simulation run emits validates against its schema.

use std::collections::BTreeMap;
use std::path::PathBuf;

use local_runner::rules::RuleTable;
use serde_json::Value;
use simulation::{emitted_events, Faults};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/events")
}

const REGENERATE: &str = "UPDATE_EVENT_SCHEMAS=1 cargo nextest run -p system-tests --test event_schemas";

fn committed(file: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir().join(file)).ok()?;
    serde_json::from_str(&text).ok()
}

// ---------------------------------------------------------------- what breaks a consumer

/// `node` with a local `$ref` followed in `root`'s `$defs`.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => resolve(root, &root["$defs"][name]),
        None => node,
    }
}

fn types(v: &Value) -> Vec<String> {
    match &v["type"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        _ => vec![],
    }
}

/// The discriminating constant of a tagged-union alternative (`kind`, `type`, `status`...).
fn tag(root: &Value, alternative: &Value) -> Option<String> {
    let alternative = resolve(root, alternative);
    alternative["properties"].as_object()?.iter().find_map(|(k, p)| p["const"].as_str().map(|c| format!("{k}={c}")))
}

/// Every way `new` would break a consumer written against `old`, with where.
fn breaking(old_root: &Value, old: &Value, new_root: &Value, new: &Value, at: &str, out: &mut Vec<String>) {
    let (old, new) = (resolve(old_root, old), resolve(new_root, new));
    if types(old) != types(new) {
        out.push(format!("{at}: type {:?} became {:?}", types(old), types(new)));
    }
    if old.get("const").is_some() && old.get("const") != new.get("const") {
        out.push(format!("{at}: constant {} became {}", old["const"], new["const"]));
    }
    if let Some(values) = old["enum"].as_array() {
        let now = new["enum"].as_array().cloned().unwrap_or_default();
        for v in values.iter().filter(|v| !now.contains(v)) {
            out.push(format!("{at}: enum value {v} removed"));
        }
    }
    for key in ["oneOf", "anyOf"] {
        let Some(alternatives) = old[key].as_array() else { continue };
        let now: Vec<&Value> = new[key].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        for (i, alt) in alternatives.iter().enumerate() {
            let label = tag(old_root, alt);
            let counterpart = match &label {
                Some(t) => now.iter().find(|n| tag(new_root, n).as_ref() == Some(t)).copied(),
                None => now.get(i).copied(),
            };
            match counterpart {
                Some(n) => breaking(
                    old_root,
                    alt,
                    new_root,
                    n,
                    &format!("{at}/{key}[{}]", label.as_deref().unwrap_or("?")),
                    out,
                ),
                None => out.push(format!("{at}: {key} alternative {} removed", label.unwrap_or_else(|| i.to_string()))),
            }
        }
    }
    if let Some(parts) = old["allOf"].as_array() {
        for (i, part) in parts.iter().enumerate() {
            match new["allOf"].get(i) {
                Some(n) => breaking(old_root, part, new_root, n, &format!("{at}/allOf[{i}]"), out),
                None => out.push(format!("{at}: allOf[{i}] removed")),
            }
        }
    }
    let required = |v: &Value| -> Vec<String> {
        v["required"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let new_required = required(new);
    for field in required(old) {
        if !new_required.contains(&field) {
            out.push(format!("{at}: required field {field} removed, renamed or made optional"));
        }
    }
    if let Some(props) = old["properties"].as_object() {
        for (name, schema) in props {
            if let Some(n) = new["properties"].get(name) {
                breaking(old_root, schema, new_root, n, &format!("{at}/{name}"), out);
            }
        }
    }
    if let (Some(o), Some(n)) = (old.get("items"), new.get("items")) {
        breaking(old_root, o, new_root, n, &format!("{at}[]"), out);
    }
}

fn breaking_changes(old: &Value, new: &Value) -> Vec<String> {
    let mut out = vec![];
    breaking(old, old, new, new, "", &mut out);
    out
}

// ---------------------------------------------------------------- the tests

#[test]
fn the_committed_event_schemas_are_what_the_code_generates_and_no_change_breaks_a_version() {
    let update = std::env::var("UPDATE_EVENT_SCHEMAS").is_ok_and(|v| v == "1");
    let generated = app::bus::schemas();
    assert_eq!(generated.len(), domain::DomainEvent::TYPES.len(), "one schema per event type");
    let mut problems = vec![];
    for (file, schema) in &generated {
        match committed(file) {
            Some(old) if &old == schema => {}
            Some(old) => {
                let broken = breaking_changes(&old, schema);
                if !broken.is_empty() {
                    problems.push(format!(
                        "{file}: a breaking change at the same schema version ({}); raise its version (domain::SchemaVersions)",
                        broken.join("; ")
                    ));
                } else if update {
                    write(file, schema);
                } else {
                    problems.push(format!("{file} differs (compatibly) from what the code generates"));
                }
            }
            None if update => write(file, schema),
            None => problems.push(format!("{file} is not committed")),
        }
    }
    assert!(problems.is_empty(), "{}\nregenerate: {REGENERATE}", problems.join("\n"));
}

/// `schema` without the constant that names its version (`metadata.schemaVersion`), so two
/// versions compare on what their events carry.
fn unversioned(schema: &Value) -> Value {
    let mut s = schema.clone();
    s["properties"]["metadata"] = s["properties"]["metadata"]["allOf"][0].clone();
    s
}

/// A reader of the current version decodes the older versions it claims to read: each is
/// committed, and an event written at it has everything the current version requires, of the
/// types it requires (it may carry more: readers ignore what they do not know).
#[test]
fn every_older_version_a_type_still_reads_decodes_as_its_current_one() {
    let mut checked = 0;
    for (detail_type, _) in domain::DomainEvent::TYPES {
        let versions = domain::SchemaVersions::of(detail_type);
        let current = committed(&format!("{detail_type}.v{}.json", versions.current)).expect("the current version");
        for older in versions.oldest_read..versions.current {
            let file = format!("{detail_type}.v{older}.json");
            let old =
                committed(&file).unwrap_or_else(|| panic!("{file}, which the code still reads, is not committed"));
            let missing = breaking_changes(&unversioned(&current), &unversioned(&old));
            assert!(missing.is_empty(), "{file} does not decode as version {}: {missing:?}", versions.current);
            checked += 1;
        }
    }
    assert!(checked >= 1, "CustomerRegistered reads its version 1");
}

fn write(file: &str, schema: &Value) {
    std::fs::create_dir_all(dir()).expect("schemas/events");
    let text = serde_json::to_string_pretty(schema).expect("JSON") + "\n";
    std::fs::write(dir().join(file), text).expect("written");
}

/// The schemas, compiled, by detail-type.
fn validators() -> BTreeMap<String, jsonschema::Validator> {
    app::bus::schemas()
        .into_iter()
        .map(|(file, schema)| {
            let detail_type = file.split('.').next().unwrap_or_default().to_owned();
            let v = jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("{file} does not compile: {e}"));
            (detail_type, v)
        })
        .collect()
}

fn check(validators: &BTreeMap<String, jsonschema::Validator>, detail_type: &str, detail: &Value, what: &str) {
    let v = validators.get(detail_type).unwrap_or_else(|| panic!("{what}: no schema for {detail_type}"));
    let errors: Vec<String> = v.iter_errors(detail).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} ({detail_type}) does not match its schema: {errors:?}\n{detail}");
}

#[test]
fn every_event_sample_validates_against_its_schema() {
    let validators = validators();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).expect("events/").filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let sample: Value = serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("read")).expect("JSON");
        // A bus event (a saga step's input).
        if let (Some(t), Some(_)) = (sample["detail-type"].as_str(), sample.get("detail")) {
            if validators.contains_key(t) {
                check(&validators, t, &sample["detail"], &name);
                checked += 1;
            }
        }
        // Outbox items in a stream batch (the relay's input): their stored detail; bus events in a
        // step's queue (a step's input): their detail.
        for r in sample["Records"].as_array().into_iter().flatten() {
            let event: Value = r["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
            if let (Some(t), Some(d)) = (event["detail-type"].as_str(), event.get("detail")) {
                if validators.contains_key(t) {
                    check(&validators, t, d, &name);
                    checked += 1;
                }
            }
            let image = &r["dynamodb"]["NewImage"];
            if let (Some(t), Some(d)) = (image["detailType"]["S"].as_str(), image["detail"]["S"].as_str()) {
                let detail: Value = serde_json::from_str(d).expect("an outbox detail is JSON");
                check(&validators, t, &detail, &name);
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} samples carry an event");
}

#[tokio::test(flavor = "current_thread")]
async fn every_event_a_simulation_emits_validates_against_its_schema() {
    let validators = validators();
    let rules = RuleTable::from_template(&system_tests::template()).expect("rules");
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        for r in emitted_events(seed, &rules, Faults::default()).await.unwrap_or_else(|e| panic!("seed {seed}: {e}")) {
            let detail: Value = serde_json::from_str(&r.detail).expect("JSON detail");
            check(&validators, &r.detail_type, &detail, &format!("seed {seed}, event {}", r.event_id));
            seen.insert(r.detail_type);
        }
    }
    let all: std::collections::BTreeSet<String> =
        domain::DomainEvent::TYPES.iter().map(|(t, _)| (*t).to_owned()).collect();
    let missing: Vec<&String> = all.difference(&seen).collect();
    assert!(seen.len() * 10 >= all.len() * 8, "the runs emitted too few kinds of event; never: {missing:?}");
}

#[test]
fn a_breaking_change_is_told_from_a_compatible_one() {
    let old = serde_json::json!({
        "type": "object",
        "properties": {
            "orderId": {"type": "string"},
            "quantity": {"type": "integer"},
            "reason": {"$ref": "#/$defs/Reason"},
            "failure": {"oneOf": [
                {"type": "object", "properties": {"kind": {"const": "OUT_OF_STOCK"}}, "required": ["kind"]},
                {"type": "object", "properties": {"kind": {"const": "UNKNOWN"}}, "required": ["kind"]}
            ]}
        },
        "required": ["orderId", "quantity", "reason", "failure"],
        "$defs": {"Reason": {"type": "string", "enum": ["A", "B"]}}
    });
    assert!(breaking_changes(&old, &old).is_empty());
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = old.clone();
        f(&mut v);
        breaking_changes(&old, &v)
    };
    // Compatible: an optional field added, an enum value added.
    assert!(edit(&|v| v["properties"]["note"] = serde_json::json!({"type": "string"})).is_empty());
    assert!(edit(&|v| v["$defs"]["Reason"]["enum"] = serde_json::json!(["A", "B", "C"])).is_empty());
    // Breaking: removed, renamed, retyped, made optional, an enum value or alternative removed.
    assert!(!edit(&|v| v["required"] = serde_json::json!(["quantity", "reason", "failure"])).is_empty());
    assert!(!edit(&|v| {
        let p = v["properties"]["orderId"].take();
        v["properties"]["order"] = p;
        v["required"] = serde_json::json!(["order", "quantity", "reason", "failure"]);
    })
    .is_empty());
    assert!(!edit(&|v| v["properties"]["quantity"]["type"] = serde_json::json!("string")).is_empty());
    assert!(!edit(&|v| v["$defs"]["Reason"]["enum"] = serde_json::json!(["A"])).is_empty());
    assert!(
        !edit(&|v| v["properties"]["failure"]["oneOf"].as_array_mut().map(|a| a.pop()).map_or((), |_| ())).is_empty()
    );
}
