// The unmodified @libsql/client (pinned in package-lock.json) against a freshly started
// strata-server on 127.0.0.1 (issue 10, must-show 2). The server binary comes from
// STRATA_SERVER_BIN, else ../../../target/release/strata-server (build it first:
// `cargo build --release -p strata-server`). Run: `npm ci && npm test`.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

import { createClient, LibsqlError } from "@libsql/client";

const here = dirname(fileURLToPath(import.meta.url));
const bin =
  process.env.STRATA_SERVER_BIN ??
  resolve(here, "../../../../target/release/strata-server");

let server;
let dataDir;
let url;
let adminUrl;

/** A free TCP port on 127.0.0.1 (bound, then released for the server). */
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

async function waitHealthy(base) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`strata-server at ${base} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "strata-node-"));
  const [port, adminPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${port}`;
  adminUrl = `http://127.0.0.1:${adminPort}`;
  server = spawn(
    bin,
    [
      "--db-path",
      dataDir,
      "--http-listen-addr",
      `127.0.0.1:${port}`,
      "--admin-listen-addr",
      `127.0.0.1:${adminPort}`,
      "--enable-namespaces",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  await waitHealthy(url);
});

after(async () => {
  if (server) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A client of namespace `ns` (the x-namespace header, added through the client's own
 *  `fetch` option; without it the Host label would be the namespace). */
function client(ns = "default", intMode = "number") {
  return createClient({
    url,
    intMode,
    fetch: (req, init) => {
      const r = new Request(req, init);
      r.headers.set("x-namespace", ns);
      return fetch(r);
    },
  });
}

async function createNamespace(ns) {
  const r = await fetch(`${adminUrl}/v1/namespaces/${ns}/create`, { method: "POST" });
  assert.ok(r.ok, `create namespace ${ns}: ${r.status} ${await r.text()}`);
}

test("execute: DDL, inserts with arguments, query results", async () => {
  await createNamespace("default").catch(() => {});
  const c = client();
  await c.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, pic BLOB)");
  const ins = await c.execute({
    sql: "INSERT INTO users(name, score, pic) VALUES (?, ?, ?)",
    args: ["ada", 1.5, new Uint8Array([1, 2, 3])],
  });
  assert.equal(ins.rowsAffected, 1);
  assert.equal(Number(ins.lastInsertRowid), 1);
  await c.execute({
    sql: "INSERT INTO users(name, score, pic) VALUES (:name, :score, NULL)",
    args: { name: "bob", score: -0.25 },
  });
  const rs = await c.execute("SELECT id, name, score, pic FROM users ORDER BY id");
  assert.deepEqual(rs.columns, ["id", "name", "score", "pic"]);
  assert.equal(rs.rows.length, 2);
  assert.equal(rs.rows[0].name, "ada");
  assert.equal(rs.rows[0].score, 1.5);
  assert.deepEqual(new Uint8Array(rs.rows[0].pic), new Uint8Array([1, 2, 3]));
  assert.equal(rs.rows[1].score, -0.25);
  assert.equal(rs.rows[1].pic, null);
  c.close();
});

test("values: floats, NULLs, text, blobs, integers beyond 2^53 as bigint", async () => {
  const c = client("default", "bigint");
  await c.execute("CREATE TABLE v(i INTEGER, r REAL, t TEXT, b BLOB, n)");
  const big = 9007199254740993n; // 2^53 + 1
  await c.execute({
    sql: "INSERT INTO v VALUES (?, ?, ?, ?, ?)",
    args: [big, 3.141592653589793, "héllo 😀", new Uint8Array([0, 255]), null],
  });
  await c.execute({ sql: "INSERT INTO v VALUES (?, ?, ?, ?, ?)", args: [-(2n ** 63n), 1e300, "", new Uint8Array(), null] });
  const rs = await c.execute("SELECT i, r, t, b, n, typeof(n) AS tn FROM v ORDER BY i DESC");
  assert.equal(rs.rows[0].i, big);
  assert.equal(typeof rs.rows[0].i, "bigint");
  assert.equal(rs.rows[0].r, 3.141592653589793);
  assert.equal(rs.rows[0].t, "héllo 😀");
  assert.deepEqual(new Uint8Array(rs.rows[0].b), new Uint8Array([0, 255]));
  assert.equal(rs.rows[0].n, null);
  assert.equal(rs.rows[0].tn, "null");
  assert.equal(rs.rows[1].i, -(2n ** 63n));
  assert.equal(rs.rows[1].r, 1e300);
  const sum = await c.execute("SELECT 9007199254740993 + 1 AS x, 0.1 + 0.2 AS y");
  assert.equal(sum.rows[0].x, 9007199254740994n);
  assert.equal(sum.rows[0].y, 0.30000000000000004);
  c.close();
});

test("batch in write, read and deferred modes", async () => {
  const c = client();
  const w = await c.batch(
    [
      "CREATE TABLE b(k INTEGER PRIMARY KEY, v TEXT)",
      { sql: "INSERT INTO b VALUES (?, ?)", args: [1, "one"] },
      { sql: "INSERT INTO b VALUES (?, ?)", args: [2, "two"] },
      "SELECT count(*) AS n FROM b",
    ],
    "write",
  );
  assert.equal(w.length, 4);
  assert.equal(Number(w[3].rows[0].n), 2);
  const r = await c.batch(["SELECT v FROM b ORDER BY k", "SELECT max(k) AS m FROM b"], "read");
  assert.deepEqual(r[0].rows.map((x) => x.v), ["one", "two"]);
  assert.equal(Number(r[1].rows[0].m), 2);
  // A read batch cannot write.
  await assert.rejects(c.batch(["INSERT INTO b VALUES (3, 'x')"], "read"));
  const d = await c.batch([{ sql: "INSERT INTO b VALUES (?, ?)", args: [3, "three"] }, "SELECT count(*) AS n FROM b"], "deferred");
  assert.equal(Number(d[1].rows[0].n), 3);
  // A failing statement rolls the whole batch back.
  await assert.rejects(
    c.batch([{ sql: "INSERT INTO b VALUES (?, ?)", args: [4, "four"] }, "INSERT INTO b VALUES (1, 'dup')"], "write"),
  );
  const n = await c.execute("SELECT count(*) AS n FROM b");
  assert.equal(Number(n.rows[0].n), 3);
  c.close();
});

test("interactive transactions: one committed, one rolled back", async () => {
  const c = client();
  await c.execute("CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER)");
  await c.execute("INSERT INTO acct VALUES (1, 100), (2, 0)");
  const tx = await c.transaction("write");
  await tx.execute("UPDATE acct SET bal = bal - 30 WHERE id = 1");
  await tx.execute("UPDATE acct SET bal = bal + 30 WHERE id = 2");
  const mid = await tx.execute("SELECT bal FROM acct ORDER BY id");
  assert.deepEqual(mid.rows.map((r) => Number(r.bal)), [70, 30]);
  await tx.commit();
  const tx2 = await c.transaction("write");
  await tx2.execute("UPDATE acct SET bal = 0");
  await tx2.rollback();
  const after = await c.execute("SELECT bal FROM acct ORDER BY id");
  assert.deepEqual(after.rows.map((r) => Number(r.bal)), [70, 30]);
  c.close();
});

test("executeMultiple", async () => {
  const c = client();
  await c.executeMultiple(`
    CREATE TABLE m(x);
    INSERT INTO m VALUES (1);
    INSERT INTO m VALUES (2);
    UPDATE m SET x = x * 10;
  `);
  const rs = await c.execute("SELECT sum(x) AS s FROM m");
  assert.equal(Number(rs.rows[0].s), 30);
  c.close();
});

test("a constraint violation is SQLITE_CONSTRAINT", async () => {
  const c = client();
  await c.execute("CREATE TABLE u(k TEXT UNIQUE NOT NULL)");
  await c.execute("INSERT INTO u VALUES ('a')");
  await assert.rejects(c.execute("INSERT INTO u VALUES ('a')"), (e) => {
    assert.ok(e instanceof LibsqlError, `not a LibsqlError: ${e}`);
    assert.match(e.code, /^SQLITE_CONSTRAINT/);
    assert.match(e.message, /UNIQUE constraint failed: u\.k/);
    return true;
  });
  await assert.rejects(c.execute("INSERT INTO u VALUES (NULL)"), (e) => {
    assert.match(e.code, /^SQLITE_CONSTRAINT/);
    return true;
  });
  await assert.rejects(c.execute("SELEKT 1"), (e) => e instanceof LibsqlError);
  c.close();
});

test("50 concurrent clients on 10 namespaces", async () => {
  const namespaces = Array.from({ length: 10 }, (_, i) => `tenant${i}`);
  for (const ns of namespaces) await createNamespace(ns);
  for (const ns of namespaces) {
    const c = client(ns);
    await c.execute("CREATE TABLE hits(id INTEGER PRIMARY KEY, who INTEGER, ns TEXT)");
    c.close();
  }
  const clients = Array.from({ length: 50 }, (_, i) => ({ i, ns: namespaces[i % 10], c: client(namespaces[i % 10]) }));
  await Promise.all(
    clients.map(async ({ i, ns, c }) => {
      for (let k = 0; k < 10; k++) {
        if (k % 3 === 2) {
          const tx = await c.transaction("write");
          await tx.execute({ sql: "INSERT INTO hits(who, ns) VALUES (?, ?)", args: [i, ns] });
          await tx.commit();
        } else {
          await c.execute({ sql: "INSERT INTO hits(who, ns) VALUES (?, ?)", args: [i, ns] });
        }
        await c.execute("SELECT count(*) FROM hits");
      }
    }),
  );
  for (const ns of namespaces) {
    const c = client(ns);
    const rs = await c.execute("SELECT count(*) AS n, count(DISTINCT who) AS w, min(ns) AS a, max(ns) AS b FROM hits");
    assert.equal(Number(rs.rows[0].n), 50, ns); // 5 clients x 10 inserts each
    assert.equal(Number(rs.rows[0].w), 5, ns);
    assert.equal(rs.rows[0].a, ns);
    assert.equal(rs.rows[0].b, ns);
    c.close();
  }
  for (const { c } of clients) c.close();
});
