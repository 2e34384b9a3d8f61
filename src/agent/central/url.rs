//! `--central postgres://...`: the URL of the central CDR database, read the way libpq
//! reads it (so an admin's existing URLs and `.pgpass` work), with the password found
//! where libpq looks: the URL, then a file, then `PGPASSWORD`, then `~/.pgpass`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::CentralError;
use super::pgpass;

/// How the connection is encrypted and what is verified (libpq's `sslmode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// TLS if the server offers it, unverified (libpq's default).
    Prefer,
    /// Always TLS; the certificate is not verified (as in libpq, unless a root
    /// certificate is given, which makes it `VerifyCa`).
    Require,
    /// TLS with a certificate signed by `roots`, for any host name.
    VerifyCa {
        roots: Roots,
    },
    /// TLS with a certificate signed by `roots` and naming the host.
    VerifyFull {
        roots: Roots,
    },
}

/// Whose certificates are trusted when verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// A PEM file (`sslrootcert=PATH`).
    File(PathBuf),
    /// The public web's roots (`sslrootcert=system`).
    System,
}

/// A client certificate and its key (`sslcert`, `sslkey`), for servers that
/// authenticate roles by certificate (`cert` or `clientcert=` in pg_hba.conf).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where the password came from, for the agent's start-up line (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    Url,
    File(PathBuf),
    Environment,
    Pgpass(PathBuf),
    /// None found: fine for `trust` or certificate authentication.
    None,
}

/// A parsed central-database URL with its password resolved.
#[derive(Debug, Clone)]
pub struct CentralUrl {
    pub(super) config: tokio_postgres::Config,
    pub tls: TlsMode,
    pub client_certificate: Option<ClientCertificate>,
    pub password_from: PasswordSource,
    /// `postgres://user@host:port/db`: what logs and errors show (no password).
    pub display: String,
    /// `host:port/db`: which database a shipping mark belongs to.
    pub key: String,
}

/// Whether `text` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// Where to look for a password the URL lacks.
#[derive(Debug, Clone, Default)]
pub struct PasswordLookup {
    /// `--central-password-file`: the whole file (one trailing newline dropped).
    pub file: Option<PathBuf>,
    /// `PGPASSWORD`.
    pub environment: Option<String>,
    /// `PGPASSFILE`, else `~/.pgpass`.
    pub pgpass: Option<PathBuf>,
}

impl PasswordLookup {
    /// libpq's sources from this process's environment, and `file` if given.
    pub fn from_env(file: Option<PathBuf>) -> PasswordLookup {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        PasswordLookup {
            file,
            environment: std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()),
            pgpass: std::env::var_os("PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join(".pgpass"))),
        }
    }
}

impl CentralUrl {
    pub fn parse(text: &str, lookup: &PasswordLookup) -> Result<CentralUrl, CentralError> {
        let bad = |reason: String| CentralError::BadUrl {
            url: mask(text),
            reason,
        };
        if !is_postgres_url(text) {
            return Err(bad("it must start with postgres:// or postgresql://".into()));
        }
        // libpq options tokio-postgres does not know are taken out here.
        let (base, query) = text.split_once('?').unwrap_or((text, ""));
        let mut kept = Vec::new();
        let (mut sslmode, mut rootcert, mut sslcert, mut sslkey) = (None, None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value).map_err(|e| bad(format!("`{key}`: {e}")))?;
            match key {
                "sslmode" => sslmode = Some(value),
                "sslrootcert" => rootcert = Some(value),
                "sslcert" => sslcert = Some(PathBuf::from(value)),
                "sslkey" => sslkey = Some(PathBuf::from(value)),
                _ => kept.push(pair),
            }
        }
        let rebuilt = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config =
            tokio_postgres::Config::from_str(&rebuilt).map_err(|e| bad(e.to_string()))?;
        let roots = rootcert.map(|r| {
            if r == "system" {
                Roots::System
            } else {
                Roots::File(PathBuf::from(r))
            }
        });
        let default_root = || {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".postgresql/root.crt"))
                .filter(|p| p.exists())
                .map(Roots::File)
        };
        let verified = |mode: &str| {
            roots.clone().or_else(default_root).ok_or_else(|| {
                bad(format!(
                    "sslmode={mode} needs the certificate authority: add \
                     sslrootcert=PATH (a PEM file) or sslrootcert=system"
                ))
            })
        };
        let tls = match sslmode.as_deref().unwrap_or("prefer") {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => match roots.clone() {
                Some(roots) => TlsMode::VerifyCa { roots },
                None => TlsMode::Require,
            },
            "verify-ca" => TlsMode::VerifyCa {
                roots: verified("verify-ca")?,
            },
            "verify-full" => TlsMode::VerifyFull {
                roots: verified("verify-full")?,
            },
            other => {
                return Err(bad(format!(
                    "sslmode `{other}` is not one of disable, allow, prefer, require, \
                     verify-ca, verify-full"
                )));
            }
        };
        let client_certificate = match (sslcert, sslkey) {
            (None, None) => None,
            (Some(cert), Some(key)) if tls != TlsMode::Disable => {
                Some(ClientCertificate { cert, key })
            }
            (Some(_), Some(_)) => {
                return Err(bad(
                    "sslcert and sslkey need TLS, and sslmode is disable".into()
                ));
            }
            _ => return Err(bad("give sslcert and sslkey together".into())),
        };
        config.ssl_mode(match tls {
            TlsMode::Disable => tokio_postgres::config::SslMode::Disable,
            TlsMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        let user = config
            .get_user()
            .ok_or_else(|| bad("it names no role: write postgres://ROLE@HOST/DATABASE".into()))?
            .to_owned();
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => {
                return Err(bad(
                    "it names no host: write postgres://ROLE@HOST/DATABASE".into()
                ));
            }
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let dbname = config.get_dbname().unwrap_or(&user).to_owned();
        let password_from = if config.get_password().is_some() {
            PasswordSource::Url
        } else {
            match find_password(lookup, &host, port, &dbname, &user)? {
                Some((password, source)) => {
                    config.password(password);
                    source
                }
                None => PasswordSource::None,
            }
        };
        Ok(CentralUrl {
            config,
            tls,
            client_certificate,
            password_from,
            display: format!("postgres://{user}@{host}:{port}/{dbname}"),
            key: format!("{host}:{port}/{dbname}"),
        })
    }

    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or("")
    }
}

fn find_password(
    lookup: &PasswordLookup,
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Result<Option<(String, PasswordSource)>, CentralError> {
    if let Some(file) = &lookup.file {
        let text = std::fs::read_to_string(file).map_err(|source| CentralError::PasswordFile {
            path: file.clone(),
            source,
        })?;
        let password = text.strip_suffix('\n').unwrap_or(&text);
        let password = password.strip_suffix('\r').unwrap_or(password);
        return Ok(Some((
            password.to_owned(),
            PasswordSource::File(file.clone()),
        )));
    }
    if let Some(p) = &lookup.environment {
        return Ok(Some((p.clone(), PasswordSource::Environment)));
    }
    let Some(path) = &lookup.pgpass else {
        return Ok(None);
    };
    Ok(pgpass_password(path, host, port, dbname, user)
        .map(|p| (p, PasswordSource::Pgpass(path.clone()))))
}

/// A `.pgpass` entry, read only when the file is private (as libpq insists).
fn pgpass_password(path: &Path, host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    pgpass::lookup(&text, host, port, dbname, user)
}

/// The URL with its password replaced by `***`, for messages.
pub fn mask(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "`{}` is not a %XX escape",
                        &text[i..(i + 3).min(text.len())]
                    )
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the escapes are not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<CentralUrl, CentralError> {
        CentralUrl::parse(url, &PasswordLookup::default())
    }

    #[test]
    fn a_url_names_its_database_without_the_password() {
        let url = parse("postgres://agent:s3cret@db.example:6432/cdrs?sslmode=require").unwrap();
        assert_eq!(url.display, "postgres://agent@db.example:6432/cdrs");
        assert_eq!(url.key, "db.example:6432/cdrs");
        assert_eq!(url.tls, TlsMode::Require);
        assert_eq!(url.password_from, PasswordSource::Url);
        assert_eq!(url.config.get_password(), Some(&b"s3cret"[..]));
    }

    #[test]
    fn libpq_ssl_modes_are_understood() {
        let url =
            parse("postgresql://a@h/d?sslmode=verify-full&sslrootcert=/etc/ca%20root.pem").unwrap();
        assert_eq!(
            url.tls,
            TlsMode::VerifyFull {
                roots: Roots::File("/etc/ca root.pem".into())
            }
        );
        assert_eq!(parse("postgres://a@h/d").unwrap().tls, TlsMode::Prefer);
        assert_eq!(
            parse("postgres://a@h/d?sslmode=disable").unwrap().tls,
            TlsMode::Disable
        );
        assert_eq!(
            parse("postgres://a@h/d?sslmode=verify-ca&sslrootcert=system")
                .unwrap()
                .tls,
            TlsMode::VerifyCa {
                roots: Roots::System
            }
        );
    }

    #[test]
    fn bad_urls_say_what_to_write_and_never_show_the_password() {
        let message = |url: &str| parse(url).unwrap_err().to_string();
        assert_eq!(
            message("mysql://a:pw@h/d"),
            "bad central database URL `mysql://a:***@h/d`: it must start with postgres:// or postgresql://"
        );
        assert_eq!(
            message("postgres://a:pw@h/d?sslmode=strict"),
            "bad central database URL `postgres://a:***@h/d?sslmode=strict`: sslmode `strict` is not \
             one of disable, allow, prefer, require, verify-ca, verify-full"
        );
        assert_eq!(
            message("postgres://h/d"),
            "bad central database URL `postgres://h/d`: it names no role: write postgres://ROLE@HOST/DATABASE"
        );
        assert!(message("postgres://a:pw@h:notaport/d").contains("postgres://a:***@h:notaport/d"));
    }

    #[test]
    fn the_password_is_looked_for_in_the_file_then_the_environment_then_pgpass() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let pgpass = dir.path().join("pgpass");
        std::fs::write(&pgpass, "h:5432:d:a:from-pgpass\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut lookup = PasswordLookup {
            file: Some(file.clone()),
            environment: Some("from-env".into()),
            pgpass: Some(pgpass.clone()),
        };
        let password = |lookup: &PasswordLookup| {
            let url = CentralUrl::parse("postgres://a@h/d", lookup).unwrap();
            let pw = url
                .config
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            (pw, url.password_from)
        };
        assert_eq!(
            password(&lookup),
            (Some("from-file".into()), PasswordSource::File(file))
        );
        lookup.file = None;
        assert_eq!(
            password(&lookup),
            (Some("from-env".into()), PasswordSource::Environment)
        );
        lookup.environment = None;
        assert_eq!(
            password(&lookup),
            (
                Some("from-pgpass".into()),
                PasswordSource::Pgpass(pgpass.clone())
            )
        );
        // libpq ignores a .pgpass others can read.
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(password(&lookup), (None, PasswordSource::None));
    }
}
