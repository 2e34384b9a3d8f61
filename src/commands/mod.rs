//! One module per subcommand. Each returns an exit status or a [`CliError`]; `main` is
//! the only place that prints errors and exits.

pub mod agent;
pub mod apply;
pub mod diff;
pub mod hook;
pub mod plan;
pub mod render;
pub mod schema;
pub mod validate;

use std::io::Write;
use std::process::ExitCode;

/// Exit statuses, the same for every command.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// An error: invalid configuration, a failure, or bad usage.
    pub const ERROR: u8 = 1;
    /// `plan --detailed-exitcode`: something would change.
    pub const CHANGES: u8 = 2;
}

/// An error for the user: what went wrong and what to do about it.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
}

impl From<astbase::source::SourceError> for CliError {
    fn from(e: astbase::source::SourceError) -> Self {
        CliError {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

impl From<astbase::render::RenderError> for CliError {
    fn from(e: astbase::render::RenderError) -> Self {
        CliError {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

impl CliError {
    pub fn io(what: &str, path: &std::path::Path, e: std::io::Error) -> CliError {
        CliError {
            message: format!("cannot {what} {}: {e}", path.display()),
            hint: None,
        }
    }
}

impl From<astbase::source::git::GitError> for CliError {
    fn from(e: astbase::source::git::GitError) -> Self {
        CliError {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

/// A validated repository and what it was read from.
pub struct Loaded {
    pub report: astbase::validate::Report,
    /// Commit id (with "+ uncommitted changes" for a dirty working tree), `index`, or
    /// `working tree` outside git: goes into file headers, plans and the host state.
    pub source_label: String,
    /// The revision's files when read from git (templates come from there too).
    pub revision: Option<astbase::source::git::Revision>,
    /// Files under the config root that differ from HEAD (working tree only).
    pub uncommitted: Vec<String>,
}

/// Which state of the repository to read.
pub enum Which<'a> {
    WorkTree,
    Rev(&'a str),
    Staged,
}

/// Validates the repo (working tree, `--rev` or `--staged`), without judging the result.
pub fn load(repo: &crate::cli::RepoArgs) -> Result<Loaded, CliError> {
    let root = find_root(repo.repo.as_deref())?;
    let which = match (&repo.rev, repo.staged) {
        (_, true) => Which::Staged,
        (Some(rev), _) => Which::Rev(rev),
        (None, false) => Which::WorkTree,
    };
    load_from(&root, &which)
}

/// The config root: `--repo`, or found upward from the current directory.
pub fn find_root(repo: Option<&std::path::Path>) -> Result<std::path::PathBuf, CliError> {
    let cwd = std::env::current_dir().map_err(|e| CliError {
        message: format!("cannot read the current directory: {e}"),
        hint: None,
    })?;
    Ok(astbase::source::find_root(repo, &cwd)?)
}

/// Validates the repo at `root` in the given state.
pub fn load_from(root: &std::path::Path, which: &Which) -> Result<Loaded, CliError> {
    let (report, source_label, revision, uncommitted) = match which {
        Which::Staged => {
            let revision = astbase::source::git::read_index(root)?;
            let report = astbase::validate::validate_revision(root, &revision, "index")?;
            (report, revision.label(), Some(revision), Vec::new())
        }
        Which::Rev(rev) => {
            let revision = astbase::source::git::read_commit(root, rev)?;
            let report = astbase::validate::validate_revision(root, &revision, rev)?;
            (report, revision.label(), Some(revision), Vec::new())
        }
        Which::WorkTree => {
            let report = astbase::validate::validate_repo(root)?;
            match astbase::source::git::work_tree(root) {
                Some(tree) => (report, tree.label(), None, tree.changed),
                None => (report, "working tree".to_owned(), None, Vec::new()),
            }
        }
    };
    Ok(Loaded {
        report,
        source_label,
        revision,
        uncommitted,
    })
}

/// Validates the repo for a command that needs a valid fleet: prints the diagnostics
/// (all of them on errors, one line per warning otherwise) and stops on errors.
pub fn load_valid(repo: &crate::cli::RepoArgs, color: bool) -> Result<Loaded, CliError> {
    let loaded = load(repo)?;
    require_valid(loaded, color)
}

/// Prints the diagnostics of a loaded repo; errors stop the command.
pub fn require_valid(loaded: Loaded, color: bool) -> Result<Loaded, CliError> {
    let report = &loaded.report;
    if report.errors() > 0 {
        eprint!(
            "{}",
            astbase::diagnostics::render_text(&report.sources, &report.diagnostics, color)
        );
        return Err(CliError {
            message: format!("the repository has {} error(s)", report.errors()),
            hint: Some("fix them (`astbase validate` shows them all) and run again".into()),
        });
    }
    for d in &report.diagnostics {
        eprintln!("{}", astbase::diagnostics::short_line(&report.sources, d));
    }
    Ok(loaded)
}

/// The template overrides (`project.templates_dir`): from the working tree, or from the
/// revision's files when the repo was read from git.
pub fn templates(loaded: &Loaded) -> Result<astbase::render::TemplateOverrides, CliError> {
    use astbase::render::TemplateOverrides;
    let Some(dir) = loaded.report.fleet.project.templates_dir.as_ref() else {
        return Ok(TemplateOverrides::none());
    };
    Ok(match &loaded.revision {
        Some(revision) => TemplateOverrides::from_files(
            dir,
            revision
                .files
                .iter()
                .map(|(rel, bytes)| (rel.as_str(), bytes.as_slice())),
        )?,
        None => TemplateOverrides::read_dir(&loaded.report.sources.root.join(dir))?,
    })
}

/// Checks that every server named on the command line exists.
pub fn check_server_names<'a>(
    fleet: &astbase::model::Fleet,
    names: impl IntoIterator<Item = &'a String>,
) -> Result<(), CliError> {
    for name in names {
        if fleet.server(name).is_none() {
            let known: Vec<&str> = fleet.servers.iter().map(|s| s.name.as_str()).collect();
            return Err(CliError {
                message: format!("no server `{name}` in the repository"),
                hint: Some(format!("servers: {}", known.join(", "))),
            });
        }
    }
    Ok(())
}

/// Writes command output to stdout. A closed pipe (`astbase validate | head`) is not an
/// error worth reporting.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError {
            message: format!("cannot write output: {e}"),
            hint: None,
        }),
    }
}

pub type CommandResult = Result<ExitCode, CliError>;
