//! The console's users: a file of `NAME ROLE ARGON2-HASH [ext=EXTENSION]` lines, managed by `astbase
//! serve user add|passwd|remove|list` and read by `astbase serve`. Passwords are kept
//! only as Argon2id hashes; the file is written whole through a rename, mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// What a user may do. Each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees the fleet, configs, calls, statistics and the call log.
    Viewer,
    /// Also acts on calls: hang up, listen, whisper, barge, dial.
    Operator,
    /// Also runs the read-only Asterisk CLI commands of the allow-list.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// One user of the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The PHC string: `$argon2id$v=19$m=...,t=...,p=...$salt$hash`.
    pub hash: String,
    /// The user's own phone: where listening in rings, and where click-to-dial starts.
    pub extension: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {why}")]
    Syntax {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("{path} can be read by other users (mode {mode:o})")]
    Exposed { path: PathBuf, mode: u32 },
    #[error("user names are 1 to 32 of a-z, 0-9, `.`, `_`, `-`, starting with a letter: {0:?}")]
    BadName(String),
    #[error("an extension is 1 to 20 digits: {0:?}")]
    BadExtension(String),
    #[error("no user {0:?}")]
    NoSuchUser(String),
    #[error("user {0:?} exists already")]
    Exists(String),
    #[error("a password needs at least {MIN_PASSWORD} characters")]
    WeakPassword,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

impl UsersError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            UsersError::Exposed { .. } => Some("chmod 600 the users file"),
            UsersError::NoSuchUser(_) => Some("see them with `astbase serve user list`"),
            UsersError::Exists(_) => Some("change a password with `astbase serve user passwd`"),
            UsersError::Syntax { .. } => {
                Some("each line is `NAME ROLE HASH`; manage it with `astbase serve user`")
            }
            _ => None,
        }
    }
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// The users of one file.
#[derive(Debug, Clone, Default)]
pub struct Users {
    pub path: PathBuf,
    pub users: Vec<User>,
}

pub fn check_name(name: &str) -> Result<(), UsersError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(UsersError::BadName(name.to_owned()))
    }
}

/// An extension as phones dial it: 1 to 20 digits.
pub fn check_extension(extension: &str) -> Result<(), UsersError> {
    if (1..=20).contains(&extension.len()) && extension.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(UsersError::BadExtension(extension.to_owned()))
    }
}

/// An Argon2id hash (the crate's defaults: 19 MiB, 2 passes) of a password.
pub fn hash_password(password: &str) -> Result<String, UsersError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(UsersError::WeakPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Hash(e.to_string()))
}

/// A hash no password matches, checked for unknown users so that a login takes as long
/// whether or not the name exists.
const NOBODY: &str = "$argon2id$v=19$m=19456,t=2,p=1$bm9ib2R5LW5vYm9keQ$\
                      2M6v0i8c5J3Zx1tKqPpR3o8s0Vt5c0mQnE0W9k3yQ2s";

impl Users {
    /// Reads the file; a missing file is no users. A file others may read is refused.
    pub fn load(path: &Path) -> Result<Users, UsersError> {
        use std::os::unix::fs::PermissionsExt;
        let read = |source| UsersError::Read {
            path: path.to_path_buf(),
            source,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Users {
                    path: path.to_path_buf(),
                    users: Vec::new(),
                });
            }
            Err(e) => return Err(read(e)),
        };
        let mode = std::fs::metadata(path).map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(UsersError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
        let mut users = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let syntax = |why: &str| UsersError::Syntax {
                path: path.to_path_buf(),
                line: i + 1,
                why: why.to_owned(),
            };
            let mut words = line.split_whitespace();
            let (Some(name), Some(role), Some(hash), extension, None) = (
                words.next(),
                words.next(),
                words.next(),
                words.next(),
                words.next(),
            ) else {
                return Err(syntax("not `NAME ROLE HASH [ext=EXTENSION]`"));
            };
            let extension = match extension.map(|e| e.strip_prefix("ext=")) {
                None => None,
                Some(Some(e)) if check_extension(e).is_ok() => Some(e.to_owned()),
                Some(_) => return Err(syntax("the fourth word is `ext=` and an extension")),
            };
            check_name(name).map_err(|e| syntax(&e.to_string()))?;
            let role =
                Role::parse(role).ok_or_else(|| syntax("the role is viewer, operator or admin"))?;
            if !hash.starts_with("$argon2id$") {
                return Err(syntax("the hash is not an Argon2id PHC string"));
            }
            users.push(User {
                name: name.to_owned(),
                role,
                hash: hash.to_owned(),
                extension,
            });
        }
        Ok(Users {
            path: path.to_path_buf(),
            users,
        })
    }

    /// The user a name and password log in as. Unknown names cost one hash too.
    pub fn authenticate(&self, name: &str, password: &str) -> Option<&User> {
        let user = self.users.iter().find(|u| u.name == name);
        let hash = user.map_or(NOBODY, |u| u.hash.as_str());
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
        user.filter(|_| ok)
    }

    pub fn add(
        &mut self,
        name: &str,
        role: Role,
        password: &str,
        extension: Option<&str>,
    ) -> Result<(), UsersError> {
        check_name(name)?;
        if let Some(e) = extension {
            check_extension(e)?;
        }
        if self.users.iter().any(|u| u.name == name) {
            return Err(UsersError::Exists(name.to_owned()));
        }
        self.users.push(User {
            name: name.to_owned(),
            role,
            hash: hash_password(password)?,
            extension: extension.map(str::to_owned),
        });
        Ok(())
    }

    /// Sets a new password, and a new role or extension when given.
    pub fn passwd(
        &mut self,
        name: &str,
        password: &str,
        role: Option<Role>,
        extension: Option<&str>,
    ) -> Result<(), UsersError> {
        if let Some(e) = extension {
            check_extension(e)?;
        }
        let hash = hash_password(password)?;
        let user = self
            .users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| UsersError::NoSuchUser(name.to_owned()))?;
        user.hash = hash;
        if let Some(role) = role {
            user.role = role;
        }
        if let Some(e) = extension {
            user.extension = Some(e.to_owned());
        }
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Result<(), UsersError> {
        let before = self.users.len();
        self.users.retain(|u| u.name != name);
        if self.users.len() == before {
            return Err(UsersError::NoSuchUser(name.to_owned()));
        }
        Ok(())
    }

    /// Writes the file whole: a new file beside it (mode 0600), synced, renamed over.
    pub fn save(&self) -> Result<(), UsersError> {
        use std::os::unix::fs::OpenOptionsExt;
        let write = |source| UsersError::Write {
            path: self.path.clone(),
            source,
        };
        let mut text = String::from(
            "# astbase serve users: NAME ROLE ARGON2ID-HASH. Manage with `astbase serve user`.\n",
        );
        for u in &self.users {
            text.push_str(&format!("{} {} {}", u.name, u.role.as_str(), u.hash));
            if let Some(e) = &u.extension {
                text.push_str(&format!(" ext={e}"));
            }
            text.push('\n');
        }
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = dir.join(format!(
            ".{}.{}.tmp",
            self.path
                .file_name()
                .map_or_else(|| "users".into(), |n| n.to_string_lossy()),
            std::process::id()
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(write)?;
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &self.path)) {
            let _ = std::fs::remove_file(&temp);
            return Err(write(e));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_logs_in_with_their_password_only_and_the_file_keeps_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        let mut users = Users::load(&path).unwrap();
        users
            .add("alice", Role::Admin, "correct horse battery", Some("101"))
            .unwrap();
        users
            .add("bob", Role::Viewer, "another long one", None)
            .unwrap();
        users.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("correct horse"));
        assert_eq!(text.lines().filter(|l| l.contains("$argon2id$")).count(), 2);
        let users = Users::load(&path).unwrap();
        assert_eq!(users.users[0].extension.as_deref(), Some("101"));
        assert_eq!(users.users[1].extension, None);
        assert_eq!(
            users
                .authenticate("alice", "correct horse battery")
                .map(|u| u.role),
            Some(Role::Admin)
        );
        assert_eq!(users.authenticate("alice", "another long one"), None);
        assert_eq!(users.authenticate("mallory", "correct horse battery"), None);
        assert!(argon2::password_hash::phc::PasswordHash::new(NOBODY).is_ok());
    }

    #[test]
    fn names_passwords_and_duplicates_are_checked() {
        let mut users = Users::default();
        assert!(matches!(
            users.add("Alice", Role::Viewer, "long enough pw", None),
            Err(UsersError::BadName(_))
        ));
        assert!(matches!(
            users.add("alice", Role::Viewer, "short", None),
            Err(UsersError::WeakPassword)
        ));
        users
            .add("alice", Role::Viewer, "long enough pw", None)
            .unwrap();
        assert!(matches!(
            users.add("alice", Role::Admin, "long enough pw", None),
            Err(UsersError::Exists(_))
        ));
        users
            .passwd(
                "alice",
                "a new long password",
                Some(Role::Operator),
                Some("102"),
            )
            .unwrap();
        assert_eq!(users.users[0].role, Role::Operator);
        assert_eq!(users.users[0].extension.as_deref(), Some("102"));
        assert!(matches!(
            users.remove("bob"),
            Err(UsersError::NoSuchUser(_))
        ));
        users.remove("alice").unwrap();
        assert!(users.users.is_empty());
    }

    #[test]
    fn a_users_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Users::load(&path),
            Err(UsersError::Exposed { mode: 0o644, .. })
        ));
    }
}
