//! # strata-server: the primary, speaking Hrana over HTTP
//!
//! `strata-server` serves Strata databases to libSQL clients (`@libsql/client`, the
//! `libsql` crate in remote mode) over Hrana 2 and 3 on HTTP. Its shape:
//!
//! - **tokio + axum** accept connections, decode requests, check auth and encode
//!   responses ([`http`]). No SQL runs on a tokio thread.
//! - **strata-runtime** event loops run every statement: one loop per core, each owning
//!   its IO and the namespaces pinned to it; a request becomes a job
//!   ([`exec::StreamJob`]) on its namespace's loop, and the handler awaits its handle.
//! - **streams** ([`streams`]): a Hrana stream is one connection kept across requests by
//!   single-use batons; idle streams expire and roll back.
//! - **namespaces** ([`namespaces`]): one database file per namespace under
//!   `--db-path`; the admin listener creates and deletes them.
//! - **auth** ([`auth`]): EdDSA JWTs as sqld verifies them.
//! - **replication** ([`replog`], [`sync_http`]): each namespace's replication log (every
//!   committed transaction as numbered frames, by generation) and the V2 sync endpoints
//!   embedded replicas pull from (`docs/REPLICATION.md`); wire types in `strata-sync`.
//!
//! Operator documentation: `docs/SERVER.md`; protocol details: `docs/PROTOCOL.md`.

pub mod auth;
pub mod exec;
pub mod http;
pub mod namespaces;
pub mod replog;
pub mod store;
pub mod streams;
pub mod sync_http;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use std::future::IntoFuture;
use strata_runtime::{IoBackend, JobStep, Opener, Runtime, RuntimeOptions};
use tokio::sync::watch;

use crate::namespaces::{Namespaces, DEFAULT_NAMESPACE};

/// Everything the server needs to start (the binary fills it from its flags).
#[derive(Clone, Debug)]
pub struct Config {
    pub db_path: PathBuf,
    pub http_listen_addr: SocketAddr,
    pub admin_listen_addr: Option<SocketAddr>,
    /// Text of the JWT key file; `None`: auth off.
    pub auth_jwt_key: Option<String>,
    pub enable_namespaces: bool,
    pub loops: usize,
    pub idle_stream_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_streams: usize,
    pub busy_timeout: Duration,
    pub insn_budget: Option<u64>,
    pub io: IoBackend,
    /// Most namespaces each event loop keeps open (`None`: no limit); the least recently
    /// used idle one is closed past it and reopened by its next request
    /// ([`RuntimeOptions::max_open_databases`]).
    pub max_open_databases: Option<usize>,
    /// The replication log's rollover size and retention.
    pub sync: replog::LogConfig,
}

impl Config {
    /// Defaults for a data directory (the binary's defaults).
    pub fn new(db_path: impl Into<PathBuf>) -> Config {
        Config {
            db_path: db_path.into(),
            http_listen_addr: "127.0.0.1:8080".parse().expect("valid address"),
            admin_listen_addr: None,
            auth_jwt_key: None,
            enable_namespaces: false,
            loops: RuntimeOptions::default().loops,
            idle_stream_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_streams: 50_000,
            busy_timeout: strata::DEFAULT_BUSY_TIMEOUT,
            insn_budget: Some(strata_runtime::DEFAULT_INSN_BUDGET),
            io: IoBackend::Auto,
            max_open_databases: None,
            sync: replog::LogConfig::default(),
        }
    }
}

/// A running server.
pub struct Server {
    pub http_addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds the listeners, opens the default namespace and starts serving.
    pub async fn start(config: Config) -> Result<Server, String> {
        let namespaces = Arc::new(
            Namespaces::load(&config.db_path)
                .map_err(|e| format!("cannot use --db-path {}: {e}", config.db_path.display()))?,
        );
        let auth = match &config.auth_jwt_key {
            Some(text) => Some(auth::Auth::from_key_text(text)?),
            None => None,
        };
        // Listeners first: a taken port fails before any loop thread starts.
        let listener = tokio::net::TcpListener::bind(config.http_listen_addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.http_listen_addr))?;
        let http_addr = listener.local_addr().map_err(|e| e.to_string())?;
        let admin = match config.admin_listen_addr {
            Some(a) => Some(
                tokio::net::TcpListener::bind(a)
                    .await
                    .map_err(|e| format!("cannot listen on {a}: {e}"))?,
            ),
            None => None,
        };
        let admin_addr = match &admin {
            Some(l) => Some(l.local_addr().map_err(|e| e.to_string())?),
            None => None,
        };

        let root = config.db_path.clone();
        let busy = config.busy_timeout;
        let replogs = Arc::new(replog::Replogs::new(config.sync.clone()));
        let logs = replogs.clone();
        let opener: Opener = Arc::new(move |ns: &str, io| {
            let path = Namespaces::path_of(&root, ns);
            // Stamped before opening: the log trusts itself only if the files are as
            // its clean shutdown left them.
            let before = replog::stamps(logs.store().as_ref(), &path);
            // A client may not ATTACH files: it could open any file of the server's
            // (another tenant's database), and the replication log would miss its writes.
            let db = strata::OpenOptions::new()
                .io(io)
                .busy_timeout(busy)
                .attach_files(false)
                .open(&path)?;
            logs.attach(ns, &path, &db, before);
            Ok(db)
        });
        let runtime = Runtime::start(
            RuntimeOptions {
                loops: config.loops.max(1),
                insn_budget: config.insn_budget,
                io: config.io,
                max_open_databases: config.max_open_databases,
            },
            opener,
        )
        .map_err(|e| format!("cannot start the event loops: {e}"))?;
        runtime
            .submit(DEFAULT_NAMESPACE, |_: &mut strata_runtime::JobCx<'_>| {
                JobStep::Done(())
            })
            .await
            .map_err(|e| format!("cannot open the default namespace: {e}"))?;
        namespaces.add(DEFAULT_NAMESPACE);

        let streams = Arc::new(streams::Streams::new(
            config.idle_stream_timeout,
            config.max_streams,
        ));
        let shared = Arc::new(http::Shared {
            runtime: runtime.clone(),
            streams: streams.clone(),
            namespaces,
            auth,
            enable_namespaces: config.enable_namespaces,
            busy_timeout: config.busy_timeout,
            replogs: replogs.clone(),
        });

        let (stop, stop_rx) = watch::channel(false);
        let wait_stop = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let user = tokio::spawn(
            axum::serve(
                listener,
                http::user_service(shared.clone(), config.max_body_bytes),
            )
            .with_graceful_shutdown(wait_stop(stop_rx.clone()))
            .into_future(),
        );
        let admin_task = admin.map(|l| {
            tokio::spawn(
                axum::serve(l, http::admin_router(shared.clone()))
                    .with_graceful_shutdown(wait_stop(stop_rx.clone()))
                    .into_future(),
            )
        });
        // Idle streams expire: roll back on their loop, drop the connection.
        let sweep = (config.idle_stream_timeout / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1));
        let expiry = {
            let streams = streams.clone();
            let runtime = runtime.clone();
            let mut rx = stop_rx.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(sweep);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = rx.wait_for(|s| *s) => break,
                    }
                    for (ns, state) in streams.take_expired() {
                        tracing::debug!(namespace = %ns, "stream expired");
                        // Not awaited: the job runs to completion on its loop. A deleted
                        // namespace is not re-opened (the job is just dropped there).
                        drop(runtime.submit_if_open(&ns, exec::close_job(state)));
                    }
                }
            })
        };
        let done = tokio::spawn(async move {
            let _ = user.await;
            if let Some(a) = admin_task {
                let _ = a.await;
            }
            let _ = expiry.await;
            // No request is in flight any more: roll back every open stream, then stop
            // the loops (which finish their jobs and close the databases).
            for (ns, state) in streams.take_all(None) {
                let _ = runtime.submit_if_open(&ns, exec::close_job(state)).await;
            }
            let rt = runtime.clone();
            let _ = tokio::task::spawn_blocking(move || {
                rt.shutdown();
                // The databases are closed: record where each log stands.
                replogs.close_all();
            })
            .await;
            tracing::info!("stopped");
        });
        tracing::info!(%http_addr, ?admin_addr, loops = config.loops, "strata-server listening");
        Ok(Server {
            http_addr,
            admin_addr,
            stop,
            done,
        })
    }

    /// Graceful stop: no new connections, in-flight requests finish, open streams roll
    /// back, the loops finish their jobs and close the databases.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }
}
