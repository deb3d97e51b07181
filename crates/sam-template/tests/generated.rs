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

/// Issue 22: the bus trusted one principal tag, and a principal that could tag itself could speak
/// for any context (say, an `OrderPriced` naming another customer's credit). Now PutEvents is
/// denied to every principal that is not one of the publishing functions' roles (by ARN) or the
/// operator's, and to every one without the tag: both conditions, each its own Deny.
#[test]
fn only_the_relays_roles_and_the_operators_may_put_events_and_only_with_the_tag() {
    let t = generated();
    let publishers: Vec<Function> = Function::ALL.into_iter().filter(|f| f.publishes()).collect();
    assert_eq!(publishers, [Function::OutboxRelay, Function::RedriveOutbox], "only the relay's functions publish");
    let roles: Vec<String> =
        publishers.iter().map(|f| format!("{}.Arn", sam_template::generate::role_id(*f))).collect();
    let denies: Vec<&Value> = t.root["Resources"]["EventBus"]["Properties"]["Policy"]["Statement"]
        .as_array()
        .expect("the bus has a policy")
        .iter()
        .filter(|s| s["Effect"] == "Deny" && s["Action"] == "events:PutEvents" && s["Principal"] == "*")
        .collect();
    let tag =
        denies.iter().find_map(|s| s["Condition"]["StringNotEquals"]["aws:PrincipalTag/shop-saga-publisher"].as_str());
    assert_eq!(tag, Some("outbox-relay"), "PutEvents is denied without the publisher tag");
    let by_arn = denies
        .iter()
        .map(|s| &s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])
        .find(|v| !v.is_null())
        .expect("PutEvents is denied to every principal but the publishers' roles");
    // `!If [HasOperatorPublisher, [roles..., operator], [roles...]]`
    assert_eq!(by_arn[0], "HasOperatorPublisher");
    let with_operator: Vec<String> = roles.iter().cloned().chain(["OperatorPublisherRoleArn".to_owned()]).collect();
    assert_eq!(by_arn[1], serde_json::json!(with_operator));
    assert_eq!(by_arn[2], serde_json::json!(roles));
    for f in &publishers {
        let p = &t.root["Resources"][format!("{}Function", pascal(f.name()))]["Properties"];
        assert_eq!(p["Tags"]["shop-saga-publisher"], "outbox-relay", "{f}'s role carries the tag");
        assert_eq!(p["PropagateTags"], true, "{f}: the tag reaches its role");
    }
}

/// The bus's policy names the publishers' roles; were their statements to reference the bus
/// back (`!GetAtt EventBus.Arn`), CloudFormation would refuse the cycle. They name it by ARN.
#[test]
fn no_function_statement_references_the_bus_resource() {
    let text = template(SHARED).expect("generate");
    let t = Template::parse(&text).expect("parse");
    for f in t.functions().expect("functions") {
        for s in &f.statements {
            assert!(!s.resources.iter().any(|r| r.starts_with("EventBus")), "{}: {:?}", f.binary, s.resources);
        }
    }
}

/// The user pool runs the function the manifest declares as its token trigger, at event version
/// 2 (the version that reaches access tokens, where the API's authorizer reads the email), on a
/// plan that runs it, and only that pool may invoke it.
#[test]
fn the_user_pool_puts_the_verified_email_in_access_tokens_through_the_token_trigger() {
    let t = generated();
    let triggers: Vec<Function> =
        Function::ALL.into_iter().filter(|f| matches!(f.trigger(), Trigger::TokenGeneration)).collect();
    assert_eq!(triggers, [Function::TokenClaims]);
    let id = pascal(Function::TokenClaims.name());
    let pool = &t.root["Resources"]["UserPool"]["Properties"];
    let config = &pool["LambdaConfig"]["PreTokenGenerationConfig"];
    assert_eq!(config["LambdaArn"], format!("{id}Function.Arn"));
    assert_eq!(config["LambdaVersion"], "V2_0");
    assert!(matches!(pool["UserPoolTier"].as_str(), Some("ESSENTIALS" | "PLUS")), "{pool}");
    let permission = &t.root["Resources"][format!("{id}UserPoolPermission")];
    assert_eq!(permission["Condition"], "UseCognito");
    assert_eq!(permission["Properties"]["Principal"], "cognito-idp.amazonaws.com");
    assert_eq!(permission["Properties"]["SourceArn"], "UserPool.Arn");
    assert_eq!(permission["Properties"]["FunctionName"], format!("{id}Function.Arn"));
}
