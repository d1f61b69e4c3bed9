/*
 * details.js - one job in the tidm console: state and stage with its actions, progress per
 * phase (tables, rows, bytes, %, rate, ETA), charts of the replication lag and the apply
 * rate (GET /jobs/{name}/history), positions of the source and the checkpoint (GET
 * /jobs/{name}/positions), the verification results per table (GET /jobs/{name}/verify),
 * the event log, the last error with a hint, the last precheck,
 * alert subscriptions, and the job as YAML for `tidm migrate`.
 *
 * DESIGN
 * The status is polled every 2 s and written into fixed elements (no re-render, so the
 * focus and the reader's place stay); the history every 10 s (the server samples every
 * 5 s); positions every 10 s (they cost the server a connection to each side); events are
 * fetched incrementally (?after=). Charts are inline SVG drawn here: two line series are
 * not worth a chart library in the binary.
 */
'use strict';

(() => {
  const { h, setText, api, firstGet, enc, num, bytes, duration, time, toast, focusHeading, loaded, actionButtons, stateBadge, stageText, jobYaml, precheckList } = tidm;

  /* A line chart of [t, v] points over the last `span` ms, as SVG. */
  function lineChart(points, span, label, unit) {
    const W = 560;
    const H = 170;
    const L = 54;
    const R = 10;
    const T = 10;
    const B = 26;
    const now = Date.now();
    const pts = points.filter((p) => p[0] >= now - span && p[1] !== null);
    const max = Math.max(1, ...pts.map((p) => p[1]));
    const x = (t) => L + ((t - (now - span)) / span) * (W - L - R);
    const y = (v) => T + (1 - v / max) * (H - T - B);
    const ns = 'http://www.w3.org/2000/svg';
    const el = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const last = pts.length ? pts[pts.length - 1][1] : null;
    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
      'aria-label': `${label}: ${pts.length ? `latest ${num(last)} ${unit}, highest ${num(max)} ${unit} over the shown period` : 'no samples in the shown period'}` });
    for (const f of [0, 0.5, 1]) {
      svg.append(el('line', { class: 'grid', x1: L, x2: W - R, y1: y(max * f), y2: y(max * f) }));
      svg.append(el('text', { x: L - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, num(max * f)));
    }
    svg.append(el('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
    svg.append(el('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
    const mins = Math.round(span / 60000);
    svg.append(el('text', { x: L, y: H - 8 }, mins >= 60 ? `${mins / 60} h ago` : `${mins} min ago`));
    svg.append(el('text', { x: W - R, y: H - 8, 'text-anchor': 'end' }, 'now'));
    if (pts.length === 1) {
      svg.append(el('circle', { cx: x(pts[0][0]), cy: y(pts[0][1]), r: 3, fill: '#1f4e8c' }));
    } else if (pts.length > 1) {
      svg.append(el('polyline', { class: 'line', points: pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ') }));
    }
    if (!pts.length) svg.append(el('text', { x: (W + L) / 2, y: H / 2, 'text-anchor': 'middle' }, 'no samples yet'));
    return svg;
  }

  /* A hint for the last error, from what its message says (the SPEC §6 messages). */
  function errorHint(msg) {
    const m = (msg || '').toLowerCase();
    const fix = (msg || '').match(/\(fix: ([^)]*)\)/);
    if (fix) return fix[1];
    if (m.includes('precheck')) return 'Fix the items named above (or list a weighed warning in precheck.ignore), then resume the job.';
    if (m.includes('access denied') || m.includes('password')) return 'Check the user name and password of that side; the job resumes once they are right (delete and create it again to change them).';
    if (m.includes("can't connect") || m.includes('unreachable') || m.includes('lost connection') || m.includes('timed out')) return 'tidm retries a lost connection by itself with backoff. If it persists, check that the server runs and that the network and firewall let tidm reach it.';
    if (m.includes('purged') || m.includes('binlog')) return 'The binary log the job needs is gone from the source: raise binlog retention and restart the job (Restart copies the data again from a new snapshot).';
    if (m.includes('duplicate')) return 'The target holds rows the source does not: Restart replaces conflicting rows, or remove them from the target and resume.';
    if (m.includes('disk') || m.includes('space')) return 'Free space on the target, then resume: the job continues from its checkpoint.';
    return 'Resume the job once the cause is fixed; it continues from its checkpoint.';
  }

  function detailsView(main, name, t0) {
    document.title = `${name} · tidm`;
    const nEnc = enc(name);
    const title = h('h1', null, name);
    const badge = h('span');
    const actions = h('div');
    const err = h('div', { class: 'error-box', hidden: true, id: 'job-error', role: 'alert' });
    const notFound = h('p', { class: 'field-error', hidden: true, role: 'alert' });

    const kvState = {};
    const kvFull = {};
    const kvSync = {};
    const dl = (store, rows) => h('dl', { class: 'kv' }, rows.map(([k, label]) => { store[k] = h('dd', { dataset: { k } }, '—'); return [h('dt', null, label), store[k]]; }));
    const fullBar = h('progress', { max: 100, value: 0, 'aria-label': 'Existing data copied', id: 'full-progress' });
    const panels = h('div', { class: 'cards' },
      h('section', { class: 'panel', 'aria-labelledby': 's-state' }, h('h2', { id: 's-state' }, 'Stage and status'),
        dl(kvState, [['state', 'State'], ['stage', 'Stage'], ['type', 'Type'], ['mode', 'Mode'], ['spec', 'Spec'], ['created', 'Created'], ['updated', 'Updated']])),
      h('section', { class: 'panel', 'aria-labelledby': 's-full' }, h('h2', { id: 's-full' }, 'Existing data'),
        h('div', { class: 'progress' }, fullBar, kvFull.pct = h('span', null, '—')),
        dl(kvFull, [['tables', 'Tables'], ['chunks', 'Chunks'], ['rows', 'Rows'], ['bytes', 'Bytes'], ['rate', 'Rate'], ['eta', 'ETA']])),
      h('section', { class: 'panel', 'aria-labelledby': 's-sync' }, h('h2', { id: 's-sync' }, 'Incremental data'),
        dl(kvSync, [['lag', 'Lag'], ['apply', 'Apply rate'], ['events', 'Binlog events'], ['txns', 'Transactions'], ['rows', 'Rows applied'], ['ddls', 'DDL statements'], ['safe', 'Safe mode'], ['reconnects', 'Reconnects']])));

    const spanSel = h('select', { id: 'chart-span' }, [[15, 'last 15 minutes'], [60, 'last hour'], [360, 'last 6 hours']].map(([v, l]) => h('option', { value: v }, l)));
    const lagBox = h('div', { id: 'chart-lag' });
    const rateBox = h('div', { id: 'chart-rate' });
    const charts = h('section', { 'aria-labelledby': 's-charts' }, h('h2', { id: 's-charts' }, 'Lag and apply rate'),
      h('div', { class: 'toolbar' }, h('div', { class: 'field' }, h('label', { for: 'chart-span' }, 'Period'), spanSel)),
      h('div', { class: 'cards' },
        h('figure', { class: 'panel' }, h('figcaption', null, h('strong', null, 'Replication lag (seconds)')), lagBox),
        h('figure', { class: 'panel' }, h('figcaption', null, h('strong', null, 'Apply rate (rows per second)')), rateBox)));

    const posBody = h('tbody');
    const posNote = h('p', { class: 'hint', id: 'positions-note' });
    const positions = h('section', { 'aria-labelledby': 's-pos' }, h('h2', { id: 's-pos' }, 'Positions'),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Positions (scrolls sideways)' }, h('table', { id: 'positions-table' },
        h('thead', null, h('tr', null, ['', 'Binlog file', 'Position', 'GTID set'].map((c, i) => h('th', { scope: 'col' }, i ? c : h('span', { class: 'visually-hidden' }, 'Where'))))), posBody)), posNote);

    const verBody = h('tbody');
    const verNote = h('p', { class: 'hint', id: 'verify-note' });
    const verify = h('section', { 'aria-labelledby': 's-verify' }, h('h2', { id: 's-verify' }, 'Verification'),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Verification results (scrolls sideways)' },
        h('table', { id: 'verify-table', class: 'cards-on-phone' },
          h('thead', null, h('tr', null, ['Table', 'State', 'Chunks', 'Rows checked', 'Differing rows', 'Pass', 'Updated', 'Detail'].map((c) => h('th', { scope: 'col' }, c)))), verBody)), verNote);

    const evBody = h('tbody');
    const events = h('section', { 'aria-labelledby': 's-events' }, h('h2', { id: 's-events' }, 'Event log'),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Event log (scrolls sideways)' }, h('table', { id: 'events-table', class: 'cards-on-phone' },
        h('thead', null, h('tr', null, ['Time', 'Level', 'Kind', 'Message'].map((c) => h('th', { scope: 'col' }, c)))), evBody)));

    const pcBox = h('div', { id: 'job-precheck' }, h('p', { class: 'muted' }, 'No precheck has run for this job yet.'));
    const prechecks = h('section', { 'aria-labelledby': 's-pc' }, h('h2', { id: 's-pc' }, 'Precheck results'), pcBox);

    const alertsBox = h('div', { id: 'job-alerts' });
    const alerts = h('section', { 'aria-labelledby': 's-alerts' }, h('h2', { id: 's-alerts' }, 'Alerts'), alertsBox);

    const yamlPre = h('pre', { class: 'yaml', id: 'job-yaml', tabindex: '0', 'aria-label': 'Job file (YAML)' });
    const copyBtn = h('button', { type: 'button', id: 'copy-yaml' }, 'Copy YAML');
    const yaml = h('section', { 'aria-labelledby': 's-yaml' }, h('h2', { id: 's-yaml' }, 'The job as a file for tidm migrate'), yamlPre, h('div', { class: 'actions' }, copyBtn));

    main.append(h('p', null, h('a', { href: '#/jobs' }, '← All migration jobs')),
      h('div', { class: 'page-head' }, title, badge, actions), notFound, err, panels, charts, positions, verify, events, prechecks, alerts, yaml);
    focusHeading(main);

    let job = null;
    let stopped = false;
    let first = true;
    let lastEvent = 0;
    let history = [];
    let histSince = 0;
    let actKey = '';
    let pcKey = '';
    const timers = [];

    function renderStatus(j) {
      job = j;
      badge.replaceChildren(stateBadge(j));
      const k = j.state + '|' + j.stage;
      if (k !== actKey) { actKey = k; actions.replaceChildren(actionButtons(() => job, refresh, false)); }
      setText(kvState.state, j.state + (j.retry ? ` (retry ${j.retry.attempt} at ${time(j.retry.at)})` : ''));
      setText(kvState.stage, stageText(j) || '—');
      setText(kvState.type, j.type);
      setText(kvState.mode, j.mode || 'logical');
      setText(kvState.spec, j.spec ? `dump ${j.spec['dump-threads']}, load ${j.spec['load-threads']}, apply ${j.spec['apply-workers']}, batch ${j.spec.batch}` : '—');
      setText(kvState.created, time(j.created_at));
      setText(kvState.updated, time(j.updated_at));
      const p = j.progress || {};
      fullBar.value = p.percent || 0;
      setText(kvFull.pct, `${num(p.percent || 0)} %`);
      const earlier = !p.tables_total && p.percent >= 100 && j.type !== 'incremental';
      setText(kvFull.tables, earlier ? 'copied by an earlier run' : j.type === 'incremental' ? 'none (incremental job)' : `${num(p.tables_done)} of ${num(p.tables_total)}`);
      setText(kvFull.chunks, `${num(p.chunks_done)} of ${num(p.chunks_total)}`);
      setText(kvFull.rows, `${num(p.rows)}${p.rows_estimate ? ` of about ${num(p.rows_estimate)}` : ''}`);
      setText(kvFull.bytes, bytes(p.bytes));
      setText(kvFull.rate, p.rows_per_s ? `${num(p.rows_per_s)} rows/s, ${bytes(p.bytes_per_s)}/s` : '—');
      setText(kvFull.eta, p.eta_s === null || p.eta_s === undefined ? '—' : duration(p.eta_s));
      const s = j.sync || {};
      setText(kvSync.lag, j.lag_s === null || j.lag_s === undefined ? '—' : duration(j.lag_s));
      setText(kvSync.apply, j.stage === 'syncing' ? `${num(s.apply_rows_per_s)} rows/s` : '—');
      setText(kvSync.events, num(s.events));
      setText(kvSync.txns, num(s.transactions));
      setText(kvSync.rows, num(s.rows));
      setText(kvSync.ddls, num(s.ddls));
      setText(kvSync.safe, s.safe_mode ? 'on' : 'off');
      setText(kvSync.reconnects, num(s.reconnects));
      if (j.last_error) {
        const key = j.last_error.message + '|' + (j.last_error.cause || '');
        if (err.dataset.k !== key) {
          err.dataset.k = key;
          err.replaceChildren(h('h2', null, 'Last error'), h('pre', null, j.last_error.message),
            j.last_error.cause ? h('p', null, h('strong', null, 'Cause: '), h('span', { class: 'mono' }, j.last_error.cause)) : null,
            h('p', null, h('strong', null, 'What to do: '), errorHint(j.last_error.message)));
        }
        err.hidden = false;
      } else {
        err.hidden = true;
        err.dataset.k = '';
      }
      const pk = j.precheck ? JSON.stringify(j.precheck) : '';
      if (pk !== pcKey) {
        pcKey = pk;
        pcBox.replaceChildren(j.precheck ? precheckList(j.precheck, new Set(((j.definition || {}).precheck || {}).ignore || []), null)
          : h('p', { class: 'muted' }, 'No precheck has run for this job yet.'));
      }
      if (j.definition && !yamlPre.textContent) yamlPre.textContent = jobYaml(j.definition);
      if (j.definition && !alertsBox.dataset.drawn) { alertsBox.dataset.drawn = '1'; drawAlerts(); }
    }
    async function refresh() {
      try {
        const j = await firstGet(`/jobs/${nEnc}`);
        if (stopped) return;
        notFound.hidden = true;
        renderStatus(j);
        if (first) { first = false; loaded('job', t0); }
      } catch (e) {
        if (stopped) return;
        if (e.status === 404) {
          notFound.textContent = `There is no job named ${name} (it may have been deleted).`;
          notFound.hidden = false;
          actions.replaceChildren();
          if (first) { first = false; loaded('job', t0); }
        } else {
          toast(`Cannot refresh job ${name}: ${e.message}`, true);
        }
      }
    }
    function drawCharts() {
      const span = Number(spanSel.value) * 60000;
      lagBox.replaceChildren(lineChart(history.map((s) => [s[0], s[1]]), span, 'Replication lag', 's'));
      rateBox.replaceChildren(lineChart(history.map((s) => [s[0], s[2]]), span, 'Apply rate', 'rows/s'));
    }
    async function refreshHistory() {
      try {
        const r = await api('GET', `/jobs/${nEnc}/history?since=${histSince}`);
        if (stopped) return;
        for (const s of r.samples) history.push(s);
        if (r.samples.length) histSince = r.samples[r.samples.length - 1][0];
        const cut = Date.now() - 6 * 3600 * 1000;
        history = history.filter((s) => s[0] >= cut);
      } catch (e) { /* the status poll reports errors */ }
      if (!stopped) drawCharts();
    }
    spanSel.addEventListener('change', drawCharts);
    async function refreshPositions() {
      try {
        const r = await api('GET', `/jobs/${nEnc}/positions`);
        if (stopped) return;
        const row = (label, p, extra) => h('tr', null, h('th', { scope: 'row' }, label),
          h('td', { class: 'mono' }, p ? p.file : '—'), h('td', { class: 'mono' }, p ? String(p.pos) : '—'),
          h('td', { class: 'mono' }, p && p.gtid ? p.gtid : extra || '—'));
        const cp = r.checkpoint || (job && job.positions && job.positions.checkpoint);
        posBody.replaceChildren(row('Source now', r.source), row('Checkpoint (target)', cp), row('Snapshot of the copy', r.snapshot));
        const notes = [];
        if (r.source_error) notes.push(`Source: ${r.source_error}`);
        if (r.target_error) notes.push(`Target: ${r.target_error}`);
        posNote.textContent = notes.length ? notes.join(' · ') : 'Read live from both servers every 10 seconds. Replication resumes at the checkpoint.';
      } catch (e) { posNote.textContent = 'Cannot read the positions: ' + e.message; }
    }
    async function refreshVerify() {
      try {
        const r = await api('GET', `/jobs/${nEnc}/verify`);
        if (stopped) return;
        verBody.replaceChildren(...r.tables.map((t) => h('tr', { dataset: { table: `${t.db}.${t.table}`, state: t.state } },
          h('td', { 'data-label': 'Table', class: 'mono' }, `${t.db}.${t.table}`),
          h('td', { 'data-label': 'State' }, h('span', { class: 'badge ' + (t.differing_rows ? 'fail' : t.state === 'equal' ? 'pass' : 'info') }, t.state)),
          h('td', { 'data-label': 'Chunks' }, `${num(t.chunks_done)} of ${num(t.chunks_total)}`),
          h('td', { 'data-label': 'Rows checked', class: 'num' }, num(t.rows_checked)),
          h('td', { 'data-label': 'Differing rows', class: 'num' }, num(t.differing_rows)),
          h('td', { 'data-label': 'Pass', class: 'num' }, String(t.pass)),
          h('td', { 'data-label': 'Updated' }, t.updated_at || '—'),
          h('td', { 'data-label': 'Detail' }, t.detail || '—'))));
        verNote.textContent = r.error ? `Cannot read the results on the target: ${r.error}`
          : r.tables.length ? 'Row by row, on both servers, while the job runs (spec.verify in the job, or tidm verify JOB.yaml).'
            : 'No verification has run for this job: set spec.verify (after-full or continuous) in the job, or run tidm verify JOB.yaml.';
      } catch (e) { verNote.textContent = 'Cannot read the verification results: ' + e.message; }
    }
    async function refreshEvents() {
      try {
        const r = await api('GET', `/jobs/${nEnc}/events?after=${lastEvent}&limit=200`);
        if (stopped) return;
        for (const ev of r.events) {
          lastEvent = Math.max(lastEvent, ev.id);
          evBody.prepend(h('tr', { dataset: { level: ev.level } },
            h('td', { 'data-label': 'Time' }, time(ev.time)),
            h('td', { 'data-label': 'Level' }, h('span', { class: 'badge ' + ev.level }, ev.level)),
            h('td', { 'data-label': 'Kind' }, ev.kind),
            h('td', { 'data-label': 'Message' }, ev.message, ev.cause ? h('div', { class: 'muted mono' }, ev.cause) : null)));
        }
        while (evBody.children.length > 500) evBody.lastChild.remove();
        if (r.events.length === 200) refreshEvents();
      } catch (e) { /* the status poll reports errors */ }
    }
    async function drawAlerts() {
      const a = (job.definition && job.definition.alerts) || {};
      const th = h('dl', { class: 'kv' },
        h('dt', null, 'No progress for'), h('dd', null, a['no-progress-seconds'] ? duration(a['no-progress-seconds']) : `${a['no-progress-minutes'] || 20} min`),
        h('dt', null, 'Lag above'), h('dd', null, a['lag-seconds'] ? duration(a['lag-seconds']) : 'off (set alerts.lag-seconds)'));
      const list = h('ul', { id: 'alert-subs' });
      const kind = h('select', { id: 'sub-kind' }, h('option', { value: 'webhook' }, 'Webhook (JSON POST)'), h('option', { value: 'email' }, 'E-mail'));
      const target = h('input', { id: 'sub-target', type: 'text', autocomplete: 'off' });
      const subErr = h('p', { class: 'field-error', id: 'sub-target-error', hidden: true });
      const add = h('button', { type: 'button', id: 'sub-add' }, 'Subscribe');
      async function load() {
        try {
          const r = await api('GET', '/alerts/subscriptions');
          list.replaceChildren(...(r.subscriptions.length ? r.subscriptions.map((s) => h('li', null, `${s.kind}: ${s.url || s.address} `,
            h('button', { type: 'button', class: 'small', 'aria-label': `Remove subscription ${s.url || s.address}`, onclick: async () => {
              try { await api('DELETE', `/alerts/subscriptions/${enc(s.id)}`); load(); } catch (e) { toast(e.message, true); }
            } }, 'Remove'))) : [h('li', { class: 'muted' }, 'Nobody is subscribed: alerts go to the event log and the server log only.')]));
        } catch (e) { list.replaceChildren(h('li', { class: 'field-error' }, e.message)); }
      }
      add.addEventListener('click', async () => {
        subErr.hidden = true;
        target.removeAttribute('aria-invalid');
        const v = target.value.trim();
        const body = kind.value === 'webhook' ? { kind: 'webhook', url: v } : { kind: 'email', address: v };
        try { await api('POST', '/alerts/subscriptions', body); target.value = ''; load(); } catch (e) {
          subErr.textContent = e.message;
          subErr.hidden = false;
          target.setAttribute('aria-invalid', 'true');
          target.setAttribute('aria-describedby', 'sub-target-error');
        }
      });
      alertsBox.replaceChildren(h('p', null, 'This job opens an alert when it fails, makes no progress, or lags too much. Subscribers (shared by every job of this server) are told when an alert opens and when it clears.'),
        th, h('h3', null, 'Subscribers'), list,
        h('div', { class: 'toolbar' }, h('div', { class: 'field' }, h('label', { for: 'sub-kind' }, 'Kind'), kind),
          h('div', { class: 'field' }, h('label', { for: 'sub-target' }, 'URL or address'), target, subErr), add));
      load();
    }
    copyBtn.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(yamlPre.textContent);
        toast('YAML copied');
      } catch (e) {
        const r = document.createRange();
        r.selectNodeContents(yamlPre);
        const sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(r);
        toast('Selected: press Ctrl+C to copy');
      }
    });

    refresh();
    refreshEvents();
    refreshHistory();
    refreshPositions();
    refreshVerify();
    timers.push(setInterval(() => { refresh(); refreshEvents(); }, 2000));
    timers.push(setInterval(refreshVerify, 10000));
    timers.push(setInterval(refreshHistory, 10000));
    timers.push(setInterval(refreshPositions, 10000));
    return () => { stopped = true; timers.forEach(clearInterval); };
  }
  tidm.views.job = detailsView;
})();
