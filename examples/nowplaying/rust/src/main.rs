//! The seed's "now playing" app on Strata's embedded replica (issue 11).
//!
//! A local replica of the primary's database (`strata::Builder::new_remote_replica`):
//! the list of players is read from the local copy, synced first only when it was never
//! synced or its last sync is older than `--max-sync-age-ms` (the seed's rule: 30 s);
//! the upsert of a player is forwarded to the primary by the replica. One page (`GET /`:
//! the list and a form posting to `POST /play`, which redirects back with 303) and
//! `GET /api/players` (the list as JSON, for tests).
//!
//! Strata's replica API is blocking: every use of it runs in `spawn_blocking`. The app
//! keeps one connection, as the seed kept one `Database` handle: read-your-writes is
//! per connection, so the page after a `POST /play` shows the write.
//!
//! ```text
//! cargo run --release -p strata-server -- --db-path data &
//! cargo run --release -p nowplaying -- --db replica/np.db --sync-url http://127.0.0.1:8080
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde::Serialize;

const CREATE: &str =
    "CREATE TABLE IF NOT EXISTS users(username TEXT PRIMARY KEY, last_seen INT, playing TEXT)";
const LIST: &str = "SELECT username, last_seen, playing FROM users";
const UPSERT: &str = "INSERT INTO users(username, last_seen, playing) VALUES (?, ?, ?) \
                      ON CONFLICT(username) DO UPDATE SET last_seen = excluded.last_seen, \
                      playing = excluded.playing";

/// Longest username and song accepted from the form (characters).
const MAX_FIELD_CHARS: usize = 200;

#[derive(Parser, Debug)]
#[command(about = "The \"now playing\" app on a Strata embedded replica")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The local replica's database file (created, with its `-info` metadata, on the
    /// first start; reopened without a download on the next).
    #[arg(long)]
    db: PathBuf,
    /// The primary (`strata-server`), e.g. http://127.0.0.1:8080.
    #[arg(long, env = "LIBSQL_SYNC_URL")]
    sync_url: String,
    /// JWT for the primary ("" when it runs without auth).
    #[arg(
        long,
        env = "LIBSQL_AUTH_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    auth_token: String,
    /// Sync before a read when the last sync is older than this (milliseconds).
    #[arg(long, default_value_t = 30_000)]
    max_sync_age_ms: u64,
}

/// The replica, its one connection, and when it was last synced.
struct App {
    db: strata::Database,
    local: Mutex<Local>,
    max_sync_age: Duration,
}

struct Local {
    conn: strata::Connection,
    last_sync: Option<Instant>,
}

#[derive(Serialize)]
struct Player {
    username: String,
    last_seen: Option<i64>,
    playing: Option<String>,
}

/// An answer other than success: its status and a message for the user.
#[derive(Debug)]
struct AppError {
    status: StatusCode,
    message: String,
}

impl AppError {
    fn bad_request(message: impl Into<String>) -> AppError {
        AppError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    fn database(what: &str, e: strata::Error) -> AppError {
        AppError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("{what}: {e}"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("error: {}\n", self.message),
        )
            .into_response()
    }
}

impl App {
    fn lock(&self) -> std::sync::MutexGuard<'_, Local> {
        // A panic while holding the lock leaves a usable connection.
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The seed's rule: sync when never synced, or when the last sync is too old.
    fn sync_if_stale(&self, local: &mut Local) -> Result<(), AppError> {
        let stale = local
            .last_sync
            .is_none_or(|t| t.elapsed() >= self.max_sync_age);
        if stale {
            self.db.sync().map_err(|e| AppError {
                status: StatusCode::BAD_GATEWAY,
                message: format!("sync with the primary failed: {e}"),
            })?;
            local.last_sync = Some(Instant::now());
        }
        Ok(())
    }

    fn players(&self) -> Result<Vec<Player>, AppError> {
        let mut local = self.lock();
        self.sync_if_stale(&mut local)?;
        local
            .conn
            .query_map(LIST, (), |r| {
                Ok(Player {
                    username: r.get(0)?,
                    last_seen: r.get(1)?,
                    playing: r.get(2)?,
                })
            })
            .and_then(|rows| rows.collect::<strata::Result<Vec<_>>>())
            .map_err(|e| AppError::database("reading the players", e))
    }

    fn play(&self, username: &str, playing: &str) -> Result<(), AppError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let local = self.lock();
        local
            .conn
            .execute(UPSERT, strata::params![username, now, playing])
            .map_err(|e| AppError::database("updating the player", e))?;
        Ok(())
    }
}

/// Runs `f` on the blocking pool (the replica API blocks on the network and disk).
async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| AppError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("the request's task failed: {e}"),
        })?
}

async fn index(State(app): State<Arc<App>>) -> Result<Html<String>, AppError> {
    let players = blocking(&app, |a| a.players()).await?;
    Ok(Html(page(&players)))
}

async fn api_players(State(app): State<Arc<App>>) -> Result<Json<Vec<Player>>, AppError> {
    Ok(Json(blocking(&app, |a| a.players()).await?))
}

async fn play(State(app): State<Arc<App>>, body: Bytes) -> Result<Redirect, AppError> {
    let (mut username, mut playing) = (None, None);
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "username" => username = Some(v.trim().to_string()),
            "playing" => playing = Some(v.trim().to_string()),
            _ => {}
        }
    }
    let username = username
        .filter(|u| !u.is_empty())
        .ok_or_else(|| AppError::bad_request("the form needs a username"))?;
    let playing = playing.unwrap_or_default();
    if username.chars().count() > MAX_FIELD_CHARS || playing.chars().count() > MAX_FIELD_CHARS {
        return Err(AppError::bad_request(format!(
            "username and song are at most {MAX_FIELD_CHARS} characters"
        )));
    }
    blocking(&app, move |a| a.play(&username, &playing)).await?;
    // `Redirect::to` is 303 See Other: the browser GETs the page after the POST.
    Ok(Redirect::to("/"))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(players: &[Player]) -> String {
    let mut rows = String::new();
    for p in players {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&p.username),
            escape(p.playing.as_deref().unwrap_or("")),
            p.last_seen.map(|t| t.to_string()).unwrap_or_default(),
        ));
    }
    format!(
        "<!doctype html>
<html><head><meta charset=\"utf-8\"><title>Now playing</title></head>
<body>
<h1>Now playing</h1>
<table>
<tr><th>Player</th><th>Playing</th><th>Last seen (ms since epoch)</th></tr>
{rows}</table>
<form method=\"post\" action=\"/play\">
<label>Username <input name=\"username\" required></label>
<label>Playing <input name=\"playing\"></label>
<button type=\"submit\">Update</button>
</form>
</body></html>
"
    )
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("nowplaying: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let (db_path, url, token) = (args.db.clone(), args.sync_url.clone(), args.auth_token);
    let app = tokio::task::spawn_blocking(move || -> Result<App, String> {
        // A new replica downloads the primary's database here; an existing one opens
        // its files without asking the primary (the first read syncs).
        let db = strata::Builder::new_remote_replica(&db_path, url, token)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("opening the replica {}: {e}", db_path.display()))?;
        let conn = db.connect();
        // Forwarded to the primary. A token without write rights is refused even when
        // the table exists: the app still serves reads, and says why writes fail.
        if let Err(e) = conn.execute(CREATE, ()) {
            eprintln!("nowplaying: {CREATE}: {e} (continuing)");
        }
        Ok(App {
            db,
            local: Mutex::new(Local {
                conn,
                last_sync: None,
            }),
            max_sync_age: Duration::from_millis(args.max_sync_age_ms),
        })
    })
    .await
    .map_err(|e| e.to_string())??;

    let router = Router::new()
        .route("/", get(index))
        .route("/play", post(play))
        .route("/api/players", get(api_players))
        .with_state(Arc::new(app));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", args.listen))?;
    eprintln!("nowplaying listening on http://{}", args.listen);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_players_typed() {
        let html = page(&[Player {
            username: "<script>a</script>".into(),
            last_seen: Some(7),
            playing: Some("Tom & \"Jerry\" 'x'".into()),
        }]);
        assert!(html.contains(
            "<tr><td>&lt;script&gt;a&lt;/script&gt;</td>\
             <td>Tom &amp; &quot;Jerry&quot; &#39;x&#39;</td><td>7</td></tr>"
        ));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<form method=\"post\" action=\"/play\">"));
    }
}
