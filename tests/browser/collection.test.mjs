// Apps beyond the offline brain's fixed kinds, as a person would use them: three requests reach a
// plan in at most two turns and are built; each preview, on its own origin, stores a record that
// survives a reload and is found by search. The collection app's DOM contract (see
// docs/offline-brain.md): `<form id="add-form">` with one named field per record field,
// `<input type="search" id="search">`, and `<ul id="items">` with one `<li>` per record.
//
// Run: GANTRY_BIN=/path/to/gantry node --test collection.test.mjs   (see run.sh)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FINAL, apiSession, openPreview, startGantry } from './harness.mjs';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

let gantry;
let call;

/** The request, and one plain follow-up if Gantry asks: a plan within two turns, then consent. */
async function planAndBuild(request) {
  const first = await call('POST', '/gantry/consult', { message: request, publish: false });
  assert.equal(first.status, 200, JSON.stringify(first.data));
  const id = first.data.mission_id;
  let plan = first.data;
  if (plan.consultation.status !== 'NEEDS_CONFIRMATION') {
    const second = await call('POST', '/gantry/consult', { message: 'just keep it simple', mission_id: id });
    assert.equal(second.status, 200, JSON.stringify(second.data));
    plan = second.data;
  }
  assert.equal(plan.consultation.status, 'NEEDS_CONFIRMATION', `${request}: no plan in two turns: ${plan.response}`);
  const consent = await call('POST', '/gantry/consult', { message: 'yes, build it', mission_id: id });
  assert.equal(consent.status, 202, JSON.stringify(consent.data));
  const deadline = Date.now() + 120000;
  for (;;) {
    const { data } = await call('GET', `/gantry/status/${id}`);
    if (FINAL.includes(data.status)) return data;
    assert.ok(Date.now() < deadline, `${request}: still ${data.status} after 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** A value a form control accepts, distinctive enough to search for. */
function valueFor(control, marker) {
  if (control.tag === 'select') return control.options.find((o) => o) || null;
  switch (control.type) {
    case 'number':
      return '12';
    case 'date':
      return '2026-12-03';
    case 'checkbox':
    case 'radio':
      return null;
    default:
      return `${marker} ${control.name}`;
  }
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gantry = await startGantry();
  call = await apiSession(gantry);
});

after(async () => {
  if (gantry) await gantry.stop();
});

for (const [request, marker] of [
  ['I want a recipe box where I can save my recipes and tag them', 'Lentil soup'],
  ["I'd like a habit tracker for my morning routine", 'Stretching'],
  ['can you make me an expense list?', 'Train tickets'],
]) {
  test(`"${request}" becomes an app whose records survive a reload`, { timeout: 180000 }, async () => {
    const status = await planAndBuild(request);
    assert.ok(['SUCCESS', 'DEPLOYED'].includes(status.status), `${request}: ${JSON.stringify(status)}`);
    assert.ok(gantry.isPreviewUrl(status.url), `the preview has its own origin: ${status.url}`);

    const { context, app, errors, foreign } = await openPreview(gantry, status.url, {
      viewport: { width: 1100, height: 850 },
    });
    await app.goto(status.url);

    // One value per field of the add form, then submit.
    const form = app.locator('#add-form');
    await form.waitFor({ state: 'visible' });
    const controls = await form.evaluate((node) =>
      Array.from(node.elements)
        .filter((e) => e.name && !e.disabled && e.type !== 'submit' && e.type !== 'button' && e.type !== 'hidden')
        .map((e) => ({
          name: e.name,
          tag: e.tagName.toLowerCase(),
          type: e.type,
          options: e.tagName === 'SELECT' ? Array.from(e.options, (o) => o.value).filter(Boolean) : [],
        })),
    );
    assert.ok(controls.length > 0, 'the add form has fields');
    for (const control of controls) {
      const value = valueFor(control, marker);
      if (value === null) continue;
      const field = form.locator(`[name="${control.name}"]`);
      if (control.tag === 'select') await field.selectOption(value);
      else await field.fill(value);
    }
    await form.locator('[type="submit"]').first().click();
    const record = app.locator('#items li', { hasText: marker });
    await record.waitFor({ state: 'visible', timeout: 5000 });

    // It survives a reload: the app's storage works on its own origin.
    await app.reload();
    await app.locator('#items li', { hasText: marker }).waitFor({ state: 'visible', timeout: 5000 });

    // Search finds it, and a search for something else hides it.
    await app.locator('#search').fill(marker.split(' ')[0]);
    await app.locator('#items li', { hasText: marker }).waitFor({ state: 'visible' });
    await app.locator('#search').fill('zzz-no-such-record');
    await app.locator('#items li', { hasText: marker }).waitFor({ state: 'hidden' });
    await app.locator('#search').fill('');
    await app.screenshot({ path: join(ARTIFACTS, `collection-${marker.split(' ')[0].toLowerCase()}.png`) });

    assert.deepEqual(errors, [], 'the app threw no errors');
    assert.deepEqual(foreign, [], 'the app asked for nothing outside its own origin');
    await context.close();
  });
}
