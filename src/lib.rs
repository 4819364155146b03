//! Liaison: an industry-academia collaboration service.
//!
//! Layers, top to bottom; each calls only those below it (docs/architecture.md has the full
//! map and the rules):
//! - [`http`]: handlers, extractors, problem+json, the route table that is also the OpenAPI
//!   document; it opens the database and the index at start.
//! - [`dto`]: data transfer objects, the request and response bodies (serde + OpenAPI
//!   schemas); never database rows.
//! - [`service`]: the rules and use cases, each owning its transaction; [`service::policy`]
//!   decides every permission.
//! - [`search`]: the tantivy index, a projection of the database that its indexer keeps up
//!   from the search outbox; search and matching.
//! - [`db`]: diesel on SQLite or PostgreSQL.
//!
//! Beside the layers, used by any of them: [`domain`] (the validated value types input is
//! parsed into, and the enums stored as text), [`error`] (the one error type and its codes), [`config`] (settings),
//! [`telemetry`] (logging) and [`memory`] (returning freed memory to the system). On top of
//! the service, as `http` is: [`web`] (the web app's pages), [`demo`] (`liaison demo`'s world)
//! and [`eval`] (match quality on a labelled set). The `liaison` command is `main.rs`; `bin/bench.rs` is the benchmark.

// A panic in the service is a 500 or a crash: errors are returned, never unwrapped. Unit tests
// too return Result and use `?` (clippy.toml does not exempt them); only `panic!` and
// `assert!` are allowed there, as the failing assertion itself.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod dto;
pub mod error;
pub mod eval;
pub mod http;
pub mod memory;
pub mod search;
pub mod service;
pub mod sources;
pub mod telemetry;
pub mod web;
