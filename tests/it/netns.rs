//! A network namespace made by a test (`ip netns add`), removed when dropped: ipset,
//! iptables and astbase itself run inside it, never on the machine's own sets and rules.
//! The agent's ban tests use one; the firewall lab joins three with veth pairs.
//! Needs root: gate a test on [`needs::ROOT_FOR_NETNS`](crate::needs::ROOT_FOR_NETNS) and
//! [`needs::IP`](crate::needs::IP).

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::text;

pub struct Netns {
    name: String,
}

impl Netns {
    /// A new namespace, with its loopback up; named after this process so that parallel
    /// tests (and test runs) never share one.
    pub fn new() -> Netns {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "astbase-t{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        succeed(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a short-lived thread that joined the namespace: a socket it makes
    /// stays in the namespace whichever thread then uses it.
    fn inside<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            let file = std::fs::File::open(&path)?;
            // SAFETY: setns only changes this (short-lived) thread's network namespace.
            if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            f()
        })
        .join()
        .expect("namespace thread")
    }

    /// A TCP listener inside the namespace.
    pub fn bind(&self, addr: &str) -> std::io::Result<std::net::TcpListener> {
        let addr = addr.to_owned();
        self.inside(move || std::net::TcpListener::bind(addr))
    }

    /// A TCP connection from inside the namespace (to a server listening there).
    pub fn connect(&self, addr: &str) -> std::io::Result<std::net::TcpStream> {
        let addr = addr.to_owned();
        self.inside(move || std::net::TcpStream::connect(addr))
    }

    /// `program` to be run inside the namespace (`ip netns exec`).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Runs `args` inside the namespace; the caller judges the outcome.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args[0])
            .args(&args[1..])
            .output()
            .unwrap_or_else(|e| panic!("{args:?} in {}: {e}", self.name))
    }

    /// Configures the namespace (`ip -n NAME ...`), which must work.
    pub fn ip(&self, args: &[&str]) {
        succeed(Command::new("ip").args(["-n", &self.name]).args(args));
    }

    pub fn ipset(&self, args: &[&str]) -> Output {
        let mut all = vec!["ipset"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// The addresses in an ipset set (none if it does not exist).
    pub fn members(&self, set: &str) -> Vec<String> {
        let out = self.ipset(&["list", set]);
        let listing = String::from_utf8_lossy(&out.stdout).into_owned();
        listing
            .split("Members:\n")
            .nth(1)
            .unwrap_or("")
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

fn succeed(command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e} (apt-get install iproute2)"));
    assert!(out.status.success(), "{command:?}: {}", text(&out));
}
