//! The dashboard's parts.

pub mod agents;
pub mod agreement;
pub mod charts;
pub mod conversations;
pub mod evidence;
pub mod filters;
pub mod header;
pub mod kpis;
pub mod quality;
pub mod review;
pub mod service;
pub mod transcript;
pub mod upload;
