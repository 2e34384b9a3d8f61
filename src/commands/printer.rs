//! The one owner of the terminal: command output goes to stdout, messages, diagnostics
//! and progress to stderr, and colour is decided for each stream on its own (stdout
//! may be piped into a file while stderr is still a terminal). Commands never print
//! themselves; `--quiet` is honoured here, in one place.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::CliError;
use crate::cli::ColorChoice;

/// Where and how things are shown; made once in `main` from `--color` and `--quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    stdout_color: bool,
    stderr_color: bool,
    stderr_terminal: bool,
    quiet: bool,
}

impl Printer {
    pub fn new(color: ColorChoice, quiet: bool) -> Printer {
        let stderr_terminal = std::io::stderr().is_terminal();
        Printer {
            stdout_color: color.enabled(std::io::stdout().is_terminal()),
            stderr_color: color.enabled(stderr_terminal),
            stderr_terminal,
            quiet,
        }
    }

    /// Whether what goes to stdout may be coloured.
    pub fn stdout_color(&self) -> bool {
        self.stdout_color
    }

    /// Whether what goes to stderr may be coloured.
    pub fn stderr_color(&self) -> bool {
        self.stderr_color
    }

    /// Writes command output to stdout. A closed pipe (`astbase validate | head`) is not
    /// an error worth reporting.
    pub fn out(&self, text: &str) -> Result<(), CliError> {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(CliError::new(format!("cannot write output: {e}")).caused_by(&e)),
        }
    }

    /// Stdout for output too large to build in memory first (`cdr export`); the caller
    /// treats a closed pipe as the end, as [`Printer::out`] does.
    pub fn out_stream(&self) -> std::io::BufWriter<std::io::StdoutLock<'static>> {
        std::io::BufWriter::new(std::io::stdout().lock())
    }

    /// An informational line (`plan saved to ...`, a warning's short line): left out
    /// with `--quiet`.
    pub fn info(&self, line: &str) {
        if !self.quiet {
            self.stderr(&format!("{line}\n"));
        }
    }

    /// `warning: ...`: left out with `--quiet`.
    pub fn warning(&self, what: &str) {
        self.info(&format!("warning: {what}"));
    }

    /// Diagnostics that explain an error: always shown.
    pub fn diagnostics(&self, text: &str) {
        self.stderr(text);
    }

    /// A line of the agent's log (journald adds the time when run under systemd). The
    /// log is all a daemon has to say, so `--quiet` keeps it.
    pub fn log(&self, line: &str) {
        self.stderr(&format!("astbase agent: {line}\n"));
    }

    /// A line of the web console's log, like the agent's.
    pub fn console_log(&self, line: &str) {
        self.stderr(&format!("astbase serve: {line}\n"));
    }

    /// A question for the person at the terminal, answered on the same line.
    pub fn prompt(&self, question: &str) {
        self.stderr(question);
    }

    /// A failed command's error, then each cause not already in it, then the hint.
    pub fn error(&self, e: &CliError) {
        let mut text = format!("error: {}\n", e.message());
        for cause in e.causes() {
            text.push_str(&format!("  caused by: {cause}\n"));
        }
        if let Some(hint) = e.hint() {
            text.push_str(&format!("  help: {hint}\n"));
        }
        self.stderr(&text);
    }

    /// Progress over `len` steps drawn with `template` (indicatif's): a bar on a
    /// terminal; nothing otherwise or with `--quiet`.
    pub fn progress(&self, len: usize, template: &str) -> Progress {
        let bar = (self.stderr_terminal && !self.quiet).then(|| {
            let bar = indicatif::ProgressBar::new(len as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    /// A closed or broken stderr is no reason to fail a command that did its work.
    fn stderr(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
    }
}

/// Progress made by [`Printer::progress`].
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// One step done; `what` names it (shown beside the bar). The step's result is the
    /// command's output, printed once on stdout when all are done: a line per step here
    /// as well would show every result twice in a log that takes both streams.
    pub fn done(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_owned());
            bar.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
