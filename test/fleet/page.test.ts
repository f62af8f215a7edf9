// The fleet page in headless Chromium (Debian's chromium, driven by playwright-core):
// hostile report text stays text, 50 servers a page, and a person approves a pending
// server through the page; the database then says approved. XS_UPDATE_DOCS=1 saves
// the screenshot as docs/fleet.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from '../../builder/paths.js';
import { openDb } from '../../builder/fleet/db.js';
import { FleetStore } from '../../builder/fleet/store.js';
import { CLI, runCli } from '../helpers/project.js';
import { freePort } from '../helpers/net.js';
import { mac, officeKey, post, requireTool, SimServer, startServe, type RunningServe } from './helpers.js';
import type { SigningKey } from '../../builder/updates/keys.js';

/** A request with a Host header of our choosing (fetch does not let a caller set it). */
function withHost(method: string, url: string, host: string, body?: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const missing = requireTool([CHROMIUM], 'chromium');

let tmp: string;
let db: string;
let key: SigningKey;
let serve: RunningServe;

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'xs-fleet-page-'));
  db = path.join(tmp, 'fleet-db');
  key = await officeKey(tmp);
});
after(async () => {
  if (serve && serve.child.exitCode === null) await serve.stop();
  await rm(tmp, { recursive: true, force: true });
});

test('approve a pending server through the page in Chromium', { skip: missing }, async () => {
  const site = 'rioja';
  const hosts = [{ host: 'escuela-101', macs: [mac(101)], nics: { wan: mac(101), lan: 'other' } }, { host: 'escuela-102', macs: [mac(102), mac(102, 1)], nics: { wan: mac(102), lan: mac(102, 1) } }];
  // Tokens issued straight into the database (the CLI path is tested in e2e.test.ts).
  const d = await openDb(db);
  const { migrate } = await import('../../builder/fleet/migrations.js');
  await migrate(d);
  const issued = await new FleetStore(d).issueTokens(site, hosts, new Date(Date.now() + 86400_000), new Date());
  await d.close();

  serve = await startServe(CLI, ['--db', db, '--listen', `127.0.0.1:${await freePort()}`, '--key', key.file]);
  const a = new SimServer(site, 'escuela-101', [mac(101)]);
  const b = new SimServer(site, 'escuela-102', [mac(102), mac(102, 1)]);
  assert.equal((await post(`${serve.url}v1/enrol`, a.enrol(issued[0].token))).json.status, 'approved');
  assert.equal((await post(`${serve.url}v1/enrol`, b.enrol(issued[1].token))).json.status, 'approved');
  const hostile = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>"'&`;
  assert.equal((await post(`${serve.url}v1/report`, a.report({ result: 'failed', error: `scripts: web-filter %post exited with 3 ${hostile}` }))).json.trust, 'trusted');
  assert.equal((await post(`${serve.url}v1/report`, b.report({ result: 'applied' }))).json.trust, 'trusted');
  assert.equal((await post(`${serve.url}v1/enrol`, new SimServer(site, 'escuela-101', [mac(101)]).enrol(issued[0].token))).json.status, 'conflict');
  for (let i = 0; i < 55; i++) await post(`${serve.url}v1/enrol`, new SimServer('paraguay', `escuela-${String(i).padStart(3, '0')}`, [mac(500 + i)]).enrol());
  const pending = new SimServer(site, 'escuela-new', [mac(900)]);
  assert.equal((await post(`${serve.url}v1/enrol`, pending.enrol())).json.status, 'pending');

  // The page's actions refuse requests that do not come from the page.
  const noOrigin = await post(`${serve.url}api/approve`, { site, host: 'escuela-new' });
  assert.equal(noOrigin.status, 403);
  const evil = await post(`${serve.url}api/approve`, { site, host: 'escuela-new' }, { Origin: 'http://evil.example' });
  assert.equal(evil.status, 403);
  // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
  const rebound = await withHost('POST', `${serve.url}api/approve`, 'evil.example', JSON.stringify({ site, host: 'escuela-new' }), { 'Content-Type': 'application/json', Origin: 'http://evil.example' });
  assert.equal(rebound, 421);
  assert.equal(await withHost('GET', `${serve.url}api/hosts`, 'evil.example'), 421, 'a rebound DNS name reads nothing either');

  const { chromium } = await import('playwright-core');
  const ctx = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const dialogs: string[] = [];
    page.on('dialog', (dlg) => {
      dialogs.push(dlg.message());
      void dlg.dismiss();
    });
    await page.goto(serve.url);
    assert.equal(await page.locator('#hosts tbody tr').count(), 50, '50 servers a page');
    assert.match((await page.locator('nav').first().textContent()) ?? '', /page 1 of 2 \(58 servers\)/);
    await page.goto(`${serve.url}?site=rioja`);
    assert.equal(await page.locator('#hosts tbody tr').count(), 3, 'filtered by site in the database');
    const text = (await page.locator('#hosts').textContent()) ?? '';
    assert.ok(text.includes('<script>window.__pwned=2</script>'), 'hostile report text is shown as text');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('#hosts img').count(), 0);
    assert.ok(((await page.locator('#waiting').textContent()) ?? '').includes('conflict'));
    // The docs' screenshot is refreshed on request only, so a test run leaves the checkout as it was.
    const shot = await page.screenshot({ path: path.join(process.env.XS_UPDATE_DOCS === '1' ? path.join(PROJECT_DIR, 'docs') : tmp, 'fleet.png'), fullPage: false });
    assert.ok(shot.length > 10_000, 'the page renders');

    // The history view of a server.
    await page.goto(`${serve.url}host?site=rioja&host=escuela-101`);
    const hist = (await page.locator('#history').textContent()) ?? '';
    assert.match(hist, /approved by install-time token/);
    assert.match(hist, /spent enrolment token used again/);

    await page.goto(`${serve.url}?site=rioja`);
    const row = page.locator('#waiting tr', { hasText: 'rioja/escuela-new' });
    await Promise.all([page.waitForEvent('load'), row.locator('button[data-action=approve]').click()]);
    assert.equal(await page.locator('#waiting tr', { hasText: 'rioja/escuela-new' }).count(), 0, 'no longer waiting');
    assert.deepEqual(dialogs, []);
  } finally {
    await ctx.close();
  }
  assert.equal(await serve.stop(), 0);
  assert.match(serve.output(), /approved rioja\/escuela-new \(enrolment \d+\) from the page/);

  const check = await openDb(db);
  try {
    const h = await new FleetStore(check).host(site, 'escuela-new');
    assert.equal(h?.state, 'approved');
    assert.equal(h?.approved_by, 'operator');
    assert.equal(h?.signing_key, pending.publicKey);
  } finally {
    await check.close();
  }
  // And the CLI agrees.
  const list = await runCli(['fleet', 'list', '--site', site, '--state', 'approved', '--json', '--db', db]);
  assert.ok(JSON.parse(list.stdout).hosts.some((x: { host: string }) => x.host === 'escuela-new'));
});
