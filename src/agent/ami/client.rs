//! An AMI client over TCP: banner, login, actions matched by `ActionID`, lists
//! (`EventList: start` ... `Complete`), and a cancel-safe message reader so the caller
//! can wait on the socket and on timers at once.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::message::{Decoder, FrameError, Kind, Limits, Message};

/// AMI login.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"********")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AmiError {
    #[error("cannot connect to AMI at {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("AMI connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("AMI closed the connection")]
    Closed,
    #[error(
        "AMI login as `{user}` refused: {message} (check MANAGER_LOGIN / MANAGER_PASSWORD and manager.conf)"
    )]
    LoginRefused { user: String, message: String },
    #[error("AMI did not answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Refused(String),
    #[error("refusing to send a header value with a line break or NUL")]
    Unsafe,
}

/// Told about each message that was skipped (see [`Connection::on_skip`]).
type OnSkip = Box<dyn FnMut(FrameError) + Send>;

/// A logged-in (or about to be) AMI connection.
pub struct Connection {
    reader: OwnedReadHalf,
    writer: OwnedWriteHalf,
    decoder: Decoder,
    buf: Vec<u8>,
    banner: String,
    next_id: u64,
    prefix: String,
    on_skip: OnSkip,
}

impl Connection {
    /// Connects and reads the banner (`Asterisk Call Manager/X.Y.Z`, any version).
    pub async fn connect(host: &str, port: u16, timeout: Duration) -> Result<Connection, AmiError> {
        let address = format!("{host}:{port}");
        let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| AmiError::Timeout(timeout))?
            .map_err(|source| AmiError::Connect {
                address: address.clone(),
                source,
            })?;
        stream.set_nodelay(true)?;
        let (reader, writer) = stream.into_split();
        let mut conn = Connection {
            reader,
            writer,
            decoder: Decoder::new(Limits::default()),
            buf: vec![0; 64 * 1024],
            banner: String::new(),
            next_id: 0,
            prefix: format!("astbase-{}-", std::process::id()),
            on_skip: Box::new(drop),
        };
        let banner = tokio::time::timeout(timeout, async {
            loop {
                if let Some(b) = conn.decoder.banner() {
                    return Ok::<String, AmiError>(b);
                }
                conn.fill().await?;
            }
        })
        .await
        .map_err(|_| AmiError::Timeout(timeout))??;
        conn.banner = banner;
        Ok(conn)
    }

    pub fn banner(&self) -> &str {
        &self.banner
    }

    /// Where to report messages that [`Connection::next_message`] skips (until this is
    /// called, they are skipped silently): the caller logs them, the client never
    /// prints.
    pub fn on_skip(&mut self, report: impl FnMut(FrameError) + Send + 'static) {
        self.on_skip = Box::new(report);
    }

    /// Reads more bytes into the decoder (cancel-safe: nothing is lost if dropped).
    async fn fill(&mut self) -> Result<(), AmiError> {
        let n = self.reader.read(&mut self.buf).await?;
        if n == 0 {
            return Err(AmiError::Closed);
        }
        self.decoder.feed(&self.buf[..n]);
        Ok(())
    }

    /// Builds only the events `keep` wants (and every response); see
    /// [`Decoder::keep_events`].
    pub fn keep_events(&mut self, keep: fn(&str) -> bool) {
        self.decoder.keep_events(keep);
    }

    /// A message already received and complete, without reading (a burst is then
    /// handled without polling the socket, and the timers, once per message).
    pub fn buffered_message(&mut self) -> Option<Message> {
        loop {
            match self.decoder.next_message() {
                Ok(m) => return m,
                Err(e) => (self.on_skip)(e),
            }
        }
    }

    /// The next message. Cancel-safe. Oversized messages are skipped (reported through
    /// `on_skip`) and reading goes on.
    pub async fn next_message(&mut self) -> Result<Message, AmiError> {
        loop {
            match self.buffered_message() {
                Some(m) => return Ok(m),
                None => self.fill().await?,
            }
        }
    }

    /// A fresh ActionID.
    pub fn action_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}{}", self.prefix, self.next_id)
    }

    /// Sends an action, adding an ActionID; returns it.
    pub async fn send(&mut self, mut action: Message) -> Result<String, AmiError> {
        if !action.is_safe() {
            return Err(AmiError::Unsafe);
        }
        let id = match action.action_id() {
            Some(id) => id.to_owned(),
            None => {
                let id = self.action_id();
                action.push("ActionID", &id);
                id
            }
        };
        self.writer.write_all(action.to_wire().as_bytes()).await?;
        Ok(id)
    }

    /// Sends an action and waits for its response; other messages are passed to
    /// `other` (events that arrive meanwhile).
    pub async fn request(
        &mut self,
        action: Message,
        timeout: Duration,
        mut other: impl FnMut(Message),
    ) -> Result<Message, AmiError> {
        let id = self.send(action).await?;
        tokio::time::timeout(timeout, async {
            loop {
                let m = self.next_message().await?;
                if matches!(m.kind(), Kind::Response(_)) && m.action_id() == Some(id.as_str()) {
                    return Ok(m);
                }
                other(m);
            }
        })
        .await
        .map_err(|_| AmiError::Timeout(timeout))?
    }

    /// Logs in. `events: false` asks for no events (one-shot commands).
    pub async fn login(
        &mut self,
        credentials: &Credentials,
        events: bool,
        timeout: Duration,
    ) -> Result<(), AmiError> {
        let login = Message::new([
            ("Action", "Login"),
            ("Username", credentials.username.as_str()),
            ("Secret", credentials.secret.as_str()),
            ("Events", if events { "on" } else { "off" }),
        ]);
        let response = self.request(login, timeout, drop).await?;
        match response.kind() {
            Kind::Response(r) if r.eq_ignore_ascii_case("Success") => Ok(()),
            _ => Err(AmiError::LoginRefused {
                user: credentials.username.clone(),
                message: response
                    .get("Message")
                    .unwrap_or("no reason given")
                    .to_owned(),
            }),
        }
    }

    /// Sends a list action (CoreShowChannels, QueueStatus, ...) and collects its item
    /// events until `EventList: Complete`.
    pub async fn list(
        &mut self,
        action: Message,
        timeout: Duration,
    ) -> Result<Vec<Message>, AmiError> {
        let id = self.send(action).await?;
        tokio::time::timeout(timeout, async {
            let mut items = Vec::new();
            loop {
                let m = self.next_message().await?;
                if m.action_id() != Some(id.as_str()) {
                    continue;
                }
                match m.kind() {
                    Kind::Response(r) if r.eq_ignore_ascii_case("Success") => continue,
                    Kind::Response(_) => {
                        return Err(AmiError::Refused(
                            m.get("Message").unwrap_or("refused").to_owned(),
                        ));
                    }
                    _ if m
                        .get("EventList")
                        .is_some_and(|v| v.eq_ignore_ascii_case("Complete")) =>
                    {
                        return Ok(items);
                    }
                    _ => items.push(m),
                }
            }
        })
        .await
        .map_err(|_| AmiError::Timeout(timeout))?
    }

    /// Says goodbye (best effort).
    pub async fn logoff(&mut self) {
        let _ = self.send(Message::new([("Action", "Logoff")])).await;
        let _ = self.writer.shutdown().await;
    }
}
