// The "now playing" example end to end (issue 11): strata-server with JWT auth, two
// instances of the Rust app (Strata's embedded replica) and two of the Node app (the
// `libsql` npm package's), each on its own replica directory with a short sync age.
// A write through one instance is seen by every other one after the sync age (and not
// before: the seed's rule); instances restarted on their existing replica files (warm
// start) see everything; an instance with a read-only token cannot update.
//
// Binaries: STRATA_SERVER_BIN and NOWPLAYING_BIN, else ../../../target/release/*.
// The Node app needs `npm ci` in ../node. Run: `node --test test/` from
// examples/nowplaying (ci/nowplaying.sh does all of it). Only 127.0.0.1 is contacted.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const serverBin = process.env.STRATA_SERVER_BIN ?? join(root, "target/release/strata-server");
const rustBin = process.env.NOWPLAYING_BIN ?? join(root, "target/release/nowplaying");
const nodeApp = resolve(here, "../node/server.mjs");

/** The apps sync before a read when their last sync is older than this. */
const SYNC_AGE_MS = 1000;
/** Longer than the sync age: every instance's next read syncs. */
const PAST_SYNC_AGE_MS = SYNC_AGE_MS + 200;
/** Every HTTP request and every process start is bounded. */
const REQUEST_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 30_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (bound, then released for the child). */
function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** An Ed25519 key pair: the public key as PEM in `file`, and EdDSA JWTs signed with it. */
function jwtKey(file) {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  writeFileSync(file, publicKey.export({ type: "spki", format: "pem" }));
  return (claims) => {
    const head = b64url(JSON.stringify({ alg: "EdDSA", typ: "JWT" }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign(null, Buffer.from(`${head}.${body}`), privateKey);
    return `${head}.${body}.${b64url(sig)}`;
  };
}

const fetchT = (url, init = {}) =>
  fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

/** Children started by this test, all killed at the end whatever happened. */
const children = new Set();

/** Spawns `cmd`, keeping the tail of its stderr for failure messages. */
function launch(name, cmd, args, env = {}) {
  const proc = spawn(cmd, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...env },
  });
  proc.label = name;
  proc.log = "";
  proc.stderr.on("data", (d) => {
    proc.log = (proc.log + d).slice(-4000);
  });
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
  return proc;
}

/** Waits until `url` answers HTTP (any status), or fails if `proc` exits first. */
async function waitAnswering(proc, url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${proc.label} exited (${proc.exitCode ?? proc.signalCode}):\n${proc.log}`);
    }
    try {
      await fetchT(url);
      return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${proc.label} did not start:\n${proc.log}`);
    await sleep(50);
  }
}

/** Stops `proc` (SIGTERM, then SIGKILL after 5 s) and waits for its exit. */
async function stop(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

let work;
let server;
let primaryUrl;
let rwToken;
let roToken;

/** One statement on the primary over Hrana (not through a replica). */
async function onPrimary(sql) {
  const r = await fetchT(`${primaryUrl}/v2/pipeline`, {
    method: "POST",
    headers: { authorization: `Bearer ${rwToken}` },
    body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql } }, { type: "close" }] }),
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.equal(body.results[0].type, "ok", JSON.stringify(body));
  return body.results[0].response.result.rows;
}

/** The primary's players, as the apps' JSON, ordered by username. */
async function primaryPlayers() {
  const rows = await onPrimary("SELECT username, last_seen, playing FROM users ORDER BY username");
  return rows.map(([u, t, p]) => ({
    username: u.value,
    last_seen: t.type === "null" ? null : Number(t.value),
    playing: p.type === "null" ? null : p.value,
  }));
}

/** An app instance: `kind` "rust" or "node", its replica in `dir`, `token`. */
async function startApp(kind, name, dir, token) {
  const port = await freePort();
  const args = [
    "--listen",
    `127.0.0.1:${port}`,
    "--db",
    join(dir, "np.db"),
    "--sync-url",
    primaryUrl,
    "--max-sync-age-ms",
    String(SYNC_AGE_MS),
  ];
  const env = { LIBSQL_AUTH_TOKEN: token };
  const proc =
    kind === "rust"
      ? launch(name, rustBin, args, env)
      : launch(name, process.execPath, [nodeApp, ...args], env);
  const base = `http://127.0.0.1:${port}`;
  await waitAnswering(proc, `${base}/api/players`);
  return { kind, name, dir, token, proc, base };
}

/** An instance's players (GET /api/players), ordered by username. */
async function players(app) {
  const r = await fetchT(`${app.base}/api/players`);
  const text = await r.text();
  assert.equal(r.status, 200, `${app.name}: ${text}`);
  return JSON.parse(text).sort((a, b) => (a.username < b.username ? -1 : 1));
}

/** POST /play as the page's form does. */
function play(app, username, playing) {
  return fetchT(`${app.base}/play`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, playing }).toString(),
  });
}

async function playOk(app, username, playing) {
  const r = await play(app, username, playing);
  assert.equal(r.status, 303, `${app.name}: ${await r.text()}`);
  assert.equal(r.headers.get("location"), "/");
}

const names = (list) => list.map((p) => `${p.username}:${p.playing}`);

before(async () => {
  for (const [what, path] of [
    ["strata-server", serverBin],
    ["nowplaying (rust)", rustBin],
    ["libsql (npm ci in ../node)", resolve(here, "../node/node_modules/libsql")],
  ]) {
    assert.ok(existsSync(path), `${what} is missing at ${path}`);
  }
  work = mkdtempSync(join(tmpdir(), "nowplaying-"));
  const token = jwtKey(join(work, "jwt.pem"));
  rwToken = token({}); // no `a`: read-write, as sqld
  roToken = token({ a: "ro" });
  const port = await freePort();
  server = launch("strata-server", serverBin, [
    "--http-listen-addr",
    `127.0.0.1:${port}`,
    "--db-path",
    join(work, "primary"),
    "--auth-jwt-key-file",
    join(work, "jwt.pem"),
  ]);
  primaryUrl = `http://127.0.0.1:${port}`;
  await waitAnswering(server, `${primaryUrl}/health`);
});

after(async () => {
  await Promise.all([...children].map(stop));
  if (work) rmSync(work, { recursive: true, force: true });
});

test("two Rust and two Node instances share the primary's players", { timeout: 120_000 }, async () => {
  const dir = (name) => mkdtempSync(join(work, `${name}-`));
  // The first instance creates the table (CREATE TABLE IF NOT EXISTS, forwarded to the
  // primary); the others run it again, harmlessly.
  const rust1 = await startApp("rust", "rust1", dir("rust1"), rwToken);
  const rust2 = await startApp("rust", "rust2", dir("rust2"), rwToken);
  const node1 = await startApp("node", "node1", dir("node1"), rwToken);
  const node2 = await startApp("node", "node2", dir("node2"), rwToken);
  const all = [rust1, rust2, node1, node2];
  for (const app of all) assert.deepEqual(await players(app), [], app.name);
  assert.deepEqual(await primaryPlayers(), []);

  // The page: a form posting to /play, and the list.
  const page = await fetchT(`${rust1.base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<form method="post" action="\/play">/);

  // Written through rust1: rust1 reads it back at once (read-your-writes).
  await sleep(PAST_SYNC_AGE_MS);
  const t0 = Date.now();
  // node1 and rust2 sync here (their last sync is older than the sync age).
  assert.deepEqual(await players(node1), []);
  assert.deepEqual(await players(rust2), []);
  await playOk(rust1, "alice", "Song & <One>");
  assert.deepEqual(names(await players(rust1)), ["alice:Song & <One>"]);
  // node1 and rust2 synced less than the sync age ago: the seed's rule says no sync, so
  // they still read their local copies without alice. (Checked only when the timing
  // proves it.)
  const t1 = Date.now();
  const stale = [await players(node1), await players(rust2)];
  if (t1 - t0 < SYNC_AGE_MS - 200) {
    assert.deepEqual(stale, [[], []], "node1 or rust2 synced before its sync age was reached");
  } else {
    console.log(`# staleness check skipped: ${t1 - t0} ms between the reads`);
  }
  // After the sync age every instance sees it.
  await sleep(PAST_SYNC_AGE_MS);
  for (const app of all) {
    assert.deepEqual(names(await players(app)), ["alice:Song & <One>"], app.name);
  }
  const page2 = await (await fetchT(`${node2.base}/`)).text();
  assert.match(page2, /<td>alice<\/td><td>Song &amp; &lt;One&gt;<\/td>/);

  // Writes through a Node instance, and an upsert of an existing player through rust2.
  await playOk(node2, "bob", "Song Two");
  await playOk(rust2, "alice", "Song Three");
  // Each writer reads its own write back at once (read-your-writes, both libraries).
  assert.ok(names(await players(node2)).includes("bob:Song Two"), "node2 reads its write");
  assert.ok(names(await players(rust2)).includes("alice:Song Three"), "rust2 reads its write");
  await sleep(PAST_SYNC_AGE_MS);
  const want = await primaryPlayers();
  assert.deepEqual(names(want), ["alice:Song Three", "bob:Song Two"]);
  for (const app of all) assert.deepEqual(await players(app), want, app.name);
  assert.ok(want.every((p) => Number.isInteger(p.last_seen) && p.last_seen > 1.6e12));

  // Warm start: one instance of each kind stops; meanwhile a write; each restarts on its
  // existing replica files and sees everything.
  await stop(rust2.proc);
  await stop(node2.proc);
  await playOk(node1, "carol", "Song Four");
  const inode = {};
  for (const app of [rust2, node2]) {
    assert.ok(existsSync(join(app.dir, "np.db-info")), `${app.name} keeps its replica files`);
    inode[app.name] = statSync(join(app.dir, "np.db")).ino;
  }
  const rust2b = await startApp("rust", "rust2 (warm)", rust2.dir, rwToken);
  const node2b = await startApp("node", "node2 (warm)", node2.dir, rwToken);
  const now = await primaryPlayers();
  assert.equal(now.length, 3);
  for (const app of [rust2b, node2b]) assert.deepEqual(await players(app), now, app.name);
  // The same database files, caught up in place (a new download would be a new file).
  assert.equal(statSync(join(rust2.dir, "np.db")).ino, inode[rust2.name], "rust2 re-bootstrapped");
  assert.equal(statSync(join(node2.dir, "np.db")).ino, inode[node2.name], "node2 re-bootstrapped");
  await sleep(PAST_SYNC_AGE_MS);
  for (const app of [rust1, node1]) assert.deepEqual(await players(app), now, app.name);

  // A form without a username is refused before any write.
  const bad = await play(rust1, "", "x");
  assert.equal(bad.status, 400);
  const badNode = await play(node1, "  ", "x");
  assert.equal(badNode.status, 400);
  assert.deepEqual(await primaryPlayers(), now);
});

test("an instance with a read-only token reads but cannot update", { timeout: 60_000 }, async () => {
  const before = await primaryPlayers();
  assert.ok(before.length > 0, "the first test wrote players");
  for (const kind of ["rust", "node"]) {
    const app = await startApp(kind, `${kind} (read-only)`, mkdtempSync(join(work, `ro-${kind}-`)), roToken);
    // Reads work: the replica syncs with the read-only token.
    assert.deepEqual(await players(app), before, app.name);
    // The update is refused by the primary; the app answers an error with its message.
    const r = await play(app, "mallory", "Song Five");
    const text = await r.text();
    assert.ok(r.status >= 400 && r.status < 600, `${app.name}: ${r.status} ${text}`);
    assert.match(text, /read-only|forbidden/i, app.name);
    console.log(`${app.name}: POST /play -> ${r.status} ${text.trim()}`);
    // So does an update of an existing player.
    const r2 = await play(app, before[0].username, "overwritten");
    assert.ok(r2.status >= 400, `${app.name}: ${r2.status} ${await r2.text()}`);
    assert.deepEqual(await primaryPlayers(), before, "the primary is unchanged");
    // The instance still serves reads after the refusals.
    await sleep(PAST_SYNC_AGE_MS);
    assert.deepEqual(await players(app), before, app.name);
    await stop(app.proc);
  }
});

test("with the primary down, instances answer errors and keep running", { timeout: 90_000 }, async () => {
  const apps = [];
  for (const kind of ["rust", "node"]) {
    apps.push(await startApp(kind, `${kind} (primary down)`, mkdtempSync(join(work, `down-${kind}-`)), rwToken));
  }
  const before = await players(apps[0]);
  await stop(server);
  await sleep(PAST_SYNC_AGE_MS);
  for (const app of apps) {
    // The read needs a sync, which fails: an HTTP error with the reason.
    const r = await fetchT(`${app.base}/api/players`);
    const text = await r.text();
    assert.ok(r.status >= 500, `${app.name}: ${r.status} ${text}`);
    assert.match(text, /^error: /, app.name);
    console.log(`${app.name}: GET /api/players -> ${r.status} ${text.trim()}`);
    const w = await play(app, "dave", "Song Six");
    const wtext = await w.text();
    assert.ok(w.status >= 500, `${app.name}: ${w.status} ${wtext}`);
    console.log(`${app.name}: POST /play -> ${w.status} ${wtext.trim()}`);
    assert.equal(app.proc.exitCode, null, `${app.name} is still running`);
    assert.equal(app.proc.signalCode, null, `${app.name} is still running`);
  }
  assert.ok(before.length > 0);
});
