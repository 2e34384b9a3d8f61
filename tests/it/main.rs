//! One integration-test binary (faster to link than one per file), one module per area.

mod agent;
mod agent_limits;
mod agent_on_asterisk;
mod ami_double;
mod apply;
mod apply_on_asterisk;
mod asterisk;
mod cli;
mod escaping;
mod firewall;
mod git;
mod needs;
mod netns;
mod on_asterisk;
mod quiet;
mod render;
mod robustness;
mod rollout;
mod schema;
mod sip_on_asterisk;
mod ssh;
mod sshd;
mod support;
mod trace;
mod trace_on_asterisk;
mod validate;
