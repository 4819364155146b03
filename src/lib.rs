//! Liaison: an industry-academia collaboration service.
//!
//! Layers, top to bottom (nothing reaches upward): [`http`] (handlers, extractors, problem+json,
//! OpenAPI), [`api`] (request/response types), [`service`] (rules and use cases, owning
//! transactions), [`db`] (diesel on SQLite or PostgreSQL) and [`search`] (the index). [`domain`]
//! holds the validated value types the service parses input into.

// A panic in the service is a 500 or a crash: errors are returned, never unwrapped. Unit tests
// too return Result and use `?` (clippy.toml does not exempt them); only `panic!` and
// `assert!` are allowed there, as the failing assertion itself.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod eval;
pub mod http;
pub mod memory;
pub mod search;
pub mod service;
pub mod telemetry;
