//! The template environment: the built-in templates, the overrides of a repository
//! (read from its working tree or from a git revision, always into memory), the
//! escaping formatter and the filters templates may use.

use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};

use super::RenderError;
use super::escape::{self, EscapeError};
use super::kind::ConfKind;

/// The template overrides of a repository (`project.templates_dir`), by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateOverrides {
    templates: Vec<(ConfKind, String)>,
}

impl TemplateOverrides {
    /// No overrides: the built-in templates.
    pub fn none() -> TemplateOverrides {
        TemplateOverrides::default()
    }

    /// Reads the overrides in a directory of the working tree.
    pub fn read_dir(dir: &Path) -> Result<TemplateOverrides, RenderError> {
        let err = |message: String| templates_dir_error(dir, message);
        let entries = std::fs::read_dir(dir).map_err(|e| err(e.to_string()))?;
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| err(e.to_string()))?;
            // A link could bring in any file of the machine, and it would be printed into
            // plans: templates must be files of the repo.
            if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                return Err(err(format!(
                    "`{}` is a symbolic link; put the template itself in the directory",
                    entry.file_name().to_string_lossy()
                )));
            }
            files.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
        files.sort();
        let mut overrides = TemplateOverrides::default();
        for (name, path) in files {
            if let Some(kind) = overridden(dir, &name)? {
                let source =
                    std::fs::read_to_string(&path).map_err(|e| err(format!("{name}: {e}")))?;
                overrides.templates.push((kind, source));
            }
        }
        Ok(overrides)
    }

    /// Reads the overrides from a revision's files (repo-relative path, content) under
    /// `dir` (relative to the repo root).
    pub fn from_files<'a>(
        dir: &str,
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<TemplateOverrides, RenderError> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let path = Path::new(dir);
        let mut found: Vec<(&str, &[u8])> = files
            .into_iter()
            .filter_map(|(rel, bytes)| rel.strip_prefix(&prefix).map(|name| (name, bytes)))
            .collect();
        found.sort();
        let mut overrides = TemplateOverrides::default();
        for (name, bytes) in found {
            if let Some(kind) = overridden(path, name)? {
                let source = String::from_utf8(bytes.to_vec())
                    .map_err(|_| templates_dir_error(path, format!("{name}: not UTF-8")))?;
                overrides.templates.push((kind, source));
            }
        }
        Ok(overrides)
    }
}

fn templates_dir_error(dir: &Path, message: String) -> RenderError {
    RenderError::TemplatesDir {
        path: dir.to_path_buf(),
        message,
    }
}

/// The kind a file in the templates directory overrides; `None` for what the directory
/// may hold beside overrides (hidden files, a README).
fn overridden(dir: &Path, name: &str) -> Result<Option<ConfKind>, RenderError> {
    if name.starts_with('.') || name.eq_ignore_ascii_case("README.md") {
        return Ok(None);
    }
    match ConfKind::of_template(name) {
        Some(kind) => Ok(Some(kind)),
        None => Err(templates_dir_error(
            dir,
            format!("`{name}` overrides no template"),
        )),
    }
}

/// Builds the template environment: strict undefined variables, and a formatter that
/// escapes every `{{ value }}` as a config value, and in the dialplan template refuses
/// any string that was not escaped for the dialplan by the view.
pub fn environment(overrides: &TemplateOverrides) -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("static syntax config"),
    );
    env.set_formatter(|out, state, value| {
        if value.is_safe() || value.is_number() || value.kind() == minijinja::value::ValueKind::Bool
        {
            return write!(out, "{value}")
                .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "write failed"));
        }
        let Some(text) = value.as_str() else {
            return Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot write a {} into a config file", value.kind()),
            ));
        };
        if ConfKind::of_template(state.name()).is_some_and(ConfKind::is_dialplan) {
            return Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                "the dialplan template only writes values escaped for the dialplan; \\
                 pass text through the `app_arg`, `set_value` or `raw_arg` filter",
            ));
        }
        let escaped = escape::conf_value_borrowed(text).map_err(|e| {
            minijinja::Error::new(ErrorKind::InvalidOperation, format!("value {text:?} {e}"))
        })?;
        out.write_str(&escaped)
            .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "write failed"))
    });
    fn filter(
        f: fn(&str) -> Result<String, EscapeError>,
    ) -> impl Fn(&str) -> Result<Value, minijinja::Error> {
        move |text: &str| {
            f(text).map(Value::from_safe_string).map_err(|e| {
                minijinja::Error::new(ErrorKind::InvalidOperation, format!("value {text:?} {e}"))
            })
        }
    }
    env.add_filter("app_arg", filter(escape::app_arg));
    env.add_filter("set_value", filter(escape::set_value));
    env.add_filter("raw_arg", filter(escape::raw_arg));
    env.add_filter("conf", filter(escape::conf_value));
    for kind in ConfKind::ALL {
        let name = kind.template();
        let added = match overrides.templates.iter().find(|(k, _)| *k == kind) {
            Some((_, source)) => env.add_template_owned(name, source.clone()),
            None => env.add_template(name, kind.builtin_template()),
        };
        added.map_err(|e| RenderError::Template {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
    }
    Ok(env)
}
