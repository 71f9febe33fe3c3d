// The node path end to end, as a person would use it: a request for a React app reaches a plan,
// is built offline in the sandbox (`npm run build && npm test` over the curated set) and its built
// output is previewed on its own origin, under the preview's CSP. The React kind's DOM contract
// (see docs/offline-brain.md): an input labelled "New <item>", an "Add" button, `<ul id="items">`
// with one `<li>` per item (a checkbox and a "Remove" button), and `#open-count` holding the
// number of open items.
//
// Run: GANTRY_BIN=/path/to/gantry node --test react.test.mjs   (see run.sh)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FINAL, apiSession, openPreview, startGantry } from './harness.mjs';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const REQUEST = 'Build me a React app to track my reading list';
const BUILD_SECONDS = 180;

let gantry;
let call;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gantry = await startGantry();
  call = await apiSession(gantry);
});

after(async () => {
  if (gantry) await gantry.stop();
});

test('a React app is planned, built offline, and works in its preview', { timeout: (BUILD_SECONDS + 60) * 1000 }, async () => {
  const first = await call('POST', '/gantry/consult', { message: REQUEST, publish: false });
  assert.equal(first.status, 200, JSON.stringify(first.data));
  const id = first.data.mission_id;
  const plan = first.data.consultation;
  assert.equal(plan.status, 'NEEDS_CONFIRMATION', `no plan for the first message: ${first.data.response}`);
  assert.equal(plan.proposed_stack, 'node', JSON.stringify(plan));
  assert.match(first.data.response, /React \+ Vite \+ TypeScript/, first.data.response);

  const consent = await call('POST', '/gantry/consult', { message: 'yes, build it', mission_id: id });
  assert.equal(consent.status, 202, JSON.stringify(consent.data));
  const deadline = Date.now() + BUILD_SECONDS * 1000;
  let status;
  for (;;) {
    ({ data: status } = await call('GET', `/gantry/status/${id}`));
    if (FINAL.includes(status.status)) break;
    assert.ok(Date.now() < deadline, `still ${status.status} after ${BUILD_SECONDS} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.ok(['SUCCESS', 'DEPLOYED'].includes(status.status), JSON.stringify(status));
  assert.ok(gantry.isPreviewUrl(status.url), `the preview has its own origin: ${status.url}`);
  // The component tests checked every feature of the plan (via .gantry/results.json).
  assert.ok(status.features.length >= 4, JSON.stringify(status.features));
  for (const feature of status.features) {
    assert.ok(feature.built && feature.checked, `not built and checked: ${JSON.stringify(feature)}`);
  }

  const { context, app, errors, foreign } = await openPreview(gantry, status.url, {
    viewport: { width: 1000, height: 800 },
    consoleErrors: true,
  });
  const response = await app.goto(status.url);
  assert.match(response.headers()['content-security-policy'] || '', /script-src 'self'/, 'served under the CSP');

  // React rendered the page: the input, the empty list and a count of zero.
  const input = app.getByRole('textbox', { name: /^New / });
  await input.waitFor({ state: 'visible', timeout: 10000 });
  const count = app.locator('#open-count');
  assert.equal(await count.textContent(), '0');

  // Add one with the button, one with Enter; both are listed and counted.
  await input.fill('Middlemarch');
  await app.getByRole('button', { name: 'Add', exact: true }).click();
  await app.locator('#items li', { hasText: 'Middlemarch' }).waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await count.textContent(), '1');
  await input.fill('Dune');
  await input.press('Enter');
  await app.locator('#items li', { hasText: 'Dune' }).waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await count.textContent(), '2');

  // Tick one off, remove the other.
  await app.locator('#items li', { hasText: 'Middlemarch' }).getByRole('checkbox').check();
  assert.equal(await count.textContent(), '1');
  await app.locator('#items li', { hasText: 'Dune' }).getByRole('button', { name: /^Remove/ }).click();
  await app.locator('#items li', { hasText: 'Dune' }).waitFor({ state: 'detached', timeout: 5000 });
  assert.equal(await count.textContent(), '0');

  // It survives a reload, ticked as it was.
  await app.reload();
  const kept = app.locator('#items li', { hasText: 'Middlemarch' });
  await kept.waitFor({ state: 'visible', timeout: 10000 });
  assert.equal(await kept.getByRole('checkbox').isChecked(), true);
  assert.equal(await app.locator('#items li').count(), 1);
  assert.equal(await count.textContent(), '0');
  await app.screenshot({ path: join(ARTIFACTS, 'react-reading-list.png') });

  assert.deepEqual(errors, [], 'the app threw no errors and broke no CSP rule');
  assert.deepEqual(foreign, [], 'the app asked for nothing outside its own origin');
  await context.close();
});
