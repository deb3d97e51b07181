//! Typed configuration, read once per cold start from the environment (or, for the local runner
//! and the tests, from any lookup). A function reads exactly the variables its manifest entry
//! lists; a missing or malformed one is named in the error.

use chrono::Duration;
use domain::{CountryCode, Currency, Money, ShippingCostService};

use crate::manifest::{vars, Function, Table};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// A main asked for a value its manifest entry does not declare: a bug, caught at start.
    #[error("{function} does not declare {name} in the manifest")]
    Undeclared { function: Function, name: &'static str },
}

/// The variables of an environment file, as local-aws writes a function's environment for
/// `cargo lambda watch --env-file`, `set -a; . FILE` in bash, the bench and the tests.
///
/// The format, the one place it is stated: one `KEY='VALUE'` line per variable, the value in
/// single quotes, blank lines and `#` comment lines ignored. A value holds no `'`, no `\` and no
/// line break, so bash (where single quotes take everything literally), cargo-lambda's reader
/// (env-file-reader 0.3, which refuses an unquoted space and turns `\n` inside quotes into a
/// line break) and this function read the same characters, spaces included (`'50000 USD'`).
/// An unquoted value is read as it stands, as the other two read one without spaces.
pub fn env_lines(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let unquoted = |v: &str| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v).to_owned();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(move |(k, v)| (k.trim().to_owned(), unquoted(v.trim())))
}

/// One function's configuration, parsed once at cold start: a value for every variable of the
/// function's manifest entry, already of its type, and nothing else. Asking for a value the
/// function does not declare is [`ConfigError::Undeclared`], a bug its first wiring shows.
#[derive(Debug, Clone)]
pub struct Config {
    function: Function,
    /// By [`Table`] discriminant.
    tables: [Option<String>; 3],
    /// The tables whose outbox streams the relay publishes, by [`Table`] discriminant.
    outboxes: [Option<String>; 3],
    bus_name: Option<String>,
    shipping: Option<ShippingCostService>,
    default_credit_limit: Option<Money>,
    pending_timeout: Option<Duration>,
}

impl Config {
    /// Reads the process environment.
    pub fn load(function: Function) -> Result<Config, ConfigError> {
        Self::from_lookup(function, |name| std::env::var(name).ok())
    }

    /// Reads from any source (the runner passes its own settings, tests pass a map).
    pub fn from_lookup(function: Function, lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let declared = function.env();
        let read = |name: &'static str| -> Result<Option<String>, ConfigError> {
            if !declared.contains(&name) {
                return Ok(None);
            }
            let v = lookup(name).filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name))?;
            Ok(Some(v.trim().to_owned()))
        };
        // Every declared variable must be set, whatever its type: read them in the manifest's order.
        for &name in declared {
            read(name)?;
        }
        let region = read(vars::WAREHOUSE_REGION)?;
        let country = read(vars::WAREHOUSE_COUNTRY)?;
        Ok(Config {
            function,
            tables: [read(Table::Customers.var())?, read(Table::Products.var())?, read(Table::Orders.var())?],
            outboxes: [
                read(Table::Customers.outbox_var())?,
                read(Table::Products.outbox_var())?,
                read(Table::Orders.outbox_var())?,
            ],
            bus_name: read(vars::EVENT_BUS_NAME)?,
            shipping: region.zip(country).map(|(r, c)| shipping(&r, &c)).transpose()?,
            default_credit_limit: read(vars::DEFAULT_CREDIT_LIMIT)?.as_deref().map(credit_limit).transpose()?,
            pending_timeout: read(vars::PENDING_TIMEOUT_SECONDS)?.as_deref().map(pending_timeout).transpose()?,
        })
    }

    fn declared<T: Clone>(&self, value: &Option<T>, name: &'static str) -> Result<T, ConfigError> {
        value.clone().ok_or(ConfigError::Undeclared { function: self.function, name })
    }

    pub fn table(&self, table: Table) -> Result<String, ConfigError> {
        self.declared(&self.tables[table as usize], table.var())
    }

    /// Which context each outbox stream the relay publishes speaks for, by its table's name.
    pub fn stream_sources(&self) -> Result<app::relay::StreamSources, ConfigError> {
        let tables = Table::ALL
            .into_iter()
            .map(|t| Ok((self.declared(&self.outboxes[t as usize], t.outbox_var())?, t.context())));
        Ok(app::relay::StreamSources::new(tables.collect::<Result<Vec<_>, ConfigError>>()?))
    }

    pub fn bus_name(&self) -> Result<String, ConfigError> {
        self.declared(&self.bus_name, vars::EVENT_BUS_NAME)
    }

    /// The shipping tariff from the warehouse's region and country.
    pub fn shipping(&self) -> Result<ShippingCostService, ConfigError> {
        self.declared(&self.shipping, vars::WAREHOUSE_COUNTRY)
    }

    /// The credit limit a customer registers with. Only an admin changes it afterwards.
    pub fn default_credit_limit(&self) -> Result<Money, ConfigError> {
        self.declared(&self.default_credit_limit, vars::DEFAULT_CREDIT_LIMIT)
    }

    /// How long an order may stay PENDING before the sweeper rejects it.
    pub fn pending_timeout(&self) -> Result<Duration, ConfigError> {
        self.declared(&self.pending_timeout, vars::PENDING_TIMEOUT_SECONDS)
    }
}

/// The shipping tariff from the warehouse's region and country (an ISO 3166-1 alpha-2 code).
fn shipping(region: &str, country: &str) -> Result<ShippingCostService, ConfigError> {
    let country = CountryCode::parse(country)
        .map_err(|e| ConfigError::Invalid { name: vars::WAREHOUSE_COUNTRY, reason: e.to_string() })?;
    Ok(ShippingCostService::standard_tariff(region, country))
}

/// `<minor units> <currency>`, e.g. `50000 USD`.
fn credit_limit(raw: &str) -> Result<Money, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid { name: vars::DEFAULT_CREDIT_LIMIT, reason };
    let (amount, currency) =
        raw.split_once(' ').ok_or_else(|| invalid("expected <minor units> <currency>, e.g. 50000 USD".into()))?;
    let amount: i64 = amount.parse().map_err(|_| invalid("the amount is not a whole number".into()))?;
    let currency: Currency = currency.trim().parse().map_err(|e: domain::DomainError| invalid(e.to_string()))?;
    Money::new(amount, currency).map_err(|e| invalid(e.to_string()))
}

/// A whole number of seconds, 1 s to 1 day.
fn pending_timeout(raw: &str) -> Result<Duration, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid { name: vars::PENDING_TIMEOUT_SECONDS, reason: reason.into() };
    let secs: i64 = raw.parse().map_err(|_| invalid("not a whole number of seconds"))?;
    if !(1..=86_400).contains(&secs) {
        return Err(invalid("must be between 1 and 86400"));
    }
    Ok(Duration::seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = Config::from_lookup(Function::CreateOrder, env(&[("ORDERS_TABLE", "o")])).unwrap_err();
        assert!(matches!(err, ConfigError::Missing("WAREHOUSE_REGION")), "{err}");
        assert_eq!(err.to_string(), "environment variable WAREHOUSE_REGION is not set");
    }

    #[test]
    fn malformed_values_stop_the_start() {
        let bad_country = env(&[("WAREHOUSE_REGION", "OH"), ("WAREHOUSE_COUNTRY", "USA")]);
        assert!(matches!(Config::from_lookup(Function::QuoteShipping, bad_country), Err(ConfigError::Invalid { .. })));
        for limit in ["50000", "-1 USD", "50000 XYZ", "5.5 USD"] {
            let bad_limit = env(&[("CUSTOMERS_TABLE", "c"), ("DEFAULT_CREDIT_LIMIT", limit)]);
            let r = Config::from_lookup(Function::CreateCustomer, bad_limit);
            assert!(matches!(r, Err(ConfigError::Invalid { .. })), "{limit}");
        }
        let good = env(&[("CUSTOMERS_TABLE", "c"), ("DEFAULT_CREDIT_LIMIT", "50000 EUR")]);
        let limit = Config::from_lookup(Function::CreateCustomer, good).unwrap().default_credit_limit().unwrap();
        assert_eq!(limit, Money::new(50_000, Currency::EUR).unwrap());
        let bad_timeout = env(&[("ORDERS_TABLE", "o"), ("PENDING_TIMEOUT_SECONDS", "soon")]);
        assert!(matches!(Config::from_lookup(Function::SweepOrders, bad_timeout), Err(ConfigError::Invalid { .. })));
    }

    #[test]
    fn a_function_reads_only_what_it_declares() {
        let c = Config::from_lookup(Function::GetOrder, env(&[("ORDERS_TABLE", "orders"), ("PRODUCTS_TABLE", "p")]))
            .unwrap();
        assert_eq!(c.table(Table::Orders).unwrap(), "orders");
        assert!(matches!(c.table(Table::Products), Err(ConfigError::Undeclared { .. })));
    }
}
