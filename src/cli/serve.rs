//! The flags of `astbase serve` and `astbase serve user`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::{AmiArgs, DbArgs};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    #[command(flatten)]
    pub run: ServeRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Manage the console's users (Argon2id hashes in the users file).
    #[command(subcommand)]
    User(UserCommand),
}

/// Where the users file is.
#[derive(Debug, Args)]
pub struct UsersFileArgs {
    /// The users file (NAME ROLE HASH lines, mode 0600).
    #[arg(long, env = "ASTBASE_USERS", default_value = "/etc/astbase/users")]
    pub users: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeRunArgs {
    #[command(flatten)]
    pub users: UsersFileArgs,
    #[command(flatten)]
    pub ami: AmiArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub password: super::PasswordFileArgs,
    /// Address to listen on. Anything but loopback needs --tls-cert/--tls-key or
    /// --behind-proxy.
    #[arg(long, env = "ASTBASE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// PEM certificate chain (leaf first): serve HTTPS.
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// A TLS-terminating proxy is in front: cookies are marked Secure and the client's
    /// address is read from X-Forwarded-For.
    #[arg(long)]
    pub behind_proxy: bool,
    /// This server's name, as the agent stores it.
    #[arg(long, env = "ASTBASE_SERVER")]
    pub server: Option<String>,
    /// Channel technology of the phones.
    #[arg(long, default_value = "PJSIP")]
    pub tech: String,
    /// Minutes a session lasts without a request.
    #[arg(long, default_value_t = 30)]
    pub session_idle: u64,
    #[command(flatten)]
    pub fleet: ServeFleetArgs,
}

/// The fleet pages: the repo the console renders and the hosts it reads.
#[derive(Debug, Args)]
pub struct ServeFleetArgs {
    /// The config repository to show the fleet of (the fleet pages are off without it).
    #[arg(long = "repo", value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Show this git revision (branch, tag, commit) instead of the working tree.
    #[arg(long, value_name = "REF", requires = "repo")]
    pub rev: Option<String>,
    /// known_hosts file for the hosts' SSH keys (default: `project.known_hosts`, else
    /// ~/.ssh/known_hosts); keys are always verified.
    #[arg(long, value_name = "FILE", requires = "repo")]
    pub known_hosts: Option<PathBuf>,
    /// How many hosts to read at once.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub parallelism: usize,
    /// Seconds between background reads of every host.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub fleet_refresh: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Viewer,
    Operator,
    Admin,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is asked for (or read from stdin with --password-stdin).
    Add(UserAddArgs),
    /// Set a user's password (and role or extension).
    Passwd(UserPasswdArgs),
    /// Remove a user.
    Remove(UserNameArgs),
    /// List the users and their roles.
    List(UsersFileArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    pub name: String,
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// The user's own phone (for listening in and click-to-dial).
    #[arg(long)]
    pub extension: Option<String>,
    /// Read the password from the first line of stdin instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub users: UsersFileArgs,
}

#[derive(Debug, Args)]
pub struct UserPasswdArgs {
    pub name: String,
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    #[arg(long)]
    pub extension: Option<String>,
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub users: UsersFileArgs,
}

#[derive(Debug, Args)]
pub struct UserNameArgs {
    pub name: String,
    #[command(flatten)]
    pub users: UsersFileArgs,
}
