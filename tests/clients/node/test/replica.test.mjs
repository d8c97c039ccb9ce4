// The unmodified `libsql` npm package (pinned in package-lock.json) as an embedded
// replica of a freshly started strata-server with JWT auth (issue 11): it probes
// GET /info, bootstraps from /export, pulls with /sync, and sends writes to the primary
// over Hrana (/v3/pipeline). Generation changes (a crash restart, a log rollover) are
// followed by the client on its existing files. The server binary comes from
// STRATA_SERVER_BIN, else ../../../target/release/strata-server. Run: `npm ci && npm test`.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import Database from "libsql";

import { freePort, jwtKey, startServer, stopServer, primary } from "../lib/server.mjs";

let work;
let key;
let token;
const servers = [];
const dirs = [];

/** The named columns of a row (`get()` adds a `_metadata` key). */
const cols = (row, ...names) => Object.fromEntries(names.map((n) => [n, row[n]]));

const UPSERT =
  "INSERT INTO users VALUES (?, ?, ?) ON CONFLICT(username) DO UPDATE SET " +
  "last_seen = excluded.last_seen, playing = excluded.playing";

/** The server's current generation (`GET /info`). */
async function generation(url) {
  const r = await fetch(`${url}/info`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  return (await r.json()).current_generation;
}

/** A server on a fresh data directory; `extra` flags appended. */
async function freshServer(extra = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "strata-replica-srv-"));
  dirs.push(dataDir);
  const port = await freePort();
  const args = ["--db-path", dataDir, "--auth-jwt-key-file", key.file, ...extra];
  const proc = await startServer(port, args);
  servers.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await primary(url, token, "CREATE TABLE users(username TEXT PRIMARY KEY, last_seen INT, playing TEXT)");
  return { proc, port, args, url };
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "strata-replica-"));
  dirs.push(work);
  key = jwtKey(work);
  token = key.token({ a: "rw" });
});

after(async () => {
  for (const p of servers) await stopServer(p);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("an embedded replica syncs, reads locally, and writes through the primary", async () => {
  const { url } = await freshServer();
  for (let i = 0; i < 50; i++) {
    await primary(url, token, "INSERT INTO users VALUES (?, ?, ?)", [
      { type: "text", value: `user${i}` },
      { type: "integer", value: String(1000 + i) },
      { type: "text", value: "x".repeat(i * 40) },
    ]);
  }
  const path = join(work, "local.db");
  const db = new Database(path, { syncUrl: url, authToken: token });
  db.sync();
  assert.ok(existsSync(`${path}-info`), "the replica keeps its -info metadata");
  const meta = JSON.parse(readFileSync(`${path}-info`, "utf8"));
  // A namespace's first generation is a random number (docs/REPLICATION.md).
  assert.equal(meta.generation, await generation(url));
  assert.ok(meta.durable_frame_num > 0);
  const rows = db.prepare("SELECT username, last_seen FROM users ORDER BY last_seen").all();
  assert.equal(rows.length, 50);
  assert.deepEqual(cols(rows[0], "username", "last_seen"), { username: "user0", last_seen: 1000 });
  assert.equal(rows[49].username, "user49");

  // A write goes to the primary (Hrana /v3/pipeline), then read-your-writes pulls it.
  db.prepare(UPSERT).run("alice", 5000, "song A");
  db.sync();
  const alice = db.prepare("SELECT last_seen, playing FROM users WHERE username = ?").get("alice");
  assert.deepEqual(cols(alice, "last_seen", "playing"), { last_seen: 5000, playing: "song A" });
  const p = await primary(url, token, "SELECT playing FROM users WHERE username = 'alice'");
  assert.equal(p.rows[0][0].value, "song A");

  // A second replica sees the first one's write after its sync, and the first sees the
  // second's.
  const db2 = new Database(join(work, "local2.db"), { syncUrl: url, authToken: token });
  db2.sync();
  const q = "SELECT last_seen, playing FROM users WHERE username = 'alice'";
  assert.deepEqual(cols(db2.prepare(q).get(), "last_seen", "playing"), {
    last_seen: 5000,
    playing: "song A",
  });
  db2.prepare(UPSERT).run("alice", 6000, "song B");
  db.sync();
  assert.deepEqual(cols(db.prepare(q).get(), "last_seen", "playing"), {
    last_seen: 6000,
    playing: "song B",
  });
  assert.equal(db.prepare("SELECT count(*) AS n FROM users").get().n, 51);
  db.close();
  db2.close();

  // Warm start: the replica reopens on its files and catches up, including one
  // transaction of ~300 pages (served whole, beyond the client's 128-frame request).
  await primary(url, token, "INSERT INTO users VALUES ('bob', 7000, 'song C')");
  await primary(
    url,
    token,
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) " +
      "INSERT INTO users SELECT 'big' || i, i, printf('%.3000c', 'y') FROM n",
  );
  const again = new Database(path, { syncUrl: url, authToken: token });
  again.sync();
  assert.equal(again.prepare("SELECT count(*) AS n FROM users").get().n, 352);
  assert.equal(again.prepare("PRAGMA integrity_check").get().integrity_check, "ok");
  assert.equal(
    again.prepare("SELECT playing FROM users WHERE username = 'bob'").get().playing,
    "song C",
  );
  again.close();
});

test("replicas follow generation changes: a crash restart and log rollovers", async () => {
  // Rollover every ~40 frames.
  const srv = await freshServer(["--sync-max-log-bytes", String(40 * 4120)]);
  const path = join(work, "gen.db");
  const first = await generation(srv.url);
  const db = new Database(path, { syncUrl: srv.url, authToken: token });
  db.sync();
  for (let i = 0; i < 60; i++) {
    await primary(srv.url, token, UPSERT, [
      { type: "text", value: `u${i % 25}` },
      { type: "integer", value: String(i) },
      { type: "text", value: "p".repeat(300 + i * 10) },
    ]);
    if (i % 9 === 0) db.sync();
  }
  db.sync();
  const rolled = JSON.parse(readFileSync(`${path}-info`, "utf8")).generation;
  assert.ok(rolled >= first + 1, `generation ${rolled} after ${first}`);
  assert.equal(rolled, await generation(srv.url));
  assert.equal(db.prepare("SELECT count(*) AS n FROM users").get().n, 25);
  assert.equal(db.prepare("SELECT max(last_seen) AS m FROM users").get().m, 59);

  // A crash (SIGKILL): the restart begins a new generation from the recovered database.
  await stopServer(srv.proc, "SIGKILL");
  const proc = await startServer(srv.port, srv.args);
  servers.push(proc);
  await primary(srv.url, token, UPSERT, [
    { type: "text", value: "after-crash" },
    { type: "integer", value: "100" },
    { type: "text", value: "back" },
  ]);
  db.sync();
  const after = JSON.parse(readFileSync(`${path}-info`, "utf8")).generation;
  assert.ok(after > rolled, `generation ${after} after ${rolled}`);
  assert.equal(db.prepare("SELECT count(*) AS n FROM users").get().n, 26);
  assert.equal(
    db.prepare("SELECT playing FROM users WHERE username = 'after-crash'").get().playing,
    "back",
  );
  assert.equal(db.prepare("PRAGMA integrity_check").get().integrity_check, "ok");
  // A new replica agrees.
  const fresh = new Database(join(work, "gen2.db"), { syncUrl: srv.url, authToken: token });
  fresh.sync();
  const all = "SELECT username, last_seen, playing FROM users ORDER BY username";
  const strip = (rs) => rs.map((r) => cols(r, "username", "last_seen", "playing"));
  assert.deepEqual(strip(fresh.prepare(all).all()), strip(db.prepare(all).all()));
  db.close();
  fresh.close();
});

test("a replica without a valid token is refused", async () => {
  const { url } = await freshServer();
  assert.throws(
    () => new Database(join(work, "nope.db"), { syncUrl: url, authToken: "not-a-jwt" }),
    /Unauthorized/,
  );
  assert.ok(!existsSync(join(work, "nope.db")));
});
