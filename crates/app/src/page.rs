//! Pagination: bounded page sizes, positions, and opaque cursors that are checked on the way in.
//!
//! A cursor is base64url of `{"v":1,"q":<query scope>,"s":<sort key>,"i":<id>}`. The scope names
//! the query it belongs to (e.g. one customer's history with one status filter), so a cursor from
//! another customer or another filter is refused rather than silently paging somewhere else.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a page ends: the sort key and id of its last item. Invariant: `sort` is the exact sort
/// key the store orders by (for orders the RFC 3339 creation time, for products the name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub sort: String,
    pub id: Uuid,
}

/// How many items a page may hold: 1 to [`PageSize::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(usize);

impl PageSize {
    pub const MAX: usize = 100;
    pub const DEFAULT: PageSize = PageSize(20);

    pub fn new(n: i64) -> Option<PageSize> {
        (1..=Self::MAX as i64).contains(&n).then_some(PageSize(n as usize))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// One page to read: how many, and after which position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub size: PageSize,
    pub after: Option<Position>,
}

/// A page of items; `next` is set when more items may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Position>,
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    v: u8,
    q: String,
    s: String,
    i: Uuid,
}

/// A cursor that cannot be used for this query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is malformed or belongs to another query")]
pub struct InvalidCursor;

pub const MAX_CURSOR_LEN: usize = 1024;

pub fn encode_cursor(scope: &str, p: &Position) -> Result<String, serde_json::Error> {
    let body = CursorBody { v: 1, q: scope.to_owned(), s: p.sort.clone(), i: p.id };
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body)?))
}

pub fn decode_cursor(scope: &str, cursor: &str) -> Result<Position, InvalidCursor> {
    if cursor.is_empty() || cursor.len() > MAX_CURSOR_LEN {
        return Err(InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
    if body.v != 1 || body.q != scope || body.s.is_empty() || body.s.len() > 300 {
        return Err(InvalidCursor);
    }
    Ok(Position { sort: body.s, id: body.i })
}

/// The total order both stores sort by: the sort key, then the id, as one string.
pub fn composite_key(p: &Position) -> String {
    format!("{}#{}", p.sort, p.id.hyphenated())
}

/// An order's place in its customer's history: creation time (fixed-width RFC 3339), then id.
pub fn order_position(o: &domain::Order) -> Position {
    Position { sort: o.created_at().to_rfc3339_opts(chrono::SecondsFormat::Micros, true), id: o.id().as_uuid() }
}

/// A product's place in the catalogue: name, then id.
pub fn product_position(p: &domain::Product) -> Position {
    Position { sort: p.name().as_str().to_owned(), id: p.id().as_uuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_within_its_scope_only() {
        let p = Position { sort: "2026-01-01T00:00:00.000Z".into(), id: Uuid::from_u128(7) };
        let c = encode_cursor("history:a:*", &p).unwrap();
        assert_eq!(decode_cursor("history:a:*", &c), Ok(p));
        assert_eq!(decode_cursor("history:b:*", &c), Err(InvalidCursor));
        assert_eq!(decode_cursor("history:a:PENDING", &c), Err(InvalidCursor));
    }

    #[test]
    fn tampered_cursors_are_refused() {
        let c = encode_cursor("catalogue", &Position { sort: "Lamp".into(), id: Uuid::from_u128(7) }).unwrap();
        let mut flipped = c.clone().into_bytes();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        for bad in
            [String::from_utf8(flipped).unwrap_or_default(), "!!".into(), "".into(), "x".repeat(2000), format!("{c}=")]
        {
            assert_eq!(decode_cursor("catalogue", &bad), Err(InvalidCursor), "{bad}");
        }
    }

    #[test]
    fn page_size_is_bounded() {
        assert!(PageSize::new(0).is_none());
        assert!(PageSize::new(101).is_none());
        assert_eq!(PageSize::new(100).map(PageSize::get), Some(100));
    }
}

/// One page of a listing as the application answers it: the items, and the opaque cursor of the
/// next page when more may follow (bound to the query that issued it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
