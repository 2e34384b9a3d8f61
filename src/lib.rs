//! astbase: run a fleet of Asterisk PBX servers from a git repository.
//!
//! The pipeline, one module per stage, data flowing one way: [`source`] (the repo's
//! files, from the working tree or git) → [`model`] (the typed fleet) → [`validate`]
//! (schema + meaning, producing [`diagnostics`]) → [`render`] (the `*_odoo.conf` files)
//! → [`plan`] (what would change on each host) → [`apply`] (lock, write, reload, verify,
//! roll back), with [`transport`] (local or SSH) and [`firewall`] (ipset/iptables) beside
//! it. The [`agent`] runs apart, beside Asterisk, and so does [`serve`], the web console. [`conf`] reads Asterisk's config grammar;
//! [`textdiff`], [`netaddr`] and [`parallel`] are small utilities.

// Library code never prints: it returns values and errors, or reports through a
// callback (the agent's `Log`), and the binary decides what reaches the terminal.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod agent;
pub mod apply;
pub mod callflow;
pub mod conf;
pub mod diagnostics;
pub mod firewall;
pub mod import;
pub mod model;
pub mod netaddr;
pub mod parallel;
pub mod plan;
pub mod render;
pub mod serve;
pub mod source;
pub mod textdiff;
pub mod transport;
pub mod validate;
