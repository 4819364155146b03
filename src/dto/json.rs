//! JSON as this API reads it: syntax errors and shape errors told apart, and every shape
//! error pinned to the field it concerns.

use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorCode, FieldCode, FieldError};

/// Parses JSON: syntax errors are 400 `malformed_json`; well-formed JSON of the wrong shape
/// (missing, unknown or mistyped fields, bad enum values) is 422 with the field named.
/// Every request body of this API is a JSON object.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
    {
        return Err(AppError::validation(vec![FieldError::new(
            "body",
            FieldCode::InvalidType,
            "must be a JSON object",
        )]));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = match result {
        Ok(v) => v,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // A shape error may be found before a syntax error further on: report syntax first.
            let syntax = serde_json::from_slice::<serde::de::IgnoredAny>(body).err();
            return Err(if let Some(syntax) = syntax.filter(|_| inner.is_data()) {
                AppError::new(ErrorCode::MalformedJson, format!("Invalid JSON: {syntax}"))
            } else if inner.is_data() {
                AppError::validation(vec![field_error(&path, &inner.to_string())])
            } else if inner.is_eof() && body.iter().all(u8::is_ascii_whitespace) {
                AppError::new(ErrorCode::MalformedJson, "The request body is empty")
            } else {
                AppError::new(ErrorCode::MalformedJson, format!("Invalid JSON: {inner}"))
            });
        }
    };
    de.end()
        .map_err(|e| AppError::new(ErrorCode::MalformedJson, format!("Invalid JSON: {e}")))?;
    Ok(value)
}

/// Turns a serde message into a field error. serde names a missing or unknown field in the
/// message rather than the path, so the field is taken from there when present.
pub fn field_error(path: &str, message: &str) -> FieldError {
    let message = message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
        .to_owned();
    let named = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"));
    let join = |parent: &str, child: &str| {
        if parent.is_empty() || parent == "." {
            child.to_owned()
        } else {
            format!("{parent}.{child}")
        }
    };
    let (field, code) = if message.starts_with("missing field") {
        (join(path, named.unwrap_or("")), FieldCode::Required)
    } else if message.starts_with("unknown field") {
        // serde_path_to_error already includes the unknown key in the path.
        let f = if path.is_empty() || path == "." {
            named.unwrap_or("").to_owned()
        } else {
            path.to_owned()
        };
        (f, FieldCode::UnknownField)
    } else if message.starts_with("unknown variant") {
        (path.to_owned(), FieldCode::InvalidValue)
    } else if message.starts_with("invalid type") {
        (path.to_owned(), FieldCode::InvalidType)
    } else {
        (path.to_owned(), FieldCode::Invalid)
    };
    let field = if field.is_empty() || field == "." {
        "body".to_owned()
    } else {
        field
    };
    FieldError::new(field, code, message)
}

/// Deserializes an already-parsed JSON value, naming the offending field on error.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        AppError::validation(vec![field_error(&path, &e.into_inner().to_string())])
    })
}
