//! The `astbase` binary: parse arguments, run one command, turn errors into messages and
//! exit codes. This is the only place that does either.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::exit;

// Validation and rendering allocate many small strings; mimalloc makes the whole
// pipeline ~2x faster than glibc malloc on a large fleet (see benches/fleet.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The agent runs for months beside Asterisk, so it should be small: mimalloc commits
/// its arena eagerly by default (~9 MB resident before any work). Its options are read
/// from the environment when the process starts, before `main`, so the agent re-executes
/// itself once with `MIMALLOC_ARENA_EAGER_COMMIT=0` (peak RSS 18 -> 9 MB idle; see
/// benches/agent.rs). Validate and render keep the default: they are short and fast.
fn lean_agent() {
    use std::os::unix::process::CommandExt;
    const OPTION: &str = "MIMALLOC_ARENA_EAGER_COMMIT";
    if std::env::args_os().nth(1).is_some_and(|a| a == "agent")
        && std::env::var_os(OPTION).is_none()
    {
        let Ok(me) = std::env::current_exe() else {
            return;
        };
        let error = std::process::Command::new(me)
            .args(std::env::args_os().skip(1))
            .env(OPTION, "0")
            .exec();
        // exec only returns on failure; carry on as we are.
        eprintln!("astbase agent: could not re-execute with {OPTION}=0 ({error}); continuing");
    }
}

fn main() -> ExitCode {
    lean_agent();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let color = cli.color.enabled();
    let result = match &cli.command {
        Command::Validate(args) => commands::validate::run(args, color),
        Command::Render(args) => commands::render::run(args, color),
        Command::Plan(args) => commands::plan::run(args, color),
        Command::Apply(args) => commands::apply::run(args, color),
        Command::Schema => commands::schema::run(),
        Command::Diff(args) => commands::diff::run(args, color),
        Command::Hook(cli::HookCommand::Install(args)) => commands::hook::install(args),
        Command::Agent(args) => commands::agent::run_agent(args),
        Command::Cdr(command) => commands::agent::run_cdr(command),
        Command::Calls(args) => commands::agent::run_calls(args),
        Command::Hangup(args) => commands::agent::run_hangup(args),
        Command::Spy(args) => commands::agent::run_spy(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message);
            if let Some(hint) = e.hint {
                eprintln!("  help: {hint}");
            }
            ExitCode::from(exit::ERROR)
        }
    }
}
