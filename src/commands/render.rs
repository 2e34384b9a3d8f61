//! `astbase render`: write each server's generated files into a directory.

use std::path::Path;
use std::process::ExitCode;

use astbase::render::{RenderError, SecretSource, ServerOutput, render_each};

use super::{CliError, CommandResult, Printer, check_server_names, exit, load_valid};
use crate::cli::RenderArgs;

pub fn run(args: &RenderArgs, printer: &Printer) -> CommandResult {
    let loaded = load_valid(&args.repo, printer)?;
    let report = &loaded.report;
    check_server_names(&report.fleet, &args.servers)?;
    let root = &report.sources.root;
    let options = loaded.render_options(args.servers.clone(), SecretSource::from_env(root))?;
    let suffix = report.fleet.project.suffix();
    // Each server's files are written as soon as they are rendered and then dropped.
    let written = std::sync::Mutex::new(Vec::new());
    render_each(&report.fleet, &report.sources, &options, |output| {
        write_server(&args.out, &output, suffix).map_err(|e| RenderError::Output {
            server: output.server.clone(),
            message: e.to_string(),
        })?;
        let names: Vec<&str> = output.files.iter().map(|f| f.name.as_str()).collect();
        let line = format!("{}: {}", output.server, names.join(", "));
        written
            .lock()
            .expect("no panics while holding it")
            .push(line);
        Ok(())
    })?;
    let mut lines = written.into_inner().expect("no panics while holding it");
    lines.sort();
    let count = lines.len();
    lines.push(format!(
        "rendered {count} server(s) into {}",
        args.out.display()
    ));
    printer.out(&(lines.join("\n") + "\n"))?;
    Ok(ExitCode::from(exit::OK))
}

/// Writes one server's files (readable by the owner only: they hold passwords), the
/// include lines its base files need, and removes generated files it no longer has.
fn write_server(out: &Path, output: &ServerOutput, suffix: &str) -> Result<(), CliError> {
    let dir = out.join(&output.server);
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io("create", &dir, e))?;
    for file in &output.files {
        write_private(&dir.join(&file.name), file.content.as_bytes())?;
    }
    let includes: String = output
        .files
        .iter()
        .map(|f| format!("{}: {}\n", f.base, f.include_line))
        .collect();
    write_private(&dir.join("includes.txt"), includes.as_bytes())?;
    let ending = format!("_{suffix}.conf");
    let entries = std::fs::read_dir(&dir).map_err(|e| CliError::io("read", &dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(&ending) && !output.files.iter().any(|f| f.name == name) {
            std::fs::remove_file(entry.path())
                .map_err(|e| CliError::io("remove", &entry.path(), e))?;
        }
    }
    Ok(())
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp~");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| CliError::io("write", &tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| CliError::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| CliError::io("write", path, e))
}
