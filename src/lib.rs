//! astbase: run a fleet of Asterisk PBX servers from a git repository.
//!
//! The pipeline, one module per stage: [`source`] (files) → [`model`] (typed fleet) →
//! [`validate`] (schema + meaning, producing [`diagnostics`]).

// Library code never prints: it returns values and errors, or reports through a
// callback (the agent's `Log`), and the binary decides what reaches the terminal.
#![deny(clippy::print_stdout, clippy::print_stderr)]

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
