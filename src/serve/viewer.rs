//! The fleet pages: the servers and where each stands, one server's generated files, a
//! file as rendered, as on the host, side by side or as a diff (highlighted in the
//! browser by CodeMirror's Asterisk mode), and the repo's YAML the sections link to.
//! Everything is read from the newest snapshot ([`super::fleet`]); secrets are masked
//! there, before anything reaches a page.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::fleet::{FileView, FleetSnapshot, ServerView};
use super::pages::{App, Authed, CsrfForm, Refusal, csrf_of};
use super::users::Role;

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("{what}: no such thing in the newest fleet snapshot"),
    )
        .into_response()
}

/// The snapshot, or the page that says why there is none yet.
fn snapshot(app: &App, authed: &Authed) -> Result<Arc<FleetSnapshot>, Refusal> {
    let Some(fleet) = &app.fleet else {
        return Err(Box::new(app.page(
            "fleet.html",
            Some(&authed.session),
            minijinja::context! { configured => false },
        )));
    };
    fleet.current().ok_or_else(|| {
        Box::new(app.page(
            "fleet.html",
            Some(&authed.session),
            minijinja::context! {
                configured => true,
                failure => fleet.failure(),
                refreshing => fleet.refreshing(),
            },
        ))
    })
}

pub async fn page(State(app): State<Arc<App>>, authed: Authed) -> Response {
    let snapshot = match snapshot(&app, &authed) {
        Ok(s) => s,
        Err(page) => return *page,
    };
    let fleet = app.fleet.as_ref().expect("a snapshot means a fleet");
    app.page(
        "fleet.html",
        Some(&authed.session),
        minijinja::context! {
            configured => true,
            snapshot => minijinja::Value::from(minijinja::value::Serde(&*snapshot)),
            failure => fleet.failure(),
            refreshing => fleet.refreshing(),
            every => fleet.interval().as_secs(),
        },
    )
}

/// Reads every host again now (operators and admins; the page shows it when done).
pub async fn refresh(
    State(app): State<Arc<App>>,
    authed: Authed,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    if let Err(r) = authed.require(&app, Role::Operator) {
        return *r;
    }
    if let Err(r) = authed.check_csrf(csrf_of(&headers, form.csrf.as_deref())) {
        return *r;
    }
    let Some(fleet) = app.fleet.clone() else {
        return not_found("fleet");
    };
    let log = app.log.clone();
    let started = tokio::task::spawn_blocking(move || fleet.refresh(&|m| log(m)))
        .await
        .unwrap_or(false);
    let outcome = if started { "ok" } else { "already refreshing" };
    app.record(&authed.session, authed.address, "refresh", "fleet", outcome);
    Redirect::to("/fleet").into_response()
}

fn server<'a>(snapshot: &'a FleetSnapshot, name: &str) -> Option<&'a ServerView> {
    snapshot.servers.iter().find(|s| s.name == name)
}

pub async fn server_page(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path(name): Path<String>,
) -> Response {
    let snapshot = match snapshot(&app, &authed) {
        Ok(s) => s,
        Err(page) => return *page,
    };
    let Some(server) = server(&snapshot, &name) else {
        return not_found(&name);
    };
    app.page(
        "server.html",
        Some(&authed.session),
        minijinja::context! {
            source => snapshot.source.clone(),
            made_at => snapshot.made_at.clone(),
            s => minijinja::Value::from(minijinja::value::Serde(server)),
        },
    )
}

/// How to show a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    #[default]
    Rendered,
    Host,
    Side,
    Diff,
}

#[derive(Debug, Default, Deserialize)]
pub struct ViewQuery {
    #[serde(default)]
    view: View,
}

/// One line of a shown file: its number, its text, and where the repo defines it.
#[derive(Debug, Serialize)]
struct Line<'a> {
    n: usize,
    text: &'a str,
    link: Option<&'a super::fleet::Place>,
}

fn lines<'a>(text: Option<&'a str>, file: &'a FileView, linked: bool) -> Vec<Line<'a>> {
    text.unwrap_or("")
        .lines()
        .enumerate()
        .map(|(i, text)| Line {
            n: i + 1,
            text,
            link: if linked {
                file.links.get(&(i + 1))
            } else {
                None
            },
        })
        .collect()
}

pub async fn file_page(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path((name, file)): Path<(String, String)>,
    Query(query): Query<ViewQuery>,
) -> Response {
    let snapshot = match snapshot(&app, &authed) {
        Ok(s) => s,
        Err(page) => return *page,
    };
    let Some(server) = server(&snapshot, &name) else {
        return not_found(&name);
    };
    let Some(f) = server.files.iter().find(|f| f.name == file) else {
        return not_found(&file);
    };
    let rendered = lines(f.rendered.as_deref(), f, true);
    let host = lines(f.host.as_deref(), f, false);
    let diff: Vec<String> = f.diff.lines().map(str::to_owned).collect();
    app.page(
        "file.html",
        Some(&authed.session),
        minijinja::context! {
            s => minijinja::Value::from(minijinja::value::Serde(server)),
            f => minijinja::Value::from(minijinja::value::Serde(f)),
            view => minijinja::Value::from(minijinja::value::Serde(query.view)),
            rendered => minijinja::Value::from(minijinja::value::Serde(&rendered)),
            host => minijinja::Value::from(minijinja::value::Serde(&host)),
            diff => diff,
            has_host => f.host.is_some(),
            has_rendered => f.rendered.is_some(),
        },
    )
}

/// A YAML file of the repo, numbered, plaintext secrets masked.
pub async fn source_page(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path(path): Path<String>,
) -> Response {
    let snapshot = match snapshot(&app, &authed) {
        Ok(s) => s,
        Err(page) => return *page,
    };
    let Some(text) = snapshot.yaml.get(&path) else {
        return not_found(&path);
    };
    let lines: Vec<(usize, String)> = text
        .iter()
        .enumerate()
        .map(|(i, l)| (i + 1, l.clone()))
        .collect();
    app.page(
        "source.html",
        Some(&authed.session),
        minijinja::context! { path => path, source => snapshot.source.clone(), lines => lines },
    )
}
