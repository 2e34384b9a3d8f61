//! The SSH executor (russh): scripts run as `sh -c` over an exec channel. Host keys are
//! checked against a known_hosts file; an unknown key is refused unless new keys may be
//! learned, and a changed key is always refused, with its fingerprint shown.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};

use super::{Executor, Held, Output, TransportError, quote};

/// How to reach one SSH host.
#[derive(Debug, Clone)]
pub struct SshOptions {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Private keys to try, in order (after the ssh-agent's keys when `SSH_AUTH_SOCK`
    /// is set, unless the first one was named explicitly).
    pub identities: Vec<PathBuf>,
    /// The first identity was configured explicitly: try it before the agent's keys.
    pub explicit_identity: bool,
    pub known_hosts: PathBuf,
    /// Record unknown host keys instead of refusing them (never changed ones).
    pub accept_new_host_keys: bool,
    pub timeout: Duration,
}

/// What was wrong with the host key, kept by the handler for the error message.
#[derive(Debug, Clone)]
enum KeyProblem {
    Unknown { fingerprint: String },
    Changed { fingerprint: String, line: usize },
    Other(String),
}

struct KeyChecker {
    options: SshOptions,
    problem: Arc<Mutex<Option<KeyProblem>>>,
}

impl KeyChecker {
    fn refuse(&self, problem: KeyProblem) -> Result<bool, russh::Error> {
        *self.problem.lock().expect("no panics while holding it") = Some(problem);
        Ok(false)
    }
}

impl client::Handler for KeyChecker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return self.refuse(KeyProblem::Other(
                "host certificates are not supported".into(),
            ));
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let o = &self.options;
        let known = if o.known_hosts.exists() {
            russh::keys::check_known_hosts_path(&o.host, o.port, key, &o.known_hosts)
        } else {
            Ok(false)
        };
        match known {
            Ok(true) => Ok(true),
            Ok(false) if o.accept_new_host_keys => {
                if let Some(dir) = o.known_hosts.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                match russh::keys::known_hosts::learn_known_hosts_path(
                    &o.host,
                    o.port,
                    key,
                    &o.known_hosts,
                ) {
                    Ok(()) => Ok(true),
                    Err(e) => self.refuse(KeyProblem::Other(format!(
                        "cannot record the host key in {}: {e}",
                        o.known_hosts.display()
                    ))),
                }
            }
            Ok(false) => self.refuse(KeyProblem::Unknown { fingerprint }),
            Err(russh::keys::Error::KeyChanged { line }) => {
                self.refuse(KeyProblem::Changed { fingerprint, line })
            }
            Err(e) => self.refuse(KeyProblem::Other(format!(
                "cannot read {}: {e}",
                o.known_hosts.display()
            ))),
        }
    }
}

/// A connected SSH host.
pub struct Ssh {
    runtime: tokio::runtime::Runtime,
    session: client::Handle<KeyChecker>,
    name: String,
    /// The channel of the script started by [`Executor::hold`].
    held: Option<russh::Channel<client::Msg>>,
}

impl Ssh {
    /// Connects, verifies the host key and authenticates with the first identity that
    /// the server accepts.
    pub fn connect(options: SshOptions) -> Result<Ssh, TransportError> {
        let name = format!("{}@{}:{}", options.user, options.host, options.port);
        let unreachable = |message: String| TransportError::Unreachable {
            host: name.clone(),
            message,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| unreachable(e.to_string()))?;
        let problem = Arc::new(Mutex::new(None));
        let checker = KeyChecker {
            options: options.clone(),
            problem: problem.clone(),
        };
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(Duration::from_secs(300)),
            // Every step is a small request and reply: don't let Nagle hold them back.
            nodelay: true,
            ..Default::default()
        });
        let session = runtime.block_on(async {
            let connect = client::connect(config, (options.host.as_str(), options.port), checker);
            match tokio::time::timeout(options.timeout, connect).await {
                Err(_) => Err(format!("no answer within {:?}", options.timeout)),
                Ok(Err(e)) => Err(e.to_string()),
                Ok(Ok(session)) => Ok(session),
            }
        });
        let mut session = match session {
            Ok(s) => s,
            Err(message) => {
                let problem = problem.lock().expect("no panics while holding it").take();
                return Err(match problem {
                    Some(KeyProblem::Unknown { fingerprint }) => TransportError::HostKey {
                        host: name,
                        message: format!(
                            "unknown host key {fingerprint}; it is not in {} (check it, then run with \
                             --accept-new-host-keys to record it)",
                            options.known_hosts.display()
                        ),
                    },
                    Some(KeyProblem::Changed { fingerprint, line }) => TransportError::HostKey {
                        host: name,
                        message: format!(
                            "HOST KEY CHANGED: the server now presents {fingerprint}, which does not match \
                             line {line} of {}; refusing to connect (someone may be intercepting the \
                             connection; if the server was reinstalled, remove that line)",
                            options.known_hosts.display()
                        ),
                    },
                    Some(KeyProblem::Other(m)) => TransportError::HostKey {
                        host: name,
                        message: m,
                    },
                    None => unreachable(message),
                });
            }
        };
        let authenticated = runtime.block_on(authenticate(&mut session, &options));
        authenticated.map_err(|m| TransportError::Unreachable {
            host: name.clone(),
            message: format!("authentication failed: {m}"),
        })?;
        Ok(Ssh {
            runtime,
            session,
            name,
            held: None,
        })
    }
}

/// Public-key authentication, like OpenSSH: an explicitly configured identity file,
/// then the keys of the ssh-agent at `SSH_AUTH_SOCK`, then the default key files.
async fn authenticate(
    session: &mut client::Handle<KeyChecker>,
    options: &SshOptions,
) -> Result<(), String> {
    let mut tried = Vec::new();
    let hash = session
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();
    let (first, rest) = match options.identities.split_first() {
        Some((first, rest)) if options.explicit_identity => (Some(first), rest),
        _ => (None, options.identities.as_slice()),
    };
    if let Some(path) = first
        && try_key_file(session, options, hash, path, &mut tried).await
    {
        return Ok(());
    }
    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        match russh::keys::agent::client::AgentClient::connect_env().await {
            Ok(mut agent) => {
                let identities = agent.request_identities().await.unwrap_or_default();
                for identity in identities {
                    let key = identity.public_key().into_owned();
                    tried.push(format!("agent key {}", key.fingerprint(HashAlg::Sha256)));
                    if let Ok(result) = session
                        .authenticate_publickey_with(&options.user, key, hash, &mut agent)
                        .await
                        && result.success()
                    {
                        return Ok(());
                    }
                }
            }
            Err(e) => tried.push(format!("ssh-agent unavailable ({e})")),
        }
    }
    for path in rest {
        if try_key_file(session, options, hash, path, &mut tried).await {
            return Ok(());
        }
    }
    Err(if tried.is_empty() {
        "no usable private key (set servers[].ssh.identity_file, or load a key into ssh-agent)"
            .to_owned()
    } else {
        format!("the server accepted none of: {}", tried.join(", "))
    })
}

async fn try_key_file(
    session: &mut client::Handle<KeyChecker>,
    options: &SshOptions,
    hash: Option<HashAlg>,
    path: &PathBuf,
    tried: &mut Vec<String>,
) -> bool {
    let Ok(key) = russh::keys::load_secret_key(path, None) else {
        if path.exists() {
            tried.push(format!(
                "{} (unreadable or passphrase-protected: add it to ssh-agent)",
                path.display()
            ));
        }
        return false;
    };
    tried.push(path.display().to_string());
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
    matches!(
        session.authenticate_publickey(&options.user, key).await,
        Ok(result) if result.success()
    )
}

/// What became of a script started by [`run`].
enum Ran {
    Exited(Output),
    /// It printed what was waited for (this) and is still running (only when asked to
    /// stop there).
    Printing(russh::Channel<client::Msg>, Vec<u8>),
}

/// How often a step waiting on the host checks that the connection is still there.
const CONNECTION_CHECK: Duration = Duration::from_millis(250);

/// Runs `script` on a new channel: with `stdin` fed and closed, to its end; without,
/// until its first line of output (or its end, if that comes first). A connection that
/// goes away mid-way ends it with an error: a channel of a closed session may never hear
/// of it, and the step would wait forever.
async fn run(
    session: &client::Handle<KeyChecker>,
    name: &str,
    script: &str,
    input: Input<'_>,
) -> Result<Ran, TransportError> {
    let work = run_on_channel(session, name, script, input);
    tokio::pin!(work);
    loop {
        tokio::select! {
            ran = &mut work => return ran,
            () = tokio::time::sleep(CONNECTION_CHECK) => {
                if session.is_closed() {
                    return Err(TransportError::Unreachable {
                        host: name.to_owned(),
                        message: "connection lost: the session closed before the command finished"
                            .into(),
                    });
                }
            }
        }
    }
}

/// What a script is given: all its input, or none yet and a test of its output that
/// says when to leave it running.
enum Input<'a> {
    All(&'a [u8]),
    Held(&'a dyn Fn(&[u8]) -> bool),
}

async fn run_on_channel(
    session: &client::Handle<KeyChecker>,
    name: &str,
    script: &str,
    input: Input<'_>,
) -> Result<Ran, TransportError> {
    let lost = |e: russh::Error| TransportError::Unreachable {
        host: name.to_owned(),
        message: format!("connection lost: {e}"),
    };
    let mut channel = session.channel_open_session().await.map_err(lost)?;
    channel
        .exec(true, format!("sh -c {}", quote(script)))
        .await
        .map_err(lost)?;
    if let Input::All(stdin) = input {
        channel.data(stdin).await.map_err(lost)?;
        channel.eof().await.map_err(lost)?;
    }
    let (mut stdout, mut stderr, mut status) = (Vec::new(), Vec::new(), None);
    while let Some(msg) = channel.wait().await {
        match msg {
            russh::ChannelMsg::Data { data } => {
                stdout.extend_from_slice(&data);
                if let Input::Held(ready) = input
                    && ready(&stdout)
                {
                    return Ok(Ran::Printing(channel, stdout));
                }
            }
            russh::ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
            russh::ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            _ => {}
        }
    }
    let status = status.ok_or_else(|| TransportError::Unreachable {
        host: name.to_owned(),
        message: "the connection closed before the command finished".into(),
    })?;
    Ok(Ran::Exited(Output {
        status: i32::try_from(status).unwrap_or(-1),
        stdout,
        stderr,
    }))
}

impl Executor for Ssh {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn exec(&mut self, script: &str, stdin: &[u8]) -> Result<Output, TransportError> {
        match self
            .runtime
            .block_on(run(&self.session, &self.name, script, Input::All(stdin)))?
        {
            Ran::Exited(output) => Ok(output),
            Ran::Printing(..) => unreachable!("a script with input is followed to its end"),
        }
    }

    fn hold(
        &mut self,
        script: &str,
        ready: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Held, TransportError> {
        self.release(b"")?;
        match self
            .runtime
            .block_on(run(&self.session, &self.name, script, Input::Held(ready)))?
        {
            Ran::Exited(output) => Ok(Held::Ended(output)),
            Ran::Printing(channel, printed) => {
                self.held = Some(channel);
                Ok(Held::Running(printed))
            }
        }
    }

    fn release(&mut self, last: &[u8]) -> Result<Option<Output>, TransportError> {
        let Some(mut channel) = self.held.take() else {
            return Ok(None);
        };
        let name = self.name.clone();
        let session = &self.session;
        let lost = |message: String| TransportError::Unreachable {
            host: name.clone(),
            message,
        };
        self.runtime.block_on(async {
            if !last.is_empty() {
                channel
                    .data(last)
                    .await
                    .map_err(|e| lost(format!("connection lost: {e}")))?;
            }
            channel
                .eof()
                .await
                .map_err(|e| lost(format!("connection lost: {e}")))?;
            // Wait for the script to end, so the lock is free when we return; a closed
            // session has freed it on the host already, but then what it was fed may
            // not have been written.
            let (mut stdout, mut stderr, mut status) = (Vec::new(), Vec::new(), None);
            loop {
                tokio::select! {
                    msg = channel.wait() => match msg {
                        Some(russh::ChannelMsg::Data { data }) => stdout.extend_from_slice(&data),
                        Some(russh::ChannelMsg::ExtendedData { data, ext: 1 }) => {
                            stderr.extend_from_slice(&data)
                        }
                        Some(russh::ChannelMsg::ExitStatus { exit_status }) => {
                            status = Some(exit_status)
                        }
                        Some(_) => {}
                        None => break,
                    },
                    () = tokio::time::sleep(CONNECTION_CHECK) => {
                        if session.is_closed() {
                            break;
                        }
                    }
                }
            }
            match status {
                Some(status) => Ok(Some(Output {
                    status: i32::try_from(status).unwrap_or(-1),
                    stdout,
                    stderr,
                })),
                None if last.is_empty() => Ok(Some(Output {
                    status: 0,
                    stdout,
                    stderr,
                })),
                None => Err(lost(
                    "connection lost: the session closed before the lock's holder finished".into(),
                )),
            }
        })
    }
}
