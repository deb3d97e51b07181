//! The runner's pattern matching agrees with EventBridge: for every rule of template.yaml and
//! every event the system can emit (each rejection reason too, and each type from a wrong
//! source), ministack's TestEventPattern gives the same answer as `sam_template::Pattern`.

use domain::DomainEvent;
use sam_template::Pattern;
use serde_json::{json, Value};
use system_tests::ministack;

const REASONS: [&str; 6] =
    ["OUT_OF_STOCK", "UNKNOWN_PRODUCT", "CREDIT_LIMIT_EXCEEDED", "UNKNOWN_CUSTOMER", "PRICING_FAILED", "TIMED_OUT"];

fn events() -> Vec<Value> {
    let mut out = vec![];
    for &(detail_type, context) in DomainEvent::TYPES {
        let reasons: Vec<Option<&str>> =
            if detail_type == "OrderRejected" { REASONS.iter().map(|r| Some(*r)).collect() } else { vec![None] };
        for reason in reasons {
            for source in [app::bus::source(context), "shop.elsewhere"] {
                let mut data = json!({"orderId": "67e55044-10b1-426f-9247-bb680e5fe0c8"});
                if let Some(r) = reason {
                    data["reason"] = json!(r);
                }
                out.push(json!({
                    "version": "0",
                    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
                    "detail-type": detail_type,
                    "source": source,
                    "account": "111122223333",
                    "time": "2026-11-27T10:00:00Z",
                    "region": "us-east-1",
                    "resources": [],
                    "detail": {"metadata": {"eventId": "6a7e8feb-b491-4cf7-a9f1-bf3703467718"}, "data": data}
                }));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_rule_matches_exactly_what_eventbridge_matches() {
    let client = aws_sdk_eventbridge::Client::new(&ministack::sdk_config().await);
    let template = system_tests::template();
    let mut compared = 0;
    let mut disagreements = vec![];
    for f in template.functions().expect("functions") {
        for rule in &f.rules {
            let ours = Pattern::parse(&rule.pattern).expect("the runner supports every rule of the template");
            for event in events() {
                let theirs = client
                    .test_event_pattern()
                    .event_pattern(rule.pattern.to_string())
                    .event(event.to_string())
                    .send()
                    .await
                    .expect("TestEventPattern answers")
                    .result;
                compared += 1;
                if ours.matches(&event) != theirs {
                    disagreements.push(format!(
                        "{} / {}: {} from {} — runner {}, EventBridge {theirs}",
                        f.binary,
                        rule.name,
                        event["detail-type"],
                        event["source"],
                        ours.matches(&event)
                    ));
                }
            }
        }
    }
    assert!(compared >= 7 * 40, "compared only {compared} pairs");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
