//! The generated template, read back the way the runner and the checks read it, says of every
//! function what its manifest declaration says: its route and who may call it, its variables and
//! where their values come from, exactly its actions on exactly its resources (table statements
//! limited to its key prefixes), and one rule per bus step. ministack does not enforce IAM, so
//! this (with the event replays' called == granted) is the proof of least privilege.

use std::collections::{BTreeMap, BTreeSet};

use bundle::manifest::{Auth, Function, Resource, Trigger};
use sam_template::generate::{pascal, resource_ref, template, EVENT_SOURCE_QUEUE_ACTIONS, SHARED};
use sam_template::Template;
use serde_json::Value;

fn generated() -> Template {
    Template::parse(&template(SHARED).expect("generate")).expect("parse")
}

/// How the reader sees a permission's resource: the template's text with its tag read as its
/// argument.
fn resource_text(r: Resource) -> String {
    let written = resource_ref(r);
    written.trim_start_matches("!GetAtt ").trim_start_matches("!Sub ").trim_matches('"').to_owned()
}

#[test]
fn every_function_reads_back_as_its_declaration() {
    let t = generated();
    let functions: BTreeMap<String, sam_template::Function> =
        t.functions().expect("functions").into_iter().map(|f| (f.binary.clone(), f)).collect();
    assert_eq!(functions.len(), Function::COUNT);
    for f in Function::ALL {
        let g = &functions[f.name()];
        assert_eq!(g.logical_id, format!("{}Function", pascal(f.name())));
        // Routes, and the authorizer opt-out of exactly the public ones.
        let route = match f.trigger() {
            Trigger::Http { method, path, auth, .. } => {
                let events = g.properties["Events"].as_object().expect("events");
                let opted_out = events.values().any(|e| e["Properties"]["Auth"]["Authorizer"] == "NONE");
                assert_eq!(opted_out, auth == Auth::Public, "{f}");
                vec![(method.to_owned(), path.to_owned())]
            }
            _ => vec![],
        };
        assert_eq!(g.routes, route, "{f}");
        assert_eq!(g.rules.len(), usize::from(matches!(f.trigger(), Trigger::Bus { .. })), "{f}");
        // Variables: exactly the declared ones.
        let vars: BTreeSet<&str> = g.env.keys().map(String::as_str).collect();
        assert_eq!(vars, f.env().iter().copied().collect(), "{f}");
        // Actions on resources: exactly the declared ones.
        // Its event source mapping's statement (on its own queue) comes with its trigger.
        let own_queue = format!("{}Queue.Arn", pascal(f.name()));
        let granted: BTreeSet<(String, String)> = g
            .statements
            .iter()
            .flat_map(|s| s.actions.iter().flat_map(move |a| s.resources.iter().map(move |r| (a.clone(), r.clone()))))
            .filter(|(a, r)| !(EVENT_SOURCE_QUEUE_ACTIONS.contains(&a.as_str()) && *r == own_queue))
            .collect();
        let declared: BTreeSet<(String, String)> =
            f.permissions().iter().map(|p| (p.action.to_owned(), resource_text(p.resource))).collect();
        assert_eq!(granted, declared, "{f}");
        // A table statement allows only the function's key prefixes; no other statement has a condition.
        for policy in g.properties["Policies"].as_array().into_iter().flatten() {
            for st in policy["Statement"].as_array().into_iter().flatten() {
                let keys = &st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
                let on_table = st["Resource"].as_str().is_some_and(|r| r.ends_with("Table.Arn"));
                let expected = if on_table { serde_json::json!(f.leading_keys()) } else { Value::Null };
                assert_eq!(keys, &expected, "{f}: {}", st["Resource"]);
            }
        }
    }
}

#[test]
fn every_function_has_its_log_group_and_alarms_and_every_queue_its_age_alarm() {
    let t = generated();
    let alarms = t.resources_of("AWS::CloudWatch::Alarm");
    for f in Function::ALL {
        let id = pascal(f.name());
        assert!(t.root["Resources"][format!("{id}LogGroup")].is_object(), "{f}");
        for metric in ["Errors", "Throttles"] {
            assert!(alarms.contains_key(&format!("{id}{metric}Alarm")), "{f}: {metric}");
        }
    }
    for q in t.resources_of("AWS::SQS::Queue").keys() {
        assert!(alarms.contains_key(&format!("{q}AgeAlarm")), "{q}");
    }
}
