//! Reaching a server: one trait, [`Executor`], that runs a shell script on a host with
//! some bytes on its standard input. Every file operation the reconciler needs is a
//! small POSIX shell script run through it ([`Host`]), so the local executor and the SSH
//! executor share all the logic, and the reconciler does not know which it has.

pub mod local;
pub mod ssh;

use std::time::{Duration, Instant};

/// What a script printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_owned()
    }
}

/// Why talking to a host failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("cannot reach {host}: {message}")]
    Unreachable { host: String, message: String },
    #[error("{host}: `{what}` failed (exit {status}): {stderr}")]
    Failed {
        host: String,
        what: String,
        status: i32,
        stderr: String,
    },
    #[error("{host}: {message}")]
    Protocol { host: String, message: String },
    #[error("{host}: {message}")]
    HostKey { host: String, message: String },
    #[error("{host}: {lock} is held by another apply ({owner}); waited {waited:?}")]
    Locked {
        host: String,
        lock: String,
        owner: String,
        waited: Duration,
    },
}

/// Runs shell scripts on one host.
pub trait Executor: Send {
    /// How the host is shown to people: `local`, `root@pbx1.example.com:22`.
    fn describe(&self) -> String;
    /// Runs `script` with `sh -c`, feeding `stdin`.
    fn exec(&mut self, script: &str, stdin: &[u8]) -> Result<Output, TransportError>;
    /// Starts `script` and leaves it running once what it printed is `ready`; it reads
    /// its standard input until [`Executor::release`] closes it, or until this program
    /// or the connection dies, whichever comes first. One at a time.
    fn hold(&mut self, script: &str, ready: &dyn Fn(&[u8]) -> bool)
    -> Result<Held, TransportError>;
    /// Feeds the held script `last` (nothing, for none), closes its input and waits for
    /// it to end: how it ended, `None` when nothing was held. A connection that closed
    /// first is an error only when there was something to feed.
    fn release(&mut self, last: &[u8]) -> Result<Option<Output>, TransportError>;
}

/// What became of a script started with [`Executor::hold`].
#[derive(Debug)]
pub enum Held {
    /// It printed what was waited for (this) and is running.
    Running(Vec<u8>),
    /// It ended before printing a line.
    Ended(Output),
}

/// Quotes a word for a POSIX shell.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// A path pattern for the shell with `*` and `?` left to expand and everything else
/// quoted, so a pattern can match files but never run anything.
pub fn glob_words(pattern: &str) -> String {
    let mut out = String::new();
    let mut literal = String::new();
    for c in pattern.chars() {
        if c == '*' || c == '?' {
            if !literal.is_empty() {
                out.push_str(&quote(&literal));
                literal.clear();
            }
            out.push(c);
        } else {
            literal.push(c);
        }
    }
    if !literal.is_empty() {
        out.push_str(&quote(&literal));
    }
    out
}

/// A file read from a host: its path and bytes.
pub type FileRead = (String, Vec<u8>);

/// File and command operations on a host, built on its executor.
pub struct Host {
    exec: Box<dyn Executor>,
}

impl Host {
    pub fn new(exec: Box<dyn Executor>) -> Host {
        Host { exec }
    }

    pub fn describe(&self) -> String {
        self.exec.describe()
    }

    fn run_ok(&mut self, what: &str, script: &str, stdin: &[u8]) -> Result<Output, TransportError> {
        let out = self.exec.exec(script, stdin)?;
        if out.status != 0 {
            return Err(TransportError::Failed {
                host: self.describe(),
                what: what.to_owned(),
                status: out.status,
                stderr: out.stderr_text(),
            });
        }
        Ok(out)
    }

    /// Reads several files in one round trip; `None` for a file that does not exist.
    pub fn read_files(&mut self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, TransportError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let out = self.run_ok("read files", &read_files_script(paths), b"")?;
        self.parse_files(paths, &out.stdout)
    }

    /// The files of [`read_files_script`] from what it printed.
    fn parse_files(
        &self,
        paths: &[String],
        stdout: &[u8],
    ) -> Result<Vec<Option<Vec<u8>>>, TransportError> {
        let (mask, mut rest) = first_line(stdout)
            .filter(|(mask, _)| {
                mask.len() == paths.len() && mask.iter().all(|b| matches!(b, b'0' | b'1'))
            })
            .ok_or_else(|| self.garbled(&paths[0]))?;
        let mut sizes = Vec::with_capacity(paths.len());
        for (path, present) in paths.iter().zip(mask) {
            if *present == b'1' {
                let (line, after) = first_line(rest).ok_or_else(|| self.garbled(path))?;
                let size = std::str::from_utf8(line).ok().and_then(|s| s.parse().ok());
                sizes.push(size.ok_or_else(|| self.garbled(path))?);
                rest = after;
            }
        }
        // A file that changed size between `stat` and `cat` would shift every file
        // after it: the bytes must add up exactly.
        if sizes.iter().sum::<usize>() != rest.len() {
            return Err(TransportError::Protocol {
                host: self.describe(),
                message: "a file changed while it was being read; run the command again".into(),
            });
        }
        let mut sizes = sizes.into_iter();
        let mut files = Vec::with_capacity(paths.len());
        for present in mask {
            let size = (*present == b'1').then(|| sizes.next()).flatten();
            match size {
                Some(size) => {
                    let (file, after) = rest.split_at(size);
                    files.push(Some(file.to_vec()));
                    rest = after;
                }
                None => files.push(None),
            }
        }
        Ok(files)
    }

    /// Reads every regular file matching each pattern (a path, or a shell glob with `*`
    /// and `?`, as Asterisk's `#include` takes), in one round trip: the matches of each
    /// pattern in the shell's (sorted) order, each as its path and bytes. A pattern
    /// matching nothing yields no file.
    pub fn read_matching(
        &mut self,
        patterns: &[String],
    ) -> Result<Vec<Vec<FileRead>>, TransportError> {
        if patterns.is_empty() {
            return Ok(Vec::new());
        }
        // Framing: `P` per pattern, then per file the byte counts of its name and of
        // its content on one line, then the name, then the content. A name may hold any
        // byte but NUL, so it is counted too.
        let mut script = String::from("set -e\n");
        for p in patterns {
            script.push_str(&format!(
                "echo P\nfor f in {}; do if [ -f \"$f\" ]; then \
                 printf '%s %s\\n' \"$(printf %s \"$f\" | wc -c | tr -d ' ')\" \"$(wc -c < \"$f\" | tr -d ' ')\"; \
                 printf %s \"$f\"; cat -- \"$f\"; fi; done\n",
                glob_words(p)
            ));
        }
        let out = self.run_ok("read files", &script, b"")?;
        let mut rest: &[u8] = &out.stdout;
        let mut all = Vec::with_capacity(patterns.len());
        let line = |rest: &mut &[u8]| -> Option<String> {
            let newline = rest.iter().position(|b| *b == b'\n')?;
            let text = std::str::from_utf8(&rest[..newline]).ok()?.to_owned();
            *rest = &rest[newline + 1..];
            Some(text)
        };
        for p in patterns {
            if line(&mut rest).as_deref() != Some("P") {
                return Err(self.garbled(p));
            }
            let mut files = Vec::new();
            while !rest.is_empty() && !rest.starts_with(b"P\n") {
                let header = line(&mut rest).ok_or_else(|| self.garbled(p))?;
                let sizes = header
                    .split_once(' ')
                    .and_then(|(n, c)| Some((n.parse::<usize>().ok()?, c.parse::<usize>().ok()?)));
                let Some((name_len, len)) = sizes else {
                    return Err(self.garbled(p));
                };
                if rest.len() < name_len + len {
                    return Err(self.garbled(p));
                }
                let name = String::from_utf8_lossy(&rest[..name_len]).into_owned();
                files.push((name, rest[name_len..name_len + len].to_vec()));
                rest = &rest[name_len + len..];
            }
            all.push(files);
        }
        Ok(all)
    }

    fn garbled(&self, path: &str) -> TransportError {
        TransportError::Protocol {
            host: self.describe(),
            message: format!("unexpected output while reading {path}"),
        }
    }

    /// Writes several files and copies others (backups, modes kept), everything flushed
    /// to disk, then renames files in order and removes others, all in one round trip.
    /// The writes are not atomic by themselves: callers write temporary names and the
    /// renames switch them into place (each rename is atomic).
    ///
    /// The contents travel on standard input one after another (the script stays small:
    /// an SSH `exec` request must fit in one 256 KiB packet, and a PBX's pjsip file alone
    /// can be larger); `head -c` takes exactly each file's length, and the size written is
    /// checked, so a connection cut mid-way leaves a short temporary file and a failure,
    /// never a silently truncated file, and nothing switched.
    ///
    /// Each file gets the owner, group and mode of the file it will replace, so that an
    /// Asterisk running as its own user keeps reading its config; a new file gets the
    /// owner and group of its directory and [`StagedWrite::mode`]. Changing the owner
    /// needs root; without it the file stays the connecting user's.
    ///
    /// Once everything is staged the script ignores hang-ups, so a connection lost from
    /// then on cannot stop the switch half-way: the host ends with all the old files or
    /// all the new ones.
    pub fn stage_and_switch(&mut self, stage: &Stage, switch: &Switch) -> Result<(), SwitchError> {
        if stage.is_empty() && switch.is_empty() {
            return Ok(());
        }
        let (mut script, stdin) = stage_script(stage);
        // Hang-ups are ignored before the line is printed: a reader gone by then must
        // not stop the switch (nor the printing of the line, hence `|| true`).
        script.push_str(&format!("trap '' HUP PIPE\necho {STAGED} || true\n"));
        script.push_str(&switch_script(switch));
        let out = self.exec.exec(&script, &stdin).map_err(SwitchError::Lost)?;
        if out.status == 0 {
            return Ok(());
        }
        let staged = first_line(&out.stdout).is_some_and(|(line, _)| line == STAGED.as_bytes());
        let (what, failure): (&str, fn(TransportError) -> SwitchError) = if staged {
            ("switch files", SwitchError::Switching)
        } else if stage.writes.is_empty() {
            ("copy files", SwitchError::Staging)
        } else {
            ("write files", SwitchError::Staging)
        };
        Err(failure(TransportError::Failed {
            host: self.describe(),
            what: what.to_owned(),
            status: out.status,
            stderr: out.stderr_text(),
        }))
    }

    /// Removes files that may or may not exist.
    pub fn remove_all(&mut self, paths: &[String]) -> Result<(), TransportError> {
        if paths.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = paths.iter().map(|p| quote(p)).collect();
        self.run_ok(
            "remove files",
            &format!("rm -f -- {}\n", list.join(" ")),
            b"",
        )
        .map(drop)
    }

    /// Runs a script of any size: it travels on standard input to `sh -s`, not as an
    /// argument (Linux caps one argument at 128 KiB, an SSH exec request at 256 KiB; a
    /// firewall script with a country-sized deny list is bigger).
    pub fn script(&mut self, script: &str) -> Result<Output, TransportError> {
        self.exec.exec("exec sh -s", script.as_bytes())
    }

    /// Runs a command given as words, without a shell interpreting them.
    pub fn command(&mut self, argv: &[String]) -> Result<Output, TransportError> {
        let line: Vec<String> = argv.iter().map(|a| quote(a)).collect();
        self.exec.exec(&line.join(" "), b"")
    }

    /// Runs several commands in one round trip; returns each one's stdout and exit code.
    pub fn commands(
        &mut self,
        commands: &[Vec<String>],
    ) -> Result<Vec<(i32, String)>, TransportError> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        // Each command's output is framed by a marker line carrying its exit code.
        const MARK: &str = "@@astbase-end@@";
        let mut script = String::new();
        for argv in commands {
            let line: Vec<String> = argv.iter().map(|a| quote(a)).collect();
            script.push_str(&format!(
                "{} 2>&1; printf '\\n{MARK} %d\\n' $?\n",
                line.join(" ")
            ));
        }
        let out = self.exec.exec(&script, b"")?;
        let text = out.stdout_text();
        let mut results = Vec::with_capacity(commands.len());
        let mut rest = text.as_str();
        for _ in commands {
            let Some(at) = rest.find(&format!("\n{MARK} ")) else {
                return Err(TransportError::Protocol {
                    host: self.describe(),
                    message: "a batch of commands ended early".into(),
                });
            };
            let output = rest[..at].to_owned();
            let after = &rest[at + MARK.len() + 2..];
            let (code, tail) = after.split_once('\n').unwrap_or((after, ""));
            results.push((code.trim().parse().unwrap_or(-1), output));
            rest = tail;
        }
        Ok(results)
    }

    /// Takes the host's apply lock, waiting up to `timeout` for another apply to finish.
    ///
    /// The lock is `flock(1)` held by a process on the host for as long as this
    /// connection lives: if astbase is killed or the connection is cut, the process
    /// sees its input close and the lock is free again, so an interrupted apply never
    /// leaves a lock someone must remove by hand. `owner` is written beside it so a
    /// waiting apply can say who holds it.
    ///
    /// Once it holds the lock, the holder reads `reads` (`None` for a file that does
    /// not exist), returned: what an apply must find unchanged, read where no other
    /// apply can change it, in the lock's round trip. It can also write `last` as it
    /// lets go ([`Host::unlock`]): the apply's record, written while no other apply can
    /// start, and without a round trip of its own.
    pub fn lock(
        &mut self,
        lock_file: &str,
        owner: &str,
        timeout: Duration,
        last: &LastWrite,
        reads: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, TransportError> {
        let owner_file = format!("{lock_file}.owner");
        // Once it holds the lock it reads `reads` (what the apply must see unchanged
        // before it writes), then prints a line no file holds, so the output's end is
        // known while the holder waits.
        let end = format!(
            "@@astbase-read-{:x}@@",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
                ^ u128::from(std::process::id())
        );
        let read = if reads.is_empty() {
            String::new()
        } else {
            read_files_script(reads)
        };
        // Its input: nothing (let go), or a line with a length and that many bytes (the
        // file to write, then let go). `read` takes one byte at a time from a pipe, so
        // `head -c` gets exactly the bytes after the line.
        let holder = format!(
            "printf '%s\\n' \"$1\" > {owner_q}; echo locked\n{read}echo; echo {end}\n\
             IFS= read -r len || exit 0\n\
             case $len in ''|*[!0-9]*) echo \"bad length $len\" >&2; exit 1;; esac\n{write}",
            owner_q = quote(&owner_file),
            write = replace_script(&last.path, "$len", last.mode, &last.then),
        );
        let tail = format!("\n{end}\n");
        let script = format!(
            "{mkdir}command -v flock > /dev/null || {{ echo 'flock(1) is missing on the host: install util-linux' >&2; exit 127; }}\n\
             exec flock -w {secs} -E 75 {lock} sh -c {holder} sh {owner}\n",
            mkdir = make_dirs(&[parent(lock_file)]),
            secs = timeout.as_secs_f64().max(0.0),
            lock = quote(lock_file),
            holder = quote(&holder),
            owner = quote(owner),
        );
        let started = Instant::now();
        let ready = |out: &[u8]| out.ends_with(tail.as_bytes());
        match self.exec.hold(&script, &ready)? {
            Held::Running(out) => {
                let read = first_line(&out)
                    .filter(|(line, _)| *line == b"locked")
                    .and_then(|(_, rest)| rest.strip_suffix(tail.as_bytes()));
                let files = match read {
                    Some(_) if reads.is_empty() => Ok(Vec::new()),
                    Some(read) => self.parse_files(reads, read),
                    None => Err(TransportError::Protocol {
                        host: self.describe(),
                        message: "the lock's holder did not say it holds the lock".into(),
                    }),
                };
                if files.is_err() {
                    let _ = self.exec.release(b"");
                }
                files
            }
            Held::Ended(out) if out.status == 75 => {
                let holder = self
                    .read_files(std::slice::from_ref(&owner_file))
                    .ok()
                    .and_then(|mut f| f.pop().flatten())
                    .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                    .unwrap_or_else(|| "unknown".into());
                Err(TransportError::Locked {
                    host: self.describe(),
                    lock: lock_file.to_owned(),
                    owner: holder,
                    waited: started.elapsed(),
                })
            }
            Held::Ended(out) => Err(TransportError::Failed {
                host: self.describe(),
                what: "take the lock".into(),
                status: out.status,
                stderr: out.stderr_text(),
            }),
        }
    }

    /// Releases the lock taken by [`Host::lock`], after its holder has written `last`
    /// (when given) as the lock's [`LastWrite`] says.
    pub fn unlock(&mut self, last: Option<&[u8]>) -> Result<(), TransportError> {
        let fed = last.map(|data| {
            let mut fed = format!("{}\n", data.len()).into_bytes();
            fed.extend_from_slice(data);
            fed
        });
        let ended = self.exec.release(fed.as_deref().unwrap_or_default())?;
        match ended {
            Some(out) if out.status != 0 => Err(TransportError::Failed {
                host: self.describe(),
                what: "write the state and release the lock".into(),
                status: out.status,
                stderr: out.stderr_text(),
            }),
            _ => Ok(()),
        }
    }
}

/// Reads files with two processes however many (a process per file per step was most
/// of a read's time on a busy host): prints a line of 1/0 for present/absent (`[` is a
/// shell builtin), each present file's size on a line, then their bytes.
fn read_files_script(paths: &[String]) -> String {
    let listed: Vec<String> = paths.iter().map(|p| quote(p)).collect();
    format!(
        "set -e\nset --\nfor f in {}; do\n\
         if [ -f \"$f\" ]; then printf 1; set -- \"$@\" \"$f\"; else printf 0; fi\ndone\necho\n\
         if [ $# -gt 0 ]; then stat -L -c %s -- \"$@\"; cat -- \"$@\"; fi\n",
        listed.join(" ")
    )
}

/// The file the apply lock's holder writes as it lets go: atomically (written beside,
/// size checked, flushed, renamed, directory flushed), then `then` runs (house-keeping
/// whose failure does not count, such as pruning old backups; empty for nothing).
#[derive(Debug, Clone)]
pub struct LastWrite {
    pub path: String,
    pub mode: u32,
    pub then: String,
}

/// The script that replaces `path` with the next `len` bytes of its input (`len`: a
/// number, or a shell expansion giving one).
fn replace_script(path: &str, len: &str, mode: u32, then: &str) -> String {
    let (q, temp) = (quote(path), quote(&format!("{path}.new")));
    let dir = quote(parent(path));
    let mkdir = make_dirs(&[parent(path)]);
    // A new file gets `mode` from the umask (no `chmod` process); one left by an earlier
    // try is removed first, as it keeps its own mode when written over.
    let mut script = format!(
        "set -e\numask {umask:03o}\n{mkdir}[ ! -e {temp} ] || rm -f -- {temp}\nhead -c \"{len}\" > {temp}\n\
         [ \"$(stat -c %s -- {temp})\" = \"{len}\" ] || {{ echo {temp}: short write >&2; exit 1; }}\n\
         sync -- {temp}\ntrap '' HUP PIPE\nmv -f -- {temp} {q}\n\
         sync -- {dir} 2>/dev/null || true\n",
        umask = !mode & 0o777,
    );
    if !then.is_empty() {
        script.push_str(&format!("set +e\n{then}exit 0\n"));
    }
    script
}

/// What [`Host::stage_and_switch`] writes and copies before it switches.
#[derive(Debug, Clone, Default)]
pub struct Stage {
    pub writes: Vec<StagedWrite>,
    /// (from, to) copies, modes kept: backups, or backups put back beside their files.
    pub copies: Vec<(String, String)>,
}

impl Stage {
    fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.copies.is_empty()
    }
}

/// What [`Host::stage_and_switch`] renames and removes once everything is staged.
#[derive(Debug, Clone, Default)]
pub struct Switch {
    /// (temp, final) pairs, renamed in order.
    pub renames: Vec<(String, String)>,
    pub removals: Vec<String>,
}

impl Switch {
    fn is_empty(&self) -> bool {
        self.renames.is_empty() && self.removals.is_empty()
    }
}

/// Why [`Host::stage_and_switch`] stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SwitchError {
    /// Nothing the host uses changed (temporary files may be left).
    #[error("{0}")]
    Staging(TransportError),
    /// Everything was staged, then a rename or removal failed: some files may be new.
    #[error("{0}")]
    Switching(TransportError),
    /// No answer: the host has all the old files or all the new ones, not which.
    #[error("{0}")]
    Lost(TransportError),
}

/// The line the script prints between staging and switching.
const STAGED: &str = "@@astbase-staged@@";

/// The staging half: writes checked and flushed, copies made, with the bytes to feed.
fn stage_script(stage: &Stage) -> (String, Vec<u8>) {
    // Few processes per file (each is a fork and an exec on a host that may be busy):
    // directories made only when missing, each file's owner and mode taken by one `cp`
    // before it is written, every size read by one `stat` at the end. A connection cut
    // mid-way leaves the writes after it empty at once (their input is closed), and the
    // sizes then stop the script before anything is switched.
    let mut script = String::from("set -e\numask 077\n");
    if stage.is_empty() {
        return (script, Vec::new());
    }
    let dirs = parents(
        stage
            .writes
            .iter()
            .map(|f| f.path.as_str())
            .chain(stage.copies.iter().map(|(_, to)| to.as_str())),
    );
    script.push_str(&make_dirs(&dirs));
    let mut stdin = Vec::with_capacity(stage.writes.iter().map(|f| f.data.len()).sum());
    let mut synced = Vec::new();
    for f in &stage.writes {
        let q = quote(&f.path);
        let dir = quote(parent(&f.path));
        let like = quote(&f.like);
        // `cp --attributes-only -p` makes (or keeps) the temporary file with the owner,
        // group and mode of the one it replaces and no content; writing over it keeps
        // them. Without root the owner stays the connecting user's, silently, as `-p`
        // asks for no more than it can. A new file gets its mode from the umask and the
        // directory's owner and group, unless they are already the connecting user's.
        script.push_str(&format!(
            "if [ -e {like} ]; then cp --attributes-only -p -- {like} {q}; head -c {len} > {q}; \
             else [ ! -e {q} ] || rm -f -- {q}; umask {umask:03o}; head -c {len} > {q}; umask 077; \
             [ -O {dir} ] && [ -G {dir} ] || chown --reference={dir} -- {q} 2>/dev/null || true; fi\n",
            len = f.data.len(),
            umask = !f.mode & 0o777,
        ));
        stdin.extend_from_slice(&f.data);
        synced.push(q);
    }
    if !stage.writes.is_empty() {
        let sizes: Vec<String> = stage
            .writes
            .iter()
            .map(|f| f.data.len().to_string())
            .collect();
        script.push_str(&format!(
            "sizes=$(stat -c %s -- {files})\n\
             [ \"$(echo $sizes)\" = '{want}' ] || {{ echo short write: {files} have $sizes bytes, not {want} >&2; exit 1; }}\n",
            files = synced.join(" "),
            want = sizes.join(" "),
        ));
    }
    for (from, to) in &stage.copies {
        script.push_str(&format!("cp -p -- {} {}\n", quote(from), quote(to)));
    }
    synced.extend(stage.copies.iter().map(|(_, to)| quote(to)));
    script.push_str(&format!("sync -- {}\n", synced.join(" ")));
    (script, stdin)
}

/// The switching half: renames in order, then removals, immune to hang-ups.
fn switch_script(switch: &Switch) -> String {
    let mut script = String::from("trap '' HUP PIPE\nset -e\n");
    if switch.is_empty() {
        return script;
    }
    for (from, to) in &switch.renames {
        script.push_str(&format!("mv -f -- {} {}\n", quote(from), quote(to)));
    }
    for path in &switch.removals {
        script.push_str(&format!("rm -f -- {}\n", quote(path)));
    }
    let dirs = parents(
        switch
            .renames
            .iter()
            .map(|(_, to)| to.as_str())
            .chain(switch.removals.iter().map(String::as_str)),
    );
    // Flush the directories, so the renames survive a crash (not a global `sync`,
    // which would wait for every dirty page on the machine).
    script.push_str(&format!(
        "sync -- {} 2>/dev/null || true\n",
        quote_all(&dirs)
    ));
    script
}

/// A file to write under a temporary name: its content, the file it will replace (whose
/// owner, group and mode it takes), and the mode of a file that replaces nothing.
#[derive(Debug, Clone)]
pub struct StagedWrite {
    pub path: String,
    pub data: Vec<u8>,
    pub like: String,
    pub mode: u32,
}

/// The line that makes the directories that are missing: each is tested first by the
/// shell itself, so the usual case (they all exist) starts no `mkdir` process.
fn make_dirs(dirs: &[&str]) -> String {
    let tests: Vec<String> = dirs
        .iter()
        .map(|d| format!("[ -d {} ]", quote(d)))
        .collect();
    format!(
        "{} || mkdir -p -- {}\n",
        tests.join(" && "),
        quote_all(dirs)
    )
}

/// The distinct directories of `paths`, in first-seen order.
fn parents<'a>(paths: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut dirs: Vec<&str> = Vec::new();
    for path in paths {
        if !dirs.contains(&parent(path)) {
            dirs.push(parent(path));
        }
    }
    dirs
}

/// Words quoted for the shell, joined by spaces.
fn quote_all(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| quote(w)).collect();
    quoted.join(" ")
}

/// The bytes before the first LF, and those after it.
fn first_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let newline = memchr::memchr(b'\n', bytes)?;
    Some((&bytes[..newline], &bytes[newline + 1..]))
}

/// The directory part of a `/`-separated path.
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// How to reach a server and where its configuration lives there.
pub struct Target {
    pub host: Host,
    /// Absolute path of the Asterisk conf dir on the host.
    pub conf_dir: String,
    /// The command words that run one Asterisk CLI command there (`asterisk -rx`).
    pub cli: Vec<String>,
}

/// How SSH connections are checked (from flags and `project.known_hosts`).
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub known_hosts: std::path::PathBuf,
    pub accept_new_host_keys: bool,
    pub timeout: Duration,
}

impl ConnectOptions {
    /// `~/.ssh/known_hosts`, unknown keys refused, 15 s to connect.
    pub fn defaults() -> ConnectOptions {
        let home = std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_default();
        ConnectOptions {
            known_hosts: home.join(".ssh/known_hosts"),
            accept_new_host_keys: false,
            timeout: Duration::from_secs(15),
        }
    }
}

/// Expands a leading `~/` with `$HOME`.
fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::PathBuf::from(home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// Where a server is and how to run Asterisk there, resolved from the model once:
/// [`connect`] needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub address: Address,
    /// The conf dir; absolute (a local one was resolved against the repo root).
    pub conf_dir: String,
    /// The words that run one Asterisk CLI command there.
    pub cli: Vec<String>,
}

/// How to reach a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// This machine.
    Local,
    Ssh {
        host: String,
        port: u16,
        user: String,
        /// A private key file; without one, the SSH agent and the usual key files.
        identity_file: Option<String>,
    },
}

impl TargetSpec {
    /// The target of a server. For `host: local`, a relative conf dir and a relative
    /// CLI program (e.g. an example's stand-in script) are relative to the repo root.
    pub fn of(
        server: &crate::model::Server,
        project: &crate::model::Project,
        root: &std::path::Path,
    ) -> Result<TargetSpec, TransportError> {
        let conf_dir = server.conf_dir(project).to_owned();
        let mut cli = server.cli();
        if !server.is_local() {
            return Ok(TargetSpec {
                address: Address::Ssh {
                    host: server.host.clone(),
                    port: server.ssh_port(),
                    user: server.ssh_user().to_owned(),
                    identity_file: server.ssh.identity_file.clone(),
                },
                conf_dir,
                cli,
            });
        }
        let path = std::path::Path::new(&conf_dir);
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::path::absolute(root.join(path)).map_err(|e| TransportError::Unreachable {
                host: "local".into(),
                message: e.to_string(),
            })?
        };
        if let Some(program) = cli.first_mut()
            && program.contains('/')
            && !program.starts_with('/')
            && let Ok(path) = std::path::absolute(root.join(&*program))
        {
            *program = path.to_string_lossy().into_owned();
        }
        Ok(TargetSpec {
            address: Address::Local,
            conf_dir: absolute.to_string_lossy().into_owned(),
            cli,
        })
    }
}

/// Opens the transport to a target: local, or SSH with the host key checked.
pub fn connect(spec: &TargetSpec, options: &ConnectOptions) -> Result<Target, TransportError> {
    let Address::Ssh {
        host,
        port,
        user,
        identity_file,
    } = &spec.address
    else {
        return Ok(Target {
            host: Host::new(Box::new(local::Local::new(Vec::new()))),
            conf_dir: spec.conf_dir.clone(),
            cli: spec.cli.clone(),
        });
    };
    let identities = match identity_file {
        Some(file) => vec![expand_home(file)],
        None => ["id_ed25519", "id_ecdsa", "id_rsa"]
            .iter()
            .map(|n| expand_home(&format!("~/.ssh/{n}")))
            .collect(),
    };
    let ssh = ssh::Ssh::connect(ssh::SshOptions {
        host: host.clone(),
        port: *port,
        user: user.clone(),
        identities,
        explicit_identity: identity_file.is_some(),
        known_hosts: options.known_hosts.clone(),
        accept_new_host_keys: options.accept_new_host_keys,
        timeout: options.timeout,
    })?;
    if !spec.conf_dir.starts_with('/') {
        return Err(TransportError::Protocol {
            host: host.clone(),
            message: format!(
                "conf_dir {} must be absolute on a remote host",
                spec.conf_dir
            ),
        });
    }
    Ok(Target {
        host: Host::new(Box::new(ssh)),
        conf_dir: spec.conf_dir.clone(),
        cli: spec.cli.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(parent("/etc/asterisk/x.conf"), "/etc/asterisk");
        assert_eq!(parent("/x"), "/");
    }

    #[test]
    fn directories_with_spaces_and_quotes_are_tested_and_made_whole() {
        assert_eq!(
            make_dirs(&["/srv/a b", "/srv/it's"]),
            "[ -d '/srv/a b' ] && [ -d '/srv/it'\\''s' ] || mkdir -p -- '/srv/a b' '/srv/it'\\''s'\n"
        );
    }
}
