//! ORCID iDs: 16 characters in four groups, the last a ISO 7064 MOD 11-2 check character.

use crate::error::{FieldCode, FieldError};

/// A checksum-valid ORCID iD in its canonical `0000-0002-1825-0097` form (input may also be a
/// `https://orcid.org/...` URL or lack the hyphens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orcid(String);

impl Orcid {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let v = value.trim();
        let v = v
            .strip_prefix("https://orcid.org/")
            .or_else(|| v.strip_prefix("http://orcid.org/"))
            .unwrap_or(v);
        let chars: Vec<char> = v.chars().filter(|c| *c != '-').collect();
        let invalid = |msg: &str| FieldError::new(field, FieldCode::InvalidOrcid, msg);
        if chars.len() != 16
            || !chars[..15].iter().all(char::is_ascii_digit)
            || !(chars[15].is_ascii_digit() || chars[15] == 'X' || chars[15] == 'x')
        {
            return Err(invalid("must be an ORCID iD such as 0000-0002-1825-0097"));
        }
        let mut total: u32 = 0;
        for c in &chars[..15] {
            total = (total + c.to_digit(10).unwrap_or(0)) * 2;
        }
        let check = (12 - total % 11) % 11;
        let expected = if check == 10 {
            'X'
        } else {
            char::from_digit(check, 10).unwrap_or('?')
        };
        if chars[15].to_ascii_uppercase() != expected {
            return Err(invalid(
                "has a wrong check digit: it is not a valid ORCID iD",
            ));
        }
        let s: String = chars.iter().map(|c| c.to_ascii_uppercase()).collect();
        Ok(Self(format!(
            "{}-{}-{}-{}",
            &s[0..4],
            &s[4..8],
            &s[8..12],
            &s[12..16]
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids_in_any_common_form() {
        for ok in [
            "0000-0002-1825-0097",
            "https://orcid.org/0000-0001-5109-3700",
            "000000021694233X",
            "0000-0002-1694-233x",
        ] {
            assert!(Orcid::parse("o", ok).is_ok(), "{ok}");
        }
        let id = Orcid::parse("o", "000000021694233x")
            .ok()
            .map(Orcid::into_string);
        assert_eq!(id.as_deref(), Some("0000-0002-1694-233X"));
    }

    #[test]
    fn wrong_check_digits_and_shapes_are_refused() {
        for bad in [
            "0000-0002-1825-0098",
            "0000-0002-1825-009",
            "abcd-0002-1825-0097",
            "",
            "0000-0002-1825-00970",
        ] {
            assert_eq!(
                Orcid::parse("o", bad).err().map(|e| e.code.as_str()),
                Some("invalid_orcid"),
                "{bad}"
            );
        }
    }
}
