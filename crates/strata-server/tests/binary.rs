//! The `strata-server` binary: flags, serving on 127.0.0.1, SIGTERM shutdown with exit
//! code 0 and the data left in a file SQLite reads.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

#[test]
fn binary_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata-server"))
        .args(["--db-path", data.to_str().unwrap()])
        .args(["--http-listen-addr", "127.0.0.1:0", "--loops", "2"])
        .args([
            "--idle-stream-timeout-secs",
            "5",
            "--max-body-bytes",
            "4096",
        ])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The listening address is in the first log line that names it. Lines are read on a
    // thread so that a silent server fails the test after a bound instead of hanging it.
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr: std::net::SocketAddr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            let _ = child.kill();
            panic!("no listening line within 30 s");
        };
        if let Some(i) = line.find("http_addr=") {
            let rest = &line[i + "http_addr=".len()..];
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    let body = json!({"requests": [
        {"type": "execute", "stmt": {"sql": "CREATE TABLE t(x)"}},
        {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES ('kept')"}},
        {"type": "close"}]});
    let r = common::http(
        addr,
        "POST",
        "/v2/pipeline",
        &[],
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["results"][1]["type"], "ok");
    // The body limit flag.
    let r = common::http(addr, "POST", "/v2/pipeline", &[], &[b' '; 5000]);
    assert_eq!(r.status, 413);
    // SIGTERM: exits 0.
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // Drain the remaining log lines: the server said it stopped.
    let rest: Vec<String> = lines.iter().collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
    let lite = rusqlite::Connection::open(data.join("default.db")).unwrap();
    let x: String = lite.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(x, "kept");
}
