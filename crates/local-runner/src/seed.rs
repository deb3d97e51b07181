//! A small sample catalogue and two customers, so the API has something to order right away.

use app::access::Caller;
use app::commands::{AddProduct, RegisterCustomer};
use app::customers::CustomerService;
use app::products::ProductService;
use app::AppError;
use domain::{Address, Currency, CustomerName, Dimensions, Email, Money, ProductName, StockLevel, Weight};

use crate::system::LocalSystem;

/// What was seeded, for the start-up banner.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// (name, customer id = the token subject to sign in as).
    pub customers: Vec<(String, String)>,
    pub products: Vec<(String, String)>,
}

fn usd(cents: i64) -> Result<Money, AppError> {
    Ok(Money::new(cents, Currency::USD)?)
}

/// Seeds as `admin` (the catalogue) and as two new customers, each bound to a subject of its own
/// (the operator's seeding sets their credit limits, as an admin would afterwards).
pub async fn seed(system: &LocalSystem, admin: &Caller) -> Result<Seeded, AppError> {
    let mut out = Seeded::default();
    let products = ProductService::new(system.stores.products.clone(), system.env.clone());
    let customers = CustomerService::new(system.stores.customers.clone(), system.env.clone());
    // (name, price in cents, grams, size in cm, stock)
    type Item<'a> = (&'a str, i64, i64, (i64, i64, i64), i64);
    let catalogue: [Item; 5] = [
        ("Desk Lamp", 2_500, 800, (20, 20, 30), 25),
        ("Mechanical Keyboard", 8_900, 1_100, (45, 15, 5), 10),
        ("Notebook A5", 450, 200, (21, 15, 2), 200),
        ("Office Chair", 18_900, 12_000, (65, 65, 110), 4),
        ("27-inch Monitor", 27_900, 6_500, (70, 20, 50), 3),
    ];
    for (name, price, grams, (l, w, h), stock) in catalogue {
        let cmd = AddProduct {
            name: ProductName::parse(name)?,
            price: usd(price)?,
            weight: Weight::new(grams)?,
            dimensions: Dimensions::new(l, w, h)?,
            stock: StockLevel::new(stock)?,
        };
        let p = products.add(admin, cmd, None).await?;
        out.products.push((name.to_owned(), p.resource.id().to_string()));
    }
    let people = [
        ("Ada Lovelace", 50_000, ("12 Analytical Way", "Columbus", "OH", "43004", "US")),
        ("Grace Hopper", 500_000, ("1 Compiler Ct", "Arlington", "VA", "22201", "US")),
    ];
    for (name, limit, (street, city, region, zip, country)) in people {
        let cmd = RegisterCustomer {
            name: CustomerName::parse(name)?,
            address: Address::new(street, city, region, zip, country)?,
        };
        let me = Caller::new(system.env.new_uuid(), false);
        // As the development identity provider verified it: the one its tokens for `me` carry.
        let email = Email::parse(&crate::identity::DevIdentityProvider::email_of(me.subject()))?;
        let c = customers.register(&me, email, cmd, usd(limit)?, None).await?;
        out.customers.push((name.to_owned(), c.resource.id().to_string()));
    }
    Ok(out)
}
