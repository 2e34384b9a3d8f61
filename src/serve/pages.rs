//! The console's HTTP side: the shared state, the routes, the login, the checks every
//! request passes (session, role, CSRF) and the security headers of every answer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::audit::{Action, Audit};
use super::auth::{self, LOGIN_COOKIE, LoginLimiter, SESSION_COOKIE, Session, Sessions};
use super::live::Live;
use super::users::{Role, Users};
use super::{ServeConfig, ServeLog};
use crate::agent::control::AmiTarget;

use super::{calllog, calls, cli, stats, viewer};

/// Sessions last at most this long, however active.
const MAX_SESSION: Duration = Duration::from_secs(12 * 3600);

/// What every request shares.
pub struct App {
    pub users_path: std::path::PathBuf,
    pub sessions: Sessions,
    pub limiter: LoginLimiter,
    /// Cookies are `Secure` (served over TLS, or behind a TLS proxy).
    pub secure: bool,
    pub behind_proxy: bool,
    pub live: Arc<Live>,
    pub fleet: Option<Arc<super::fleet::Fleet>>,
    pub ami: Option<AmiTarget>,
    pub audit: Arc<Audit>,
    pub db: super::store::Db,
    pub server: String,
    pub tech: String,
    pub log: ServeLog,
    pub zone: jiff::tz::TimeZone,
    /// Held while the statistics rollup catches up (one at a time).
    pub rollup_gate: Arc<std::sync::Mutex<()>>,
    templates: minijinja::Environment<'static>,
    /// The users file as last read, and when it was modified then.
    roster: std::sync::RwLock<Roster>,
}

/// Who may be logged in now, from the users file.
#[derive(Default)]
struct Roster {
    modified: Option<std::time::SystemTime>,
    users: Vec<(String, Role, Option<String>)>,
}

/// The page templates, compiled into the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../web/pages/layout.html")),
    ("login.html", include_str!("../../web/pages/login.html")),
    ("calls.html", include_str!("../../web/pages/calls.html")),
    ("log.html", include_str!("../../web/pages/log.html")),
    ("cli.html", include_str!("../../web/pages/cli.html")),
    ("stats.html", include_str!("../../web/pages/stats.html")),
    ("fleet.html", include_str!("../../web/pages/fleet.html")),
    ("server.html", include_str!("../../web/pages/server.html")),
    ("file.html", include_str!("../../web/pages/file.html")),
    ("source.html", include_str!("../../web/pages/source.html")),
    ("denied.html", include_str!("../../web/pages/denied.html")),
];

/// Static files, compiled into the binary: (name, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "console.css",
        "text/css",
        include_bytes!("../../web/assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript",
        include_bytes!("../../web/assets/console.js"),
    ),
    (
        "calls.js",
        "text/javascript",
        include_bytes!("../../web/assets/calls.js"),
    ),
    (
        "viewer.js",
        "text/javascript",
        include_bytes!("../../web/assets/viewer.js"),
    ),
    (
        "stats.js",
        "text/javascript",
        include_bytes!("../../web/assets/stats.js"),
    ),
    (
        "chart.min.js",
        "text/javascript",
        include_bytes!("../../web/vendor/chart.js/chart.min.js"),
    ),
    (
        "runmode-standalone.js",
        "text/javascript",
        include_bytes!("../../web/vendor/codemirror/runmode-standalone.js"),
    ),
    (
        "asterisk.js",
        "text/javascript",
        include_bytes!("../../web/vendor/codemirror/asterisk.js"),
    ),
    (
        "codemirror.css",
        "text/css",
        include_bytes!("../../web/vendor/codemirror/codemirror.css"),
    ),
];

impl App {
    pub fn new(
        config: &ServeConfig,
        db: super::store::Db,
        audit: Audit,
        live: Arc<Live>,
        fleet: Option<Arc<super::fleet::Fleet>>,
        secure: bool,
        log: ServeLog,
    ) -> App {
        let mut templates = minijinja::Environment::new();
        for (name, source) in TEMPLATES {
            templates
                .add_template(name, source)
                .expect("the built-in pages compile");
        }
        App {
            users_path: config.users.clone(),
            sessions: Sessions::new(config.idle, MAX_SESSION),
            limiter: LoginLimiter::new(5, Duration::from_secs(900)),
            secure,
            behind_proxy: config.behind_proxy,
            live,
            fleet,
            ami: config.ami.clone(),
            audit: Arc::new(audit),
            db,
            server: config.server.clone(),
            tech: config.tech.clone(),
            log,
            zone: config.zone.clone(),
            rollup_gate: Arc::default(),
            templates,
            roster: std::sync::RwLock::new(Roster::default()),
        }
    }

    /// Whether a session's user is still in the users file with the same role and
    /// extension (read again when the file changes): a user removed or changed there
    /// is logged out at their next request.
    fn still_valid(&self, session: &Session) -> bool {
        let modified = std::fs::metadata(&self.users_path)
            .and_then(|m| m.modified())
            .ok();
        let stale = self
            .roster
            .read()
            .map_or(true, |r| r.modified != modified || r.modified.is_none());
        if stale {
            let users = Users::load(&self.users_path).map(|u| {
                u.users
                    .into_iter()
                    .map(|u| (u.name, u.role, u.extension))
                    .collect()
            });
            match users {
                Ok(users) => {
                    if let Ok(mut r) = self.roster.write() {
                        *r = Roster { modified, users };
                    }
                }
                Err(e) => {
                    (self.log)(&format!("{e}; logging {} out", session.user));
                    return false;
                }
            }
        }
        self.roster.read().is_ok_and(|r| {
            r.users.iter().any(|(name, role, ext)| {
                *name == session.user && *role == session.role && *ext == session.extension
            })
        })
    }

    /// A page from its template; `session` fills the navigation and the CSRF token.
    pub fn page(
        &self,
        name: &str,
        session: Option<&Session>,
        context: minijinja::Value,
    ) -> Response {
        let user = session.map(|s| {
            minijinja::context! {
                name => s.user.clone(),
                role => s.role.as_str(),
                extension => s.extension.clone(),
                operator => s.role >= Role::Operator,
                admin => s.role >= Role::Admin,
                csrf => s.csrf.clone(),
            }
        });
        let ctx = minijinja::context! { user => user, server => self.server.clone(), ..context };
        match self
            .templates
            .get_template(name)
            .and_then(|t| t.render(ctx))
        {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                (self.log)(&format!("page {name}: {e}"));
                (StatusCode::INTERNAL_SERVER_ERROR, "page error").into_response()
            }
        }
    }

    /// Records an action in the database and the log.
    pub fn record(
        &self,
        session: &Session,
        address: IpAddr,
        action: &'static str,
        target: &str,
        outcome: &str,
    ) {
        let row = Action {
            user: session.user.clone(),
            role: session.role.as_str().to_owned(),
            address: address.to_string(),
            action,
            target: target.to_owned(),
            outcome: outcome.to_owned(),
        };
        (self.log)(&format!("{row}"));
        match &*self.audit {
            Audit::Sqlite { .. } => {
                if let Err(e) = self.audit.record(&row) {
                    (self.log)(&format!("cannot record the action: {e}"));
                }
            }
            // Over the network: off the async workers.
            Audit::Postgres { .. } => {
                let (audit, log) = (self.audit.clone(), self.log.clone());
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = audit.record(&row) {
                        log(&format!("cannot record the action: {e}"));
                    }
                });
            }
        }
    }

    /// The client's address: the peer's, or the proxy's `X-Forwarded-For` when one is in
    /// front (its last entry, the one the proxy added).
    fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        if self.behind_proxy
            && let Some(ip) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
        peer.ip()
    }
}

/// The address a connection comes from (plain or TLS).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, super::tls::TlsListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, super::tls::TlsListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// Why a request is refused: the page or text to answer with (boxed: a response is
/// large, and most requests are not refused).
pub type Refusal = Box<Response>;

/// A logged-in request: its session and the client's address.
pub struct Authed {
    pub session: Session,
    pub address: IpAddr,
}

impl Authed {
    /// 403 unless the user has `role` (or more).
    pub fn require(&self, app: &App, role: Role) -> Result<(), Refusal> {
        if self.session.role >= role {
            return Ok(());
        }
        let page = app.page(
            "denied.html",
            Some(&self.session),
            minijinja::context! { needed => role.as_str() },
        );
        Err(Box::new((StatusCode::FORBIDDEN, page).into_response()))
    }

    /// 403 unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), Refusal> {
        match token {
            Some(t) if auth::same_token(t, &self.session.csrf) => Ok(()),
            _ => Err(Box::new(
                (
                    StatusCode::FORBIDDEN,
                    "refused: the form's CSRF token is missing or wrong (reload the page)",
                )
                    .into_response(),
            )),
        }
    }
}

impl FromRequestParts<Arc<App>> for Authed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |c| c.0.0);
        let address = app.client(peer, &parts.headers);
        let session = parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| auth::cookie(c, SESSION_COOKIE))
            .and_then(|id| app.sessions.get(id));
        let session = session.filter(|s| {
            let valid = app.still_valid(s);
            if !valid {
                app.sessions.remove_user(&s.user);
            }
            valid
        });
        match session {
            Some(session) => Ok(Authed { session, address }),
            None if parts.method == Method::GET => Err(Redirect::to("/login").into_response()),
            None => Err((StatusCode::UNAUTHORIZED, "log in first").into_response()),
        }
    }
}

/// The CSRF token of a state-changing request: the `X-CSRF-Token` header (scripts) or
/// the form's `csrf` field.
pub fn csrf_of<'a>(headers: &'a HeaderMap, form: Option<&'a str>) -> Option<&'a str> {
    headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .or(form)
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/calls") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/calls", get(calls::page))
        .route("/calls/events", get(calls::events))
        .route("/calls/hangup", post(calls::hangup))
        .route("/calls/spy", post(calls::spy))
        .route("/calls/dial", post(calls::dial))
        .route("/log", get(calllog::page))
        .route("/log.csv", get(calllog::csv))
        .route("/recordings/{id}", get(calllog::recording))
        .route("/stats", get(stats::page))
        .route("/fleet", get(viewer::page))
        .route("/fleet/refresh", post(viewer::refresh))
        .route("/fleet/{server}", get(viewer::server_page))
        .route("/fleet/{server}/{file}", get(viewer::file_page))
        .route("/source/{*path}", get(viewer::source_page))
        .route("/cli", get(cli::page).post(cli::run))
        .route("/assets/{name}", get(asset))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

/// Headers on every answer: scripts and styles only from the console itself, no
/// framing, no sniffing, no caching of pages that show calls.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    response
}

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

async fn login_page(State(app): State<Arc<App>>) -> Response {
    login_form(&app, None, StatusCode::OK)
}

/// The login form with a fresh double-submit token (its cookie set beside it).
fn login_form(app: &App, error: Option<&str>, status: StatusCode) -> Response {
    let token = auth::random_token();
    let mut response = app.page(
        "login.html",
        None,
        minijinja::context! { token => token.clone(), error => error },
    );
    *response.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
        LOGIN_COOKIE,
        &token,
        Duration::from_secs(600),
        app.secure,
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    token: String,
}

async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let address = app.client(peer, &headers);
    let cookie_token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| auth::cookie(c, LOGIN_COOKIE));
    if !cookie_token.is_some_and(|t| auth::same_token(t, &form.token)) {
        return login_form(
            &app,
            Some("The login form expired; please log in again."),
            StatusCode::FORBIDDEN,
        );
    }
    if let Err(wait) = app.limiter.check(&form.user, address) {
        (app.log)(&format!(
            "login as {:?} from {address} refused: too many failures",
            form.user
        ));
        let mut response = login_form(
            &app,
            Some("Too many failed logins; wait a few minutes."),
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    // Read on every login: users added or removed take effect without a restart.
    let users = match Users::load(&app.users_path) {
        Ok(users) => users,
        Err(e) => {
            (app.log)(&format!("{e}"));
            return login_form(
                &app,
                Some("The users file cannot be read."),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
    };
    let user = {
        let (name, password) = (form.user.clone(), form.password.clone());
        // Argon2 takes tens of milliseconds: off the async workers.
        tokio::task::spawn_blocking(move || users.authenticate(&name, &password).cloned())
            .await
            .ok()
            .flatten()
    };
    let Some(user) = user else {
        app.limiter.failed(&form.user, address);
        (app.log)(&format!("failed login as {:?} from {address}", form.user));
        return login_form(
            &app,
            Some("Wrong user name or password."),
            StatusCode::UNAUTHORIZED,
        );
    };
    app.limiter.succeeded(&user.name);
    let (id, session) = app.sessions.create(&user);
    app.record(&session, address, "login", &user.name, "ok");
    let mut response = Redirect::to("/calls").into_response();
    let headers = response.headers_mut();
    for cookie in [
        auth::set_cookie(SESSION_COOKIE, &id, MAX_SESSION, app.secure),
        auth::set_cookie(LOGIN_COOKIE, "", Duration::ZERO, app.secure),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    response
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

async fn logout(
    State(app): State<Arc<App>>,
    authed: Authed,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    if let Err(r) = authed.check_csrf(csrf_of(&headers, form.csrf.as_deref())) {
        return *r;
    }
    if let Some(id) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| auth::cookie(c, SESSION_COOKIE))
    {
        app.sessions.remove(id);
    }
    app.record(
        &authed.session,
        authed.address,
        "logout",
        &authed.session.user,
        "ok",
    );
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
        SESSION_COOKIE,
        "",
        Duration::ZERO,
        app.secure,
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
