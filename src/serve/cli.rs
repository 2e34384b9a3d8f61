//! The web CLI: a short allow-list of read-only Asterisk CLI commands, for admins, run
//! through AMI. Anything not on the list is refused before it reaches Asterisk.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::pages::{App, Authed, csrf_of};
use super::users::Role;
use crate::agent::control;

/// Commands run as written.
const EXACT: &[&str] = &[
    "core show channels",
    "core show channels concise",
    "core show calls",
    "core show uptime",
    "core show version",
    "core show hints",
    "pjsip show endpoints",
    "pjsip show contacts",
    "pjsip show registrations",
    "pjsip show transports",
    "pjsip show aors",
    "queue show",
    "voicemail show users",
    "moh show classes",
    "dialplan show",
];

/// Commands that take one name: the command, then the argument.
const WITH_ARGUMENT: &[&str] = &[
    "pjsip show endpoint",
    "pjsip show aor",
    "pjsip show registration",
    "queue show",
    "dialplan show",
    "core show hint",
    "core show channel",
];

/// A name for a command's argument: a context, endpoint, queue or channel name.
fn is_argument(word: &str) -> bool {
    (1..=80).contains(&word.len())
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@+/;".contains(&b))
}

/// The command as it will be run, when the allow-list has it (spacing normalised).
pub fn allowed(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let text = words.join(" ");
    if EXACT.contains(&text.as_str()) {
        return Some(text);
    }
    let (last, head) = words.split_last()?;
    let head = head.join(" ");
    (WITH_ARGUMENT.contains(&head.as_str()) && is_argument(last)).then_some(text)
}

pub async fn page(State(app): State<Arc<App>>, authed: Authed) -> Response {
    if let Err(r) = authed.require(&app, Role::Admin) {
        return *r;
    }
    app.page(
        "cli.html",
        Some(&authed.session),
        minijinja::context! { commands => minijinja::Value::from(minijinja::value::Serde(EXACT)), with_argument => minijinja::Value::from(minijinja::value::Serde(WITH_ARGUMENT)) },
    )
}

#[derive(Deserialize)]
pub struct CliForm {
    csrf: Option<String>,
    command: String,
}

pub async fn run(
    State(app): State<Arc<App>>,
    authed: Authed,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CliForm>,
) -> Response {
    if let Err(r) = authed.require(&app, Role::Admin) {
        return *r;
    }
    if let Err(r) = authed.check_csrf(csrf_of(&headers, form.csrf.as_deref())) {
        return *r;
    }
    let Some(command) = allowed(&form.command) else {
        app.record(
            &authed.session,
            authed.address,
            "cli",
            &form.command,
            "refused: not on the allow-list",
        );
        let mut page = app.page(
            "cli.html",
            Some(&authed.session),
            minijinja::context! {
                commands => minijinja::Value::from(minijinja::value::Serde(EXACT)),
                with_argument => minijinja::Value::from(minijinja::value::Serde(WITH_ARGUMENT)),
                command => form.command,
                refused => true,
            },
        );
        *page.status_mut() = StatusCode::FORBIDDEN;
        return page;
    };
    let result = super::calls::with_ami(&app, async |conn, timeout| {
        control::command(conn, &command, timeout).await
    })
    .await
    .map_err(|e| e.to_string());
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.clone(),
    };
    app.record(&authed.session, authed.address, "cli", &command, &outcome);
    let (output, error) = match result {
        Ok(lines) => (lines.join("\n"), None),
        Err(e) => (String::new(), Some(e)),
    };
    app.page(
        "cli.html",
        Some(&authed.session),
        minijinja::context! {
            commands => minijinja::Value::from(minijinja::value::Serde(EXACT)),
            with_argument => minijinja::Value::from(minijinja::value::Serde(WITH_ARGUMENT)),
            command => command,
            output => output,
            error => error,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_commands_of_the_list_run() {
        assert_eq!(
            allowed("  pjsip   show endpoints "),
            Some("pjsip show endpoints".into())
        );
        assert_eq!(
            allowed("dialplan show odoo-internal"),
            Some("dialplan show odoo-internal".into())
        );
        assert_eq!(allowed("channel request hangup all"), None);
        assert_eq!(allowed("core restart now"), None);
        assert_eq!(allowed("dialplan show a b"), None);
        assert_eq!(allowed("queue show sales\r\nAction: Originate"), None);
        assert_eq!(allowed("pjsip show endpoint $(x)"), None);
        assert_eq!(allowed(""), None);
    }
}
