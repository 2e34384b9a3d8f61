//! The `astbase` binary: parse arguments, run one command, turn errors into messages and
//! exit codes. This is the only place that does either.

// Everything shown goes through `commands::Printer`, which alone decides stream, colour
// and `--quiet`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::{Printer, exit};

// Validation and rendering allocate many small strings; mimalloc makes the whole
// pipeline ~2x faster than glibc malloc on a large fleet (see benches/fleet.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The agent runs for months beside Asterisk, so it should be small: mimalloc commits
/// its arena eagerly by default (~9 MB resident before any work). Its options are read
/// from the environment when the process starts, before `main`, so the agent re-executes
/// itself once with `MIMALLOC_ARENA_EAGER_COMMIT=0` (peak RSS 18 -> 9 MB idle; see
/// benches/agent.rs). Validate and render keep the default: they are short and fast.
/// Returns what to log if that failed.
fn lean_agent() -> Option<String> {
    use std::os::unix::process::CommandExt;
    const OPTION: &str = "MIMALLOC_ARENA_EAGER_COMMIT";
    if std::env::args_os().nth(1).is_some_and(|a| a == "agent")
        && std::env::var_os(OPTION).is_none()
    {
        let Ok(me) = std::env::current_exe() else {
            return None;
        };
        let error = std::process::Command::new(me)
            .args(std::env::args_os().skip(1))
            .env(OPTION, "0")
            .exec();
        // exec only returns on failure; carry on as we are.
        return Some(format!(
            "could not re-execute with {OPTION}=0 ({error}); continuing"
        ));
    }
    None
}

fn main() -> ExitCode {
    let not_lean = lean_agent();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(line) = &not_lean {
                Printer::new(cli::ColorChoice::Auto, false).log(line);
            }
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let printer = Printer::new(cli.color, cli.quiet);
    if let Some(line) = &not_lean {
        printer.log(line);
    }
    let p = &printer;
    let result = match &cli.command {
        Command::Validate(args) => commands::validate::run(args, p),
        Command::Render(args) => commands::render::run(args, p),
        Command::Plan(args) => commands::plan::run(args, p),
        Command::Apply(args) => commands::apply::run(args, p),
        Command::Schema => commands::schema::run(p),
        Command::Trace(args) => commands::trace::run(args, p),
        Command::Import(args) => commands::import::run(args, p),
        Command::Diff(args) => commands::diff::run(args, p),
        Command::Hook(cli::HookCommand::Install(args)) => commands::hook::install(args, p),
        Command::Agent(args) => commands::agent::run(args, p),
        Command::Cdr(command) => commands::cdr::run(command, p),
        Command::Calls(args) => commands::calls::run_calls(args, p),
        Command::Hangup(args) => commands::calls::run_hangup(args, p),
        Command::Spy(args) => commands::calls::run_spy(args, p),
        Command::Dial(args) => commands::calls::run_dial(args, p),
        Command::Recordings(command) => commands::recordings::run(command, p),
        Command::Serve(args) => commands::serve::run(args, p),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            printer.error(&e);
            ExitCode::from(exit::ERROR)
        }
    }
}
