//! One module per subcommand, and what they share: reading the repository. Each command
//! returns an exit status or a [`CliError`] and shows everything through the
//! [`Printer`]; `main` is the only place that prints errors and exits.

pub mod agent;
pub mod apply;
pub mod calls;
pub mod cdr;
pub mod diff;
pub mod error;
pub mod hook;
pub mod import;
pub mod plan;
pub mod printer;
pub mod recordings;
pub mod render;
pub mod schema;
pub mod serve;
pub mod trace;
pub mod validate;

pub use error::{CliError, CommandResult, exit};
pub use printer::Printer;

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
    let cwd = std::env::current_dir().map_err(|e| {
        CliError::new(format!("cannot read the current directory: {e}")).caused_by(&e)
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
pub fn load_valid(repo: &crate::cli::RepoArgs, printer: &Printer) -> Result<Loaded, CliError> {
    let loaded = load(repo)?;
    require_valid(loaded, printer)
}

/// Prints the diagnostics of a loaded repo; errors stop the command.
pub fn require_valid(loaded: Loaded, printer: &Printer) -> Result<Loaded, CliError> {
    let report = &loaded.report;
    if report.errors() > 0 {
        printer.diagnostics(&astbase::diagnostics::render_text(
            &report.sources,
            &report.diagnostics,
            printer.stderr_color(),
        ));
        return Err(
            CliError::new(format!("the repository has {} error(s)", report.errors()))
                .with_hint("fix them (`astbase validate` shows them all) and run again"),
        );
    }
    for d in &report.diagnostics {
        printer.info(&astbase::diagnostics::short_line(&report.sources, d));
    }
    Ok(loaded)
}

impl Loaded {
    /// What rendering this repo needs: the source label for file headers, the servers
    /// (all when empty), the secrets, and the template overrides (`project.templates_dir`)
    /// of the same state of the repo: the working tree, or the revision's files.
    pub fn render_options(
        &self,
        servers: Vec<String>,
        secrets: astbase::render::SecretSource,
    ) -> Result<astbase::render::RenderOptions, CliError> {
        use astbase::render::TemplateOverrides;
        let templates = match (&self.report.fleet.project.templates_dir, &self.revision) {
            (None, _) => TemplateOverrides::none(),
            (Some(dir), Some(revision)) => TemplateOverrides::from_files(
                dir,
                revision
                    .files
                    .iter()
                    .map(|(rel, bytes)| (rel.as_str(), bytes.as_slice())),
            )?,
            (Some(dir), None) => TemplateOverrides::read_dir(&self.report.sources.root.join(dir))?,
        };
        Ok(astbase::render::RenderOptions {
            source_label: self.source_label.clone(),
            servers,
            secrets,
            templates,
        })
    }
}

/// The servers a list of `--server`/`--exclude` words names: a name, or `tag:T` for
/// every server with tag T. Each word must name at least one server.
pub fn select_servers(
    fleet: &astbase::model::Fleet,
    words: &[String],
) -> Result<std::collections::BTreeSet<String>, CliError> {
    let mut selected = std::collections::BTreeSet::new();
    for word in words {
        match word.strip_prefix("tag:") {
            Some(tag) => {
                let tagged: Vec<String> = fleet
                    .servers
                    .iter()
                    .filter(|s| s.tags.iter().any(|t| t.as_str() == tag))
                    .map(|s| s.name.to_string())
                    .collect();
                if tagged.is_empty() {
                    let mut tags: Vec<&str> = fleet
                        .servers
                        .iter()
                        .flat_map(|s| s.tags.iter().map(|t| t.as_str()))
                        .collect();
                    tags.sort_unstable();
                    tags.dedup();
                    return Err(CliError::new(format!("no server has tag `{tag}`"))
                        .with_hint(format!("tags in the repository: {}", tags.join(", "))));
                }
                selected.extend(tagged);
            }
            None => {
                check_server_names(fleet, [word])?;
                selected.insert(word.clone());
            }
        }
    }
    Ok(selected)
}

/// Checks that every server named on the command line exists.
pub fn check_server_names<'a>(
    fleet: &astbase::model::Fleet,
    names: impl IntoIterator<Item = &'a String>,
) -> Result<(), CliError> {
    for name in names {
        if fleet.server(name).is_none() {
            let known: Vec<&str> = fleet.servers.iter().map(|s| s.name.as_str()).collect();
            return Err(
                CliError::new(format!("no server `{name}` in the repository"))
                    .with_hint(format!("servers: {}", known.join(", "))),
            );
        }
    }
    Ok(())
}
