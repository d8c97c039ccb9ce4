// The seed's "now playing" app on the `libsql` npm package's embedded replica, as a
// plain Node HTTP server (node:http) instead of a Lambda handler (issue 11).
//
// The list of players is read from the local replica, synced first only when it was
// never synced or its last sync is older than --max-sync-age-ms (the seed's rule: 30 s);
// the upsert is forwarded to the primary by libsql. Routes: GET / (the list and a
// form), POST /play (form-urlencoded; 303 to /), GET /api/players (JSON, for tests).
// Same flags as the Rust app (../rust):
//
//   node server.mjs --db replica/np.db --sync-url http://127.0.0.1:8080 \
//     [--auth-token JWT | env LIBSQL_AUTH_TOKEN] [--listen 127.0.0.1:3000] \
//     [--max-sync-age-ms 30000]

import { createServer } from "node:http";
import { parseArgs } from "node:util";

import Database from "libsql";

const CREATE =
  "CREATE TABLE IF NOT EXISTS users(username TEXT PRIMARY KEY, last_seen INT, playing TEXT)";
const LIST = "SELECT username, last_seen, playing FROM users";
const UPSERT =
  "INSERT INTO users(username, last_seen, playing) VALUES (?, ?, ?) " +
  "ON CONFLICT(username) DO UPDATE SET last_seen = excluded.last_seen, " +
  "playing = excluded.playing";

/** Longest username and song accepted from the form (characters). */
const MAX_FIELD_CHARS = 200;
/** Largest form body read (bytes). */
const MAX_BODY_BYTES = 64 * 1024;

function usage(message) {
  console.error(`nowplaying: ${message}`);
  console.error(
    "usage: node server.mjs --db PATH --sync-url URL [--auth-token JWT] " +
      "[--listen HOST:PORT] [--max-sync-age-ms N]",
  );
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      listen: { type: "string", default: "127.0.0.1:3000" },
      db: { type: "string" },
      "sync-url": { type: "string", default: process.env.LIBSQL_SYNC_URL },
      "auth-token": { type: "string", default: process.env.LIBSQL_AUTH_TOKEN ?? "" },
      "max-sync-age-ms": { type: "string", default: "30000" },
    },
  }));
} catch (e) {
  usage(e.message);
}
if (!values.db) usage("--db is required");
if (!values["sync-url"]) usage("--sync-url (or LIBSQL_SYNC_URL) is required");
const maxSyncAgeMs = Number(values["max-sync-age-ms"]);
if (!Number.isInteger(maxSyncAgeMs) || maxSyncAgeMs < 0) usage("bad --max-sync-age-ms");
const listen = /^(.*):(\d+)$/.exec(values.listen);
if (!listen) usage(`bad --listen ${values.listen}`);
const [host, port] = [listen[1].replace(/^\[|\]$/g, ""), Number(listen[2])];

// A new replica downloads the primary's database here; an existing one reopens its files.
let db;
try {
  db = new Database(values.db, { syncUrl: values["sync-url"], authToken: values["auth-token"] });
} catch (e) {
  console.error(`nowplaying: opening the replica ${values.db}: ${e.message}`);
  process.exit(1);
}
// Forwarded to the primary. A token without write rights is refused even when the table
// exists: the app still serves reads, and says why writes fail.
try {
  db.exec(CREATE);
} catch (e) {
  console.error(`nowplaying: ${CREATE}: ${e.message} (continuing)`);
}

let lastSync = null;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The seed's rule: sync when never synced, or when the last sync is too old. */
function syncIfStale() {
  if (lastSync !== null && Date.now() - lastSync < maxSyncAgeMs) return;
  try {
    db.sync();
  } catch (e) {
    throw new HttpError(502, `sync with the primary failed: ${e.message}`);
  }
  lastSync = Date.now();
}

function players() {
  syncIfStale();
  try {
    // Only the columns (libsql adds a `_metadata` key to row objects).
    return db.prepare(LIST).all().map((r) => ({
      username: r.username,
      last_seen: r.last_seen,
      playing: r.playing,
    }));
  } catch (e) {
    throw new HttpError(500, `reading the players: ${e.message}`);
  }
}

function play(username, playing) {
  try {
    db.prepare(UPSERT).run(username, Date.now(), playing);
  } catch (e) {
    throw new HttpError(500, `updating the player: ${e.message}`);
  }
}

const escape = (s) =>
  String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );

function page(list) {
  const rows = list
    .map(
      (p) =>
        `<tr><td>${escape(p.username)}</td><td>${escape(p.playing)}</td>` +
        `<td>${escape(p.last_seen)}</td></tr>\n`,
    )
    .join("");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Now playing</title></head>
<body>
<h1>Now playing</h1>
<table>
<tr><th>Player</th><th>Playing</th><th>Last seen (ms since epoch)</th></tr>
${rows}</table>
<form method="post" action="/play">
<label>Username <input name="username" required></label>
<label>Playing <input name="playing"></label>
<button type="submit">Update</button>
</form>
</body></html>
`;
}

function readBody(req) {
  return new Promise((ok, fail) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        fail(new HttpError(413, `the form is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => ok(Buffer.concat(chunks).toString("utf8")));
    req.on("error", fail);
  });
}

async function handle(req, res) {
  const path = new URL(req.url, "http://localhost").pathname;
  // Each body is built before writeHead: an error on the way must still set its status.
  if (req.method === "GET" && path === "/") {
    const body = page(players());
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(body);
  } else if (req.method === "GET" && path === "/api/players") {
    const body = JSON.stringify(players());
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  } else if (req.method === "POST" && path === "/play") {
    const form = new URLSearchParams(await readBody(req));
    const username = (form.get("username") ?? "").trim();
    const playing = (form.get("playing") ?? "").trim();
    if (!username) throw new HttpError(400, "the form needs a username");
    if ([...username].length > MAX_FIELD_CHARS || [...playing].length > MAX_FIELD_CHARS) {
      throw new HttpError(400, `username and song are at most ${MAX_FIELD_CHARS} characters`);
    }
    play(username, playing);
    res.writeHead(303, { location: "/" });
    res.end();
  } else {
    throw new HttpError(404, `no route for ${req.method} ${path}`);
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((e) => {
    const status = e instanceof HttpError ? e.status : 500;
    if (!res.headersSent) {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
    }
    res.end(`error: ${e.message}\n`);
  });
});

server.listen(port, host, () => {
  console.error(`nowplaying listening on http://${values.listen}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    db.close();
    process.exit(0);
  });
}
