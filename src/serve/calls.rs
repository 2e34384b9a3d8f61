//! The live calls page: its event stream, and the actions on a call (hang up; listen,
//! whisper or barge from the operator's own phone; click-to-dial from it). Actions need
//! the operator role and the session's CSRF token, and each one is recorded.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::pages::{App, Authed, csrf_of};
use super::users::Role;
use crate::agent::ami::Connection;
use crate::agent::control::{self, ControlError, SpyMode};

pub async fn page(State(app): State<Arc<App>>, authed: Authed) -> Response {
    app.page(
        "calls.html",
        Some(&authed.session),
        minijinja::context! { ami => app.ami.is_some() },
    )
}

/// Server-sent events: the whole set first, then each change; a browser that falls
/// behind gets the whole set again.
pub async fn events(
    State(app): State<Arc<App>>,
    _authed: Authed,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribed first: a change between the two is then sent after the snapshot
    // rather than lost.
    let rx = app.live.subscribe();
    let first = app.live.snapshot();
    let live = app.live.clone();
    let stream = futures_util::stream::unfold(
        (Some(first), rx, live),
        |(pending, mut rx, live)| async move {
            if let Some(update) = pending {
                return Some((Ok(event(&update)), (None, rx, live)));
            }
            let update = match rx.recv().await {
                Ok(update) => update,
                Err(RecvError::Lagged(_)) => live.snapshot(),
                Err(RecvError::Closed) => return None,
            };
            Some((Ok(event(&update)), (None, rx, live)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn event(update: &super::live::Update) -> Event {
    Event::default()
        .event("update")
        .data(serde_json::to_string(update).unwrap_or_else(|_| "{}".into()))
}

/// Runs one AMI conversation for an action.
pub(super) async fn with_ami<T>(
    app: &App,
    f: impl AsyncFnOnce(&mut Connection, Duration) -> Result<T, ControlError>,
) -> Result<T, ControlError> {
    let Some(target) = &app.ami else {
        return Err(ControlError::NoAmi);
    };
    let log = app.log.clone();
    control::session(target, move |e| log(&format!("AMI: {e}")), f).await
}

/// The answer to an action: 200 with what was done, or 502 with why not.
fn outcome(result: &Result<String, ControlError>) -> Response {
    match result {
        Ok(done) => (StatusCode::OK, done.clone()).into_response(),
        Err(ControlError::BadWord { .. } | ControlError::BadNumber { .. }) => {
            (StatusCode::BAD_REQUEST, status(result)).into_response()
        }
        Err(_) => (StatusCode::BAD_GATEWAY, status(result)).into_response(),
    }
}

/// The checks every action passes: the role, then the CSRF token.
fn allowed(
    app: &App,
    authed: &Authed,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<(), super::pages::Refusal> {
    authed.require(app, Role::Operator)?;
    authed.check_csrf(csrf_of(headers, csrf))
}

#[derive(Deserialize)]
pub struct HangupForm {
    csrf: Option<String>,
    channel: String,
}

pub async fn hangup(
    State(app): State<Arc<App>>,
    authed: Authed,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HangupForm>,
) -> Response {
    if let Err(r) = allowed(&app, &authed, &headers, form.csrf.as_deref()) {
        return *r;
    }
    let result = async {
        let action = control::hangup(&form.channel)?;
        with_ami(&app, async |conn, timeout| {
            control::ask(conn, action, timeout).await
        })
        .await?;
        Ok(format!("hung up {}", form.channel))
    }
    .await;
    app.record(
        &authed.session,
        authed.address,
        "hangup",
        &form.channel,
        &status(&result),
    );
    outcome(&result)
}

#[derive(Deserialize)]
pub struct SpyForm {
    csrf: Option<String>,
    /// The extension whose call to join.
    extension: String,
    mode: SpyMode,
}

pub async fn spy(
    State(app): State<Arc<App>>,
    authed: Authed,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SpyForm>,
) -> Response {
    if let Err(r) = allowed(&app, &authed, &headers, form.csrf.as_deref()) {
        return *r;
    }
    let target = format!("{} {}", form.mode.as_str(), form.extension);
    let result = async {
        let own = own_extension(&authed)?;
        let action = control::spy(&app.tech, &form.extension, own, form.mode)?;
        with_ami(&app, async |conn, timeout| {
            control::ask(conn, action, timeout).await
        })
        .await?;
        Ok(format!(
            "ringing your phone ({own}): answer it to {} {}",
            form.mode.as_str(),
            form.extension
        ))
    }
    .await;
    app.record(
        &authed.session,
        authed.address,
        "spy",
        &target,
        &status(&result),
    );
    outcome(&result)
}

#[derive(Deserialize)]
pub struct DialForm {
    csrf: Option<String>,
    to: String,
}

pub async fn dial(
    State(app): State<Arc<App>>,
    authed: Authed,
    headers: HeaderMap,
    axum::Form(form): axum::Form<DialForm>,
) -> Response {
    if let Err(r) = allowed(&app, &authed, &headers, form.csrf.as_deref()) {
        return *r;
    }
    let result = async {
        let own = own_extension(&authed)?.to_owned();
        let tech = app.tech.clone();
        let dialed = with_ami(&app, async |conn, timeout| {
            control::dial(
                conn,
                timeout,
                &tech,
                &own,
                &form.to,
                None,
                Duration::from_secs(30),
            )
            .await
        })
        .await?;
        Ok(format!(
            "ringing your phone ({own}): answering dials {} from {}",
            dialed.to, dialed.context
        ))
    }
    .await;
    app.record(
        &authed.session,
        authed.address,
        "dial",
        &form.to,
        &status(&result),
    );
    outcome(&result)
}

/// The operator's own phone, from the users file (`ext=`).
fn own_extension(authed: &Authed) -> Result<&str, ControlError> {
    authed.session.extension.as_deref().ok_or_else(|| {
        ControlError::Refused(format!(
            "user {} has no extension: astbase serve user passwd {} --extension NUMBER",
            authed.session.user, authed.session.user
        ))
    })
}

fn status(result: &Result<String, ControlError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}
