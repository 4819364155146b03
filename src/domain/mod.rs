//! Parse, don't validate: newtypes that can only hold valid values. Each parser takes the
//! field name so that its error lands on the right field of a 422 response.

pub mod country;
pub mod currency;
mod orcid;
pub mod period;
pub mod stored;

pub use country::CountryCode;
pub use currency::Currency;
pub use orcid::Orcid;
pub use period::Period;

use std::borrow::Cow;

use crate::error::{FieldCode, FieldError};

/// Collects the results of several field parsers into one tuple, or one 422 error listing
/// every invalid field (not just the first).
///
/// ```ignore
/// let (name, country) = all_valid!(
///     name = Text::required("name", n, 200),
///     country = CountryCode::parse("country", c),
/// )?;
/// ```
#[macro_export]
macro_rules! all_valid {
    ($($name:ident = $r:expr),+ $(,)?) => {{
        match ($($r,)+) {
            ($(Ok($name),)+) => Ok(($($name,)+)),
            ($($name,)+) => {
                let mut errors: Vec<$crate::error::FieldError> = Vec::new();
                $(
                    if let Err(e) = $name {
                        errors.extend($crate::domain::IntoFieldErrors::into_field_errors(e));
                    }
                )+
                Err($crate::error::AppError::validation(errors))
            }
        }
    }};
}

/// A parser may report one field error or several (for lists and nested records).
pub trait IntoFieldErrors {
    fn into_field_errors(self) -> Vec<FieldError>;
}

impl IntoFieldErrors for FieldError {
    fn into_field_errors(self) -> Vec<FieldError> {
        vec![self]
    }
}

impl IntoFieldErrors for Vec<FieldError> {
    fn into_field_errors(self) -> Vec<FieldError> {
        self
    }
}

/// Lets one `all_valid!` group feed another, so a record of many fields still reports every
/// problem at once.
impl IntoFieldErrors for crate::error::AppError {
    fn into_field_errors(self) -> Vec<FieldError> {
        self.errors
    }
}

/// Human text: trimmed, bounded in characters, free of control characters (newlines and tabs
/// allowed only where `multiline`).
pub struct Text;

impl Text {
    pub fn required(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
        match Self::clean(field, value, max_chars, false)? {
            Some(v) => Ok(v),
            None => Err(FieldError::new(
                field,
                FieldCode::Required,
                "must not be empty",
            )),
        }
    }

    /// An optional value; empty or blank becomes `None`.
    pub fn optional(
        field: &str,
        value: Option<&str>,
        max_chars: usize,
    ) -> Result<Option<String>, FieldError> {
        match value {
            None => Ok(None),
            Some(v) => Self::clean(field, v, max_chars, false),
        }
    }

    fn clean(
        field: &str,
        value: &str,
        max_chars: usize,
        multiline: bool,
    ) -> Result<Option<String>, FieldError> {
        // Text arrives from Word, e-mail and legacy systems. C1 controls and DEL are never
        // meaningful in UTF-8 text (they are what mis-decoded Windows-1252 quotes and dashes
        // leave behind), so they are dropped; in free text, line ends become `\n`. Any other
        // control character is refused.
        let c1 = |c: char| matches!(c as u32, 0x7f..=0x9f);
        let normalised: Cow<str> = if value.contains(c1) {
            Cow::Owned(value.chars().filter(|c| !c1(*c)).collect())
        } else {
            Cow::Borrowed(value)
        };
        let normalised = if multiline && normalised.contains('\r') {
            Cow::Owned(normalised.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            normalised
        };
        let v = normalised.trim();
        if v.is_empty() {
            return Ok(None);
        }
        let n = v.chars().count();
        if n > max_chars {
            return Err(FieldError::new(
                field,
                FieldCode::TooLong,
                format!("must be at most {max_chars} characters (got {n})"),
            ));
        }
        if v.chars()
            .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
        {
            return Err(FieldError::new(
                field,
                FieldCode::ControlCharacters,
                "must not contain control characters",
            ));
        }
        Ok(Some(v.to_owned()))
    }
}

impl Text {
    /// Free text that may span lines (descriptions, abstracts, bios).
    pub fn multiline(
        field: &str,
        value: Option<&str>,
        max_chars: usize,
    ) -> Result<Option<String>, FieldError> {
        match value {
            None => Ok(None),
            Some(v) => Self::clean(field, v, max_chars, true),
        }
    }

    /// A list of short labels (keywords, languages): each trimmed and bounded, blanks dropped,
    /// duplicates (ignoring case) removed, order kept.
    pub fn labels(
        field: &str,
        values: &[String],
        max_items: usize,
        max_chars: usize,
    ) -> Result<Vec<String>, FieldError> {
        let mut out: Vec<String> = Vec::new();
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = Self::clean(&format!("{field}[{i}]"), v, max_chars, false)?
                && !out.iter().any(|o| o.to_lowercase() == v.to_lowercase())
            {
                out.push(v);
            }
        }
        if out.len() > max_items {
            return Err(FieldError::new(
                field,
                FieldCode::TooMany,
                format!("must have at most {max_items} entries"),
            ));
        }
        Ok(out)
    }
}

/// An email address: trimmed, one `@`, a dotted domain, no spaces; at most 254 characters.
pub struct Email;

impl Email {
    pub fn parse(field: &str, value: &str) -> Result<String, FieldError> {
        let e = value.trim();
        let valid = e.len() <= 254
            && e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !e.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(e.to_owned())
        } else {
            Err(FieldError::new(
                field,
                FieldCode::InvalidEmail,
                "must be an email address",
            ))
        }
    }

    pub fn optional(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => Self::parse(field, v).map(Some),
        }
    }
}

/// An absolute `http` or `https` URL with a host.
pub struct WebUrl;

impl WebUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(field: &str, value: &str) -> Result<String, FieldError> {
        let v = value.trim();
        let invalid = || {
            FieldError::new(
                field,
                FieldCode::InvalidUrl,
                "must be an absolute http:// or https:// URL with a host",
            )
        };
        if v.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                field,
                FieldCode::TooLong,
                format!("must be at most {} bytes", Self::MAX_LEN),
            ));
        }
        let url = url::Url::parse(v).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(invalid());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldError::new(
                field,
                FieldCode::InvalidUrl,
                "must not contain credentials",
            ));
        }
        Ok(url.to_string())
    }

    pub fn optional(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => Self::parse(field, v).map(Some),
        }
    }
}

/// Public ids are UUIDs rendered as lowercase hyphenated text.
pub struct PublicId;

impl PublicId {
    /// A fresh id: UUIDv7 (its random part is 74 bits, so ids are not guessable, and ids
    /// sort in creation order, which keyset pagination relies on).
    pub fn generate() -> String {
        uuid::Uuid::now_v7().to_string()
    }

    /// Parses an id from a path or body, normalising its case; `None` when malformed.
    pub fn parse(value: &str) -> Option<String> {
        uuid::Uuid::try_parse(value.trim())
            .ok()
            .map(|u| u.hyphenated().to_string())
    }

    /// An optional id filter from a query string: a 400 naming `field` when malformed.
    pub fn query_param(
        field: &str,
        value: Option<&str>,
    ) -> crate::error::AppResult<Option<String>> {
        value
            .map(|v| {
                Self::parse(v).ok_or_else(|| {
                    crate::error::AppError::query(vec![FieldError::new(
                        field,
                        FieldCode::InvalidId,
                        "must be an id",
                    )])
                })
            })
            .transpose()
    }

    /// An optional id in a request body: a 422 naming `field` when malformed.
    pub fn body_field(field: &str, value: Option<&str>) -> crate::error::AppResult<Option<String>> {
        value
            .map(|v| {
                Self::parse(v).ok_or_else(|| {
                    crate::error::AppError::validation(vec![FieldError::new(
                        field,
                        FieldCode::InvalidId,
                        "must be an id",
                    )])
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiline_text_normalises_line_ends_and_drops_c1_controls() {
        assert_eq!(
            Text::multiline("bio", Some("a\r\nb\rc\u{9d}d\u{7f}"), 100)
                .ok()
                .flatten()
                .as_deref(),
            Some("a\nb\ncd")
        );
        assert!(Text::multiline("bio", Some("bell\u{7}"), 100).is_err());
        assert_eq!(
            Text::required("name", "x\u{96}y", 100).ok().as_deref(),
            Some("xy")
        );
        assert!(
            Text::required("name", "x\ny", 100).is_err(),
            "single-line fields refuse line breaks"
        );
    }

    #[test]
    fn text_trims_bounds_and_rejects_controls() {
        assert_eq!(
            Text::required("n", "  國立陽明交通大學 ", 10)
                .ok()
                .as_deref(),
            Some("國立陽明交通大學")
        );
        let code = |v| Text::required("n", v, 10).err().map(|e| e.code.as_str());
        assert_eq!(code("  "), Some("required"));
        assert_eq!(code("서울대학교서울대학교x"), Some("too_long"));
        assert_eq!(code("a\u{0}b"), Some("control_characters"));
        assert_eq!(Text::optional("n", Some(" "), 10).ok(), Some(None));
    }

    #[test]
    fn urls_must_be_web_urls() {
        assert_eq!(
            WebUrl::parse("w", "https://www.kaist.ac.kr")
                .ok()
                .as_deref(),
            Some("https://www.kaist.ac.kr/")
        );
        for bad in [
            "ftp://x.org",
            "javascript:alert(1)",
            "www.ntu.edu.tw",
            "https://u:p@x.org",
        ] {
            assert!(WebUrl::parse("w", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn all_valid_reports_every_field() {
        let r: Result<(String, String), _> = all_valid!(
            name = Text::required("name", "", 5),
            website = WebUrl::parse("website", "nope"),
        );
        let Err(e) = r else {
            panic!("both fields are invalid")
        };
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "website"]);
        let ok = all_valid!(
            a = Text::required("a", "x", 5),
            b = Text::required("b", "y", 5)
        );
        assert_eq!(ok.ok(), Some(("x".to_owned(), "y".to_owned())));
    }
}
