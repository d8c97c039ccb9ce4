// Starting strata-server for the node tests: a free port, a JWT key pair, health wait.

import { spawn } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const bin =
  process.env.STRATA_SERVER_BIN ?? resolve(here, "../../../../target/release/strata-server");

/** A free TCP port on 127.0.0.1 (bound, then released for the server). */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function waitHealthy(base) {
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

const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** A fresh Ed25519 key: its public PEM written to `dir/jwt.pem`, and a signer. */
export function jwtKey(dir) {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const file = join(dir, "jwt.pem");
  writeFileSync(file, publicKey.export({ type: "spki", format: "pem" }));
  const token = (claims) => {
    const head = b64url(JSON.stringify({ alg: "EdDSA", typ: "JWT" }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign(null, Buffer.from(`${head}.${body}`), privateKey);
    return `${head}.${body}.${b64url(sig)}`;
  };
  return { file, token };
}

/** Starts the server on `port` with `args`; resolves once it answers /health. */
export async function startServer(port, args) {
  const proc = spawn(bin, ["--http-listen-addr", `127.0.0.1:${port}`, ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitHealthy(`http://127.0.0.1:${port}`);
  return proc;
}

/** Stops it with `signal` (SIGTERM: clean shutdown; SIGKILL: a crash). */
export async function stopServer(proc, signal = "SIGTERM") {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill(signal);
  await exited;
}

/** One Hrana statement on the primary (not through a replica). */
export async function primary(url, token, sql, args = []) {
  const r = await fetch(`${url}/v2/pipeline`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({
      requests: [{ type: "execute", stmt: { sql, args } }, { type: "close" }],
    }),
  });
  const body = await r.json();
  if (r.status !== 200 || body.results[0].type !== "ok") {
    throw new Error(`${sql}: ${r.status} ${JSON.stringify(body)}`);
  }
  return body.results[0].response.result;
}
