//! `strata-server`: see `docs/SERVER.md`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use strata_server::{Config, Server};

/// The Strata primary: libSQL's Hrana protocol over HTTP on per-core event loops.
#[derive(Parser, Debug)]
#[command(name = "strata-server", version)]
struct Args {
    /// Data directory (created if missing); one `<namespace>.db` per namespace, the
    /// default namespace is `default`.
    #[arg(long, default_value = "data.strata")]
    db_path: PathBuf,
    /// Address of the Hrana HTTP listener.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http_listen_addr: SocketAddr,
    /// Address of the admin listener (namespace create/delete); off when absent.
    #[arg(long)]
    admin_listen_addr: Option<SocketAddr>,
    /// Ed25519 public key(s) for JWT auth: PEM or raw URL-safe base64. Auth is off
    /// without it.
    #[arg(long, env = "SQLD_AUTH_JWT_KEY_FILE")]
    auth_jwt_key_file: Option<PathBuf>,
    /// Choose the database by the first label of Host or the x-namespace header.
    #[arg(long)]
    enable_namespaces: bool,
    /// Event loops (threads running SQL); default: one per core.
    #[arg(long)]
    loops: Option<usize>,
    /// Seconds after which an idle stream is rolled back and closed.
    #[arg(long, default_value_t = 10)]
    idle_stream_timeout_secs: u64,
    /// Largest request body accepted, in bytes (413 beyond).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Most streams open at once (503 beyond).
    #[arg(long, default_value_t = 50_000)]
    max_streams: usize,
    /// A replication-log generation larger than this many bytes is closed and a new one
    /// started (replicas compact at generation changes).
    #[arg(long, default_value_t = 128 * 1024 * 1024)]
    sync_max_log_bytes: u64,
    /// Replication-log generations kept per namespace, the current one included.
    #[arg(long, default_value_t = 4)]
    sync_keep_generations: usize,
    /// Most namespaces kept open per event loop; past it the least recently used idle one
    /// is closed (and reopened by its next request). Default: what the open-file limit
    /// allows (a namespace holds up to 3 files: database, WAL, replication log), after
    /// raising the soft limit to the hard one; 0: no limit.
    #[arg(long)]
    max_open_databases: Option<usize>,
}

/// Raises the soft open-file limit to the hard one and returns the soft limit now in
/// force (None if it cannot be read).
fn raise_nofile_limit() -> Option<u64> {
    // SAFETY: `rlimit` is a plain C struct; getrlimit/setrlimit only read and write it.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        Some(lim.rlim_cur as u64)
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let mut config = Config::new(&args.db_path);
    config.http_listen_addr = args.http_listen_addr;
    config.admin_listen_addr = args.admin_listen_addr;
    config.enable_namespaces = args.enable_namespaces;
    if let Some(n) = args.loops {
        config.loops = n.max(1);
    }
    let nofile = raise_nofile_limit();
    config.max_open_databases = match (args.max_open_databases, nofile) {
        (Some(0), _) => None,
        (Some(n), _) => Some(n),
        // 256 descriptors for sockets, the tracing writer and the runtime's rings.
        (None, Some(limit)) => Some(
            (limit.saturating_sub(256) / 3 / config.loops as u64).clamp(1, usize::MAX as u64)
                as usize,
        ),
        (None, None) => None,
    };
    config.idle_stream_timeout = Duration::from_secs(args.idle_stream_timeout_secs.max(1));
    config.max_body_bytes = args.max_body_bytes;
    config.max_streams = args.max_streams.max(1);
    config.sync.max_log_bytes = args.sync_max_log_bytes;
    config.sync.keep_generations = args.sync_keep_generations.max(1);
    if let Some(path) = &args.auth_jwt_key_file {
        match std::fs::read_to_string(path) {
            Ok(text) => config.auth_jwt_key = Some(text),
            Err(e) => {
                eprintln!("strata-server: cannot read {}: {e}", path.display());
                std::process::exit(2);
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("strata-server: cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(async move {
        let server = match Server::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("strata-server: {e}");
                return 1;
            }
        };
        shutdown_signal().await;
        tracing::info!("shutting down");
        server.shutdown().await;
        0
    });
    std::process::exit(code);
}

/// SIGINT or SIGTERM.
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
