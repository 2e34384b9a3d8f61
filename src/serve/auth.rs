//! Who is logged in: sessions behind an HttpOnly, SameSite=Strict cookie (Secure under
//! TLS), a CSRF token per session that every state-changing request must carry, and a
//! limit on failed logins per user name and per address.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::users::{Role, User};

pub const SESSION_COOKIE: &str = "astbase_session";
/// The login form's own token (double-submit), so a page elsewhere cannot log a browser
/// in as someone else.
pub const LOGIN_COOKIE: &str = "astbase_login";

/// 32 random bytes, hex: session ids and CSRF tokens.
pub fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// What a request knows about its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The user's own phone, for listening in and click-to-dial.
    pub extension: Option<String>,
    pub csrf: String,
}

struct Entry {
    session: Session,
    created: Instant,
    last_seen: Instant,
}

/// The sessions of the running console (a restart logs everybody out).
pub struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
    /// Ended after this long without a request...
    idle: Duration,
    /// ...and after this long in any case.
    max_age: Duration,
}

impl Sessions {
    pub fn new(idle: Duration, max_age: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            max_age,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new session for a user who just logged in; returns its id.
    pub fn create(&self, user: &User) -> (String, Session) {
        let id = random_token();
        let now = Instant::now();
        let session = Session {
            user: user.name.clone(),
            role: user.role,
            extension: user.extension.clone(),
            csrf: random_token(),
        };
        let mut map = self.lock();
        map.retain(|_, e| !self.expired(e, now));
        map.insert(
            id.clone(),
            Entry {
                session: session.clone(),
                created: now,
                last_seen: now,
            },
        );
        (id, session)
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        now.duration_since(e.last_seen) > self.idle || now.duration_since(e.created) > self.max_age
    }

    /// The session of an id, if it is live (and marks it used).
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.lock();
        let live = map.get(id).is_some_and(|e| !self.expired(e, now));
        if !live {
            map.remove(id);
            return None;
        }
        let entry = map.get_mut(id)?;
        entry.last_seen = now;
        Some(entry.session.clone())
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Ends every session of a user (removed or demoted in the users file).
    pub fn remove_user(&self, user: &str) {
        self.lock().retain(|_, e| e.session.user != user);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Failed logins per user name and per address: past `max` in `window`, logins are
/// refused until the oldest failure leaves the window.
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    max: usize,
    window: Duration,
}

impl LoginLimiter {
    pub fn new(max: usize, window: Duration) -> LoginLimiter {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
            max: max.max(1),
            window,
        }
    }

    fn keys(user: &str, ip: IpAddr) -> [String; 2] {
        [format!("user:{user}"), format!("ip:{ip}")]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(wait)` while this user name or address has failed too often.
    pub fn check(&self, user: &str, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.lock();
        let mut wait = Duration::ZERO;
        for key in Self::keys(user, ip) {
            if let Some(times) = map.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    times.pop_front();
                }
                if times.len() >= self.max
                    && let Some(oldest) = times.front()
                {
                    wait = wait.max(self.window.saturating_sub(now.duration_since(*oldest)));
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    pub fn failed(&self, user: &str, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.lock();
        // Bounded: a flood of made-up names cannot grow the map without end.
        if map.len() > 100_000 {
            map.retain(|_, t| {
                t.back()
                    .is_some_and(|t| now.duration_since(*t) <= self.window)
            });
        }
        for key in Self::keys(user, ip) {
            let times = map.entry(key).or_default();
            times.push_back(now);
            while times.len() > self.max {
                times.pop_front();
            }
        }
    }

    /// A good login clears the user name's failures (not the address's).
    pub fn succeeded(&self, user: &str) {
        self.lock().remove(&format!("user:{user}"));
    }
}

/// The value of one cookie in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when served over TLS
/// (or behind a TLS proxy); `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: Role) -> User {
        User {
            name: name.into(),
            role,
            hash: String::new(),
            extension: None,
        }
    }

    #[test]
    fn a_session_ends_when_idle_and_when_its_user_is_removed() {
        let sessions = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        let (id, _) = sessions.create(&user("alice", Role::Operator));
        let s = sessions.get(&id).unwrap();
        assert_eq!((s.user.as_str(), s.role), ("alice", Role::Operator));
        assert_eq!(s.csrf.len(), 64);
        assert_eq!(sessions.get("not-a-session"), None);
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(sessions.get(&id), None);
        let (id, _) = sessions.create(&user("alice", Role::Operator));
        sessions.remove_user("alice");
        assert_eq!(sessions.get(&id), None);
    }

    #[test]
    fn five_failures_lock_the_name_and_the_address_for_the_window() {
        let limiter = LoginLimiter::new(5, Duration::from_secs(900));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..4 {
            limiter.failed("alice", ip);
        }
        assert_eq!(limiter.check("alice", ip), Ok(()));
        limiter.failed("alice", ip);
        let wait = limiter.check("alice", ip).unwrap_err();
        assert!(wait > Duration::from_secs(899), "{wait:?}");
        // The name is locked from anywhere, and the address for any name.
        assert!(limiter.check("alice", other).is_err());
        assert!(limiter.check("bob", ip).is_err());
        assert_eq!(limiter.check("bob", other), Ok(()));
    }

    #[test]
    fn cookies_are_read_by_name_and_set_strict() {
        assert_eq!(
            cookie("a=1; astbase_session=xyz; b=2", SESSION_COOKIE),
            Some("xyz")
        );
        assert_eq!(cookie("a=1", SESSION_COOKIE), None);
        assert_eq!(
            set_cookie(SESSION_COOKIE, "v", Duration::from_secs(60), true),
            "astbase_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("a", "ab"));
    }
}
