//! zdm's planning core: SQL text and schema facts in; classified operations, staged plans, migration files
//! and receipts out. No file system, no clock, no network: the CLI reads, this crate decides, the CLI writes.
#![deny(missing_docs)]

pub mod backfill;
pub mod check;
pub mod live;
pub mod model;
pub mod op;
pub mod pipeline;
pub mod plan;
pub mod refs;
pub mod report;
pub mod rules;
pub mod schema;
pub mod search_path;
pub mod sql;
pub mod tools;
