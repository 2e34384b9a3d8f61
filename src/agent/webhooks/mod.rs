//! Call-event webhooks for CRMs: the agent turns AMI events and stored CDRs into call
//! events ([`events`]), queues them durably per endpoint ([`outbox`]), and POSTs them
//! signed, in order, at least once ([`deliver`]). Payloads: schema/webhook-event.schema.json.

pub mod config;
pub mod deliver;
pub mod events;
pub mod outbox;

pub use config::{Endpoint, EventKind, WebhookConfigError};
pub use events::{CALL_EVENTS, CallEvent, CallTracker};
