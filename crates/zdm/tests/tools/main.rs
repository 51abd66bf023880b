//! Every migration tool zdm writes for: detection, the files written for a safe change, a concurrent
//! index and a rename (insta snapshots), and those files applied on a real PostgreSQL by the tool's own
//! runner where it installs here, otherwise by a runner following the tool's documented rules.
//! One module per tool; `harness` is what they share.

mod harness;
mod python;

mod alembic;
mod dbmate;
mod diesel;
mod django;
mod drizzle;
mod ecto;
mod flyway;
mod formatters;
mod golang_migrate;
mod goose;
mod knex;
mod liquibase;
mod node_pg_migrate;
mod prisma;
mod rails;
mod refinery;
mod seaorm;
mod sequelize;
mod sqlx;
mod typeorm;
