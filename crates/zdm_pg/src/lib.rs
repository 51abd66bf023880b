//! Everything in zdm that talks to a live PostgreSQL: a runner that applies migration files the way dbmate
//! does, and throwaway clusters (for `zdm verify` and for tests). The planning core never sees this crate:
//! facts go in as plain data, and this crate only executes what the core decided.
#![deny(missing_docs)]

pub mod backfill;
pub mod cluster;
pub mod introspect;
pub mod runner;
pub mod testing;
pub mod verify;

pub use postgres::types as postgres_types;
pub use postgres::{Client, NoTls};
