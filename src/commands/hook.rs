//! `astbase hook install`: a plain git pre-commit hook for a config repository that
//! validates what is staged (the index), not the working tree, so a commit can never
//! record an invalid fleet. Installing twice changes nothing; a hook that was already
//! there keeps running first.

use std::process::ExitCode;

use astbase::transport::quote;

use super::{CliError, CommandResult, Printer, exit, find_root};
use crate::cli::HookInstallArgs;

/// Marks a hook file as ours (so a second install updates instead of chaining itself).
const MARKER: &str = "# astbase pre-commit hook";
/// Where a hook that was there before is kept, and run from ours.
const CHAINED: &str = "pre-commit.before-astbase";

pub fn install(args: &HookInstallArgs, printer: &Printer) -> CommandResult {
    use std::os::unix::fs::PermissionsExt;
    let root = find_root(args.repo.as_deref())?;
    let (hooks, prefix) = astbase::source::git::hooks_dir(&root)?;
    std::fs::create_dir_all(&hooks).map_err(|e| CliError::io("create", &hooks, e))?;
    let hook = hooks.join("pre-commit");
    let chained = hooks.join(CHAINED);
    // Bytes, not text: a hook with Latin-1 comments is still someone's hook to keep.
    let existing = match std::fs::symlink_metadata(&hook) {
        Ok(_) => Some(std::fs::read(&hook).map_err(|e| CliError::io("read", &hook, e))?),
        Err(_) => None,
    };
    let ours = |bytes: &[u8]| bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes());
    let mut note = String::new();
    match &existing {
        Some(bytes) if ours(bytes) => note.push_str(" (updated)"),
        Some(_) if chained.exists() => {
            return Err(CliError::new(format!(
                "{} exists and is not astbase's, and {} is taken too",
                hook.display(),
                chained.display()
            ))
            .with_hint(
                "merge them by hand, or move one away and run `astbase hook install` again",
            ));
        }
        Some(_) => {
            std::fs::rename(&hook, &chained).map_err(|e| CliError::io("move", &hook, e))?;
            note = format!(" (the existing hook was kept as {CHAINED} and runs first)");
        }
        None => {}
    }
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "astbase".into());
    let script = format!(
        "#!/bin/sh\n{MARKER}: validates the staged configuration before each commit.\n\
         # Installed by `astbase hook install`; `git commit --no-verify` skips it.\n\
         chained=\"$(dirname \"$0\")/{CHAINED}\"\n\
         if [ -x \"$chained\" ]; then \"$chained\" \"$@\" || exit $?; fi\n\
         astbase=${{ASTBASE:-{exe}}}\n\
         [ -x \"$astbase\" ] || astbase=astbase\n\
         top=\"$(git rev-parse --show-toplevel)\" || exit 1\n\
         exec \"$astbase\" validate --staged --repo \"$top\"/{prefix}\n",
        exe = quote(&exe),
        prefix = if prefix.is_empty() {
            "''".to_owned()
        } else {
            quote(&prefix)
        },
    );
    std::fs::write(&hook, script).map_err(|e| CliError::io("write", &hook, e))?;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| CliError::io("make executable", &hook, e))?;
    printer.out(&format!("installed {}{note}\n", hook.display()))?;
    Ok(ExitCode::from(exit::OK))
}
