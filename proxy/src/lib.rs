//! PowerPulse's server and command line: the REST API over its own store (SQLite or
//! PostgreSQL), AI analysis through the providers' APIs, background jobs, and the CLI that runs
//! the shared pipeline on a file. `main.rs` only calls [`cli::main`].

pub mod ai;
pub mod analysis;
pub mod cache;
pub mod cli;
pub mod cli_server;
pub mod config;
pub mod hash;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod pipeline;
pub mod server;
pub mod store;
