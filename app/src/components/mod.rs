//! The dashboard's parts.

pub mod agents;
pub mod charts;
pub mod conversations;
pub mod filters;
pub mod header;
pub mod kpis;
pub mod quality;
pub mod transcript;
pub mod upload;
