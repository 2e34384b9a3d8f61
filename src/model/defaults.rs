//! Built-in defaults, used when neither an entity, its server nor the project says:
//! the renderer writes them and the call-flow simulator assumes them.

pub const DEFAULT_CODECS: &str = "ulaw,alaw";
pub const DEFAULT_RING_TIMEOUT: u32 = 20;
pub const DEFAULT_MAX_CONTACTS: u32 = 1;
pub const DEFAULT_DIGIT_TIMEOUT: u32 = 5;
pub const DEFAULT_MAX_RETRIES: u32 = 3;
pub const DEFAULT_DIAL_TIMEOUT: u32 = 60;
