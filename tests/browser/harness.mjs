// What every browser test needs: a real `gantry serve` on a free loopback port with a throw-away
// data dir, and Debian's Chromium with networking features off.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

export const PASSWORD = 'browser test password';
export const FINAL = ['DEPLOYED', 'PR_OPENED', 'SUCCESS', 'BLOCKED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'EXPIRED'];
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** `gantry serve` (GANTRY_BIN) and a Chromium; `stop()` ends both and removes the data dir. */
export async function startGantry() {
  const bin = process.env.GANTRY_BIN;
  assert.ok(bin, 'set GANTRY_BIN to the gantry binary (cargo build -p gantry)');
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Node apps build with the set tests/run.sh fetched; a test never reaches the registry.
  const nodeDeps = process.env.GANTRY_NODE_DEPS || join(process.env.HOME, '.cache', 'gantry', 'node-deps');
  const env = {
    ...process.env,
    GANTRY_PASSWORD: PASSWORD,
    GANTRY_DATA_DIR: dataDir,
    GANTRY_BRAIN: 'offline',
    GANTRY_NODE_DEPS: nodeDeps,
    GANTRY_NODE_DEPS_FETCH: 'off',
  };
  // Keep every adapter local: no Vercel, GitHub or foreign public URL from the caller's environment.
  for (const name of ['VERCEL_TOKEN', 'GITHUB_TOKEN', 'GANTRY_PUBLIC_URL', 'GANTRY_PREVIEW_URL', 'GANTRY_PASSWORD_HASH']) {
    delete env[name];
  }
  const server = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk) => {
    log = (log + chunk.toString()).slice(-20000);
  };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);

  const deadline = Date.now() + 30000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`gantry serve exited (${server.exitCode}):\n${log}`);
    if (Date.now() > deadline) throw new Error(`gantry serve did not answer /health within 30 s:\n${log}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });

  const stop = async () => {
    await browser.close();
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    base,
    port,
    browser,
    stop,
    log: () => log,
    /** A preview's own origin on this server: `http://{mission_id}.localhost:{port}`. */
    previewOrigin: (id) => `http://${id}.localhost:${port}`,
    isPreviewUrl: (url) => new RegExp(`^http://[0-9a-f-]{36}\\.localhost:${port}/`).test(url),
  };
}

/** Signs in with the test password; returns `call(method, path, body)` for the API with the token. */
export async function apiSession(gantry) {
  const login = await fetch(`${gantry.base}/gantry/auth`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ password: PASSWORD }),
  });
  assert.equal(login.status, 200);
  const { token } = await login.json();
  return async function call(method, path, body) {
    const response = await fetch(`${gantry.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, data: await response.json().catch(() => null) };
  };
}

/**
 * A fresh browser context on a preview `url`: every request outside it is aborted and listed in
 * `foreign`; page errors (and, with `consoleErrors`, console errors) are listed in `errors`.
 */
export async function openPreview(gantry, url, { viewport, consoleErrors = false }) {
  const context = await gantry.browser.newContext({ viewport });
  const foreign = [];
  await context.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested.startsWith(url)) return route.continue();
    foreign.push(requested);
    return route.abort();
  });
  const app = await context.newPage();
  const errors = [];
  app.on('pageerror', (error) => errors.push(error.message));
  if (consoleErrors) {
    app.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
  }
  return { context, app, errors, foreign };
}
