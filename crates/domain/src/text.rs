//! Small text value objects: names, email, address. Trimmed, bounded, free of control characters
//! and of the invisible and direction-changing characters that make a name display as something
//! else (bidi overrides, zero-width characters, line and paragraph separators).

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Problem};

/// Checks `raw` is at most `max` characters and free of control, invisible and direction-changing
/// characters, then trims it and checks something is left. Both checks read `raw` as it arrived,
/// so the published schema (`maxLength` and [`text_pattern`]) says exactly what is accepted.
pub(crate) fn bounded_text(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    if raw.chars().count() > max {
        return Err(DomainError::invalid(field, Problem::TooLong { max }));
    }
    if raw.chars().any(|c| in_ranges(CONTROL, c) || is_invisible_or_bidi(c)) {
        return Err(DomainError::invalid(field, Problem::ControlCharacters));
    }
    let t = raw.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, Problem::Empty));
    }
    Ok(t.to_owned())
}

/// Characters that render as nothing or reorder the text around them: a name holding one can
/// display as another name (or hide a URL) in every screen and log that shows it. Inclusive ranges;
/// the one list both the check and the published schemas ([`text_pattern`]) read.
const INVISIBLE_OR_BIDI: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{034F}', '\u{034F}'),   // combining grapheme joiner
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{115F}', '\u{1160}'),   // Hangul fillers
    ('\u{17B4}', '\u{17B5}'),   // Khmer inherent vowels
    ('\u{180E}', '\u{180E}'),   // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space/joiners, LRM, RLM
    ('\u{2028}', '\u{2029}'),   // line and paragraph separators
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides
    ('\u{2060}', '\u{206F}'),   // word joiner, invisible operators, bidi isolates
    ('\u{3164}', '\u{3164}'),   // Hangul filler
    ('\u{FE00}', '\u{FE0F}'),   // variation selectors
    ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (BOM)
    ('\u{FFA0}', '\u{FFA0}'),   // halfwidth Hangul filler
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotations
    ('\u{E0000}', '\u{E007F}'), // tag characters
];

/// The control characters (`char::is_control`, Unicode's Cc).
const CONTROL: &[(char, char)] = &[('\u{0000}', '\u{001F}'), ('\u{007F}', '\u{009F}')];

/// What `str::trim` takes away (`char::is_whitespace`, Unicode's White_Space).
#[cfg(any(feature = "schema", test))]
const WHITESPACE: &[(char, char)] = &[
    ('\u{0009}', '\u{000D}'),
    ('\u{0020}', '\u{0020}'),
    ('\u{0085}', '\u{0085}'),
    ('\u{00A0}', '\u{00A0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200A}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202F}', '\u{202F}'),
    ('\u{205F}', '\u{205F}'),
    ('\u{3000}', '\u{3000}'),
];

fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

fn is_invisible_or_bidi(c: char) -> bool {
    in_ranges(INVISIBLE_OR_BIDI, c)
}

/// The JSON Schema `pattern` of a text value: at least one character that is not white space, and
/// no control, invisible or direction-changing character anywhere ([`bounded_text`]'s rules; the
/// length is the schema's `maxLength`). Written so that ECMA-262 (with and without the `u` flag),
/// Python's `re` and Rust's `regex` read it alike: `\uXXXX` escapes inside the Basic Multilingual
/// Plane, and the one range beyond it (the tag characters) as literal characters, since the engines
/// spell an escape beyond `\uFFFF` three different ways.
#[cfg(feature = "schema")]
pub fn text_pattern() -> String {
    fn class(out: &mut String, sets: &[&[(char, char)]]) {
        for &(lo, hi) in sets.iter().copied().flatten() {
            for (i, c) in [lo, hi].into_iter().enumerate() {
                if i == 1 {
                    if lo == hi {
                        break;
                    }
                    out.push('-');
                }
                if u32::from(c) <= 0xFFFF {
                    out.push_str(&format!("\\u{:04X}", u32::from(c)));
                } else {
                    out.push(c);
                }
            }
        }
    }
    let mut banned = String::new();
    class(&mut banned, &[CONTROL, INVISIBLE_OR_BIDI]);
    let mut blank = banned.clone();
    class(&mut blank, &[WHITESPACE]);
    format!("^[^{banned}]*[^{blank}][^{banned}]*$")
}

/// The JSON Schema `pattern` of an [`Email`], exactly the rule [`Email::parse`] applies: the
/// WHATWG (HTML) address syntax with a local part of at most 64 characters and at least two
/// domain labels, spaces around allowed.
#[cfg(feature = "schema")]
pub fn email_pattern() -> String {
    let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    format!("^ *[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{label}(\\.{label})+ *$")
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                bounded_text($field, raw, $max).map($name)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

text_value!(
    /// A person's or company's name: 1 to 100 characters as sent, trimmed, no control or invisible characters.
    CustomerName,
    "name",
    100
);
text_value!(
    /// A product's display name: 1 to 120 characters as sent, trimmed, no control or invisible characters.
    ProductName,
    "name",
    120
);

/// An email address, lower-cased: one `@`, a local part of 1..=64 and a dotted domain, at most 254
/// characters in all. Lower-casing makes "one customer per email" hold across spellings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// As sent, the spaces around it included (they are trimmed away).
    pub const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid("email", Problem::BadFormat);
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid("email", Problem::TooLong { max: Self::MAX_CHARS }));
        }
        let s = raw.trim_matches(' ');
        if s.is_empty() {
            return Err(DomainError::invalid("email", Problem::Empty));
        }
        // The local part as HTML's address syntax has it (dots anywhere), at most 64 characters.
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let local_ok = local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if local.is_empty() || local.len() > 64 || !local_ok || domain.contains('@') {
            return Err(bad());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(bad());
        }
        Ok(Email(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

/// ISO 3166-1 alpha-2 codes that are officially assigned.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR \
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET \
FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ \
IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML \
MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS \
PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL \
TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An assigned ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

/// The schema of a country code: one of the assigned codes.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for CountryCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CountryCode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = COUNTRIES.split(' ').collect();
        schemars::json_schema!({
            "description": "An assigned ISO 3166-1 alpha-2 country code, upper case.",
            "type": "string",
            "enum": codes,
        })
    }
}

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        // Exactly as the schema's enum spells it: no case folding, no trimming.
        let s = raw;
        if s.is_empty() {
            return Err(DomainError::invalid("country", Problem::Empty));
        }
        let b = s.as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_uppercase) || !COUNTRIES.split(' ').any(|c| c == s) {
            return Err(DomainError::invalid("country", Problem::BadFormat));
        }
        Ok(CountryCode([b[0], b[1]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl TryFrom<String> for CountryCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CountryCode> for String {
    fn from(c: CountryCode) -> String {
        c.as_str().to_owned()
    }
}

/// A postal address. Every part is trimmed, non-empty and bounded; the postal code holds only
/// letters, digits, spaces and hyphens; the country is an assigned ISO code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(try_from = "RawAddress", into = "RawAddress")]
pub struct Address {
    street: String,
    city: String,
    region: String,
    postal_code: String,
    country: CountryCode,
}

/// The unvalidated shape of an address, as it arrives on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawAddress {
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 200), pattern(crate::text::text_pattern())))]
    pub street: String,
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 100), pattern(crate::text::text_pattern())))]
    pub city: String,
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 100), pattern(crate::text::text_pattern())))]
    pub region: String,
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 12), pattern(r"^[A-Za-z0-9 -]*[A-Za-z0-9-][A-Za-z0-9 -]*$"))
    )]
    pub postal_code: String,
    #[cfg_attr(feature = "schema", schemars(with = "CountryCode"))]
    pub country: String,
}

impl TryFrom<RawAddress> for Address {
    type Error = DomainError;
    fn try_from(r: RawAddress) -> Result<Self, Self::Error> {
        Address::new(&r.street, &r.city, &r.region, &r.postal_code, &r.country)
    }
}

impl From<Address> for RawAddress {
    fn from(a: Address) -> Self {
        RawAddress {
            street: a.street,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country.as_str().to_owned(),
        }
    }
}

impl Address {
    pub fn new(street: &str, city: &str, region: &str, postal_code: &str, country: &str) -> Result<Self, DomainError> {
        // Letters, digits, spaces and hyphens, as sent (white space other than a space is refused,
        // not trimmed).
        if !postal_code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-') {
            return Err(DomainError::invalid("postalCode", Problem::BadFormat));
        }
        let postal_code = bounded_text("postalCode", postal_code, 12)?;
        Ok(Address {
            street: bounded_text("street", street, 200)?,
            city: bounded_text("city", city, 100)?,
            region: bounded_text("region", region, 100)?,
            postal_code,
            country: CountryCode::parse(country)?,
        })
    }

    pub fn street(&self) -> &str {
        &self.street
    }
    pub fn city(&self) -> &str {
        &self.city
    }
    pub fn region(&self) -> &str {
        &self.region
    }
    pub fn postal_code(&self) -> &str {
        &self.postal_code
    }
    pub fn country(&self) -> CountryCode {
        self.country
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn invalid(field: &'static str, problem: Problem) -> DomainError {
        DomainError::Invalid { field, problem }
    }

    #[test]
    fn the_character_sets_are_the_standard_library_s() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            assert_eq!(in_ranges(CONTROL, c), c.is_control(), "{:04X}", u32::from(c));
            assert_eq!(in_ranges(WHITESPACE, c), c.is_whitespace(), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "plainaddress",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada@exa mple.com",
            "a da@example.com",
            "ada@-example.com",
            "ada@example..com",
            "ada@exämple.com",
        ] {
            assert_eq!(Email::parse(bad), Err(invalid("email", Problem::BadFormat)), "{bad}");
        }
        assert_eq!(Email::parse("   "), Err(invalid("email", Problem::Empty)));
        assert_eq!(Email::parse("\tada@example.com"), Err(invalid("email", Problem::BadFormat)));
        // HTML's address syntax (what a browser's email field checks) puts dots anywhere in the
        // local part; spaces around are trimmed.
        for fine in [".ada@example.com", "a..da@example.com", "  Ada@Example.com "] {
            assert!(Email::parse(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn overlong_emails_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(invalid("email", Problem::TooLong { max: 254 })));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
    }

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(CustomerName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert_eq!(CustomerName::parse(""), Err(invalid("name", Problem::Empty)));
        assert_eq!(CustomerName::parse(" \u{3000} "), Err(invalid("name", Problem::Empty)));
        // Read as sent, so the published schema says the same: a tab is a control character even
        // where trimming would take it away, and the bound counts the white space around.
        assert_eq!(CustomerName::parse(" \t "), Err(invalid("name", Problem::ControlCharacters)));
        assert_eq!(
            CustomerName::parse(&format!(" {}", "x".repeat(100))),
            Err(invalid("name", Problem::TooLong { max: 100 }))
        );
        assert_eq!(CustomerName::parse(&"x".repeat(101)), Err(invalid("name", Problem::TooLong { max: 100 })));
        assert_eq!(CustomerName::parse("Ada\u{0}"), Err(invalid("name", Problem::ControlCharacters)));
        for sneaky in ["Ada\u{202E}ecalevoL", "Ad\u{200B}a", "Ada\u{2028}Admin", "\u{2066}Ada\u{2069}", "Ada\u{FEFF}"] {
            assert_eq!(CustomerName::parse(sneaky), Err(invalid("name", Problem::ControlCharacters)), "{sneaky:?}");
        }
        // Ordinary scripts, accents and emoji are names like any other.
        for fine in ["Zoë Ångström", "محمد", "山田 太郎", "Ada 🚀"] {
            assert!(CustomerName::parse(fine).is_ok(), "{fine:?}");
        }
        // Length counts characters, not bytes: 100 multi-byte characters are fine.
        assert!(CustomerName::parse(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn country_must_be_an_assigned_alpha2_code() {
        assert_eq!(CountryCode::parse("US").unwrap().as_str(), "US");
        for bad in ["us", "USA", "U", "ZZ", "1A", "Üs", " US", "US "] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn address_checks_every_part() {
        assert!(Address::new("1 Main St", "Springfield", "IL", "62701", "US").is_ok());
        assert_eq!(Address::new("", "Springfield", "IL", "62701", "US"), Err(invalid("street", Problem::Empty)));
        assert_eq!(
            Address::new("1 Main St", "Springfield", "IL", "62701;DROP", "US"),
            Err(invalid("postalCode", Problem::BadFormat))
        );
        assert_eq!(
            Address::new("1 Main St", "Springfield", "IL", "62701", "XX"),
            Err(invalid("country", Problem::BadFormat))
        );
    }

    #[test]
    fn address_json_rejects_unknown_fields_and_validates() {
        let ok = r#"{"street":"1 Main St","city":"Springfield","region":"IL","postalCode":"62701","country":"US"}"#;
        let a: Address = serde_json::from_str(ok).unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), ok);
        let bad = r#"{"street":"1 Main St","city":"Springfield","region":"IL","postalCode":"62701","country":"us"}"#;
        assert!(serde_json::from_str::<Address>(bad).is_err());
    }

    proptest! {
        #[test]
        fn any_accepted_email_reparses_to_itself(s in "[a-zA-Z0-9._%+-]{1,20}@[a-z0-9-]{1,10}\\.[a-z]{2,5}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
                prop_assert!(e.as_str().len() <= 254);
            }
        }

        #[test]
        fn names_never_exceed_their_bound(s in "\\PC{0,150}") {
            if let Ok(n) = ProductName::parse(&s) {
                prop_assert!(n.as_str().chars().count() <= ProductName::MAX_CHARS);
                prop_assert!(!n.as_str().is_empty());
            }
        }
    }
}
