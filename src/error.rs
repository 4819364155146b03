//! The one error type of the service and its table of machine-readable codes.
//!
//! Every failure a client can see is an [`AppError`]; the HTTP layer renders it as
//! `application/problem+json` (RFC 9457). Server faults log their cause and return a generic
//! message, so no SQL, path or stack trace ever reaches a client.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares the error codes once: each variant's doc comment, wire name, HTTP status and
/// title. The enum, its serialisation and OpenAPI schema, `ALL`, `status`, `title` and
/// `as_str` all come from this one table, so they cannot disagree; `tests/vocabulary.rs`
/// ties docs/api.md's table to it.
///
/// The wire name is matched as a `tt`, not a `literal`: utoipa's derive does not look inside
/// the invisible group a `literal` fragment arrives in, and would publish the Rust names.
macro_rules! error_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[doc = $doc:literal])+ $variant:ident = $wire:tt => ($status:literal, $title:literal),)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
        pub enum $name {
            $($(#[doc = $doc])+ #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [$name] = &[$(Self::$variant,)+];

            /// The HTTP status a problem with this code has.
            pub fn status(self) -> u16 {
                match self {
                    $(Self::$variant => $status,)+
                }
            }

            /// The problem's `title`: the same for every problem with this code.
            pub fn title(self) -> &'static str {
                match self {
                    $(Self::$variant => $title,)+
                }
            }

            /// The wire name, e.g. `validation_failed`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }
    };
}

error_codes! {
    /// Stable, machine-readable error codes. The wire name (`code` in a problem) never changes once
    /// published; add new variants rather than renaming.
    pub enum ErrorCode {
        /// The request body is not syntactically valid JSON.
        MalformedJson = "malformed_json" => (400, "Malformed JSON"),
        /// A query string parameter is missing, malformed or out of range.
        InvalidQuery = "invalid_query" => (400, "Invalid query parameter"),
        /// A path parameter (such as an id) is malformed.
        InvalidPath = "invalid_path" => (400, "Invalid path parameter"),
        /// A request header is malformed.
        InvalidHeader = "invalid_header" => (400, "Invalid header"),
        /// The body's `Content-Type` is not one this endpoint accepts.
        UnsupportedMediaType = "unsupported_media_type" => (415, "Unsupported media type"),
        /// The body is larger than the configured limit.
        PayloadTooLarge = "payload_too_large" => (413, "Payload too large"),
        /// The body did not arrive in time (`body_timeout_secs`, extended for large bodies).
        RequestTimeout = "request_timeout" => (408, "Request timeout"),
        /// The body is well-formed but its content breaks a rule; see `errors`.
        ValidationFailed = "validation_failed" => (422, "Validation failed"),
        /// No resource at this address (or not one the caller may see).
        NotFound = "not_found" => (404, "Not found"),
        /// The resource exists but does not support this HTTP method.
        MethodNotAllowed = "method_not_allowed" => (405, "Method not allowed"),
        /// The change conflicts with the current state (e.g. a duplicate).
        Conflict = "conflict" => (409, "Conflict"),
        /// Approving would take a sector beyond its share of a period's compute capacity, or
        /// the period beyond its capacity; the problem's `quota` member shows the arithmetic.
        QuotaExceeded = "quota_exceeded" => (409, "Quota exceeded"),
        /// The `If-Match` header does not match the resource's current `ETag`.
        PreconditionFailed = "precondition_failed" => (412, "Precondition failed"),
        /// The operation requires an `If-Match` header.
        PreconditionRequired = "precondition_required" => (428, "Precondition required"),
        /// The endpoint cannot produce a representation the client accepts.
        NotAcceptable = "not_acceptable" => (406, "Not acceptable"),
        /// The service (or a dependency) is temporarily unavailable.
        ServiceUnavailable = "service_unavailable" => (503, "Service unavailable"),
        /// An unexpected server fault; the cause is logged, never returned.
        Internal = "internal" => (500, "Internal server error"),
        /// A generic client error for statuses without a more specific code.
        BadRequest = "bad_request" => (400, "Bad request"),
        /// No valid credentials: missing, malformed, expired or forged token, or a user that is
        /// disabled or deleted.
        Unauthenticated = "unauthenticated" => (401, "Unauthenticated"),
        /// Login with a wrong email or password (deliberately not saying which).
        InvalidCredentials = "invalid_credentials" => (401, "Invalid credentials"),
        /// Authenticated, but not allowed to do this.
        Forbidden = "forbidden" => (403, "Forbidden"),
        /// Too many attempts; retry after `Retry-After` seconds.
        TooManyRequests = "too_many_requests" => (429, "Too many requests"),
    }
}

impl ErrorCode {
    /// The code a bare HTTP status maps to when nothing more specific is known
    /// (used for responses produced outside our handlers, e.g. by the router).
    pub fn for_status(status: u16) -> Self {
        match status {
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            406 => Self::NotAcceptable,
            408 => Self::RequestTimeout,
            409 => Self::Conflict,
            412 => Self::PreconditionFailed,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::ValidationFailed,
            428 => Self::PreconditionRequired,
            429 => Self::TooManyRequests,
            503 => Self::ServiceUnavailable,
            s if s >= 500 => Self::Internal,
            _ => Self::BadRequest,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares the field-error codes once: each code's one-line meaning (its doc comment) and
/// wire name. `tests/vocabulary.rs` ties docs/api.md's table of field codes to it.
macro_rules! field_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(#[doc = $doc:literal] $variant:ident = $wire:tt,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $(#[doc = $doc] $variant,)+
            /// A whole import row refused for the reason this problem code names.
            Problem(ErrorCode),
        }

        impl $name {
            /// Every code of the table, in declaration order (not [`Self::Problem`]).
            pub const ALL: &'static [$name] = &[$(Self::$variant,)+];

            /// The wire name, e.g. `out_of_range`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Problem(code) => code.as_str(),
                }
            }

            /// What the code means, as docs/api.md says it.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => $doc.trim(),)+
                    Self::Problem(code) => code.title(),
                }
            }

            /// The code with this wire name: one of the table, else a problem code.
            pub fn from_wire(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(Self::$variant),)+
                    _ => ErrorCode::ALL
                        .iter()
                        .find(|c| c.as_str() == s)
                        .map(|c| Self::Problem(*c)),
                }
            }
        }
    };
}

field_codes! {
    /// Stable, machine-readable reasons a field is refused (`errors[].code` of a problem). Like
    /// [`ErrorCode`], a wire name never changes once published.
    pub enum FieldCode {
        /// An end of a period is not after its start (`to` before `from`).
        BeforeFrom = "before_from",
        /// An end date is not after the start date it belongs with.
        BeforeStart = "before_start",
        /// Text contains control characters it may not hold.
        ControlCharacters = "control_characters",
        /// An amount is not in the currency of the record it belongs to.
        CurrencyMismatch = "currency_mismatch",
        /// The value names a deleted record, which an operator must restore first.
        Deleted = "deleted",
        /// The value repeats an entry that already exists.
        Duplicate = "duplicate",
        /// A column appears twice in an import file's header.
        DuplicateColumn = "duplicate_column",
        /// A date lies in the past where it must not.
        InThePast = "in_the_past",
        /// A password is not the current one.
        Incorrect = "incorrect",
        /// The value cannot be read for a reason with no more specific code.
        Invalid = "invalid",
        /// Not an assigned ISO 3166-1 alpha-2 country code.
        InvalidCountry = "invalid_country",
        /// An import file is not valid CSV.
        InvalidCsv = "invalid_csv",
        /// Not an active ISO 4217 currency code.
        InvalidCurrency = "invalid_currency",
        /// Not a cursor returned by this endpoint.
        InvalidCursor = "invalid_cursor",
        /// Not a DOI.
        InvalidDoi = "invalid_doi",
        /// Not an email address.
        InvalidEmail = "invalid_email",
        /// An import file is not UTF-8.
        InvalidEncoding = "invalid_encoding",
        /// A request header is malformed.
        InvalidHeader = "invalid_header",
        /// Not an id.
        InvalidId = "invalid_id",
        /// Not an allocation period of the resource's length (`2027`, `2027-Q1`, `2027-01`).
        InvalidPeriod = "invalid_period",
        /// Not an ORCID iD (shape or check digit).
        InvalidOrcid = "invalid_orcid",
        /// Search text the query grammar cannot parse.
        InvalidQuerySyntax = "invalid_query_syntax",
        /// Exchange rates that cannot be read.
        InvalidRates = "invalid_rates",
        /// A status the record cannot move to from its current one.
        InvalidTransition = "invalid_transition",
        /// A JSON value of the wrong type.
        InvalidType = "invalid_type",
        /// Not an absolute http or https URL with a host and without credentials.
        InvalidUrl = "invalid_url",
        /// A value outside the ones this field takes.
        InvalidValue = "invalid_value",
        /// An organization's kind cannot change while it holds records only its kind may hold.
        KindInUse = "kind_in_use",
        /// A maximum is less than its minimum.
        LessThanMin = "less_than_min",
        /// A value differs from the one the request already fixes.
        Mismatch = "mismatch",
        /// An import file's header lacks a required column.
        MissingColumn = "missing_column",
        /// No exchange rate for a currency the report must convert.
        MissingRate = "missing_rate",
        /// Not the id of an organization of kind `company`.
        NotACompany = "not_a_company",
        /// Not the id of an organization of kind `foundation`.
        NotAFoundation = "not_a_foundation",
        /// Not the id of an organization of kind `government`.
        NotAGovernment = "not_a_government",
        /// Not one of the centre's partner companies.
        NotAPartner = "not_a_partner",
        /// Not the id of an organization of kind `university`.
        NotAUniversity = "not_a_university",
        /// A field this request may not set.
        NotAllowed = "not_allowed",
        /// A parameter that does not apply to the other parameters given.
        NotApplicable = "not_applicable",
        /// Not a user who is a faculty member of the university concerned.
        NotFacultyMember = "not_faculty_member",
        /// A number or date outside the range allowed.
        OutOfRange = "out_of_range",
        /// A computed amount too large to represent.
        Overflow = "overflow",
        /// A project's currency cannot change while it has payments in the current one.
        PaymentsInOtherCurrency = "payments_in_other_currency",
        /// A required value is missing, empty or null.
        Required = "required",
        /// Values that must be given together or not at all.
        RequiredTogether = "required_together",
        /// A role this kind of organization cannot grant.
        RoleNotAllowed = "role_not_allowed",
        /// An organization's kind cannot change while members hold roles the new kind cannot grant.
        RolesDoNotFit = "roles_do_not_fit",
        /// Search text nested more deeply than allowed.
        TooDeeplyNested = "too_deeply_nested",
        /// Text longer than allowed.
        TooLong = "too_long",
        /// A list with more entries than allowed.
        TooMany = "too_many",
        /// Search text with more words and phrases than allowed.
        TooManyClauses = "too_many_clauses",
        /// Text shorter than required.
        TooShort = "too_short",
        /// A scheduler account no active or expired allocation charges in the job's period.
        UnknownAccount = "unknown_account",
        /// Not the id of a centre.
        UnknownCenter = "unknown_center",
        /// An import file's header names a column that does not exist.
        UnknownColumn = "unknown_column",
        /// Not the id of an engagement that fits the record.
        UnknownEngagement = "unknown_engagement",
        /// A field this body, query or file does not have.
        UnknownField = "unknown_field",
        /// Not the id of a need the caller can see.
        UnknownNeed = "unknown_need",
        /// Not the id of an organization.
        UnknownOrganization = "unknown_organization",
        /// Not the id of a faculty profile.
        UnknownProfile = "unknown_profile",
        /// Not the id of a funded project the caller can see.
        UnknownProject = "unknown_project",
        /// Not the id of a compute resource.
        UnknownResource = "unknown_resource",
        /// Search syntax that is not supported (`field:*`, ranges, regular expressions).
        UnsupportedQuery = "unsupported_query",
        /// A record of another university than the one in charge.
        WrongUniversity = "wrong_university",
    }
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FieldCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FieldCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_wire(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown field code `{s}`")))
    }
}

/// One problem with one input field (or parameter, or header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `country` or `publications[3].year`.
    pub field: String,
    /// Stable machine-readable reason, e.g. `required`, `too_long`, `invalid_country`.
    #[schema(value_type = String)]
    pub code: FieldCode,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// An error with a code, a detail for the client, optional per-field errors and, for server
/// faults, a cause that is logged but never shown.
#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra headers the response must carry (e.g. `Allow` on 405).
    pub headers: Vec<(&'static str, String)>,
    /// Internal cause, for the log only.
    pub cause: Option<String>,
    /// Extension members of the problem document (RFC 9457 section 3.2), e.g. the current
    /// state and the allowed next states of a refused transition. Boxed: errors are returned
    /// everywhere, so the type stays small.
    pub extensions: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl AppError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            cause: None,
            extensions: None,
        }
    }

    /// Adds an extension member to the problem document.
    pub fn with_extension(mut self, name: &'static str, value: serde_json::Value) -> Self {
        self.extensions
            .get_or_insert_with(Default::default)
            .insert(name.to_owned(), value);
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Records a cause for the log (never shown to the client).
    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("Field `{}`: {}", one.field, one.message),
            many => format!("{} fields are invalid; see `errors`", many.len()),
        };
        Self::new(ErrorCode::ValidationFailed, detail).with_errors(errors)
    }

    /// The outcome of checks that collect every problem before answering: nothing found is
    /// fine, anything found is one 422 listing it all.
    pub fn unless_any(errors: Vec<FieldError>) -> AppResult<()> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self::validation(errors))
        }
    }

    pub fn query(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("Query parameter `{}`: {}", one.field, one.message),
            many => format!("{} query parameters are invalid; see `errors`", many.len()),
        };
        Self::new(ErrorCode::InvalidQuery, detail).with_errors(errors)
    }

    /// Missing or invalid credentials. The detail is the same whatever the reason, so that a
    /// forger learns nothing; the reason goes to the log.
    pub fn unauthenticated(reason: impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "A valid bearer token is required (Authorization: Bearer <access_token>)",
        )
        .with_header("www-authenticate", "Bearer".to_owned())
        .with_cause(reason)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    /// The client's `If-Match` no longer matches: someone else changed the resource.
    pub fn stale() -> Self {
        Self::new(
            ErrorCode::PreconditionFailed,
            "The resource has changed since you read it; read it again and retry",
        )
    }

    /// A server fault: the cause goes to the log, the client sees a generic message.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            ErrorCode::Internal,
            "The server could not complete the request; it has been logged",
        );
        e.cause = Some(cause.to_string());
        e
    }

    /// A dependency (the database) failed or did not answer: 503 with `Retry-After`, for
    /// this request only.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::ServiceUnavailable,
            "The service is temporarily unavailable; try again shortly",
        )
        .with_header("retry-after", "1".to_owned())
        .with_cause(cause)
    }

    /// A wait inside the database ran out (a lock held by another writer, a statement that
    /// ran too long): 503 with `Retry-After`, for this request only; nothing was changed.
    pub fn busy(cause: impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::ServiceUnavailable,
            "The database is busy with other changes; nothing was changed, try again shortly",
        )
        .with_header("retry-after", "1".to_owned())
        .with_cause(cause)
    }
}

impl AppError {
    /// What went wrong, for a log line: the code and the internal cause when there is one (a
    /// server fault's detail is the generic public message, which names no cause), else the
    /// detail.
    pub fn log_message(&self) -> String {
        match &self.cause {
            Some(cause) => format!("{}: {cause}", self.code),
            None => format!("{}: {}", self.code, self.detail),
        }
    }

    /// For the command line and start-up, where the operator should see the cause too.
    /// The fields it names with their messages, as one line (`None` when it names none).
    pub fn field_messages(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| {
            self.errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    pub fn describe(&self) -> String {
        match &self.cause {
            Some(cause) => format!("{} ({cause})", self.detail),
            None => self.detail.clone(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for AppError {}

pub type AppResult<T> = Result<T, AppError>;
