// The web chat as a person uses it: Debian's Chromium, driven by playwright-core, against a real
// `gantry serve` on a loopback port with a throw-away data dir. Nothing leaves 127.0.0.1: the
// browser runs with networking features off, and any request elsewhere fails the test.
//
// Run: GANTRY_BIN=/path/to/gantry node --test chat.test.mjs   (see run.sh)
//
// Playwright starts Chromium with a fresh, throw-away --user-data-dir of its own for every run
// (and removes it afterwards), so no profile, cookie or cache survives between runs.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FINAL, PASSWORD, startGantry } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(HERE, '..', 'artifacts');
const XSS = '<img src=x onerror=alert(1)>';
// A second payload that would leave a trace without a dialog, should a handler ever run.
const XSS_FLAG = '<img src=y onerror=window.__gantryXss=1>';

let gantry;
let base;
let browser;
let previewOrigin;
let isPreviewUrl;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gantry = await startGantry();
  ({ base, browser, previewOrigin, isPreviewUrl } = gantry);
});

after(async () => {
  if (gantry) await gantry.stop();
});

/** A fresh browser context whose requests may only go to this server and its preview origins. */
async function openChat(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const foreign = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${base}/`) || isPreviewUrl(url) || url.startsWith('blob:') || url.startsWith('data:')) {
      return route.continue();
    }
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
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  // Console errors include every CSP violation ("Refused to …") and failed load.
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
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

test('a person signs in, answers, proceeds and gets a verified, working app', { timeout: 90000 }, async () => {
  const { context, page, foreign, errors } = await openChat();
  await page.screenshot({ path: join(ARTIFACTS, 'login.png') });
  await signIn(page);

  // Too vague to plan: Gantry asks what to build, and the answer becomes a proposal.
  await send(page, 'I need a small web app for myself', { withEnter: true });
  await page.locator('#question').waitFor({ state: 'visible' });
  assert.match(await page.locator('#question-text').textContent(), /what would you like me to build/i);
  assert.ok(await page.getByTestId('proceed').isHidden(), 'no Proceed before there is a plan');
  await send(page, 'a to-do list with categories');
  await page.getByTestId('proceed').waitFor({ state: 'visible' });
  assert.ok(await page.locator('#question').isHidden(), 'the answered question is gone');
  const features = await page.locator('#proposal-features').textContent();
  assert.match(features, /categor/i, 'the proposal card lists the requested feature');
  assert.match(await page.locator('#proposal-stack').textContent(), /static/i);
  assert.match(await page.locator('#proposal-design').textContent(), /\S/);
  assert.equal(await page.getByTestId('mission-status').getAttribute('data-status'), 'AWAITING_INPUT');
  await page.screenshot({ path: join(ARTIFACTS, 'proposal.png') });

  await page.getByTestId('proceed').click();
  await page.locator('#timeline .step').first().waitFor({ state: 'visible', timeout: 20000 });
  await page.waitForFunction(
    (finals) => finals.includes(document.querySelector('[data-testid="mission-status"]')?.dataset.status),
    FINAL,
    { timeout: 60000, polling: 250 },
  );
  const badge = page.getByTestId('mission-status');
  const status = await badge.getAttribute('data-status');
  const steps = await stepsSummary(page);
  const error = await page.locator('#mission-error').textContent();
  assert.equal(status, 'SUCCESS', `final status ${status}; error: ${error}; steps:\n${steps.join('\n')}`);
  assert.equal(await badge.textContent(), 'Success');
  assert.ok(await page.locator('#mission-error').isHidden(), 'a successful mission shows no error');
  const names = await page.locator('#timeline .step .step-name').allTextContents();
  for (const step of ['Draft', 'Policy check', 'Build & test', 'Deploy', 'Publish', 'Evidence', 'Finalize']) {
    assert.ok(names.includes(step), `the timeline shows ${step}: ${names.join(', ')}`);
  }
  const states = await page.locator('#timeline .step .step-state').allTextContents();
  assert.ok(states.length >= 7 && states.every((s) => s === 'Done'), `every step is done: ${steps.join('\n')}`);
  assert.equal(await page.getByText('yes, proceed', { exact: true }).count(), 1, 'Proceed sent one consent');

  // The preview lives on an origin of its own: http://{mission_id}.localhost:{port}/.
  const previewLink = page.getByTestId('preview-link');
  const href = await previewLink.getAttribute('href');
  assert.ok(isPreviewUrl(href), href);
  assert.equal(await previewLink.getAttribute('target'), '_blank');
  assert.match(await previewLink.getAttribute('rel'), /noopener/);
  assert.match(await previewLink.getAttribute('rel'), /noreferrer/);
  const missionId = new URL(href).hostname.split('.')[0];
  assert.equal(href, `${previewOrigin(missionId)}/`);
  // Locally the "pull request" is the branch of the local git repo.
  assert.equal(await page.getByTestId('pr-link').textContent(), `gantry/${missionId}`);

  await page.waitForFunction(
    () => ['verified', 'broken', 'missing'].includes(document.querySelector('[data-testid="evidence-status"]')?.dataset.state),
    null,
    { timeout: 20000 },
  );
  const evidence = page.getByTestId('evidence-status');
  assert.equal(await evidence.getAttribute('data-state'), 'verified', `evidence: ${await page.locator('.evidence-row').textContent()}`);
  assert.equal(await evidence.textContent(), 'Verified');
  await page.screenshot({ path: join(ARTIFACTS, 'chat.png') });
  await page.locator('#results').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'chat-results.png') });

  // The preview link opens the generated app, and the app works.
  const [app] = await Promise.all([context.waitForEvent('page'), previewLink.click()]);
  const appErrors = [];
  app.on('pageerror', (e) => appErrors.push(e.message));
  await app.waitForLoadState('load');
  assert.equal(app.url(), href);
  assert.equal(await app.title(), 'To-Do List');
  assert.equal(await app.locator('h1').first().textContent(), 'To-Do List');
  const categories = await app.locator('#category-select option').allTextContents();
  assert.ok(categories.includes('Work'), `the app has categories: ${categories}`);
  await app.locator('#task-input').fill('Water the plants');
  await app.locator('#category-select').selectOption('Home');
  await app.locator('#task-input').press('Enter');
  const task = app.locator('#task-list li', { hasText: 'Water the plants' });
  await task.waitFor({ state: 'visible', timeout: 5000 });
  assert.match(await task.textContent(), /Home/, 'the task carries its category');
  await app.screenshot({ path: join(ARTIFACTS, 'preview.png') });

  // The app's storage works on its own origin: the task survives a reload.
  await app.reload();
  await app.locator('#task-list li', { hasText: 'Water the plants' }).waitFor({ state: 'visible', timeout: 5000 });
  assert.ok(await app.evaluate(() => window.localStorage.length > 0), 'the app keeps its data in localStorage');

  // From the preview's origin Gantry is out of reach: its session cookie is not there, its API
  // answers nothing, with the cookie sent or not.
  assert.equal(await app.evaluate(() => document.cookie), '', 'the preview sees no cookie');
  const reach = await app.evaluate(async ({ gantry, id }) => {
    const attempt = async (url) => {
      try {
        const response = await fetch(url, { credentials: 'include' });
        return { status: response.status, body: (await response.text()).slice(0, 200) };
      } catch (error) {
        return { error: String(error) };
      }
    };
    return { own: await attempt(`/gantry/status/${id}`), gantry: await attempt(`${gantry}/gantry/status/${id}`) };
  }, { gantry: base, id: missionId });
  assert.equal(reach.own.status, 404, `the preview host has no API: ${JSON.stringify(reach.own)}`);
  assert.doesNotMatch(reach.own.body, /mission_id/);
  assert.ok(reach.gantry.error, `Gantry's API is not readable from a preview: ${JSON.stringify(reach.gantry)}`);
  assert.deepEqual(appErrors, [], 'the generated app threw no errors');
  await app.close();

  // The same app, live inside the chat. A framed preview is a third-party context: browsers
  // partition its storage, and this one (an off-the-record profile) denies it, so the frame is
  // checked for a working app and the page says where the data is kept for good.
  const workspace = page.locator('#workspace');
  await workspace.waitFor({ state: 'visible' });
  const frame = page.frameLocator('[data-testid="preview-frame"]');
  assert.equal(await frame.locator('h1').first().textContent(), 'To-Do List');
  await frame.locator('#task-input').fill('Call the plumber');
  await frame.locator('#task-input').press('Enter');
  await frame.locator('#task-list li', { hasText: 'Call the plumber' }).waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await page.locator('#preview-note').textContent(), /own tab/);
  await workspace.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'workspace-preview.png') });
  await page.getByTestId('tab-code').click();
  await page.locator('.file-button', { hasText: 'index.html' }).first().waitFor({ state: 'visible' });
  assert.match(await page.getByTestId('code-view').textContent(), /<!doctype html>/i);
  assert.match(await page.getByTestId('repo-clone').textContent(), new RegExp(`^git clone --branch gantry/${missionId} `));
  await page.screenshot({ path: join(ARTIFACTS, 'workspace-code.png') });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
  assert.match(download.suggestedFilename(), /\.zip$/);
  await page.getByTestId('tab-preview').click();

  assert.ok((await page.locator('.mission-item').count()) >= 1, 'the mission list shows the mission');

  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ARTIFACTS, 'chat-375.png') });
  await page.locator('#results').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'chat-375-results.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways at 375 px by ${overflow} px`);
  await page.getByRole('button', { name: 'Show missions' }).click();
  await page.locator('.mission-item').first().waitFor({ state: 'visible' });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ARTIFACTS, 'chat-375-missions.png') });
  await page.keyboard.press('Escape');

  // Signing out drops the HttpOnly cookie too, so a reload lands on the sign-in form.
  assert.ok((await context.cookies(base)).some((c) => c.name === 'gantry_session' && c.httpOnly));
  await page.getByTestId('logout').click();
  await page.getByTestId('password').waitFor({ state: 'visible' });
  assert.match(await page.locator('#alert').textContent(), /signed out/i);
  assert.deepEqual((await context.cookies(base)).filter((c) => c.name === 'gantry_session'), []);
  await page.reload();
  await page.getByTestId('password').waitFor({ state: 'visible' });
  assert.ok(await page.getByTestId('message').isHidden(), 'after a reload the page is still signed out');

  assert.deepEqual(foreign, [], 'the page asked for nothing outside this server');
  assert.deepEqual(errors, [], 'no page errors, console errors or CSP violations');
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
  // Chromium logs the refused sign-in's 401 itself; that one is expected.
  const refused = errors.filter((e) => /status of 401/.test(e));
  assert.equal(refused.length, 1, `one refused sign-in: ${errors}`);
  errors.splice(0, errors.length, ...errors.filter((e) => !/status of 401/.test(e)));

  await signIn(page);
  const prompt = `a notes app ${XSS} ${XSS_FLAG}`;
  await send(page, prompt);
  await page.getByText(XSS, { exact: false }).first().waitFor({ state: 'visible' });
  const shown = await page.locator('.msg-user .msg-body').first().textContent();
  assert.equal(shown, prompt, 'the prompt is shown literally');
  assert.ok(await page.getByText(XSS_FLAG, { exact: false }).first().isVisible());
  await page.locator('.mission-item').first().waitFor({ state: 'visible' });
  // The title in the list and the heading come from the prompt too.
  await page.screenshot({ path: join(ARTIFACTS, 'xss.png') });
  // Give a smuggled onerror handler every chance to fire.
  await page.waitForTimeout(1000);
  const injected = await page.evaluate(
    () => Array.from(document.images).filter((img) => ['x', 'y'].includes(img.getAttribute('src'))).length,
  );
  assert.equal(injected, 0, 'no <img src=x> reached the DOM');
  assert.equal(await page.evaluate(() => window.__gantryXss), undefined, 'no injected handler ran');
  assert.deepEqual(dialogs, [], 'no dialog was opened');
  // Reopening the mission renders the stored conversation: still text.
  await page.reload();
  await page.locator('.msg-user .msg-body').first().waitFor({ state: 'visible' });
  assert.equal(await page.locator('.msg-user .msg-body').first().textContent(), prompt);
  await page.waitForTimeout(500);
  assert.equal(await page.evaluate(() => window.__gantryXss), undefined, 'no injected handler ran after a reload');
  assert.deepEqual(dialogs, []);
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, [], 'no page errors, console errors or CSP violations');
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
