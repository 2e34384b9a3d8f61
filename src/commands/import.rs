//! `astbase import`: read a running PBX into the repository. Writes the YAML, the
//! migration record and the secrets file; prints the report. Into a repository that
//! already holds the server it only shows what differs, unless `--overwrite`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use astbase::import::{self, ImportOptions, Imported, gather, record};
use astbase::transport::{self, Address, ConnectOptions, TargetSpec};

use super::{CliError, CommandResult, Printer, exit};
use crate::cli::{ImportArgs, OutputFormat};

pub fn run(args: &ImportArgs, printer: &Printer) -> CommandResult {
    if args.all {
        return run_all(args, printer);
    }
    let (Some(server), Some(host)) = (&args.server, &args.host) else {
        return Err(CliError::new("import needs --server and --host, or --all")
            .with_hint("e.g. astbase import --server office --host pbx1.example.com"));
    };
    let server_ok = server.len() <= 40
        && server
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && server
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !server_ok {
        return Err(
            CliError::new(format!("--server {server}: not a server name")).with_hint(
                "letters, digits, `_` and `-`, starting with a letter or digit, 40 at most",
            ),
        );
    }
    let local = host == "local";
    let address = if local {
        Address::Local
    } else {
        Address::Ssh {
            host: host.clone(),
            port: args.ssh_port,
            user: args.ssh_user.clone().unwrap_or_else(|| "root".into()),
            identity_file: args.identity_file.clone(),
        }
    };
    let conf_dir = if local {
        std::path::absolute(&args.conf_dir)
            .map_err(|e| CliError::new(format!("--conf-dir {}", args.conf_dir)).caused_by(&e))?
            .to_string_lossy()
            .into_owned()
    } else {
        args.conf_dir.clone()
    };
    let spec = TargetSpec {
        address,
        conf_dir: conf_dir.clone(),
        cli: Vec::new(),
    };
    let mut connect = ConnectOptions::defaults();
    if let Some(k) = &args.known_hosts {
        connect.known_hosts = k.clone();
    }
    connect.accept_new_host_keys = args.accept_new_host_keys;
    let options = ImportOptions {
        server: server.clone(),
        host: host.clone(),
        ssh_user: args.ssh_user.clone(),
        ssh_port: (!local).then_some(args.ssh_port),
        identity_file: args.identity_file.clone(),
        conf_dir: (conf_dir != "/etc/asterisk").then(|| {
            if local {
                relative_to(&args.out, &conf_dir)
            } else {
                conf_dir.clone()
            }
        }),
        prefix: suffix_of(&args.out),
        existing_transports: None,
    };
    let code = import_one(&spec, &connect, &options, &args.out, args, printer)?;
    Ok(ExitCode::from(code))
}

/// `--all`: every server of the repository with a host but nothing on it yet.
fn run_all(args: &ImportArgs, printer: &Printer) -> CommandResult {
    let repo = crate::cli::RepoArgs {
        repo: Some(args.out.clone()),
        rev: None,
        staged: false,
    };
    let loaded = super::load_valid(&repo, printer)?;
    let fleet = &loaded.report.fleet;
    let root = &loaded.report.sources.root;
    let mut connect = super::plan::connect_options(args.known_hosts.as_deref(), fleet, root);
    connect.accept_new_host_keys = args.accept_new_host_keys;
    let empty: Vec<_> = fleet
        .servers
        .iter()
        .filter(|s| !fleet.has_entities(s.name.as_str()))
        .collect();
    if empty.is_empty() {
        printer.info("Every server of the repository has entities already: nothing to import.");
        return Ok(ExitCode::from(exit::OK));
    }
    let mut worst = exit::OK;
    for server in empty {
        let spec = TargetSpec::of(server, &fleet.project, root).map_err(|e| {
            CliError::from_error(&e).with_hint(format!("check the entry of server {}", server.name))
        })?;
        let options = ImportOptions {
            server: server.name.to_string(),
            host: server.host.clone(),
            ssh_user: None,
            ssh_port: None,
            identity_file: None,
            conf_dir: None,
            prefix: fleet.project.suffix().to_owned(),
            existing_transports: Some(
                server
                    .transports
                    .iter()
                    .map(|t| t.name.to_string())
                    .collect(),
            ),
        };
        printer.info(&format!("== {} ({})", server.name, server.host));
        match import_one(&spec, &connect, &options, root, args, printer) {
            Ok(code) => worst = worst.max(code),
            Err(e) => {
                printer.info(&format!("{}: {e}", server.name));
                worst = exit::ERROR;
            }
        }
    }
    Ok(ExitCode::from(worst))
}

/// Reads one host and writes its import into the repository at `out`; the exit code.
fn import_one(
    spec: &TargetSpec,
    connect: &ConnectOptions,
    options: &ImportOptions,
    out: &Path,
    args: &ImportArgs,
    printer: &Printer,
) -> Result<u8, CliError> {
    let mut target = transport::connect(spec, connect).map_err(|e| {
        CliError::from_error(&e).with_hint("check --host, --ssh-user and the host key")
    })?;
    let host_label = match spec.address {
        Address::Local => format!("local:{}", spec.conf_dir),
        Address::Ssh { .. } => target.host.describe(),
    };
    let set = gather::gather(&mut target.host, &target.conf_dir).map_err(|e| {
        CliError::from_error(&e).with_hint("check --conf-dir and that the SSH user may read it")
    })?;
    if set.files.is_empty() {
        return Err(CliError::new(format!(
            "{host_label}: no Asterisk config files in {}",
            spec.conf_dir
        ))
        .with_hint("--conf-dir names the directory holding pjsip.conf and extensions.conf"));
    }
    let imported = import::import(&set, options, &host_label);
    let report = match args.format {
        OutputFormat::Text => imported.report.text(),
        OutputFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&imported.report).expect("serializes")
        ),
    };
    printer.out(&report)?;
    let drift = drift(out, &imported);
    if !drift.is_empty() && !args.overwrite {
        let mut text = String::from(
            "\nThe repository already holds this server; what the host has differs:\n",
        );
        for d in &drift {
            text.push_str(d);
        }
        printer.info(&text);
        printer.info("Nothing written. Run again with --overwrite to replace the imported files.");
        return Ok(exit::CHANGES);
    }
    if drift.is_empty() && existing(out, &imported) {
        printer.info("The repository already holds exactly what the host has: nothing to write.");
        return Ok(exit::OK);
    }
    let written = write(out, &imported).map_err(|(path, e)| {
        CliError::new(format!("cannot write {}", path.display())).caused_by(&e)
    })?;
    for path in &written {
        printer.info(&format!("wrote {}", path.display()));
    }
    if !imported.secrets.values.is_empty() {
        printer.info(&format!(
            "{} secrets are not in the YAML: they are {{env: NAME}} references, and their values are in {} \
             (mode 0600, git-ignored). Load them into your secret store, then delete that file.",
            imported.secrets.values.len(),
            secrets_path(out, &options.server).display()
        ));
    }
    printer.info(&format!(
        "The lines taken from the base files are recorded in {}: the next `astbase plan` shows \
         their removal as a diff, and the first apply makes it (backed up, rolled back on failure), \
         then marks the record done. Commit the YAML and the record.",
        migration_path(out, &options.server).display()
    ));
    Ok(exit::OK)
}

/// The suffix of generated names the repository at `out` uses (`odoo` unless its
/// project says otherwise, or when there is no repository there yet): imported lines
/// that go to generated contexts must name them as they will be rendered.
fn suffix_of(out: &Path) -> String {
    if !out.join("astbase.yaml").exists() {
        return astbase::model::project::DEFAULT_SUFFIX.to_owned();
    }
    let repo = crate::cli::RepoArgs {
        repo: Some(out.to_path_buf()),
        rev: None,
        staged: false,
    };
    super::load(&repo).map_or_else(
        |_| astbase::model::project::DEFAULT_SUFFIX.to_owned(),
        |loaded| loaded.report.fleet.project.suffix().to_owned(),
    )
}

/// A local conf dir as the repo will name it: relative to the repo root when inside.
fn relative_to(root: &Path, dir: &str) -> String {
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    Path::new(dir)
        .strip_prefix(&root)
        .map_or_else(|_| dir.to_owned(), |p| p.to_string_lossy().into_owned())
}

fn secrets_path(out: &Path, server: &str) -> PathBuf {
    out.join(".astbase/secrets").join(format!("{server}.env"))
}

fn migration_path(out: &Path, server: &str) -> PathBuf {
    record::record_path(out, server)
}

/// Whether an earlier import of this server is in the repo.
fn existing(out: &Path, imported: &Imported) -> bool {
    imported
        .documents
        .iter()
        .any(|(name, _)| out.join(name).exists())
}

/// Each imported file that differs from the one in the repo, as a diff.
fn drift(out: &Path, imported: &Imported) -> Vec<String> {
    if !existing(out, imported) {
        return Vec::new();
    }
    let mut diffs = Vec::new();
    for (name, text) in &imported.documents {
        let old = std::fs::read_to_string(out.join(name)).unwrap_or_default();
        if old != *text {
            diffs.push(astbase::textdiff::unified(name, &old, text, |l| {
                l.to_owned()
            }));
        }
    }
    diffs
}

fn write(out: &Path, imported: &Imported) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    let mut written = Vec::new();
    let mut put = |path: PathBuf, text: &str, mode: u32| -> Result<(), (PathBuf, std::io::Error)> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| (dir.to_path_buf(), e))?;
        }
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| (tmp.clone(), e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| (tmp.clone(), e))?;
        std::fs::rename(&tmp, &path).map_err(|e| (path.clone(), e))?;
        written.push(path);
        Ok(())
    };
    let project = out.join("astbase.yaml");
    if !project.exists() {
        put(
            project,
            "# The config repository of the fleet (see README).\nproject: {}\n",
            0o644,
        )?;
    }
    for (name, text) in &imported.documents {
        put(out.join(name), text, 0o644)?;
    }
    put(
        migration_path(out, &imported.report.server),
        &imported.migration.json(),
        0o644,
    )?;
    if !imported.secrets.values.is_empty() {
        put(
            secrets_path(out, &imported.report.server),
            &imported.secrets.file_text(),
            0o600,
        )?;
        let ignore = out.join(".gitignore");
        let current = std::fs::read_to_string(&ignore).unwrap_or_default();
        if !current.lines().any(|l| l.trim() == ".astbase/secrets/") {
            let mut text = current;
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(".astbase/secrets/\n");
            put(ignore, &text, 0o644)?;
        }
    }
    Ok(written)
}
