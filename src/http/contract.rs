//! The rules of the OpenAPI document that are true of every operation, applied in one place
//! after utoipa has generated it from the handlers' attributes.
//!
//! What is particular to one operation (its 403s, 404s and 409s, its parameters' ranges, its
//! schemas) is declared on the handler and its types. What follows from the shared machinery
//! is added here by rule, so an operation added later gets it without anyone remembering to:
//! the extractors that every handler uses refuse bad ids in paths (`PathId`), bad query
//! strings (`ApiQuery`), bad JSON bodies (`ApiJson`), bad `If-Match` headers (`IfMatch`) and
//! bad bearer tokens (`MaybeCaller`), each with its own problem.

use std::collections::BTreeMap;

use utoipa::Number;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn, PathItem};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, Object, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder, Schema};

use crate::error::ErrorCode;

use super::problem::PROBLEM_JSON;

/// Applies every rule to every operation and schema of `spec`.
pub fn apply(spec: &mut OpenApi) {
    for item in spec.paths.paths.values_mut() {
        for op in operations_mut(item) {
            qualify_operation_id(op);
            parameter_rules(op);
            shared_responses(op);
            describe_responses(op);
        }
    }
    if let Some(components) = spec.components.as_mut() {
        for (name, schema) in components.schemas.iter_mut() {
            if CLOSED_UNIONS.contains(&name.as_str()) {
                close_variants(schema);
            }
            schema_rules(schema);
        }
    }
}

/// Internally tagged enums that deny unknown fields: serde refuses an unknown member in any
/// variant, but utoipa leaves the variants open.
const CLOSED_UNIONS: &[&str] = &["SharedResource"];

/// What `IfMatch` accepts: `*` or a list of quoted entity tags, each possibly weak (RFC 9110).
const IF_MATCH_PATTERN: &str =
    r#"^[ \t]*(\*|(W/)?"[!#-~]*")([ \t]*,[ \t]*(\*|(W/)?"[!#-~]*"))*[ \t]*$"#;

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Operation ids must be unique in a document (clients name their methods after them), but
/// utoipa takes the handler's function name, and every module has its `list` and `create`.
/// The first tag qualifies them: `faculty_list`, `needs_create`; an id that already starts
/// with its tag stays as it is (`search`).
fn qualify_operation_id(op: &mut Operation) {
    let (Some(id), Some(tag)) = (
        op.operation_id.as_deref(),
        op.tags.as_ref().and_then(|t| t.first()),
    ) else {
        return;
    };
    let tag = tag.replace('-', "_");
    if !id.starts_with(&tag) {
        op.operation_id = Some(format!("{tag}_{id}"));
    }
}

/// Whether a parameter carries one of our ids: `{id}` and `{…_id}` in paths (read by
/// `PathId` and its siblings), `…_id` filters in query strings (read by
/// `PublicId::query_param`). Every one of them is a UUID, and anything else is refused.
fn is_id(p: &Parameter) -> bool {
    matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query)
        && (p.name == "id" || p.name.ends_with("_id"))
}

/// Ids are UUIDs, `If-Match` is a list of entity tags, integers fit their format.
fn parameter_rules(op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        let RefOr::T(p) = p else { continue };
        let id = is_id(p);
        let if_match = p.parameter_in == ParameterIn::Header && p.name == "If-Match";
        if let Some(schema) = p.schema.as_mut() {
            if let RefOr::T(Schema::Object(s)) = schema {
                if id {
                    s.format = Some(SchemaFormat::KnownFormat(KnownFormat::Uuid));
                }
                if if_match {
                    s.pattern = Some(IF_MATCH_PATTERN.to_owned());
                }
            }
            schema_rules(schema);
        }
    }
}

/// Ids that other systems give: a university's own key for a profile (`external_id`), an
/// OpenAlex author id (`openalex_id`), a source's id of a work (`source_id`).
const FOREIGN_IDS: [&str; 3] = ["external_id", "openalex_id", "source_id"];

/// Whether a property holds one of our ids: `id` and `…_id`, except the [`FOREIGN_IDS`].
fn is_id_property(name: &str) -> bool {
    name == "id" || (name.ends_with("_id") && !FOREIGN_IDS.contains(&name))
}

/// Rules for every schema, walked through properties, items and alternatives: properties
/// holding ids (`…_id`, lists `…_ids`) are UUIDs, and integers are bounded by their format
/// (serde refuses a number that does not fit: 422, not a value to generate as valid).
fn schema_rules(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            bound_integer(o);
            for (name, prop) in o.properties.iter_mut() {
                if is_id_property(name) {
                    set_uuid(prop);
                } else if name.ends_with("_ids")
                    && let RefOr::T(Schema::Array(a)) = prop
                    && let ArrayItems::RefOrSchema(items) = &mut a.items
                {
                    set_uuid(items);
                }
                schema_rules(prop);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                schema_rules(items);
            }
        }
        Schema::OneOf(x) => x.items.iter_mut().for_each(schema_rules),
        Schema::AllOf(x) => x.items.iter_mut().for_each(schema_rules),
        Schema::AnyOf(x) => x.items.iter_mut().for_each(schema_rules),
        _ => {}
    }
}

fn set_uuid(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::Object(o)) = schema
        && is_type(o, Type::String)
    {
        o.format = Some(SchemaFormat::KnownFormat(KnownFormat::Uuid));
    }
}

fn is_type(o: &Object, t: Type) -> bool {
    match &o.schema_type {
        SchemaType::Type(x) => *x == t,
        SchemaType::Array(xs) => xs.contains(&t),
        _ => false,
    }
}

fn bound_integer(o: &mut Object) {
    let (min, max) = match &o.format {
        Some(SchemaFormat::KnownFormat(KnownFormat::Int32)) => {
            (i64::from(i32::MIN), i64::from(i32::MAX))
        }
        Some(SchemaFormat::KnownFormat(KnownFormat::Int64)) => (i64::MIN, i64::MAX),
        _ => return,
    };
    if !is_type(o, Type::Integer) {
        return;
    }
    let as_number = |v: i64| Number::Int(isize::try_from(v).unwrap_or(isize::MAX));
    if o.minimum.is_none() && o.exclusive_minimum.is_none() {
        o.minimum = Some(as_number(min));
    }
    if o.maximum.is_none() && o.exclusive_maximum.is_none() {
        o.maximum = Some(as_number(max));
    }
}

fn close_variants(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::OneOf(one_of)) = schema {
        for variant in &mut one_of.items {
            if let RefOr::T(Schema::Object(o)) = variant {
                o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
    }
}

/// The problems the shared extractors answer with, by what the operation declares.
fn shared_responses(op: &mut Operation) {
    let params: Vec<&Parameter> = op
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) => Some(p),
            RefOr::Ref(_) => None,
        })
        .collect();
    let mut add: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    let mut need = |code: ErrorCode| add.entry(code.status()).or_default().push(code);

    if params
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Path && is_id(p))
    {
        need(ErrorCode::InvalidPath);
    }
    // Every query struct denies unknown parameters, so any operation that reads a query
    // string can answer `invalid_query`.
    if params.iter().any(|p| p.parameter_in == ParameterIn::Query) {
        need(ErrorCode::InvalidQuery);
    }
    if let Some(if_match) = params
        .iter()
        .find(|p| p.parameter_in == ParameterIn::Header && p.name == "If-Match")
    {
        need(ErrorCode::InvalidHeader);
        need(ErrorCode::PreconditionFailed);
        if if_match.required == Required::True {
            need(ErrorCode::PreconditionRequired);
        }
    }
    if let Some(RefOr::T(body)) = &op.request_body {
        need(ErrorCode::UnsupportedMediaType);
        need(ErrorCode::PayloadTooLarge);
        if body.content.keys().any(|ct| ct == "application/json") {
            need(ErrorCode::MalformedJson);
            need(ErrorCode::ValidationFailed);
        }
    }
    // Wherever a bearer token may be sent, a bad one is a 401 (never a silent downgrade to
    // anonymous); operations open to anonymous callers list `{}` beside `bearer`.
    if security_names(op)
        .iter()
        .any(|names| names.iter().any(|n| n == "bearer"))
    {
        need(ErrorCode::Unauthenticated);
    }

    for (status, codes) in add {
        let key = status.to_string();
        let names: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        match op.responses.responses.get_mut(&key) {
            // Declared on the handler: it keeps its own words, and learns the shared codes.
            Some(RefOr::T(existing)) => {
                let missing: Vec<&String> = names
                    .iter()
                    .filter(|n| !existing.description.contains(n.as_str()))
                    .collect();
                if !missing.is_empty() {
                    let list = missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    existing.description = if existing.description.is_empty() {
                        list
                    } else {
                        format!("{}; also {list}", existing.description)
                    };
                }
                ensure_problem_content(existing);
            }
            Some(RefOr::Ref(_)) => {}
            None => {
                op.responses
                    .responses
                    .insert(key, RefOr::T(problem(&names.join(", "))));
            }
        }
    }
}

/// The scheme names of each of the operation's security alternatives (`{}` is an empty one).
fn security_names(op: &Operation) -> Vec<Vec<String>> {
    op.security
        .iter()
        .flatten()
        .map(|req| match serde_json::to_value(req) {
            Ok(serde_json::Value::Object(o)) => o.keys().cloned().collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// Whether the operation may only be called with a bearer token: it names `bearer` and has no
/// anonymous (`{}`) alternative. The server refuses anonymous calls to these before reading
/// anything else of the request (`auth::require_bearer`), as the document promises.
pub fn requires_bearer(op: &Operation) -> bool {
    let alternatives = security_names(op);
    !alternatives.is_empty()
        && alternatives
            .iter()
            .all(|names| names.iter().any(|n| n == "bearer"))
}

/// A problem response with the given description.
fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem_content())
        .build()
}

fn problem_content() -> Content {
    Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
}

fn ensure_problem_content(res: &mut Response) {
    if res.content.is_empty() {
        res.content
            .insert(PROBLEM_JSON.to_owned(), RefOr::T(problem_content()));
    }
}

/// OpenAPI requires a description on every response; where the handler gave none, the
/// status's reason phrase (and for errors, its codes) says what it is.
fn describe_responses(op: &mut Operation) {
    for (status, res) in &mut op.responses.responses {
        let RefOr::T(res) = res else { continue };
        if !res.description.is_empty() {
            continue;
        }
        let code: Option<u16> = status.parse().ok();
        let reason = code
            .and_then(|c| actix_web::http::StatusCode::from_u16(c).ok())
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Response");
        // The codes that this status stands for in the error table, e.g. 409 `conflict`.
        let codes: Vec<String> = ErrorCode::ALL
            .iter()
            .filter(|c| Some(c.status()) == code && code.is_some_and(|c| c >= 400))
            .map(|c| format!("`{c}`"))
            .collect();
        res.description = if codes.is_empty() {
            reason.to_owned()
        } else {
            format!("{reason}: {}", codes.join(", "))
        };
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn spec() -> OpenApi {
        crate::http::openapi()
    }

    #[test]
    fn operation_ids_are_unique() {
        let spec = spec();
        let mut seen = HashSet::new();
        for item in spec.paths.paths.values() {
            for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
            {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(seen.insert(id.clone()), "operation id {id} is not unique");
            }
        }
    }

    /// An operation that says nothing of security is one the server answers without reading
    /// a bearer token (`/metrics` has a token of its own), so a client sends none; one that reads a caller must declare `bearer`, or a
    /// client cannot know that a token changes the answer (and that a bad one is a 401).
    #[test]
    fn only_the_operations_that_read_no_bearer_token_declare_no_security() {
        const READ_NO_BEARER: &[&str] = &[
            "auth_login",
            "auth_logout",
            "auth_refresh",
            // The unsubscribe link of a mail: its token is the credential.
            "notifications_unsubscribe",
            "notifications_unsubscribe_page",
            "operations_healthz",
            "operations_metrics",
            "operations_problem_type",
            "operations_readyz",
            "organizations_get_one",
            "organizations_list",
        ];
        let spec = spec();
        let mut without: Vec<String> = spec
            .paths
            .paths
            .values()
            .flat_map(|item| [&item.get, &item.put, &item.post, &item.delete, &item.patch])
            .flatten()
            .filter(|op| op.security.is_none())
            .map(|op| op.operation_id.clone().unwrap_or_default())
            .collect();
        without.sort();
        assert_eq!(without, READ_NO_BEARER);
    }

    #[test]
    fn every_response_is_described() {
        let spec = spec();
        for (path, item) in &spec.paths.paths {
            for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
            {
                for (status, res) in &op.responses.responses {
                    if let RefOr::T(res) = res {
                        assert!(!res.description.is_empty(), "{path} {status}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(o) => {
                    if let Some(serde_json::Value::String(r)) = o.get("$ref") {
                        out.push(r.clone());
                    }
                    o.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = serde_json::to_value(spec()).unwrap_or_default();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        for r in found {
            // `#/components/{kind}/{name}`: schemas, responses, ...
            let mut parts = r.trim_start_matches("#/components/").splitn(2, '/');
            let (kind, name) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            assert!(
                doc["components"][kind].get(name).is_some(),
                "{r} is referenced but not defined"
            );
        }
    }

    /// A need and a centre can both be `closed`: as a `oneOf` of the two status enums, a closed
    /// hit matched both branches and a valid search answer failed validation.
    #[test]
    fn a_hit_status_is_one_enum() {
        let doc = serde_json::to_value(spec()).unwrap_or_default();
        let status = &doc["components"]["schemas"]["HitStatus"];
        assert!(status.get("oneOf").is_none(), "{status}");
        let values: Vec<&str> = status["enum"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(values.iter().filter(|v| **v == "closed").count(), 1);
        for v in ["draft", "open", "awarded", "planned", "active", "renewing"] {
            assert!(values.contains(&v), "{v} missing from {values:?}");
        }
    }
}
