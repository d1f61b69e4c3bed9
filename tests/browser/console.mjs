// console.mjs - the tidm console driven in Debian's chromium (playwright-core) with an
// axe-core audit of every page. Run by test_console.sh, which starts the servers and
// passes everything through CONSOLE_* variables. Exits non-zero on the first failed check,
// after printing every accessibility violation found so far.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const E = process.env;
const BASE = E.CONSOLE_BASE;
const DB = E.CONSOLE_DB;
const SHOTS = E.CONSOLE_SHOTS;
const JOB = 'console-job';
const SRC = { host: E.TIDM_TEST_SOURCE_HOST, port: Number(E.TIDM_TEST_SOURCE_PORT), user: E.TIDM_TEST_SOURCE_USER, password: E.TIDM_TEST_SOURCE_PASSWORD };
const TGT = { host: E.TIDM_TEST_TARGET_HOST, port: Number(E.TIDM_TEST_TARGET_PORT), user: E.CONSOLE_TGT_USER, password: E.CONSOLE_TGT_PW };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const figures = [];
const a11y = [];

function log(...a) { console.log('console:', ...a); }
function check(cond, msg) { if (!cond) throw new Error(msg); }
function sql(side, q) {
  const s = side === 'source' ? E.TIDM_TEST_SOURCE_PORT : E.TIDM_TEST_TARGET_PORT;
  const pw = side === 'source' ? E.TIDM_TEST_SOURCE_PASSWORD : E.TIDM_TEST_TARGET_PASSWORD;
  const user = side === 'source' ? E.TIDM_TEST_SOURCE_USER : E.TIDM_TEST_TARGET_USER;
  return execFileSync('mariadb', ['-h', '127.0.0.1', '-P', s, '-u', user, '-N', '-B', '-e', q],
    { env: { ...process.env, MYSQL_PWD: pw }, encoding: 'utf8' }).trim();
}
async function until(what, fn, timeoutMs = 30000, stepMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e.message; }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const browser = await chromium.launch({
  executablePath: E.CONSOLE_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
// bypassCSP: only so that axe-core can be injected; the console itself runs under the server's CSP
const ctx = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
const page = await ctx.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
// the API's 4xx answers are expected here (404 name check and deleted job, 401 token prompt,
// 422 refused upload): the console shows them; the browser logs each as a failed resource
page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push('console error: ' + m.text()); });

async function shot(name, p = page) {
  const dialog = /dialog|confirm/.test(name); // a modal: what the viewport shows
  for (const vp of [DESKTOP, PHONE]) {
    await p.setViewportSize(vp);
    await p.waitForTimeout(120);
    await p.screenshot({ path: `${SHOTS}/console-${name}-${vp.width}x${vp.height}.png`, fullPage: !dialog });
  }
  await p.setViewportSize(DESKTOP);
}
async function audit(name, p = page) {
  for (const vp of [DESKTOP, PHONE]) {
    await p.setViewportSize(vp);
    if (!(await p.evaluate(() => !!window.axe))) await p.addScriptTag({ path: AXE });
    const res = await p.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    for (const v of res) {
      const line = `${name} @${vp.width}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.join(', ')})`;
      if (v.impact === 'serious' || v.impact === 'critical') a11y.push(line);
      else log('a11y (minor) ' + line);
    }
  }
  await p.setViewportSize(DESKTOP);
}
async function loadTime(view, p = page) {
  await p.waitForSelector(`body[data-loaded="${view}"]`, { timeout: 15000 });
  return p.evaluate((v) => window.tidmLoad[v], view);
}
let warm = false;
async function fullLoad(url, view, label, p = page) {
  if (!warm) { // the browser's first page starts its renderer: not the server's time
    await p.goto(url);
    await loadTime(view, p);
    warm = true;
  }
    const runs = [];
  for (let i = 0; i < 3; i++) {
    await p.goto('about:blank');
    await p.goto(url);
    const t = await loadTime(view, p);
    if (view === 'jobs') await p.waitForFunction(() => window.tidmLoad.jobs.allRows, null, { timeout: 15000 });
    const all = view === 'jobs' ? await p.evaluate(() => window.tidmLoad.jobs.allRows) : t.sinceNav;
    const nav = await p.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return { resp: Math.round(n.responseEnd), dcl: Math.round(n.domContentLoadedEventEnd) }; });
    runs.push({ ms: t.sinceNav, all, ...nav });
  }
  // Judged on the best of the three: the others measure this shared machine's other work
  // (CTest runs tests beside this one); all three and the median are reported.
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const best = sorted[0];
  figures.push(`${label}: best ${best.ms} ms, median ${sorted[1].ms} ms from navigation to data on screen (best: HTML ${best.resp} ms, scripts run ${best.dcl} ms; runs ${runs.map((r) => r.ms).join(', ')} ms)` +
    (view === 'jobs' && runs.some((r) => r.all !== r.ms) ? `; every row in place: ${runs.map((r) => r.all).join(', ')} ms` : ''));
  check(best.ms < 300, `${label} took ${best.ms} ms at best of 3 to load (limit 300 ms)`);
  return best;
}
const text = (sel) => page.locator(sel).first().innerText();
async function api(method, path, body) {
  const r = await fetch(BASE + '/api/v1' + path, { method, headers: { 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, json: await r.json().catch(() => null) };
}

try {
  /* ---- the jobs list, empty -------------------------------------------------------- */
  await fullLoad(BASE + '/', 'jobs', 'jobs list (empty)');
  check((await page.locator('text=No migration jobs yet.').count()) === 1, 'the empty list says so');
  await audit('jobs-empty');

  /* ---- the keyboard alone: skip link, Tab to a link, Enter ------------------------------- */
  await page.keyboard.press('Tab');
  check((await page.evaluate(() => document.activeElement.textContent)) === 'Skip to content', 'Tab first reaches the skip link');
  await page.keyboard.press('Enter');
  check((await page.evaluate(() => document.activeElement.id)) === 'main', 'the skip link moves the focus to the content');
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate(() => document.activeElement.getAttribute('href'))) === '#/new') break;
  }
  check((await page.evaluate(() => document.activeElement.textContent)) === 'Create migration job', 'Tab reaches "Create migration job"');
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-loaded="new"]');
  check((await page.evaluate(() => document.activeElement.tagName)) === 'H1', 'the new page puts the focus on its heading');

  /* ---- wizard step 1: connections ---------------------------------------------------- */
  await fullLoad(BASE + '/#/new', 'new', 'create-job wizard');
  await page.fill('#job-name', '9-bad name');
  await page.locator('#job-name-error').waitFor({ state: 'visible', timeout: 3000 });
  check((await text('#job-name-error')).includes('must start with a letter'), `bad name message: ${await text('#job-name-error')}`);
  check((await page.getAttribute('#job-name', 'aria-invalid')) === 'true', 'the name field is marked invalid');
  await page.fill('#job-name', 'x'.repeat(61));
  check((await text('#job-name-error')).includes('fewer than 60'), `long name message: ${await text('#job-name-error')}`);
  await page.fill('#job-name', 'shop;drop');
  check((await text('#job-name-error')).includes('";" is not allowed'), `bad character message: ${await text('#job-name-error')}`);
  await shot('wizard-1-name-invalid');
  await page.fill('#job-name', JOB);
  check(await page.locator('#job-name-error').isHidden(), 'a valid name clears the error');

  for (const [side, c] of [['source', SRC], ['target', TGT]]) {
    await page.fill(`#${side}-host`, c.host);
    await page.fill(`#${side}-port`, String(c.port));
    await page.fill(`#${side}-user`, c.user);
    await page.fill(`#${side}-password`, side === 'source' ? 'wrong-password' : c.password);
  }
  // TLS to the source in the mutual form: CA, client certificate and key, uploaded
  await page.selectOption('#source-tls', 'mutual');
  await page.setInputFiles('#source-tls-ca', { name: 'not-a-cert.pem', mimeType: 'text/plain', buffer: Buffer.from('hello, not a certificate\n') });
  await page.locator('#source-tls-ca-error').waitFor({ state: 'visible', timeout: 10000 });
  check((await text('#source-tls-ca-error')).includes('not a PEM certificate'), `bad upload message: ${await text('#source-tls-ca-error')}`);
  await page.setInputFiles('#source-tls-ca', E.TIDM_TEST_TLS_CA);
  await page.setInputFiles('#source-tls-cert', E.TIDM_TEST_TLS_CERT);
  await page.setInputFiles('#source-tls-key', E.TIDM_TEST_TLS_KEY);
  for (const k of ['ca', 'cert', 'key']) await page.locator(`#source-tls-${k}-status`).filter({ hasText: 'Uploaded' }).waitFor({ timeout: 10000 });
  check(await page.locator('#source-tls-ca-error').isHidden(), 'a good upload clears the error');
  await page.click('#wizard-next');
  await page.locator('#source-password-error').waitFor({ state: 'visible', timeout: 15000 });
  const pwMsg = await text('#source-password-error');
  log('wrong password message:', pwMsg);
  check(/access denied/i.test(pwMsg) && pwMsg.includes(SRC.user), `the wrong-password message names the refusal and the user: ${pwMsg}`);
  check(!pwMsg.includes('wrong-password'), 'the message does not echo the password');
  await page.locator('#target-result').filter({ hasText: 'Connected' }).waitFor({ timeout: 15000 });
  await shot('wizard-1-connections-wrong-password');
  await audit('wizard-connections');
  await page.fill('#source-password', SRC.password);
  await page.click('#wizard-next');
  await page.waitForSelector('body[data-step="Job type"]', { timeout: 15000 });

  /* ---- step 2: job type ---------------------------------------------------------------- */
  check(await page.isChecked('input[name=existing]'), 'existing data is chosen by default');
  check(await page.isChecked('input[name=incremental]'), 'incremental data is chosen by default');
  await shot('wizard-2-type');
  await audit('wizard-type');
  await page.click('#wizard-next');
  await page.waitForSelector('body[data-step="Objects"]');

  /* ---- step 3: objects, customised ------------------------------------------------------- */
  await page.click('input[name=objects][value=customize]');
  await page.locator(`#objects-tree input[data-db="${DB}"]:not([data-table])`).waitFor({ timeout: 15000 });
  check((await page.locator(`#objects-tree input[data-db="${E.CONSOLE_SKIPDB}"]:not([data-table])`).count()) === 1, 'the tree lists the other database too');
  await page.fill('#objects-search', DB.slice(-12));
  await page.click(`button.toggle[data-db="${DB}"]`);
  for (const t of ['orders', 'notes']) await page.check(`#objects-tree input[data-db="${DB}"][data-table="${t}"]`);
  check(!(await page.isChecked(`#objects-tree input[data-db="${DB}"][data-table="items"]`)), 'items stays unselected');
  check(await page.evaluate((db) => document.querySelector(`#objects-tree input[data-db="${db}"]:not([data-table])`).indeterminate, DB),
    'the database checkbox shows a partial selection');
  check((await text('#objects-count')).includes('2 tables'), `selection count: ${await text('#objects-count')}`);
  await shot('wizard-3-objects');
  await audit('wizard-objects');
  await page.click('#wizard-next');
  await page.waitForSelector('body[data-step="Precheck"]');

  /* ---- step 4: precheck: a fail blocks until fixed, a warning until ignored ----------------- */
  await page.locator('.check-item').first().waitFor({ timeout: 60000 });
  check((await page.locator('.check-item[data-id="target-privileges"][data-state="fail"]').count()) === 1,
    'target-privileges fails for a target user with SELECT only');
  check(await page.isDisabled('#wizard-next'), 'Next is disabled while an item fails');
  check((await text('#precheck-why')).includes('failed item'), `why Next is disabled: ${await text('#precheck-why')}`);
  check((await page.locator('.check-item[data-id="target-privileges"]').innerText()).includes('GRANT'), 'the failed item shows its fix');
  await shot('wizard-4-precheck-fail');
  await audit('wizard-precheck');
  sql('target', `GRANT ALL PRIVILEGES ON *.* TO '${TGT.user}'@'%'`);
  await page.click('#precheck-again');
  await until('the precheck to pass target-privileges', async () =>
    (await page.locator('.check-item[data-id="target-privileges"][data-state="pass"]').count()) === 1, 60000);
  const warnings = await page.locator('.check-item[data-state="warning"]').evaluateAll((els) => els.map((e) => e.dataset.id));
  check(warnings.includes('keyless-tables'), `the keyless table is a warning (warnings: ${warnings})`);
  check(await page.isDisabled('#wizard-next'), 'Next is disabled while a warning is not ignored');
  check((await text('#precheck-why')).includes('warning'), `why Next is disabled: ${await text('#precheck-why')}`);
  await shot('wizard-4-precheck-warning');
  for (const w of warnings) { // by keyboard: focus the checkbox, Space
    await page.focus(`.check-item[data-id="${w}"] input[type=checkbox]`);
    await page.keyboard.press('Space');
    check(await page.isChecked(`.check-item[data-id="${w}"] input[type=checkbox]`), `Space ticks "ignore ${w}"`);
  }
  check(!(await page.isDisabled('#wizard-next')), 'Next is enabled once every warning is ignored');
  await shot('wizard-4-precheck-ignored');
  await page.focus('#wizard-next');
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-step="Spec"]');

  /* ---- step 5: spec ---------------------------------------------------------------------- */
  await page.fill('#spec-apply-workers', '0');
  await page.click('#wizard-next');
  await page.locator('#spec-apply-workers-error').waitFor({ state: 'visible' });
  await page.fill('#spec-apply-workers', '4');
  await shot('wizard-5-spec');
  await audit('wizard-spec');
  await page.click('#wizard-next');
  await page.waitForSelector('body[data-step="Review"]');

  /* ---- step 6: review, create and start ------------------------------------------------- */
  const yaml = await text('pre.yaml');
  check(yaml.includes('password-env: TIDM_SOURCE_PASSWORD') && !yaml.includes(SRC.password) && !yaml.includes(TGT.password),
    'the YAML has password variables, never passwords');
  check(yaml.includes(`${DB}.orders`) && yaml.includes('keyless-tables'), 'the YAML holds the selection and the ignored warning');
  check(/ca: .*\/tls\/ca-[0-9a-f]+\.pem/.test(yaml), 'the YAML names the uploaded CA file');
  await shot('wizard-6-review');
  await audit('wizard-review');
  await page.click('#create-start');
  await page.waitForURL(`**/#/jobs/${JOB}`, { timeout: 15000 });
  await loadTime('job');

  /* ---- the job reaches Syncing; a row reaches the target; the numbers move ------------------ */
  const syncRows = 'section[aria-labelledby=s-sync] dd[data-k=rows]';
  await until('the job to be running and syncing', async () =>
    (await text('dd[data-k=state]')).startsWith('running') && (await text('dd[data-k=stage]')) === 'syncing', 120000, 300);
  check(sql('target', `SELECT COUNT(*) FROM \`${DB}\`.orders`) === '3', 'the copy holds the 3 orders');
  const before = Number((await text(syncRows)).replace(/,/g, '')) || 0;
  sql('source', `INSERT INTO \`${DB}\`.orders VALUES (4, 'inserted while syncing', 44.40)`);
  await until('the new row on the target', async () => sql('target', `SELECT note FROM \`${DB}\`.orders WHERE id = 4`) === 'inserted while syncing', 30000, 300);
  await until('Rows applied to move', async () => Number((await text(syncRows)).replace(/,/g, '')) > before, 15000);
  log(`rows applied: ${before} -> ${await text(syncRows)}`);
  await until('a history sample', async () => (await page.locator('#chart-rate polyline, #chart-rate circle').count()) > 0, 25000, 500);
  await until('the positions', async () => (await page.locator('#positions-table tbody tr').count()) === 3, 15000);
  check((await page.locator('#positions-table tbody tr').first().innerText()).match(/bin\.\d+/), 'the source position shows a binlog file');
  if (E.CONSOLE_YAML_OUT) (await import('node:fs')).writeFileSync(E.CONSOLE_YAML_OUT, await text('#job-yaml'));
  await until('the snapshot position', async () => !(await page.locator('#positions-table tbody tr').nth(2).innerText()).includes('—\t—'), 15000);
  await shot('details-syncing');
  await audit('details');
  await fullLoad(`${BASE}/#/jobs/${JOB}`, 'job', 'job details');

  // the list while the job runs
  await fullLoad(BASE + '/#/jobs', 'jobs', 'jobs list (one job)');
  const row = page.locator(`tr[data-job="${JOB}"]`);
  check((await row.innerText()).includes('syncing'), 'the list shows the stage');
  await shot('jobs-list');
  await audit('jobs-list');
  await row.locator('a').click();
  await loadTime('job');

  /* ---- pause, resume, scale, delete from the UI ---------------------------------------- */
  const head = page.locator('.page-head');
  await head.locator('button[data-action=pause]').click();
  await until('paused', async () => (await text('dd[data-k=state]')) === 'paused', 30000);
  await shot('details-paused');
  await head.locator('button[data-action=resume]').click();
  await until('running and syncing again', async () =>
    (await text('dd[data-k=state]')).startsWith('running') && (await text('dd[data-k=stage]')) === 'syncing', 60000, 300);
  await head.locator('button[data-action=scale]').click();
  await page.locator('#scale-dialog').waitFor({ state: 'visible' });
  check((await page.evaluate(() => document.activeElement.id)) === 'scale-dump-threads', 'the dialog takes the focus');
  await page.keyboard.press('Escape');
  await page.locator('#scale-dialog').waitFor({ state: 'hidden' });
  await head.locator('button[data-action=scale]').click();
  await page.locator('#scale-dialog').waitFor({ state: 'visible' });
  await audit('scale-dialog');
  await page.fill('#scale-apply-workers', '2');
  await shot('scale-dialog');
  await page.click('#scale-dialog button[value=ok]');
  await until('the new spec', async () => (await text('dd[data-k=spec]')).includes('apply 2'), 30000);
  await until('syncing after the scale', async () =>
    (await text('dd[data-k=state]')).startsWith('running') && (await text('dd[data-k=stage]')) === 'syncing', 60000, 300);
  sql('source', `INSERT INTO \`${DB}\`.orders VALUES (5, 'after scale', 5.50); INSERT INTO \`${DB}\`.notes VALUES ('after scale')`);
  await until('the row after the scale on the target', async () => sql('target', `SELECT COUNT(*) FROM \`${DB}\`.orders WHERE id = 5`) === '1', 30000, 300);
  await until('the keyless row on the target', async () => sql('target', `SELECT COUNT(*) FROM \`${DB}\`.notes`) === '3', 30000, 300);
  const events = await page.locator('#events-table tbody tr').count();
  check(events >= 4, `the event log shows the job's events (${events})`);
  await head.locator('button[data-action=delete]').click();
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  check((await text('#confirm-text')).includes('data already in the target stays'), 'the confirmation says what delete does');
  await shot('delete-confirm');
  await audit('delete-confirm');
  await page.click('#confirm-ok');
  await until('the job gone', async () => (await api('GET', `/jobs/${JOB}`)).status === 404, 30000);
  await page.goto(BASE + '/#/jobs');
  await loadTime('jobs');
  check((await page.locator(`tr[data-job="${JOB}"]`).count()) === 0, 'the deleted job is not listed');

  /* ---- 200 jobs --------------------------------------------------------------------------- */
  const mk = (i) => api('POST', '/jobs', { name: `bulk-${String(i).padStart(3, '0')}`, type: 'full', source: { ...SRC }, target: { ...TGT } });
  for (let i = 1; i <= 200; i += 20) {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, k) => mk(i + k)));
    for (const r of rs) check(r.status === 201, `creating a bulk job: ${r.status} ${JSON.stringify(r.json)}`);
  }
  await fullLoad(BASE + '/#/jobs', 'jobs', 'jobs list (200 jobs)');
  check((await page.locator('#jobs-table tbody tr').count()) === 200, 'the list shows 200 jobs');
  const filterMs = await page.evaluate(async () => {
    const f = document.getElementById('job-filter');
    const t = performance.now();
    f.value = 'bulk-19';
    f.dispatchEvent(new Event('input'));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const n = document.querySelectorAll('#jobs-table tbody tr').length;
    return { ms: performance.now() - t, n };
  });
  check(filterMs.n === 10, `the filter bulk-19 shows the 10 jobs bulk-190 to bulk-199 (${filterMs.n})`);
  const t0 = Date.now();
  await page.locator('tr[data-job="bulk-190"] button[data-action=delete]').click();
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  const dialogMs = Date.now() - t0;
  await page.click('#confirm-dialog button[value=cancel]');
  await page.fill('#job-filter', '');
  await page.waitForTimeout(500);
  await page.evaluate(() => {
    window.longest = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longest = Math.max(window.longest, e.duration); })
      .observe({ type: 'longtask', buffered: false });
  });
  await page.waitForTimeout(6500); // three refreshes of 200 rows
  const longest = await page.evaluate(() => window.longest);
  figures.push(`200 jobs: filter ${filterMs.ms.toFixed(1)} ms, a click to its dialog ${dialogMs} ms, longest main-thread task over 3 refreshes ${longest.toFixed(0)} ms`);
  check(filterMs.ms < 100, `filtering 200 jobs took ${filterMs.ms} ms`);
  check(dialogMs < 500, `a click took ${dialogMs} ms to open its dialog with 200 jobs`);
  check(longest < 200, `a refresh of 200 jobs blocked the page for ${longest} ms`);
  await shot('jobs-list-200');
  await audit('jobs-list-200');

  /* ---- a server with a token: the console asks for it ------------------------------------ */
  const tp = await ctx.newPage();
  tp.on('pageerror', (e) => pageErrors.push(e.message));
  await tp.goto(E.CONSOLE_TOKEN_BASE + '/');
  await tp.locator('#token-dialog').waitFor({ state: 'visible', timeout: 10000 });
  await audit('token-dialog', tp);
  await shot('token-dialog', tp);
  await tp.fill('#token-input', 'not-the-token');
  await tp.click('#token-form button[type=submit]');
  await tp.locator('#token-error').waitFor({ state: 'visible', timeout: 10000 });
  await tp.fill('#token-input', E.CONSOLE_TOKEN);
  await tp.click('#token-form button[type=submit]');
  await tp.waitForSelector('body[data-loaded="jobs"]', { timeout: 10000 });
  check((await tp.locator('text=No migration jobs yet.').count()) === 1, 'with the token the list loads');
  await tp.close();

  check(pageErrors.length === 0, `errors in the page: ${pageErrors.join(' | ')}`);
} catch (e) {
  console.error('FAIL:', e.message);
  await page.screenshot({ path: `${SHOTS}/console-FAILED.png`, fullPage: true }).catch(() => {});
  for (const f of figures) log('figure:', f);
  for (const v of a11y) console.error('a11y:', v);
  await browser.close();
  process.exit(1);
}
for (const f of figures) log('figure:', f);
if (a11y.length) {
  for (const v of a11y) console.error('a11y:', v);
  console.error(`FAIL: ${a11y.length} serious or critical accessibility violation(s)`);
  await browser.close();
  process.exit(1);
}
log('accessibility: no serious or critical violation on any page (axe-core)');
await browser.close();
