//! The Asterisk Manager Interface: framing ([`message`]) and a client ([`client`]).

pub mod client;
pub mod message;

pub use client::{AmiError, Connection, Credentials};
pub use message::{Decoder, FrameError, Kind, Limits, Message};
