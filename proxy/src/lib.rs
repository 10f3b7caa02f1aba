//! PowerPulse's server and command line: the REST API over its own store, AI analysis through
//! the providers' APIs, and the CLI that runs the shared pipeline on a file.

pub mod cli;
pub mod pipeline;
