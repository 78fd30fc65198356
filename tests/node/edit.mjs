// Drives `chapmark edit` in headless Chromium (Debian's, through playwright-core) for
// tests/edit.rs. Usage: node edit.mjs SCENARIO URL AUDIO SHOTS_DIR
//   pep:  load the PEP Think episode, move chapters by typing and dragging, a past-end
//         error refused on Save, fix, Save twice (file hashes printed), keyboard and ARIA.
//   long: page load time of a long episode.
// Prints one JSON line of observations; throws (exit 1) when the page misbehaves.
import { chromium } from 'playwright-core';
import { createHash } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const [scenario, url, audio, shots] = process.argv.slice(2);
const hash = () => createHash('sha256').update(readFileSync(audio)).digest('hex');
const profile = mkdtempSync(join(tmpdir(), 'chapmark-chromium-'));

// A fresh profile each run (Playwright passes it as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const out = {};
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10000 });
  out.readyMs = Math.round(await page.evaluate(() => window.chapmarkReadyMs));
  out.rows = await page.locator('#chapters tbody tr').count();
  if (scenario === 'pep') await pep(page);
  if (process.env.EDIT_WAIT_WAVEFORM) {
    // Figures for the report only (a cold waveform of a long episode takes a while).
    await page.waitForSelector('body[data-waveform="ready"]', { timeout: 600000 });
    out.waveformMs = Math.round(await page.evaluate(() => performance.now()));
  }
  assert.deepEqual(errors, [], 'no script errors');
  await page.close({ runBeforeUnload: false });
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));

async function checks(page) {
  return +(await page.evaluate(() => document.body.dataset.checks || 0));
}

// Waits for a validation answer newer than `before` with no edit still waiting to be
// checked (a debounced check could otherwise answer after the one we wait for).
async function checked(page, before) {
  await page.waitForFunction(
    (n) => +(document.body.dataset.checks || 0) > n && document.body.dataset.idle === 'true',
    before, { timeout: 10000 });
}

async function typeStart(page, row, text) {
  const before = await checks(page);
  await page.locator('#chapters tbody tr').nth(row).locator('input.start').fill(text);
  await checked(page, before);
}

async function saveAndWait(page) {
  const before = +(await page.evaluate(() => document.body.dataset.saves || 0));
  await page.click('#save');
  await page.waitForFunction((n) => +(document.body.dataset.saves || 0) > n, before, { timeout: 20000 });
  return page.locator('#status').textContent();
}

async function pep(page) {
  const rows = page.locator('#chapters tbody tr');
  out.firstTitle = await rows.nth(0).locator('input.title').inputValue();
  await page.waitForSelector('body[data-waveform="ready"]', { timeout: 400000 });
  await checked(page, 0);

  // The profile is a menu: Apple wants the first chapter at 0:00.
  let b = await checks(page);
  await page.selectOption('#profile', 'apple');
  await checked(page, b);
  out.appleFirst = await rows.nth(0).locator('.problems').textContent();
  b = await checks(page);
  await page.selectOption('#profile', 'default');
  await checked(page, b);

  // Add a chapter at the playhead, then delete it.
  b = await checks(page);
  await page.click('#add');
  await checked(page, b);
  out.added = await rows.count();
  b = await checks(page);
  await rows.nth(0).locator('button.del').click();
  await checked(page, b);
  out.afterDelete = await rows.count();

  // Chapter 2 by typing.
  await typeStart(page, 1, '13:30');
  out.typed = await rows.nth(1).locator('input.start').inputValue();

  // Chapter 3 by dragging its mark from 25:05 to about 27:00.
  const box = await page.locator('#wave').boundingBox();
  const dur = await page.evaluate(() => ed.durationMs);
  const xAt = (ms) => box.x + box.width * ms / dur;
  const y = box.y + box.height / 2;
  const before = await checks(page);
  await page.mouse.move(xAt(1505000), y);
  await page.mouse.down();
  await page.mouse.move(xAt(1620000), y, { steps: 8 });
  await page.mouse.up();
  await checked(page, before);
  out.dragged = await rows.nth(2).locator('input.start').inputValue();
  out.draggedMs = await page.evaluate(() => ed.rows[2].ms);

  // Past the end (38:00): the error shows next to chapter 3 and Save is refused.
  const unsaved = hash();
  await typeStart(page, 2, '40:00');
  out.pastEnd = await rows.nth(2).locator('.problems').textContent();
  out.refused = await saveAndWait(page);
  out.unchanged = hash() === unsaved;
  if (shots) await page.screenshot({ path: join(shots, 'edit-past-end.png'), fullPage: true });

  // Fix it, edit a Japanese title, Save twice.
  await typeStart(page, 2, '27:00');
  out.fixedProblems = await rows.nth(2).locator('.problems').textContent();
  const before2 = await checks(page);
  await rows.nth(0).locator('input.title').fill('物理AIの「実装ギャップ」(改訂)');
  await checked(page, before2);
  out.saved = await saveAndWait(page);
  out.hash1 = hash();
  out.changed = out.hash1 !== unsaved;
  out.saved2 = await saveAndWait(page);
  out.hash2 = hash();
  out.afterSave = await page.evaluate(() => ed.rows.map((r) => [r.start, r.title]));
  await keyboard(page);
  if (shots) await page.screenshot({ path: join(shots, 'edit-saved.png'), fullPage: true });

  // Export as WebVTT next to the episode; paste show notes; reload what the file holds.
  await page.selectOption('#format', 'vtt');
  await page.click('#export');
  await page.waitForFunction(() => /export/.test(document.getElementById('status').textContent));
  out.exported = await page.locator('#status').textContent();
  await page.click('#paste');
  await page.fill('#paste-text', '0:00 はじめに\n05:00 本題 https://example.com/a\n');
  let b4 = await checks(page);
  await page.click('#paste-ok');
  await checked(page, b4);
  out.pasted = await page.evaluate(() => ed.rows.map((r) => [r.start, r.title, r.url]));
  page.once('dialog', (d) => d.accept());
  b4 = await checks(page);
  await page.click('#reload');
  await checked(page, b4);
  out.reloaded = await page.evaluate(() => ed.rows.map((r) => [r.start, r.title]));
}

async function keyboard(page) {
  // Tab order starts at the toolbar; every control has an accessible name.
  await page.click('h1');
  await page.keyboard.press('Tab');
  out.firstTab = await page.evaluate(() => document.activeElement.id);
  out.unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, select, canvas, audio')]
    .filter((e) => !(e.getAttribute('aria-label') || e.labels?.length || e.textContent.trim()))
    .map((e) => e.outerHTML.slice(0, 80)));
  // Alt+N jumps to the next chapter and focuses its title; Alt+S sets a start to the playhead.
  await page.evaluate(() => { document.getElementById('player').currentTime = 0; });
  await page.focus('#wave');
  await page.keyboard.press('Alt+N');
  out.altN = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  await page.evaluate(() => { document.getElementById('player').currentTime = 200.5; });
  const before = await checks(page);
  await page.keyboard.press('Alt+S');
  await checked(page, before);
  out.altS = await page.locator('#chapters tbody tr').nth(0).locator('input.start').inputValue();
  // Back to the saved value so the page holds no unsaved edit.
  await typeStart(page, 0, out.afterSave[0][0]);
}
