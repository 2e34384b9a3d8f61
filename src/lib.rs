//! astbase: run a fleet of Asterisk PBX servers from a git repository.
//!
//! The pipeline, one module per stage: [`source`] (files) → [`model`] (typed fleet) →
//! [`validate`] (schema + meaning, producing [`diagnostics`]).

pub mod agent;
pub mod apply;
pub mod conf;
pub mod diagnostics;
pub mod firewall;
pub mod model;
pub mod netaddr;
pub mod parallel;
pub mod plan;
pub mod render;
pub mod source;
pub mod textdiff;
pub mod transport;
pub mod validate;
