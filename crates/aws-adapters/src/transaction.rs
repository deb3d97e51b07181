//! One commit as one `TransactWriteItems`: the actions, their guards, and the mapping of a
//! cancelled transaction back to the item that failed.

use std::collections::HashMap;

use app::ports::{Commit, Duplicate, Item, OutboxRecord, StoreError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, ConditionCheck, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use domain::Hold;

use crate::items::{applied_item, encode, expiry, idempotency_item, Attrs, Key, OUTBOX_TTL};
use crate::outbox::OutboxItem;
use crate::table::unavailable;

/// DynamoDB's hard limit on the actions of one `TransactWriteItems`.
pub(crate) const MAX_TRANSACTION_ITEMS: usize = 100;

/// A commit with more actions than one transaction holds, refused before any call.
#[derive(Debug, thiserror::Error)]
#[error("a commit of {0} items exceeds the {MAX_TRANSACTION_ITEMS} actions of one DynamoDB transaction")]
pub(crate) struct TooManyItems(usize);

/// The condition one transaction action is guarded by, and so what its failure means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// The stored version of the item must be this one (0: it must not exist). Failure: a
    /// conflict on that item.
    Version(Item, u64),
    /// The item must not exist. Failure: this kind of duplicate.
    Unique(Duplicate),
    /// Unconditional.
    Free,
    /// A hold: conditional on the item's invariant (the expression in its [`Action::Update`]).
    /// Failure: [`StoreError::Refused`] naming the item.
    Invariant(Item),
    /// An update conditional on what the item holds (the expression in its [`Action::Update`]).
    /// Failure: a conflict on that item.
    Content(Item),
}

enum Action {
    Put(Attrs),
    Check,
    /// `SET` expression, its condition, and their names and values.
    Update {
        set: String,
        condition: String,
        names: HashMap<String, String>,
        values: HashMap<String, AttributeValue>,
    },
}

/// An attribute path (`data.reserved.amount`) as expression names (`#p0.#p1.#p2`).
fn path(names: &mut HashMap<String, String>, segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| {
            let name = format!("#p{}", names.len());
            names.insert(name.clone(), (*s).to_owned());
            name
        })
        .collect::<Vec<_>>()
        .join(".")
}

struct Entry {
    key: Key,
    guard: Guard,
    action: Action,
}

/// The actions of one `TransactWriteItems`, in the order their failures take precedence
/// (aggregate writes first, then the applied marker, then the idempotency record, as in
/// `app::memory`). Invariant: at most one action per item key.
#[derive(Default)]
pub(crate) struct Transaction {
    entries: Vec<Entry>,
}

impl Transaction {
    /// Writes `attrs` as `item`, provided its stored version is `expected` (0: absent).
    pub fn put_versioned(&mut self, item: Item, attrs: Attrs, expected: u64) -> Result<(), StoreError> {
        self.push(Entry { key: Key::of(item), guard: Guard::Version(item, expected), action: Action::Put(attrs) })
    }

    /// Writes nothing but requires the stored version of `item` to be `version` (0: absent).
    pub fn check_version(&mut self, item: Item, version: u64) -> Result<(), StoreError> {
        self.push(Entry { key: Key::of(item), guard: Guard::Version(item, version), action: Action::Check })
    }

    /// Writes `item` provided no item has its key yet.
    pub fn put_unique(&mut self, key: Key, item: Attrs, duplicate: Duplicate) -> Result<(), StoreError> {
        self.push(Entry { key, guard: Guard::Unique(duplicate), action: Action::Put(item) })
    }

    /// Moves the number at `counter` of `item` by `hold.delta`, in one `Update` conditional on the
    /// invariant alone: for a hold, the number at `bound` is still the hold's basis and the counter
    /// at most `basis - delta` (so after the update it is at most the bound); for a release, the
    /// counter at least `-delta`. The item's version moves on, so a versioned put of the same item
    /// read before the hold conflicts instead of overwriting it. Expresses `Hold::allowed`.
    pub fn hold(&mut self, item: Item, counter: &[&str], bound: &[&str], hold: Hold) -> Result<(), StoreError> {
        let threshold = hold.threshold().ok_or(StoreError::Refused { item })?;
        let mut names = HashMap::new();
        let c = path(&mut names, counter);
        let n = |v: i64| AttributeValue::N(v.to_string());
        let mut values = HashMap::from([
            (":delta".to_owned(), n(hold.delta)),
            (":one".to_owned(), n(1)),
            (":threshold".to_owned(), n(threshold)),
        ]);
        let condition = if hold.delta > 0 {
            let b = path(&mut names, bound);
            values.insert(":basis".to_owned(), n(hold.basis));
            format!("attribute_exists(PK) AND {b} = :basis AND {c} <= :threshold")
        } else {
            format!("attribute_exists(PK) AND {c} >= :threshold")
        };
        let set = format!("SET {c} = {c} + :delta, version = version + :one");
        self.push(Entry {
            key: Key::of(item),
            guard: Guard::Invariant(item),
            action: Action::Update { set, condition, names, values },
        })
    }

    /// Sets the map at `data` of `item` to `to` (creating the item, with `entity`), provided the
    /// numbers at `data.<field>` are still `from`'s, or, when `from` is all zeros, the item is
    /// absent. The version moves on, so holds and puts read before it conflict.
    pub fn set_if(
        &mut self,
        item: Item,
        entity: &str,
        from: &[(&str, i64)],
        to: AttributeValue,
    ) -> Result<(), StoreError> {
        let mut names = HashMap::from([("#data".to_owned(), "data".to_owned())]);
        let n = |v: i64| AttributeValue::N(v.to_string());
        let mut values = HashMap::from([
            (":to".to_owned(), to),
            (":one".to_owned(), n(1)),
            (":zero".to_owned(), n(0)),
            (":entity".to_owned(), AttributeValue::S(entity.to_owned())),
        ]);
        let mut same = vec![];
        for (i, (field, v)) in from.iter().enumerate() {
            let p = path(&mut names, &["data", field]);
            values.insert(format!(":from{i}"), n(*v));
            same.push(format!("{p} = :from{i}"));
        }
        let same = same.join(" AND ");
        let condition = if from.iter().all(|(_, v)| *v == 0) {
            format!("attribute_not_exists(PK) OR ({same})")
        } else {
            format!("attribute_exists(PK) AND {same}")
        };
        let set = "SET #data = :to, entity = :entity, version = if_not_exists(version, :zero) + :one".to_owned();
        self.push(Entry {
            key: Key::of(item),
            guard: Guard::Content(item),
            action: Action::Update { set, condition, names, values },
        })
    }

    /// Adds what every commit may carry besides its aggregate writes: the applied marker, the
    /// idempotency record and the outbox records.
    pub fn ledger<W>(&mut self, commit: &Commit<W>, now: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(a) = &commit.applied {
            let key = Key::applied(a);
            let item = applied_item(&key, a, now)?;
            self.put_unique(key, item, Duplicate::AppliedEvent)?;
        }
        if let Some(r) = &commit.idempotency {
            let key = Key::idempotency(&r.scope, &r.key);
            let item = idempotency_item(&key, r, now)?;
            self.put_unique(key, item, Duplicate::IdempotencyKey)?;
        }
        for event in &commit.events {
            let record = OutboxRecord::of(event)?;
            let key = Key::outbox(record.event_id);
            let item = encode(&key, &OutboxItem::new(&key, &record, expiry(now, OUTBOX_TTL)))?;
            self.push(Entry { key, guard: Guard::Free, action: Action::Put(item) })?;
        }
        Ok(())
    }

    /// DynamoDB refuses two actions on one item in a transaction, so they are merged here with
    /// the in-memory semantics: two version guards on one item either agree (the later put wins,
    /// a check adds nothing to a put) or cannot both hold (a conflict, decided without a call).
    fn push(&mut self, entry: Entry) -> Result<(), StoreError> {
        let Some(i) = self.entries.iter().position(|e| e.key == entry.key) else {
            self.entries.push(entry);
            return Ok(());
        };
        let existing = &mut self.entries[i];
        match (existing.guard, entry.guard) {
            (Guard::Version(_, a), Guard::Version(_, b)) if a == b => {
                if let Action::Put(_) = entry.action {
                    existing.action = entry.action;
                }
                Ok(())
            }
            (Guard::Version(..), Guard::Version(item, _)) => Err(StoreError::Conflict { item }),
            (_, Guard::Unique(d)) => Err(StoreError::Duplicate(d)),
            // The same outbox record twice: one item either way.
            (_, Guard::Free) => Ok(()),
            (_, Guard::Version(item, _) | Guard::Invariant(item) | Guard::Content(item)) => {
                Err(StoreError::Conflict { item })
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Runs the transaction as one `TransactWriteItems` (nothing to write: nothing to do). The
    /// SDK gives the call an idempotency token, so its own retries cannot apply the writes twice.
    pub async fn run(self, client: &Client, table: &str) -> Result<(), StoreError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        if self.len() > MAX_TRANSACTION_ITEMS {
            return Err(unavailable(TooManyItems(self.len())));
        }
        let items = self.entries.iter().map(|e| transact_item(table, e)).collect::<Result<Vec<_>, _>>()?;
        match client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error() {
                    if let Some(typed) = cancellation_error(c.cancellation_reasons(), &self.entries) {
                        return Err(typed);
                    }
                }
                Err(unavailable(err))
            }
        }
    }
}

fn condition(guard: Guard) -> Option<(&'static str, Option<AttributeValue>)> {
    match guard {
        Guard::Version(_, 0) | Guard::Unique(_) => Some(("attribute_not_exists(PK)", None)),
        Guard::Version(_, v) => Some(("version = :expected", Some(AttributeValue::N(v.to_string())))),
        Guard::Free | Guard::Invariant(_) | Guard::Content(_) => None,
    }
}

fn transact_item(table: &str, entry: &Entry) -> Result<TransactWriteItem, StoreError> {
    let cond = condition(entry.guard);
    let values = cond.as_ref().and_then(|(_, v)| v.clone()).map(|v| HashMap::from([(":expected".to_owned(), v)]));
    match &entry.action {
        Action::Put(item) => {
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item.clone()))
                .set_condition_expression(cond.map(|(c, _)| c.to_owned()))
                .set_expression_attribute_values(values)
                .build()
                .map_err(unavailable)?;
            Ok(TransactWriteItem::builder().put(put).build())
        }
        Action::Check => {
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(entry.key.attrs()))
                .set_condition_expression(cond.map(|(c, _)| c.to_owned()))
                .set_expression_attribute_values(values)
                .build()
                .map_err(unavailable)?;
            Ok(TransactWriteItem::builder().condition_check(check).build())
        }
        Action::Update { set, condition, names, values } => {
            let update = Update::builder()
                .table_name(table)
                .set_key(Some(entry.key.attrs()))
                .update_expression(set)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .build()
                .map_err(unavailable)?;
            Ok(TransactWriteItem::builder().update(update).build())
        }
    }
}

/// The typed error for a cancelled transaction, read from `CancellationReasons` by position: the
/// first failed condition decides (a version → [`StoreError::Conflict`] naming that item, a
/// uniqueness → its [`Duplicate`]); a concurrent transaction on an item counts as its condition
/// failing. `None`: the cancellation was for another reason (validation, capacity), not the
/// caller's.
fn cancellation_error(reasons: &[CancellationReason], entries: &[Entry]) -> Option<StoreError> {
    let first = |code: &str| reasons.iter().zip(entries).find(|(r, _)| r.code() == Some(code)).map(|(_, e)| e);
    if let Some(e) = first("ConditionalCheckFailed") {
        return match e.guard {
            Guard::Version(item, _) => Some(StoreError::Conflict { item }),
            Guard::Unique(d) => Some(StoreError::Duplicate(d)),
            Guard::Invariant(item) => Some(StoreError::Refused { item }),
            Guard::Content(item) => Some(StoreError::Conflict { item }),
            Guard::Free => None,
        };
    }
    // Another transaction on the same item at the same moment: try again.
    match first("TransactionConflict")?.guard {
        Guard::Version(item, _) | Guard::Invariant(item) | Guard::Content(item) => Some(StoreError::Conflict { item }),
        Guard::Unique(d) => Some(StoreError::Duplicate(d)),
        Guard::Free => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(code: &str) -> CancellationReason {
        CancellationReason::builder().code(code).build()
    }

    fn entry(pk: &str, guard: Guard) -> Entry {
        Entry { key: Key { pk: pk.to_owned(), sk: "X" }, guard, action: Action::Check }
    }

    fn product(n: u128) -> Item {
        Item::Product(domain::ProductId::from_uuid(uuid::Uuid::from_u128(n)))
    }

    #[test]
    fn the_first_failed_condition_by_position_names_the_error() {
        let entries = [
            entry("PRODUCT#a", Guard::Version(product(0xa), 1)),
            entry("PRODUCT#b", Guard::Version(product(0xb), 3)),
            entry("APPLIED#c#e", Guard::Unique(Duplicate::AppliedEvent)),
            entry("OUTBOX#e", Guard::Free),
        ];
        let reasons =
            [reason("None"), reason("ConditionalCheckFailed"), reason("ConditionalCheckFailed"), reason("None")];
        assert!(matches!(
            cancellation_error(&reasons, &entries),
            Some(StoreError::Conflict { item }) if item == product(0xb)
        ));
        let reasons = [reason("None"), reason("None"), reason("ConditionalCheckFailed"), reason("None")];
        assert!(matches!(cancellation_error(&reasons, &entries), Some(StoreError::Duplicate(Duplicate::AppliedEvent))));
        let reasons = [reason("TransactionConflict"), reason("None"), reason("None"), reason("None")];
        assert!(matches!(
            cancellation_error(&reasons, &entries),
            Some(StoreError::Conflict { item }) if item == product(0xa)
        ));
        let reasons = [reason("ValidationError"), reason("None"), reason("None"), reason("None")];
        assert!(cancellation_error(&reasons, &entries).is_none(), "not the caller's conflict");
    }

    #[test]
    fn two_guards_on_one_item_merge_or_conflict_without_a_call() {
        let order = Item::Order(domain::OrderId::from_uuid(uuid::Uuid::from_u128(1)));
        let key = || order;
        let mut tx = Transaction::default();
        tx.check_version(key(), 2).unwrap();
        tx.put_versioned(key(), Attrs::new(), 2).unwrap();
        tx.check_version(key(), 2).unwrap();
        assert_eq!(tx.len(), 1);
        assert!(matches!(tx.entries[0].action, Action::Put(_)), "the put replaced the check");
        assert!(matches!(tx.check_version(key(), 3), Err(StoreError::Conflict { item }) if item == order));
    }
}
