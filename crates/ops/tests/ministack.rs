//! `ops redrive` against ministack (a real EventBridge and SQS API on 127.0.0.1): events in a
//! dead-letter queue go back on the bus and reach the rule's target; foreign messages stay; a dry
//! run changes nothing.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use domain::events::OrderCancelled;
use domain::{CustomerId, DomainEvent, EventEnvelope, OrderId};
use serde_json::{json, Value};
use uuid::Uuid;

async fn sdk() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .unwrap_or_else(|_| panic!("AWS_ENDPOINT_URL is not set: run through scripts/with-ministack.sh"));
    assert!(endpoint.starts_with("http://127.0.0.1:"), "only a local endpoint: {endpoint}");
    aws_adapters::local_sdk_config(&endpoint).await
}

fn unique(what: &str) -> String {
    format!("ops-{what}-{}", Uuid::new_v4().simple())
}

async fn queue(sqs: &aws_sdk_sqs::Client) -> (String, String) {
    let url = sqs.create_queue().queue_name(unique("q")).send().await.unwrap().queue_url.unwrap();
    let attrs =
        sqs.get_queue_attributes().queue_url(&url).attribute_names(QueueAttributeName::QueueArn).send().await.unwrap();
    let arn = attrs.attributes().unwrap()[&QueueAttributeName::QueueArn].clone();
    (url, arn)
}

/// An event as EventBridge puts it in a dead-letter queue: the whole event.
fn dead_letter(e: &EventEnvelope) -> String {
    json!({
        "version": "0", "id": Uuid::new_v4().to_string(), "detail-type": e.detail_type(),
        "source": app::bus::source(e.event.context()), "account": "000000000000",
        "time": "2026-12-02T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": app::bus::detail(e).unwrap(),
    })
    .to_string()
}

fn cancelled() -> EventEnvelope {
    let e = OrderCancelled {
        order_id: OrderId::from_uuid(Uuid::new_v4()),
        customer_id: CustomerId::from_uuid(Uuid::new_v4()),
        product_ids: vec![],
    };
    EventEnvelope::new(DomainEvent::OrderCancelled(e), &app::SystemEnvironment)
}

/// The three tables, each with its context: what `--table orders=<name>` and the others say.
fn tables_of(names: &aws_adapters::TableNames) -> app::relay::StreamSources {
    use domain::Context;
    app::relay::StreamSources::new([
        (names.orders.clone(), Context::Orders),
        (names.products.clone(), Context::Products),
        (names.customers.clone(), Context::Customers),
    ])
}

async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, at_least: usize) -> Vec<Value> {
    let mut got = vec![];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        let out =
            sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() && got.len() >= at_least {
            break;
        }
        for m in messages {
            got.push(serde_json::from_str(m.body().unwrap()).unwrap_or(Value::Null));
            sqs.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
        }
    }
    got
}

/// A new bus with a rule that sends OrderCancelled events to a new queue: (bus, queue URL).
async fn bus_to_queue(events: &aws_sdk_eventbridge::Client, sqs: &aws_sdk_sqs::Client) -> (String, String) {
    let bus = unique("bus");
    events.create_event_bus().name(&bus).send().await.unwrap();
    let (target_url, target_arn) = queue(sqs).await;
    let rule = unique("rule");
    let pattern = json!({"source": ["shop.orders"], "detail-type": ["OrderCancelled"]}).to_string();
    events.put_rule().name(&rule).event_bus_name(&bus).event_pattern(pattern).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("q").arn(target_arn).build().unwrap();
    events.put_targets().rule(&rule).event_bus_name(&bus).targets(target).send().await.unwrap();
    (bus, target_url)
}

#[tokio::test]
async fn a_dead_letter_queue_is_redriven_onto_the_bus_and_foreign_messages_stay() {
    let sdk = sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let (bus, target_url) = bus_to_queue(&events, &sqs).await;

    let (dlq, _) = queue(&sqs).await;
    let (a, b) = (cancelled(), cancelled());
    for body in
        [dead_letter(&a), dead_letter(&b), r#"{"source":"aws.elsewhere","detail-type":"Thing","detail":{}}"#.to_owned()]
    {
        sqs.send_message().queue_url(&dlq).message_body(body).send().await.unwrap();
    }
    let publisher = Arc::new(aws_adapters::EventBridgePublisher::new(events.clone(), bus.clone()));
    let redrive = ops::Redrive::new(sqs.clone(), dlq.clone(), publisher);

    // A dry run reports and changes nothing.
    let dry = redrive.run(true, 100).await.unwrap();
    assert_eq!((dry.examined, dry.redriven.len(), dry.left.len()), (3, 2, 1), "{dry}");
    assert!(drain(&sqs, &target_url, 0).await.is_empty(), "a dry run puts nothing on the bus");

    // The real run: the two events reach the rule's target, the foreign message stays.
    let done = redrive.run(false, 100).await.unwrap();
    assert_eq!((done.examined, done.redriven.len(), done.left.len()), (3, 2, 1), "{done}");
    let delivered = drain(&sqs, &target_url, 2).await;
    let ids: Vec<&str> = delivered.iter().filter_map(|e| e["detail"]["metadata"]["eventId"].as_str()).collect();
    let (ida, idb) = (a.id().to_string(), b.id().to_string());
    assert_eq!(ids.len(), 2, "{delivered:?}");
    assert!(ids.contains(&ida.as_str()) && ids.contains(&idb.as_str()), "{ids:?}");
    let remaining = drain(&sqs, &dlq, 1).await;
    assert_eq!(remaining.len(), 1, "only the foreign message is left: {remaining:?}");
    assert_eq!(remaining[0]["source"], "aws.elsewhere");
}

/// After an outage longer than the relay's retries: the events the outbox committed in a window go
/// back on the bus (a dry run changes nothing; records outside the window stay out), each only
/// under its table's context: a record of the orders table that speaks for customers is refused.
#[tokio::test]
async fn a_window_of_the_outbox_is_republished_onto_the_bus() {
    use app::ports::{Commit, OrderWrite, Transactional};
    let sdk = sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let names = aws_adapters::TableNames::with_prefix(&unique("t"));
    aws_adapters::create_tables(&dynamo, &names).await.unwrap();
    let (bus, target_url) = bus_to_queue(&events, &sqs).await;

    let orders = aws_adapters::DynamoOrderRepository::new(dynamo.clone(), &names.orders);
    let early = cancelled();
    orders.commit(Commit::<OrderWrite>::new(vec![], std::slice::from_ref(&early))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let since = chrono::Utc::now();
    let (a, b) = (cancelled(), cancelled());
    orders.commit(Commit::<OrderWrite>::new(vec![], &[a.clone(), b.clone()])).await.unwrap();
    let forged = EventEnvelope::new(
        DomainEvent::CreditReserved(domain::events::CreditReserved {
            order_id: OrderId::from_uuid(Uuid::new_v4()),
            customer_id: CustomerId::from_uuid(Uuid::new_v4()),
            amount: domain::Money::new(1, domain::Currency::USD).unwrap(),
        }),
        app::SystemEnvironment::shared().as_ref(),
    );
    orders.commit(Commit::<OrderWrite>::new(vec![], std::slice::from_ref(&forged))).await.unwrap();

    let publisher = Arc::new(aws_adapters::EventBridgePublisher::new(events.clone(), bus.clone()));
    let republish = ops::Republish::new(dynamo.clone(), publisher);
    let tables = tables_of(&names);
    let dry = republish.run(&tables, since, None, true).await.unwrap();
    assert_eq!(dry.events.len(), 2, "{dry}");
    assert_eq!(dry.refused.len(), 1, "{dry}");
    assert!(dry.refused[0].contains(&forged.id().to_string()) && dry.refused[0].contains("shop.customers"), "{dry}");
    assert!(drain(&sqs, &target_url, 0).await.is_empty(), "a dry run puts nothing on the bus");

    let done = republish.run(&tables, since, None, false).await.unwrap();
    let delivered = drain(&sqs, &target_url, 2).await;
    let mut ids: Vec<&str> = delivered.iter().filter_map(|e| e["detail"]["metadata"]["eventId"].as_str()).collect();
    ids.sort_unstable();
    let mut want = vec![a.id().to_string(), b.id().to_string()];
    want.sort_unstable();
    assert_eq!(ids, want, "the window's events, not the earlier one: {done}");
    let none = republish.run(&tables, chrono::Utc::now() + chrono::Duration::hours(1), None, false).await.unwrap();
    assert!(none.events.is_empty());
}

/// The relay's failure queue: each message points at a stream range. Within the stream's 24
/// hours its events go back on the bus; a range the stream no longer holds stays, with the
/// republish command to run.
#[tokio::test]
async fn a_relay_failure_message_is_redriven_from_the_stream_and_a_trimmed_one_stays() {
    use app::ports::{Commit, OrderWrite, Transactional};
    let sdk = sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let names = aws_adapters::TableNames::with_prefix(&unique("t"));
    aws_adapters::create_tables(&dynamo, &names).await.unwrap();
    let (bus, target_url) = bus_to_queue(&events, &sqs).await;
    let orders = aws_adapters::DynamoOrderRepository::new(dynamo.clone(), &names.orders);
    let (a, b) = (cancelled(), cancelled());
    orders.commit(Commit::<OrderWrite>::new(vec![], &[a.clone(), b.clone()])).await.unwrap();

    // The pointer the stream's event source would write, for the records just committed.
    let (arn, shard) = aws_adapters::table_stream(&dynamo, &streams, &names.orders).await.unwrap();
    let it = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let page = streams.get_records().set_shard_iterator(it.shard_iterator).send().await.unwrap();
    let seqs: Vec<&str> = page.records().iter().filter_map(|r| r.dynamodb()?.sequence_number()).collect();
    let pointer = |first: &str, last: &str| {
        json!({"version": "1.0", "requestContext": {"condition": "RetryAttemptsExhausted"},
            "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": first, "endSequenceNumber": last,
            "approximateArrivalOfFirstRecord": "2026-12-02T09:00:00Z", "batchSize": 2, "streamArn": arn}})
        .to_string()
    };
    let (failures, _) = queue(&sqs).await;
    let within = pointer(seqs[0], seqs[seqs.len() - 1]);
    for body in [within, pointer("1", "2")] {
        sqs.send_message().queue_url(&failures).message_body(body).send().await.unwrap();
    }
    let publisher = Arc::new(aws_adapters::EventBridgePublisher::new(events.clone(), bus.clone()));
    let redrive = ops::Redrive::new(sqs.clone(), failures.clone(), publisher)
        .reading_streams(Arc::new(aws_adapters::DynamoOutboxStream::new(streams.clone())), tables_of(&names));

    let done = redrive.run(false, 100).await.unwrap();
    assert_eq!((done.examined, done.redriven.len(), done.left.len()), (2, 1, 1), "{done}");
    assert!(done.redriven[0].contains("(2 events)"), "{done}");
    assert!(done.left[0].1.contains("ops republish --since 2026-12-02T09:00:00Z"), "{done}");
    let delivered = drain(&sqs, &target_url, 2).await;
    let mut ids: Vec<&str> = delivered.iter().filter_map(|e| e["detail"]["metadata"]["eventId"].as_str()).collect();
    ids.sort_unstable();
    let mut want = [a.id().to_string(), b.id().to_string()];
    want.sort_unstable();
    assert_eq!(ids, want.iter().map(String::as_str).collect::<Vec<_>>(), "{delivered:?}");
    let remaining = drain(&sqs, &failures, 1).await;
    assert_eq!(remaining.len(), 1, "only the trimmed pointer is left: {remaining:?}");
    assert_eq!(remaining[0]["DDBStreamBatchInfo"]["startSequenceNumber"], "1");
}
