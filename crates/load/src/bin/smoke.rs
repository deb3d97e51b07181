//! `cargo run -p load --bin smoke -- --url URL --token-cmd CMD` (or `--local` for the runner): one
//! order through a deployed stack's saga and back, each step reported with its time.
//!
//! As an administrator it adds a product of its own (so it depends on no catalogue and takes
//! nobody's stock); a new customer registers and an administrator gives them credit; the customer
//! orders two units (retried while the orders context's replica has not yet heard of the product
//! or the customer), and the order's timeline is read until APPROVED; the customer cancels it and
//! the order reads CANCELLED; the product's units and the customer's credit are read until both
//! are released. Last, the product is discontinued, so the smoke test leaves nothing on sale.
//! Any step that fails or times out ends the run with exit code 1.

use std::time::{Duration, Instant};

use load::{Error, Shop, Target};
use serde_json::json;

/// One order through the saga of the API at a URL, and its cancellation, each step timed.
#[derive(clap::Parser)]
#[command(
    name = "smoke",
    after_help = "Examples:\n  cargo run -p load --bin smoke -- --local    # the runner on http://127.0.0.1:3000\n  \
                  cargo run -p load --bin smoke -- --url https://abc123.execute-api.eu-west-1.amazonaws.com \\\n    \
                  --token-cmd './get-token.sh'    # prints a token for: EMAIL [admin]"
)]
struct Args {
    #[command(flatten)]
    target: Target,
    /// How long each wait (the saga to APPROVED, the releases) may take.
    #[arg(long, value_name = "S", default_value_t = 60)]
    wait: u64,
}

/// Prints one step as it finishes: its name, its time, what it found.
struct Steps {
    started: Instant,
    last: Instant,
}

impl Steps {
    fn done(&mut self, step: &str, found: &str) {
        let now = Instant::now();
        println!(
            "ok  {step:<44} {:>7.0} ms  (at {:>6.0} ms)  {found}",
            (now - self.last).as_secs_f64() * 1e3,
            (now - self.started).as_secs_f64() * 1e3
        );
        self.last = now;
    }
}

async fn smoke(shop: &Shop, wait: Duration) -> Result<(), Error> {
    let now = Instant::now();
    let mut steps = Steps { started: now, last: now };
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();

    let admin = shop.token(&format!("smoke-admin-{run}@example.com"), true).await?;
    steps.done("an administrator's token", "");
    let product = shop.product(&admin, &format!("Smoke Test Item {run}"), 1_250, 5).await?;
    steps.done("add a product (5 units)", &product);
    let (customer, token) = shop.customer(&admin, &format!("smoke-{run}@example.com"), "Smoke Test", 100_000).await?;
    steps.done("register a customer, credit limit 1000.00", &customer);

    let placed = shop.order(&token, &[(&product, 2)], wait).await?.expect(201, "placing the order")?;
    let order = placed.id()?;
    steps.done("place an order of 2 units", &format!("{order} {}", placed.body["state"]));
    let timeline = format!("/orders/{order}/timeline");
    let (t, approved) = shop.until(&token, &timeline, wait, |t| t["state"] != "PENDING").await?;
    if !approved || t["state"] != "APPROVED" {
        return Err(format!("the order did not reach APPROVED within {wait:?}: {t}").into());
    }
    let events: Vec<&str> = t["steps"].as_array().into_iter().flatten().filter_map(|s| s["event"].as_str()).collect();
    steps.done("the saga approves it (timeline)", &events.join(" > "));
    let held = (shop.units_held(&admin, &product).await?, shop.credit_held(&admin, &customer).await?);
    if held.0 != 2 || held.1 <= 0 {
        return Err(format!("an APPROVED order of 2 units holds {} units and {} credit", held.0, held.1).into());
    }
    steps.done("it holds the stock and the credit", &format!("{} units, {} cents", held.0, held.1));

    let cancelled = shop
        .call(Some(&token), "POST", &format!("/orders/{order}/cancel"), Some(&json!({})))
        .await?
        .expect(200, "cancelling the order")?;
    if cancelled.body["state"] != "CANCELLED" {
        return Err(format!("the cancelled order reads {}", cancelled.body).into());
    }
    steps.done("cancel it", "CANCELLED");
    let (t, _) = shop.until(&token, &timeline, wait, |t| t["state"] == "CANCELLED").await?;
    let last = t["steps"].as_array().and_then(|s| s.last()).map_or(json!(null), |s| s["event"].clone());
    if last != "OrderCancelled" {
        return Err(format!("the timeline does not end with OrderCancelled: {t}").into());
    }
    steps.done("the timeline ends with OrderCancelled", "");
    let product_path = format!("/products/{product}");
    let (p, released) = shop.until(&admin, &product_path, wait, |p| p["available"] == p["stock"]).await?;
    if !released {
        return Err(format!("the stock was not released within {wait:?}: {p}").into());
    }
    steps.done("the stock is released", &format!("{} of {} available", p["available"], p["stock"]));
    let customer_path = format!("/customers/{customer}");
    let (c, released) = shop.until(&admin, &customer_path, wait, |c| c["availableCredit"] == c["creditLimit"]).await?;
    if !released {
        return Err(format!("the credit was not released within {wait:?}: {c}").into());
    }
    steps.done("the credit is released", &format!("{} cents available", c["availableCredit"]["amount"]));

    shop.call(Some(&admin), "POST", &format!("/products/{product}/discontinue"), Some(&json!({})))
        .await?
        .expect(200, "discontinuing the product")?;
    steps.done("discontinue the product", "");
    println!("smoke test passed against {} in {:.1} s", shop.base(), steps.started.elapsed().as_secs_f64());
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let Args { target, wait } = clap::Parser::parse();
    let result = match target.shop() {
        Ok(Some(shop)) => smoke(&shop, Duration::from_secs(wait)).await,
        Ok(None) => Err("--url URL --token-cmd CMD, or --local".into()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("FAILED: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
