//! `render`: the `*_odoo.conf` files each server needs, from minijinja templates.
//!
//! model (validated) → [`view`] (effective settings, secrets, escaped text) → templates →
//! files, each checked against Asterisk's line limit. Servers render in parallel; the
//! output is byte-for-byte deterministic.

pub mod escape;
pub mod secrets;
mod view;

use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};

use crate::model::Fleet;
use crate::model::project::DEFAULT_SUFFIX;
use crate::source::Sources;

pub use escape::EscapeError;
pub use secrets::{SecretError, SecretSource};
pub use view::ServerView;

/// The templates shipped in the binary: (template name, generated file stem, base file).
pub const TEMPLATES: [(&str, &str, &str); 5] = [
    ("pjsip.conf.j2", "pjsip", "pjsip.conf"),
    ("extensions.conf.j2", "extensions", "extensions.conf"),
    ("queues.conf.j2", "queues", "queues.conf"),
    ("voicemail.conf.j2", "voicemail", "voicemail.conf"),
    ("musiconhold.conf.j2", "musiconhold", "musiconhold.conf"),
];

const EMBEDDED: [(&str, &str); 5] = [
    (
        "pjsip.conf.j2",
        include_str!("../../templates/pjsip.conf.j2"),
    ),
    (
        "extensions.conf.j2",
        include_str!("../../templates/extensions.conf.j2"),
    ),
    (
        "queues.conf.j2",
        include_str!("../../templates/queues.conf.j2"),
    ),
    (
        "voicemail.conf.j2",
        include_str!("../../templates/voicemail.conf.j2"),
    ),
    (
        "musiconhold.conf.j2",
        include_str!("../../templates/musiconhold.conf.j2"),
    ),
];

/// Asterisk skips config lines of 8192 bytes or more; we stop well before.
pub const MAX_LINE_BYTES: usize = 8000;

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{entity} on server `{server}`: cannot resolve {field}: {source}")]
    Secret {
        server: String,
        entity: String,
        field: String,
        #[source]
        source: SecretError,
    },
    #[error("{entity} on server `{server}`: {field} {source}")]
    Unsafe {
        server: String,
        entity: String,
        field: String,
        #[source]
        source: EscapeError,
    },
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("{file} for server `{server}` line {line} is {bytes} bytes, over Asterisk's limit")]
    LineTooLong {
        server: String,
        file: String,
        line: usize,
        bytes: usize,
    },
    #[error("templates directory {path}: {message}")]
    TemplatesDir { path: PathBuf, message: String },
    #[error("cannot write the files of server `{server}`: {message}")]
    Output { server: String, message: String },
}

impl RenderError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RenderError::Secret { source, .. } => Some(source.hint().to_owned()),
            RenderError::Unsafe { .. } => Some(
                "change the value in the repo; `astbase validate` explains what is allowed".into(),
            ),
            RenderError::Template { .. } => {
                Some("fix the template override, or remove it to use the built-in one".into())
            }
            RenderError::LineTooLong { .. } => {
                Some("shorten the values that make up this line".into())
            }
            RenderError::Output { .. } => None,
            RenderError::TemplatesDir { .. } => Some(format!(
                "the directory may only hold overrides of: {}",
                TEMPLATES.map(|t| t.0).join(", ")
            )),
        }
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// File name in the conf dir, e.g. `pjsip_odoo.conf`.
    pub name: String,
    pub content: String,
    /// The base file that must include it, e.g. `pjsip.conf`.
    pub base: String,
    /// The line the base file needs: `#tryinclude pjsip_odoo.conf`.
    pub include_line: String,
}

/// Everything generated for one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOutput {
    pub server: String,
    pub files: Vec<RenderedFile>,
}

/// What a render needs besides the fleet.
pub struct RenderOptions<'a> {
    /// Shown in file headers: a commit id, or "working tree".
    pub source_label: String,
    /// Only these servers (all when empty).
    pub servers: Vec<String>,
    pub secrets: &'a SecretSource,
    /// Template overrides (`project.templates_dir`, resolved against the repo root).
    pub templates_dir: Option<PathBuf>,
}

/// Builds the template environment: strict undefined variables, and a formatter that
/// escapes every `{{ value }}` as a config value, and in the dialplan template refuses
/// any string that was not escaped for the dialplan by the view.
pub fn environment(templates_dir: Option<&Path>) -> Result<Environment<'static>, RenderError> {
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
        if state.name().starts_with("extensions") {
            return Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                "the dialplan template only writes values escaped for the dialplan; \
                 pass text through the `app_arg`, `set_value` or `raw_arg` filter",
            ));
        }
        let escaped = escape::conf_value(text).map_err(|e| {
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
    for (name, source) in EMBEDDED {
        env.add_template(name, source)
            .map_err(|e| RenderError::Template {
                name: name.to_owned(),
                message: e.to_string(),
            })?;
    }
    if let Some(dir) = templates_dir {
        load_overrides(&mut env, dir)?;
    }
    Ok(env)
}

fn load_overrides(env: &mut Environment<'static>, dir: &Path) -> Result<(), RenderError> {
    let err = |message: String| RenderError::TemplatesDir {
        path: dir.to_path_buf(),
        message,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| err(e.to_string()))?;
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| err(e.to_string()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.eq_ignore_ascii_case("README.md") {
            continue;
        }
        if !TEMPLATES.iter().any(|t| t.0 == name) {
            return Err(err(format!("`{name}` overrides no template")));
        }
        names.push((name, entry.path()));
    }
    names.sort();
    for (name, path) in names {
        let source = std::fs::read_to_string(&path).map_err(|e| err(format!("{name}: {e}")))?;
        env.add_template_owned(name.clone(), source)
            .map_err(|e| RenderError::Template {
                name,
                message: e.to_string(),
            })?;
    }
    Ok(())
}

/// Renders every selected server of a valid fleet, in the fleet's order.
pub fn render_fleet(
    fleet: &Fleet,
    sources: &Sources,
    options: &RenderOptions,
) -> Result<Vec<ServerOutput>, RenderError> {
    let done = std::sync::Mutex::new(Vec::new());
    render_each(fleet, sources, options, |output| {
        done.lock()
            .expect("no panics while holding it")
            .push(output);
        Ok(())
    })?;
    let mut outputs = done.into_inner().expect("no panics while holding it");
    let order: Vec<&str> = fleet.servers.iter().map(|s| s.name.as_str()).collect();
    outputs.sort_by_key(|o| order.iter().position(|n| *n == o.server));
    Ok(outputs)
}

/// Renders every selected server and hands each one's files to `consume` as soon as they
/// are ready (servers render in parallel), so a large fleet never has all its output in
/// memory at once. Stops at the first error.
pub fn render_each(
    fleet: &Fleet,
    sources: &Sources,
    options: &RenderOptions,
    consume: impl Fn(ServerOutput) -> Result<(), RenderError> + Sync,
) -> Result<(), RenderError> {
    let env = environment(options.templates_dir.as_deref())?;
    let servers: Vec<_> = fleet
        .servers
        .iter()
        .filter(|s| {
            options.servers.is_empty() || options.servers.iter().any(|n| n == s.name.as_str())
        })
        .collect();
    let prefix = fleet
        .project
        .suffix
        .clone()
        .unwrap_or_else(|| DEFAULT_SUFFIX.to_owned());
    let index = crate::model::index::by_server(fleet);
    let empty = crate::model::index::ServerEntities::default();
    let results = crate::parallel::map(&servers, |server| {
        let ctx = view::Ctx {
            fleet,
            server,
            entities: index.get(server.name.as_str()).unwrap_or(&empty),
            prefix: &prefix,
            secrets: options.secrets,
        };
        render_server(&env, &ctx, sources, options).and_then(&consume)
    });
    results.into_iter().collect()
}

fn render_server(
    env: &Environment<'static>,
    ctx: &view::Ctx,
    sources: &Sources,
    options: &RenderOptions,
) -> Result<ServerOutput, RenderError> {
    let (view, used) = view::build(ctx)?;
    let server = view.server.clone();
    let suffix = ctx.prefix;
    let mut files = Vec::new();
    // Serialized once; minijinja values are shared, so each template reads the same view.
    let context = Value::from(minijinja::value::Serde(&view));
    for (template, stem, base) in TEMPLATES {
        let (needed, from) = match stem {
            "pjsip" => (true, &used.pjsip),
            "extensions" => (true, &used.dialplan),
            "queues" => (!view.queues.is_empty(), &used.queues),
            "voicemail" => (!view.mailboxes.is_empty(), &used.voicemail),
            _ => (!view.moh.is_empty(), &used.moh),
        };
        if !needed {
            continue;
        }
        let name = format!("{stem}_{suffix}.conf");
        let from: Vec<String> = from
            .iter()
            .map(|i| escape::comment(&sources.files[*i].rel))
            .collect();
        let header = format!(
            "; {name} for server {server}\n\
             ; Generated by astbase {} from {}. Do not edit: astbase overwrites this file.\n\
             ; Source: {}\n",
            env!("CARGO_PKG_VERSION"),
            escape::comment(&options.source_label),
            if from.is_empty() {
                "(defaults)".to_owned()
            } else {
                from.join(", ")
            },
        );
        let tmpl = env
            .get_template(template)
            .map_err(|e| RenderError::Template {
                name: template.to_owned(),
                message: e.to_string(),
            })?;
        let body = tmpl
            .render(context.clone())
            .map_err(|e| RenderError::Template {
                name: template.to_owned(),
                message: describe(&e),
            })?;
        let content = header + &body;
        for (i, line) in content.lines().enumerate() {
            if line.len() > MAX_LINE_BYTES {
                return Err(RenderError::LineTooLong {
                    server: server.clone(),
                    file: name,
                    line: i + 1,
                    bytes: line.len(),
                });
            }
        }
        files.push(RenderedFile {
            include_line: format!("#tryinclude {name}"),
            name,
            content,
            base: base.to_owned(),
        });
    }
    Ok(ServerOutput { server, files })
}

/// A template error with its cause chain and place.
fn describe(error: &minijinja::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
