//! The metrics a function emits reach CloudWatch as Embedded Metric Format documents: the
//! recorder a Lambda main installs, fed by what the application measures, flushed as one JSON
//! document per invocation. (One test per process: a process has one global recorder.)

use std::sync::Arc;

use app::access::Caller;
use app::commands::PlaceOrder;
use app::memory::InMemoryOrderRepository;
use app::orders::OrderPlacement;
use app::ports::{Commit, IdempotencyKey, OrderWrite, Transactional};
use app::SystemEnvironment;
use domain::events::LineRequest;
use domain::{
    Address, CatalogueEntry, CountryCode, Currency, CustomerId, Dimensions, KnownCustomer, Money, ProductId, Quantity,
    ShippingCostService, ShippingSpeed, Weight,
};
use serde_json::Value;

#[tokio::test]
async fn an_invocation_flushes_its_measurements_as_one_emf_document() {
    let collector = bundle::telemetry::init_metrics("create-order").expect("the first recorder of the process");
    let env = SystemEnvironment::shared();
    let orders = Arc::new(InMemoryOrderRepository::default());
    let customer = CustomerId::from_uuid(uuid::Uuid::new_v4());
    let product = ProductId::from_uuid(uuid::Uuid::new_v4());
    let entry = CatalogueEntry {
        product_id: product,
        name: "Lamp".into(),
        price: Money::new(1_000, Currency::USD).unwrap(),
        weight: Weight::new(500).unwrap(),
        dimensions: Dimensions::new(10, 10, 10).unwrap(),
        sold: true,
        revision: 1,
    };
    let known = KnownCustomer { customer_id: customer };
    let replica = vec![
        OrderWrite::Catalogue { entry, expected_version: 0 },
        OrderWrite::Customer { customer: known, expected_version: 0 },
    ];
    orders.commit(Commit::new(replica, &[])).await.unwrap();
    let shipping = ShippingCostService::standard_tariff("OH", CountryCode::parse("US").unwrap());
    let placement = OrderPlacement::new(orders, shipping, env);
    let cmd = || PlaceOrder {
        customer_id: None,
        lines: vec![LineRequest { product_id: product, quantity: Quantity::new(1).unwrap() }],
        shipping_address: Address::new("9 Elm St", "Dayton", "OH", "45402", "US").unwrap(),
        shipping_speed: ShippingSpeed::Standard,
    };
    let key = IdempotencyKey::parse("emf-1").unwrap();
    let me = Caller::customer(customer);
    assert!(!placement.place(&me, cmd(), Some(&key)).await.unwrap().replayed);
    assert!(placement.place(&me, cmd(), Some(&key)).await.unwrap().replayed);

    let mut out = vec![];
    collector.flush(&mut out).unwrap();
    let docs: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    let find =
        |name: &str| docs.iter().find(|d| d.get(name).is_some()).unwrap_or_else(|| panic!("no {name} in {docs:?}"));
    let created = find(app::measure::ORDERS_CREATED);
    assert_eq!(created[app::measure::ORDERS_CREATED], 1, "the replay is not a second order");
    assert_eq!(created["Function"], "create-order");
    let emf = &created["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(emf["Namespace"], bundle::telemetry::METRICS_NAMESPACE);
    assert!(emf["Dimensions"].to_string().contains("Function"), "{emf}");
    assert!(created["_aws"]["Timestamp"].is_u64());
    let replays = find(app::measure::IDEMPOTENT_REPLAYS);
    assert_eq!(
        (replays[app::measure::IDEMPOTENT_REPLAYS].as_u64(), replays["operation"].as_str()),
        (Some(1), Some("orders"))
    );

    // A flush empties the collector: the next invocation's document holds only its own.
    let mut again = vec![];
    collector.flush(&mut again).unwrap();
    assert!(!String::from_utf8(again).unwrap().contains(app::measure::ORDERS_CREATED));
}
