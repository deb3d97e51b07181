//! Request bodies as they arrive, with primitive types only, and their conversion into commands
//! (parse, don't validate): a DTO that converts is a valid command; one that does not names the
//! field at fault. Unknown fields are refused so a typo is not silently ignored.

use std::str::FromStr;

use app::commands::{
    AddProduct, ChangeCreditLimit, PlaceOrder, QuoteShipping, RegisterCustomer, Restock, UpdateCustomer, UpdateProduct,
};
use domain::events::LineRequest;
use domain::text::RawAddress;
use domain::{
    Address, Currency, CustomerId, CustomerName, Dimensions, DomainError, Money, Problem, ProductId, ProductName,
    Quantity, RestockQuantity, ShardCount, ShippingItem, ShippingSpeed, StockLevel, Weight,
};
use serde::Deserialize;

/// A whole number however JSON spells it (`841` or `841.0`), as JSON Schema's `integer` means.
fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    match n.as_f64() {
        // Below 2^53 every integral f64 is exact.
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(D::Error::custom("expected a whole number")),
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MoneyDto {
    /// Minor units (cents).
    #[cfg_attr(feature = "openapi", schemars(range(min = 0, max = domain::Money::MAX_MINOR)))]
    #[serde(deserialize_with = "whole")]
    pub amount: i64,
    #[cfg_attr(feature = "openapi", schemars(with = "domain::Currency"))]
    pub currency: String,
}

impl TryFrom<MoneyDto> for Money {
    type Error = DomainError;
    fn try_from(m: MoneyDto) -> Result<Self, Self::Error> {
        Money::new(m.amount, Currency::from_str(&m.currency)?)
    }
}

/// Registering: the caller's name and address. No email: the customer's is the one their
/// identity provider verified (the token's), and a body that names one is refused like any
/// unknown field.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCustomerDto {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = CustomerName::MAX_CHARS), pattern(domain::text::text_pattern())))]
    pub name: String,
    pub address: RawAddress,
}

impl TryFrom<CreateCustomerDto> for RegisterCustomer {
    type Error = DomainError;
    fn try_from(d: CreateCustomerDto) -> Result<Self, Self::Error> {
        Ok(RegisterCustomer { name: CustomerName::parse(&d.name)?, address: Address::try_from(d.address)? })
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DimensionsDto {
    #[cfg_attr(feature = "openapi", schemars(range(min = domain::measures::Centimetres::MIN, max = domain::measures::Centimetres::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub length: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = domain::measures::Centimetres::MIN, max = domain::measures::Centimetres::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub width: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = domain::measures::Centimetres::MIN, max = domain::measures::Centimetres::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub height: i64,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProductDto {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = ProductName::MAX_CHARS), pattern(domain::text::text_pattern())))]
    pub name: String,
    pub price: MoneyDto,
    #[cfg_attr(feature = "openapi", schemars(range(min = Weight::MIN, max = Weight::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub weight_grams: i64,
    pub dimensions_cm: DimensionsDto,
    #[cfg_attr(feature = "openapi", schemars(range(min = StockLevel::MIN, max = StockLevel::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub stock: i64,
}

impl TryFrom<CreateProductDto> for AddProduct {
    type Error = DomainError;
    fn try_from(d: CreateProductDto) -> Result<Self, Self::Error> {
        Ok(AddProduct {
            name: ProductName::parse(&d.name)?,
            price: d.price.try_into()?,
            weight: Weight::new(d.weight_grams)?,
            dimensions: Dimensions::new(d.dimensions_cm.length, d.dimensions_cm.width, d.dimensions_cm.height)?,
            stock: StockLevel::new(d.stock)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderLineDto {
    #[cfg_attr(feature = "openapi", schemars(with = "ProductId"))]
    pub product_id: String,
    #[cfg_attr(feature = "openapi", schemars(range(min = Quantity::MIN, max = Quantity::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub quantity: i64,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrderDto {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<CustomerId>"))]
    pub customer_id: Option<String>,
    /// The lines of the order: each product on one line only (a second line for it is a 400).
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = domain::Order::MAX_LINES)))]
    pub lines: Vec<OrderLineDto>,
    pub shipping_address: RawAddress,
    #[cfg_attr(feature = "openapi", schemars(with = "ShippingSpeed"))]
    pub shipping_speed: String,
}

impl TryFrom<CreateOrderDto> for PlaceOrder {
    type Error = DomainError;
    fn try_from(d: CreateOrderDto) -> Result<Self, Self::Error> {
        let lines = d
            .lines
            .into_iter()
            .map(|l| {
                Ok(LineRequest {
                    product_id: ProductId::from_str(&l.product_id)?,
                    quantity: Quantity::new(l.quantity)?,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        Ok(PlaceOrder {
            customer_id: d.customer_id.as_deref().map(CustomerId::from_str).transpose()?,
            lines,
            shipping_address: Address::try_from(d.shipping_address)?,
            shipping_speed: ShippingSpeed::from_str(&d.shipping_speed)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteItemDto {
    #[cfg_attr(feature = "openapi", schemars(range(min = Weight::MIN, max = Weight::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub weight_grams: i64,
    pub dimensions_cm: DimensionsDto,
    #[cfg_attr(feature = "openapi", schemars(range(min = Quantity::MIN, max = Quantity::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub quantity: i64,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteDto {
    pub destination: RawAddress,
    #[cfg_attr(feature = "openapi", schemars(with = "ShippingSpeed"))]
    pub shipping_speed: String,
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = MAX_QUOTE_ITEMS)))]
    pub items: Vec<QuoteItemDto>,
    pub subtotal: MoneyDto,
}

/// A quote covers at most as many items as an order has lines.
pub const MAX_QUOTE_ITEMS: usize = domain::Order::MAX_LINES;

impl TryFrom<QuoteDto> for QuoteShipping {
    type Error = DomainError;
    fn try_from(d: QuoteDto) -> Result<Self, Self::Error> {
        if d.items.is_empty() || d.items.len() > MAX_QUOTE_ITEMS {
            return Err(DomainError::Invalid {
                field: "items",
                problem: domain::Problem::OutOfRange { min: 1, max: MAX_QUOTE_ITEMS as i64 },
            });
        }
        let items = d
            .items
            .into_iter()
            .map(|i| {
                Ok(ShippingItem {
                    weight: Weight::new(i.weight_grams)?,
                    dimensions: Dimensions::new(i.dimensions_cm.length, i.dimensions_cm.width, i.dimensions_cm.height)?,
                    quantity: Quantity::new(i.quantity)?,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        Ok(QuoteShipping {
            destination: Address::try_from(d.destination)?,
            speed: ShippingSpeed::from_str(&d.shipping_speed)?,
            items,
            subtotal: d.subtotal.try_into()?,
        })
    }
}

/// A PATCH field: absent means "leave as it is"; `null` is refused (nothing can be cleared).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A PATCH names at least one field to change.
fn at_least_one(any: bool) -> Result<(), DomainError> {
    if any {
        Ok(())
    } else {
        Err(DomainError::Invalid { field: "body", problem: Problem::Empty })
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(extend("minProperties" = 1)))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProductDto {
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schemars(with = "String", length(min = 1, max = ProductName::MAX_CHARS), pattern(domain::text::text_pattern())))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schemars(with = "MoneyDto"))]
    pub price: Option<MoneyDto>,
    /// How many stock items (shards) the product's units are spread over: 1 for an ordinary
    /// product; more lets a hot product take more reservations a second. Units held stay held.
    #[serde(default, deserialize_with = "present_whole")]
    #[cfg_attr(feature = "openapi", schemars(with = "u32", range(min = ShardCount::MIN, max = ShardCount::MAX)))]
    pub shards: Option<i64>,
}

/// A PATCH field that is a whole number (see [`present`] and [`whole`]).
fn present_whole<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    whole(d).map(Some)
}

impl TryFrom<UpdateProductDto> for UpdateProduct {
    type Error = DomainError;
    fn try_from(d: UpdateProductDto) -> Result<Self, Self::Error> {
        at_least_one(d.name.is_some() || d.price.is_some() || d.shards.is_some())?;
        Ok(UpdateProduct {
            name: d.name.as_deref().map(ProductName::parse).transpose()?,
            price: d.price.map(Money::try_from).transpose()?,
            shards: d.shards.map(ShardCount::new).transpose()?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestockDto {
    #[cfg_attr(feature = "openapi", schemars(range(min = RestockQuantity::MIN, max = RestockQuantity::MAX)))]
    #[serde(deserialize_with = "whole")]
    pub quantity: i64,
}

impl TryFrom<RestockDto> for Restock {
    type Error = DomainError;
    fn try_from(d: RestockDto) -> Result<Self, Self::Error> {
        Ok(Restock { quantity: RestockQuantity::new(d.quantity)? })
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreditLimitDto {
    pub credit_limit: MoneyDto,
}

impl TryFrom<CreditLimitDto> for ChangeCreditLimit {
    type Error = DomainError;
    fn try_from(d: CreditLimitDto) -> Result<Self, Self::Error> {
        Ok(ChangeCreditLimit { credit_limit: d.credit_limit.try_into()? })
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(extend("minProperties" = 1)))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCustomerDto {
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schemars(with = "String", length(min = 1, max = CustomerName::MAX_CHARS), pattern(domain::text::text_pattern())))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schemars(with = "RawAddress"))]
    pub address: Option<RawAddress>,
}

impl TryFrom<UpdateCustomerDto> for UpdateCustomer {
    type Error = DomainError;
    fn try_from(d: UpdateCustomerDto) -> Result<Self, Self::Error> {
        at_least_one(d.name.is_some() || d.address.is_some())?;
        Ok(UpdateCustomer {
            name: d.name.as_deref().map(CustomerName::parse).transpose()?,
            address: d.address.map(Address::try_from).transpose()?,
        })
    }
}

#[cfg(test)]
mod whole_number_tests {
    use super::*;

    #[test]
    fn a_whole_number_may_be_written_with_a_zero_fraction_and_nothing_else() {
        let read = |json: &str| serde_json::from_str::<RestockDto>(json).map(|d| d.quantity);
        assert_eq!(read(r#"{"quantity": 841}"#).ok(), Some(841));
        assert_eq!(read(r#"{"quantity": 841.0}"#).ok(), Some(841), "JSON Schema's integer includes 841.0");
        assert_eq!(read(r#"{"quantity": -3.0}"#).ok(), Some(-3), "the range is the domain's to check");
        assert!(read(r#"{"quantity": 841.5}"#).is_err());
        assert!(read(r#"{"quantity": 1e300}"#).is_err());
        assert!(read(r#"{"quantity": "841"}"#).is_err());
    }
}

schema_names! {
    /// A route's request body, named for the manifest: its schema is the DTO's.
    BodyType {
        CreateCustomer => CreateCustomerDto,
        UpdateCustomer => UpdateCustomerDto,
        CreditLimit => CreditLimitDto,
        CreateProduct => CreateProductDto,
        UpdateProduct => UpdateProductDto,
        Restock => RestockDto,
        CreateOrder => CreateOrderDto,
        Quote => QuoteDto,
    }
}
