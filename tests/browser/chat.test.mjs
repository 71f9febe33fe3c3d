// The web chat as a person uses it: Debian's Chromium, driven by playwright-core, against a real
// `gantry serve` on a loopback port with a throw-away data dir. Nothing leaves 127.0.0.1: the
// browser runs with networking features off, and any request elsewhere fails the test.
//
// Run: GANTRY_BIN=/path/to/gantry node --test chat.test.mjs   (see run.sh)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(HERE, '..', 'artifacts');
const PASSWORD = 'browser test password';
const FINAL = ['DEPLOYED', 'PR_OPENED', 'SUCCESS', 'BLOCKED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'EXPIRED'];
const XSS = '<img src=x onerror=alert(1)>';
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

let server;
let serverLog = '';
let dataDir;
let base;
let browser;

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

async function waitForHealth(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`gantry serve exited (${server.exitCode}):\n${serverLog}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gantry serve did not answer /health within ${timeoutMs} ms:\n${serverLog}`);
}

before(async () => {
  const bin = process.env.GANTRY_BIN;
  assert.ok(bin, 'set GANTRY_BIN to the gantry binary (cargo build -p gantry)');
  dataDir = mkdtempSync(join(tmpdir(), 'gantry-browser-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, GANTRY_PASSWORD: PASSWORD, GANTRY_DATA_DIR: dataDir, GANTRY_BRAIN: 'offline' };
  // Keep every adapter local: no Vercel, GitHub or foreign public URL from the caller's environment.
  for (const name of ['VERCEL_TOKEN', 'GITHUB_TOKEN', 'GANTRY_PUBLIC_URL', 'GANTRY_PASSWORD_HASH']) delete env[name];
  server = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk) => {
    serverLog = (serverLog + chunk.toString()).slice(-20000);
  };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  await waitForHealth(base, 30000);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh browser context whose requests may only go to this server. */
async function openChat(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const foreign = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${base}/`) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/`);
  return { context, page, foreign, dialogs, errors };
}

async function signIn(page) {
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('login').click();
  await page.getByTestId('message').waitFor({ state: 'visible' });
}

/** Sends a message and waits for Gantry's answer, or fails with the alert the page showed. */
async function send(page, text, { withEnter = false } = {}) {
  const answered = await page.locator('.msg-assistant').count();
  const box = page.getByTestId('message');
  await box.fill(text);
  if (withEnter) await box.press('Enter');
  else await page.getByTestId('send').click();
  const outcome = await page.waitForFunction(
    (count) => {
      if (document.querySelectorAll('.msg-assistant').length > count) return 'answered';
      const alert = document.getElementById('alert');
      const text = alert ? alert.textContent.trim() : '';
      return alert && alert.dataset.tone === 'error' && text ? `alert: ${text}` : false;
    },
    answered,
    { timeout: 20000 },
  );
  assert.equal(await outcome.jsonValue(), 'answered', `sending ${JSON.stringify(text)}`);
}

async function stepsSummary(page) {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('#timeline .step'), (step) => step.textContent.replace(/\s+/g, ' ').trim()),
  );
}

test('a person signs in, consults, proceeds and gets a verified, working app', { timeout: 240000 }, async () => {
  const { context, page, foreign, errors } = await openChat();
  await signIn(page);

  await send(page, 'a todo app', { withEnter: true });
  if (await page.locator('#question').isVisible()) {
    await send(page, 'a todo app with categories');
  } else {
    await send(page, 'add categories');
  }
  await page.getByTestId('proceed').waitFor({ state: 'visible' });
  const features = await page.locator('#proposal-features').textContent();
  assert.match(features, /categor/i, 'the proposal card lists the requested feature');
  assert.match(await page.locator('#proposal-stack').textContent(), /\S/);
  assert.match(await page.locator('#proposal-design').textContent(), /\S/);

  await page.getByTestId('proceed').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="mission-status"]')?.dataset.status === 'QUEUED'
      || document.querySelectorAll('#timeline .step').length > 0,
    null,
    { timeout: 20000 },
  );
  await page.waitForFunction(
    (finals) => finals.includes(document.querySelector('[data-testid="mission-status"]')?.dataset.status),
    FINAL,
    { timeout: 120000, polling: 500 },
  );
  const badge = page.getByTestId('mission-status');
  const status = await badge.getAttribute('data-status');
  const steps = await stepsSummary(page);
  const error = await page.locator('#mission-error').textContent();
  assert.equal(status, 'SUCCESS', `final status ${status}; error: ${error}; steps:\n${steps.join('\n')}`);
  assert.match(await badge.textContent(), /success/i);
  for (const step of ['Draft', 'Policy check', 'Build & test', 'Evidence']) {
    assert.ok(steps.some((line) => line.startsWith(step)), `the timeline shows ${step}:\n${steps.join('\n')}`);
  }

  const previewLink = page.getByTestId('preview-link');
  const href = await previewLink.getAttribute('href');
  assert.match(href, /^https?:\/\/127\.0\.0\.1:\d+\/preview\/[0-9a-f-]+\/$/);
  assert.equal(await previewLink.getAttribute('target'), '_blank');
  assert.match(await previewLink.getAttribute('rel'), /noopener/);
  assert.match(await previewLink.getAttribute('rel'), /noreferrer/);
  const prLink = page.getByTestId('pr-link');
  assert.match(await prLink.textContent(), /gantry\/[0-9a-f-]+|^https?:\/\//);

  await page.waitForFunction(
    () => ['verified', 'broken', 'missing'].includes(document.querySelector('[data-testid="evidence-status"]')?.dataset.state),
    null,
    { timeout: 20000 },
  );
  const evidence = page.getByTestId('evidence-status');
  assert.equal(await evidence.textContent(), 'Verified', `evidence: ${await page.locator('.evidence-row').textContent()}`);

  const app = await context.newPage();
  const response = await app.goto(href);
  assert.equal(response.status(), 200);
  const title = await app.title();
  const heading = (await app.locator('h1').count()) ? await app.locator('h1').first().textContent() : '';
  assert.match(`${title} ${heading}`, /to-?do|task/i, `the preview is the app (title ${title}, heading ${heading})`);
  await app.screenshot({ path: join(ARTIFACTS, 'preview.png') });
  await app.close();

  const listed = await page.locator('.mission-item').count();
  assert.ok(listed >= 1, 'the mission list shows the mission');

  await page.screenshot({ path: join(ARTIFACTS, 'chat.png') });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ARTIFACTS, 'chat-375.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways at 375 px by ${overflow} px`);
  await page.getByRole('button', { name: 'Show missions' }).click();
  await page.locator('.mission-item').first().waitFor({ state: 'visible' });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ARTIFACTS, 'chat-375-missions.png') });

  assert.deepEqual(foreign, [], 'the page asked for nothing outside this server');
  assert.deepEqual(errors, [], 'the page threw no errors');
  await context.close();
});

test('untrusted text is shown as text and runs nothing', { timeout: 60000 }, async () => {
  const { context, page, foreign, dialogs, errors } = await openChat({ width: 1280, height: 900 });

  // A wrong password is refused in the visible alert region.
  await page.getByTestId('password').fill('not the password');
  await page.getByTestId('login').click();
  const alert = page.locator('#alert');
  await alert.locator('.alert-text').waitFor({ state: 'visible' });
  assert.match(await alert.textContent(), /password/i);
  assert.equal(await alert.getAttribute('aria-live'), 'polite');

  await signIn(page);
  const prompt = `a notes app ${XSS}`;
  await send(page, prompt);
  await page.getByText(XSS, { exact: false }).first().waitFor({ state: 'visible' });
  const shown = await page.locator('.msg-user .msg-body').first().textContent();
  assert.equal(shown, prompt, 'the prompt is shown literally');
  await page.locator('.mission-item').first().waitFor({ state: 'visible' });
  // Give a smuggled onerror handler every chance to fire.
  await page.waitForTimeout(1000);
  const injected = await page.evaluate(
    () => Array.from(document.images).filter((img) => img.getAttribute('src') === 'x').length,
  );
  assert.equal(injected, 0, 'no <img src=x> reached the DOM');
  assert.deepEqual(dialogs, [], 'no dialog was opened');
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the chat page forbids inline scripts', async () => {
  const response = await fetch(`${base}/`);
  assert.equal(response.status, 200);
  const csp = response.headers.get('content-security-policy');
  assert.ok(csp, 'GET / sends a Content-Security-Policy');
  const directives = Object.fromEntries(
    csp.split(';').map((part) => part.trim().split(/\s+/)).filter((words) => words[0]).map(([name, ...values]) => [name, values]),
  );
  const scripts = directives['script-src'] || directives['default-src'];
  assert.ok(scripts, `no script-src in ${csp}`);
  assert.ok(!scripts.includes("'unsafe-inline'"), `script-src allows inline scripts: ${csp}`);
  assert.ok(!scripts.includes("'unsafe-eval'"), `script-src allows eval: ${csp}`);
  assert.ok(!scripts.includes('*'), `script-src allows any origin: ${csp}`);

  const html = await response.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'the page has no inline <script>');
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'the page has no inline event handlers');
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'the page has no style attributes');
  for (const asset of ['/assets/app.js', '/assets/app.css']) {
    assert.equal((await fetch(`${base}${asset}`)).status, 200, asset);
  }
});
