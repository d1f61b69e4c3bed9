/*
 * app.js - the tidm console's core: the API client (bearer token asked for on 401), the
 * hash router, DOM and format helpers, the job actions shared by the list and the details
 * page, and the jobs list itself. wizard.js and details.js register their views here.
 *
 * DESIGN
 * Plain JavaScript, no framework, no build step: the files in web/ are compiled into the
 * tidm binary and served as they are. The console uses only the public HTTP API
 * (/api/v1, docs/openapi.json). Every text from the server goes into the page as text
 * (textContent), never as HTML. Views poll the API (the list every 2 s) and update only
 * the cells that changed, so a list of 200 jobs stays responsive.
 */
'use strict';

const tidm = (() => {
  const API = '/api/v1';
  const views = {};
  let current = null; // {name, cleanup}

  /* ---- DOM helpers ---------------------------------------------------------------- */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (v === true) el.setAttribute(k, '');
        else el.setAttribute(k, String(v));
      }
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  function setText(el, text) {
    text = text === null || text === undefined ? '' : String(text);
    if (el.textContent !== text) el.textContent = text;
  }
  let uid = 0;
  const id = (prefix) => `${prefix}-${++uid}`;

  /* ---- formatting ----------------------------------------------------------------- */
  const NUM = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }); // one formatter: toLocaleString makes one per call
  function num(n) {
    if (n === null || n === undefined || Number.isNaN(n)) return '—';
    return NUM.format(Number(n));
  }
  function bytes(n) {
    if (n === null || n === undefined) return '—';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    n = Number(n);
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
  }
  function duration(s) {
    if (s === null || s === undefined) return '—';
    s = Math.round(Number(s));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    const hrs = Math.floor(s / 3600);
    return `${hrs} h ${Math.floor((s % 3600) / 60)} min`;
  }
  function time(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
  }
  const firstLine = (s) => (s || '').split('\n')[0];

  /* ---- announcements -------------------------------------------------------------- */
  function announce(text) {
    const el = document.getElementById('announce');
    el.textContent = '';
    setTimeout(() => { el.textContent = text; }, 30);
  }
  function toast(text, isError) {
    const box = document.getElementById('toasts');
    const t = h('div', { class: 'toast' + (isError ? ' error' : '') }, text);
    box.append(t);
    setTimeout(() => t.remove(), isError ? 9000 : 4000);
  }

  /* ---- API ------------------------------------------------------------------------ */
  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field;
    }
  }
  let tokenWait = null;
  function askToken(why) {
    if (tokenWait) return tokenWait;
    const dlg = document.getElementById('token-dialog');
    const form = document.getElementById('token-form');
    const input = document.getElementById('token-input');
    const err = document.getElementById('token-error');
    if (sessionStorage.getItem('tidm.token')) {
      err.textContent = 'The server refused this token. ' + (why || '');
      err.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', 'token-error');
    }
    tokenWait = new Promise((resolve) => {
      const done = (ev) => {
        ev.preventDefault();
        const v = input.value.trim();
        if (!v) { input.focus(); return; }
        sessionStorage.setItem('tidm.token', v);
        form.removeEventListener('submit', done);
        input.value = '';
        err.hidden = true;
        input.removeAttribute('aria-invalid');
        dlg.close();
        tokenWait = null;
        resolve();
      };
      form.addEventListener('submit', done);
      dlg.addEventListener('cancel', (ev) => ev.preventDefault(), { once: true });
      dlg.showModal();
      input.focus();
    });
    return tokenWait;
  }
  async function api(method, path, body, opts = {}) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const headers = { Accept: 'application/json' };
      const tok = sessionStorage.getItem('tidm.token');
      if (tok) headers.Authorization = 'Bearer ' + tok;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      let r;
      try {
        r = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: opts.signal });
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        throw new ApiError(0, 'network', 'cannot reach the tidm server: ' + e.message, null);
      }
      let j = null;
      try { j = await r.json(); } catch (e) { j = null; }
      if (r.status === 401) {
        await askToken(j && j.error ? j.error.message : '');
        continue;
      }
      if (!r.ok) {
        const e = j && j.error ? j.error : {};
        throw new ApiError(r.status, e.code || 'http_' + r.status, e.message || `HTTP ${r.status}`, e.field || null);
      }
      return j;
    }
    throw new ApiError(401, 'unauthorized', 'the server refused every token given', null);
  }
  const enc = encodeURIComponent;
  /* The first view's data is asked for as soon as this script runs, while the other
   * scripts still load; the view takes the answer once (api with {prefetched: true}). */
  const early = new Map();
  function prefetch(path) {
    const p = api('GET', path);
    p.catch(() => {});
    early.set(path, p);
  }
  function firstGet(path) {
    const p = early.get(path);
    if (p) { early.delete(path); return p; }
    return api('GET', path);
  }
  {
    const m = (location.hash || '#/jobs').match(/^#\/jobs(?:\/([^/]+))?$/);
    if (m && m[1]) prefetch(`/jobs/${m[1]}`);
    else if (m || !location.hash) prefetch('/jobs');
  }

  /* ---- router --------------------------------------------------------------------- */
  function route() {
    const hash = location.hash || '#/jobs';
    const parts = hash.replace(/^#\/?/, '').split('/');
    let name = parts[0] || 'jobs';
    let arg = parts.slice(1).map(decodeURIComponent).join('/');
    if (name === 'jobs' && arg) name = 'job';
    if (!views[name]) { name = 'jobs'; arg = ''; }
    if (current && current.cleanup) current.cleanup();
    const main = document.getElementById('main');
    main.replaceChildren();
    for (const a of document.querySelectorAll('header nav a')) {
      if (a.dataset.nav === (name === 'job' ? 'jobs' : name)) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const t0 = performance.now();
    delete document.body.dataset.loaded;
    current = { name, cleanup: null };
    const cleanup = views[name](main, arg, t0);
    current.cleanup = cleanup || null;
  }
  let routed = 0;
  function focusHeading(main) {
    if (routed++ === 0) return; // the first page: the browser's own start, not a move
    const h1 = main.querySelector('h1');
    if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: false }); }
  }
  /* A view reports when its first data is on screen (the browser test reads it). */
  function loaded(view, t0) {
    window.tidmLoad = window.tidmLoad || {};
    const now = performance.now();
    // sinceNav: from the page's navigation start (a full load); sinceRoute: from the route change
    window.tidmLoad[view] = { sinceNav: Math.round(now), sinceRoute: Math.round(now - t0) };
    document.body.dataset.loaded = view;
  }

  /* ---- job actions (list and details) --------------------------------------------- */
  const SPEC_FIELDS = [
    ['dump-threads', 'Dump threads', 'Connections reading the source in parallel while the existing data is copied. More is faster and loads the source more.', 1, 64],
    ['load-threads', 'Load threads', 'Connections writing the existing data into the target in parallel.', 1, 64],
    ['apply-workers', 'Apply workers', 'Parallel appliers of replication. Changes to one row always go to the same worker, so each row keeps its order.', 1, 64],
    ['batch', 'Batch', 'Row changes per target transaction during replication. Larger batches apply faster; smaller ones commit sooner.', 1, 100000],
  ];
  function actionsFor(job) {
    const s = job.state;
    const stage = job.stage;
    return {
      pause: s === 'running' || s === 'prechecking',
      resume: s === 'paused' || s === 'failed' || s === 'created',
      restart: s !== 'prechecking' && s !== 'created',
      scale: (s === 'running' || s === 'paused') && stage !== 'dumping',
      delete: true,
    };
  }
  function confirmDialog(title, text, okLabel) {
    const dlg = document.getElementById('confirm-dialog');
    document.getElementById('confirm-title').textContent = title;
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = okLabel;
    dlg.returnValue = '';
    return new Promise((resolve) => {
      dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
      dlg.showModal();
      dlg.querySelector('button[value=cancel]').focus();
    });
  }
  function scaleDialog(job) {
    const dlg = document.getElementById('scale-dialog');
    const fields = document.getElementById('scale-fields');
    const err = document.getElementById('scale-error');
    document.getElementById('scale-title').textContent = `Scale job ${job.name}`;
    err.hidden = true;
    fields.replaceChildren();
    const inputs = {};
    for (const [key, label, hint, min, max] of SPEC_FIELDS) {
      const iid = 'scale-' + key;
      const hid = iid + '-hint';
      inputs[key] = h('input', { id: iid, type: 'number', min, max, step: 1, required: true, value: job.spec ? job.spec[key] : '', 'aria-describedby': hid });
      fields.append(h('div', { class: 'field' }, h('label', { for: iid }, label), inputs[key], h('p', { class: 'hint', id: hid }, hint)));
    }
    dlg.returnValue = '';
    return new Promise((resolve) => {
      const form = document.getElementById('scale-form');
      const onSubmit = async (ev) => {
        if (ev.submitter && ev.submitter.value === 'cancel') { cleanup(); resolve(false); return; }
        ev.preventDefault();
        const spec = {};
        for (const [key] of SPEC_FIELDS) {
          const v = Number(inputs[key].value);
          if (job.spec && v !== job.spec[key]) spec[key] = v;
        }
        if (!Object.keys(spec).length) { cleanup(); dlg.close(); resolve(false); return; }
        try {
          await api('POST', `/jobs/${enc(job.name)}/scale`, spec);
          cleanup();
          dlg.close();
          toast(`Job ${job.name}: spec changed`);
          resolve(true);
        } catch (e) {
          err.textContent = e.message;
          err.hidden = false;
          if (e.field && inputs[e.field]) inputs[e.field].setAttribute('aria-invalid', 'true');
        }
      };
      const cleanup = () => form.removeEventListener('submit', onSubmit);
      form.addEventListener('submit', onSubmit);
      dlg.addEventListener('cancel', () => { cleanup(); resolve(false); }, { once: true });
      dlg.showModal();
      inputs['dump-threads'].focus();
    });
  }
  async function runAction(job, what, after) {
    const n = enc(job.name);
    try {
      if (what === 'delete') {
        const ok = await confirmDialog(`Delete job ${job.name}?`,
          `The job stops and its definition, events and checkpoints are removed. The data already in the target stays. This cannot be undone.`,
          'Delete job');
        if (!ok) return;
        await api('DELETE', `/jobs/${n}`);
        toast(`Job ${job.name} deleted`);
        announce(`Job ${job.name} deleted`);
      } else if (what === 'scale') {
        if (!(await scaleDialog(job))) return;
      } else if (what === 'restart') {
        const ok = await confirmDialog(`Restart job ${job.name}?`,
          'The job copies the existing data again from a new snapshot, then replicates from there. Rows already in the target whose key comes again are replaced.',
          'Restart job');
        if (!ok) return;
        await api('POST', `/jobs/${n}/restart`, { replace_conflicts: true });
        toast(`Job ${job.name} restarted`);
      } else {
        const path = what === 'resume' && job.state === 'created' ? 'start' : what;
        await api('POST', `/jobs/${n}/${path}`);
        toast(`Job ${job.name}: ${what === 'pause' ? 'paused' : 'resumed'}`);
        announce(`Job ${job.name} ${what === 'pause' ? 'paused' : 'resumed'}`);
      }
    } catch (e) {
      toast(`Cannot ${what} job ${job.name}: ${e.message}`, true);
    }
    if (after) after();
  }
  /* job: the job object, or a function answering the newest one (the list refreshes it). */
  function actionButtons(jobOrGet, after, small) {
    const get = typeof jobOrGet === 'function' ? jobOrGet : () => jobOrGet;
    const job = get();
    const can = actionsFor(job);
    const wrap = h('div', { class: 'row-actions', role: 'group', 'aria-label': `Actions for ${job.name}` });
    const labels = { pause: 'Pause', resume: job.state === 'created' ? 'Start' : 'Resume', restart: 'Restart', scale: 'Scale', delete: 'Delete' };
    for (const what of ['pause', 'resume', 'scale', 'restart', 'delete']) {
      if (!can[what]) continue;
      wrap.append(h('button', {
        type: 'button', class: (small ? 'small ' : '') + (what === 'delete' ? 'danger' : ''),
        'aria-label': `${labels[what]} job ${job.name}`, dataset: { action: what },
        onclick: () => runAction(get(), what, after),
      }, labels[what]));
    }
    return wrap;
  }
  function stateBadge(job) {
    return h('span', { class: 'badge ' + job.state }, job.state);
  }
  function stageText(job) {
    if (job.retry) return `waiting to retry (attempt ${job.retry.attempt})`;
    return job.stage || '';
  }
  function rateText(job) {
    if (job.stage === 'syncing') return job.sync ? `${num(job.sync.apply_rows_per_s)} rows/s` : '—';
    if (job.progress && job.progress.rows_per_s) return `${num(job.progress.rows_per_s)} rows/s`;
    return '—';
  }

  /* ---- the jobs list -------------------------------------------------------------- */
  const COLS = ['Name', 'Type', 'Mode', 'State', 'Progress', 'Rate', 'ETA', 'Lag', 'Last error', 'Actions'];
  function jobsView(main, _arg, t0) {
    document.title = 'Migration jobs · tidm';
    const filter = h('input', { type: 'search', id: 'job-filter', placeholder: 'name contains…', autocomplete: 'off' });
    const count = h('p', { class: 'muted', id: 'job-count' });
    const tbody = h('tbody');
    const table = h('table', { class: 'cards-on-phone', id: 'jobs-table' },
      h('caption', { class: 'visually-hidden' }, 'Migration jobs, refreshed every 2 seconds'),
      h('thead', null, h('tr', null, COLS.map((c) => h('th', { scope: 'col', class: ['Rate', 'ETA', 'Lag'].includes(c) ? 'num' : null }, c)))),
      tbody);
    const empty = h('div', { class: 'panel', hidden: true },
      h('p', null, 'No migration jobs yet.'), h('a', { class: 'button primary', href: '#/new' }, 'Create migration job'));
    const err = h('p', { class: 'field-error', hidden: true, role: 'alert' });
    main.append(
      h('div', { class: 'page-head' }, h('h1', null, 'Migration jobs'), h('a', { class: 'button primary', href: '#/new' }, 'Create migration job')),
      h('div', { class: 'toolbar' }, h('div', { class: 'field' }, h('label', { for: 'job-filter' }, 'Filter by name'), filter), count),
      err, empty, h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Migration jobs (scrolls sideways)' }, table));
    focusHeading(main);

    const rows = new Map(); // name -> {tr, cells, key}
    let jobs = [];
    let timer = null;
    let stopped = false;
    let first = true;

    function makeRow(job) {
      const cells = {};
      const tr = h('tr', { dataset: { job: job.name } });
      const link = h('a', { href: `#/jobs/${enc(job.name)}` }, job.name);
      cells.name = h('td', { 'data-label': 'Name' }, link);
      cells.type = h('td', { 'data-label': 'Type' });
      cells.mode = h('td', { 'data-label': 'Mode' });
      cells.state = h('td', { 'data-label': 'State' });
      // a div bar: 200 <progress> elements cost the first paint of the list more than their worth
      const fill = h('span', { class: 'bar-fill' });
      const bar = h('span', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'aria-label': `Progress of ${job.name}` }, fill);
      const pct = h('span');
      cells.progress = h('td', { 'data-label': 'Progress' }, h('div', { class: 'progress' }, bar, pct));
      cells.bar = bar;
      cells.fill = fill;
      cells.pct = pct;
      cells.rate = h('td', { class: 'num', 'data-label': 'Rate' });
      cells.eta = h('td', { class: 'num', 'data-label': 'ETA' });
      cells.lag = h('td', { class: 'num', 'data-label': 'Lag' });
      cells.error = h('td', { 'data-label': 'Last error' });
      cells.actions = h('td', { 'data-label': 'Actions' });
      tr.append(cells.name, cells.type, cells.mode, cells.state, cells.progress, cells.rate, cells.eta, cells.lag, cells.error, cells.actions);
      return { tr, cells, key: '' };
    }
    function updateRow(r, job) {
      const c = r.cells;
      setText(c.type, job.type);
      setText(c.mode, job.mode || 'logical');
      const stateKey = job.state + '|' + stageText(job);
      if (c.state.dataset.k !== stateKey) {
        c.state.dataset.k = stateKey;
        c.state.replaceChildren(stateBadge(job), h('span', { class: 'stage' }, stageText(job)));
      }
      const p = job.progress ? job.progress.percent : 0;
      if (c.bar.getAttribute('aria-valuenow') !== String(p)) {
        c.bar.setAttribute('aria-valuenow', String(p));
        c.fill.style.width = `${p}%`;
      }
      setText(c.pct, `${num(p)} %`);
      setText(c.rate, rateText(job));
      setText(c.eta, job.progress && job.progress.eta_s !== null ? duration(job.progress.eta_s) : '—');
      setText(c.lag, job.lag_s === null || job.lag_s === undefined ? '—' : duration(job.lag_s));
      const msg = job.last_error ? firstLine(job.last_error.message) : '';
      if (c.error.dataset.k !== msg) {
        c.error.dataset.k = msg;
        c.error.replaceChildren(msg ? h('span', { class: 'err-line', title: job.last_error.message }, msg) : '—');
      }
      r.job = job;
      const actKey = job.state + '|' + job.stage;
      if (r.key !== actKey) { // else keep the buttons (and the focus on them)
        r.key = actKey;
        c.actions.replaceChildren(actionButtons(() => r.job, refresh, true));
      }
    }
    /* The first fill: a screenful at once, then the rest in slices, so the list shows
     * (and answers clicks) at once even with hundreds of jobs. */
    let filling = null;
    function fill(list, i) {
      const frag = document.createDocumentFragment();
      const end = Math.min(list.length, i + (i ? 100 : 30));
      for (; i < end; i++) {
        const r = makeRow(list[i]);
        rows.set(list[i].name, r);
        updateRow(r, list[i]);
        frag.append(r.tr);
      }
      tbody.append(frag);
      if (i < list.length) {
        filling = setTimeout(() => fill(list, i), 0);
      } else {
        filling = null;
        if (window.tidmLoad && window.tidmLoad.jobs && !window.tidmLoad.jobs.allRows) window.tidmLoad.jobs.allRows = Math.round(performance.now());
      }
    }
    function render() {
      const f = filter.value.trim().toLowerCase();
      const shown = jobs.filter((j) => !f || j.name.toLowerCase().includes(f));
      const seen = new Set(shown.map((j) => j.name));
      for (const [name, r] of rows) {
        if (!seen.has(name)) { r.tr.remove(); rows.delete(name); }
      }
      if (filling) { clearTimeout(filling); filling = null; } // a newer answer: the loop below finishes the rows
      if (!tbody.firstChild) fill(shown, 0);
      else {
        let prev = null;
        for (const job of shown) {
          let r = rows.get(job.name);
          if (!r) { r = makeRow(job); rows.set(job.name, r); }
          updateRow(r, job);
          const want = prev ? prev.nextSibling : tbody.firstChild;
          if (want !== r.tr) tbody.insertBefore(r.tr, want);
          prev = r.tr;
        }
      }
      empty.hidden = jobs.length !== 0;
      table.hidden = jobs.length === 0;
      setText(count, jobs.length ? `${shown.length} of ${jobs.length} job${jobs.length === 1 ? '' : 's'}` : '');
    }
    async function refresh() {
      clearTimeout(timer);
      try {
        const r = await firstGet('/jobs');
        if (stopped) return;
        const tr = performance.now();
        jobs = r.jobs;
        err.hidden = true;
        render();
        if (first) {
          first = false;
          loaded('jobs', t0);
          window.tidmLoad.jobs.render = Math.round(performance.now() - tr);
          if (!filling) window.tidmLoad.jobs.allRows = window.tidmLoad.jobs.sinceNav;
        }
      } catch (e) {
        if (stopped) return;
        err.textContent = 'Cannot load the jobs: ' + e.message;
        err.hidden = false;
      }
      if (!stopped) timer = setTimeout(refresh, 2000);
    }
    filter.addEventListener('input', render);
    refresh();
    return () => { stopped = true; clearTimeout(timer); clearTimeout(filling); };
  }
  views.jobs = jobsView;

  /* YAML of a job definition, for `tidm migrate`: passwords as password-env. */
  function yamlScalar(v) {
    if (v === null) return 'null';
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    const s = String(v);
    if (s === '' || /^[\s]|[\s]$|[:#\[\]{},&*!|>'"%@`]|^[-?]|^(true|false|null|yes|no|on|off|~)$|^[0-9.+-]/i.test(s) || /[\n\t\\]/.test(s)) return JSON.stringify(s);
    return s;
  }
  function toYaml(v, indent = '') {
    if (Array.isArray(v)) {
      if (!v.length) return ' []';
      return v.map((x) => `\n${indent}- ${typeof x === 'object' && x !== null ? toYaml(x, indent + '  ').trimStart() : yamlScalar(x)}`).join('');
    }
    if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      if (!keys.length) return ' {}';
      return keys.map((k) => {
        const x = v[k];
        const key = yamlScalar(k);
        if (x && typeof x === 'object') return `\n${indent}${key}:${toYaml(x, indent + '  ')}`;
        return `\n${indent}${key}: ${yamlScalar(x)}`;
      }).join('');
    }
    return ' ' + yamlScalar(v);
  }
  function jobYaml(def) {
    const d = JSON.parse(JSON.stringify(def));
    delete d.start_requested;
    for (const side of ['source', 'target']) {
      if (d[side] && typeof d[side] === 'object') {
        delete d[side].password;
        if (!d[side]['password-env'] && !d[side]['password-file']) d[side]['password-env'] = `TIDM_${side.toUpperCase()}_PASSWORD`;
      }
    }
    if (typeof d.start === 'boolean') delete d.start;
    const order = ['name', 'type', 'mode', 'source', 'target', 'objects', 'start', 'spec', 'safe-mode', 'precheck', 'alerts'];
    const sorted = {};
    for (const k of order) if (k in d) sorted[k] = d[k];
    for (const k of Object.keys(d)) if (!(k in sorted)) sorted[k] = d[k];
    for (const side of ['source', 'target']) {
      const e = sorted[side];
      if (e && typeof e === 'object') {
        const o = {};
        for (const k of ['host', 'port', 'user', 'password-env', 'password-file', 'tls']) if (k in e) o[k] = e[k];
        sorted[side] = Object.assign(o, e);
      }
    }
    return `# tidm migrate job file; set the password variables before running:\n#   TIDM_SOURCE_PASSWORD=... TIDM_TARGET_PASSWORD=... tidm migrate ${d.name || 'JOB'}.yaml` + toYaml(sorted) + '\n';
  }

  /* Precheck items (wizard and details). onIgnore(id, checked) makes warnings ignorable. */
  function precheckList(report, ignored, onIgnore) {
    const wrap = h('div', { class: 'precheck' });
    if (!report || !report.items) return wrap;
    const counts = { pass: 0, warning: 0, fail: 0 };
    for (const it of report.items) counts[it.state] = (counts[it.state] || 0) + 1;
    wrap.append(h('div', { class: 'summary-line', role: 'status' },
      h('span', { class: 'badge fail' }, `${counts.fail} failed`),
      h('span', { class: 'badge warning' }, `${counts.warning} warning${counts.warning === 1 ? '' : 's'}`),
      h('span', { class: 'badge pass' }, `${counts.pass} passed`)));
    const order = { fail: 0, warning: 1, pass: 2 };
    const items = [...report.items].sort((a, b) => order[a.state] - order[b.state]);
    const passed = h('details', { class: 'passed' }, h('summary', null, `Show the ${counts.pass} passed item${counts.pass === 1 ? '' : 's'}`));
    for (const it of items) {
      const isIgnored = ignored && ignored.has(it.id);
      const head = h('h3', null, h('span', { class: 'badge ' + (isIgnored ? 'ignored' : it.state) }, isIgnored ? 'ignored' : it.state), it.title || it.id, h('span', { class: 'muted mono' }, it.id));
      const box = h('div', { class: 'check-item ' + it.state, dataset: { id: it.id, state: it.state } }, head);
      if (it.message) box.append(h('p', null, it.message));
      if (it.fix) box.append(h('p', null, h('strong', null, 'Fix: '), it.fix));
      if (it.state === 'warning' && onIgnore) {
        const cid = id('ignore');
        const cb = h('input', { type: 'checkbox', id: cid, checked: isIgnored, onchange: (ev) => onIgnore(it.id, ev.target.checked) });
        box.append(h('div', { class: 'choice' }, cb, h('label', { for: cid }, `Ignore this warning (${it.id}) for this job`)));
      }
      (it.state === 'pass' ? passed : wrap).append(box);
    }
    if (counts.pass) wrap.append(passed);
    return wrap;
  }

  window.addEventListener('hashchange', route);
  window.addEventListener('DOMContentLoaded', () => {
    // the skip link moves the focus; its #main must not reach the hash router
    document.querySelector('a.skip').addEventListener('click', (ev) => {
      ev.preventDefault();
      document.getElementById('main').focus();
    });
    route();
  });

  return { h, setText, id, num, firstGet, bytes, duration, time, firstLine, announce, toast, api, enc, ApiError, views, focusHeading, loaded,
    actionButtons, stateBadge, stageText, rateText, SPEC_FIELDS, jobYaml, precheckList, route };
})();
