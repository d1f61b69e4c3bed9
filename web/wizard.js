/*
 * wizard.js - the create-job wizard of the tidm console, in the reference's order:
 * connections (job name, source, target, TLS uploads, "Validate connections"), job type
 * (existing / incremental data, logical / physical, start position), objects (all, or a
 * tree of the source's databases and tables with search, exclusions and wildcards),
 * precheck (pass / warning / fail with details and fix, "Check again", warnings ignored
 * explicitly), spec (threads and workers, explained), review (the job as YAML), create.
 *
 * DESIGN
 * One state object outlives the steps (going back keeps every answer); each step renders
 * itself from it and validates before Next. Errors go next to the field they concern
 * (aria-invalid + aria-describedby on the field, the message right under it). The job body
 * sent to POST /jobs is built in one place (jobBody) and is the job file of SPEC §7.1 as
 * JSON; the same body feeds the precheck and the YAML preview, so what is checked is what
 * is created.
 */
'use strict';

(() => {
  const { h, api, enc, toast, announce, focusHeading, loaded, SPEC_FIELDS, jobYaml, precheckList, id } = tidm;
  const STEPS = ['Connections', 'Job type', 'Objects', 'Precheck', 'Spec', 'Review'];
  const NAME_RULE = 'Starts with a letter, fewer than 60 characters, only letters A-Z a-z, digits 0-9, _ and -.';
  const TLS_MODES = [
    ['none', 'No TLS'],
    ['ca', 'CA certificate only: verify the server'],
    ['client', 'Client certificate and key: the server is not verified'],
    ['mutual', 'Mutual TLS: CA, client certificate and key'],
  ];
  const TLS_FILES = { none: [], ca: ['ca'], client: ['cert', 'key'], mutual: ['ca', 'cert', 'key'] };
  const TLS_LABEL = { ca: 'CA certificate (PEM)', cert: 'Client certificate (PEM)', key: 'Client private key (PEM)' };

  function freshEndpoint(port) {
    return { host: '127.0.0.1', port, user: '', password: '', tlsMode: 'none', tls: {}, tlsNames: {}, checked: null };
  }
  function freshState() {
    return {
      step: 0, name: '',
      source: freshEndpoint(3306), target: freshEndpoint(4000),
      existing: true, incremental: true, mode: 'logical',
      startMode: 'now', gtid: '', binlogFile: '', binlogPos: '',
      objectsMode: 'all', tree: null, treeError: null, selected: new Map(), exclude: '', include: '', search: '',
      precheck: null, precheckKey: '', ignored: new Set(),
      spec: { 'dump-threads': 4, 'load-threads': 4, 'apply-workers': 8, batch: 100 },
    };
  }
  let st = freshState();

  /* ---- validation helpers --------------------------------------------------------- */
  function nameProblem(n) {
    if (!n) return 'Enter a job name.';
    if (!/^[A-Za-z]/.test(n)) return 'The name must start with a letter.';
    if (n.length >= 60) return `The name has ${n.length} characters; it must have fewer than 60.`;
    const bad = n.match(/[^A-Za-z0-9_-]/);
    if (bad) return `"${bad[0]}" is not allowed: use only letters, digits, _ and -.`;
    return null;
  }
  /* Shows (or clears) the error of a field: the message right under it, linked to it. */
  function fieldError(input, errEl, msg) {
    errEl.textContent = msg || '';
    errEl.hidden = !msg;
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    const ids = new Set((input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
    ids.add(errEl.id);
    input.setAttribute('aria-describedby', [...ids].join(' '));
  }
  function field(label, input, hint, extra) {
    const fid = input.id || (input.id = id('f'));
    const err = h('p', { class: 'field-error', id: fid + '-error', hidden: true });
    const hintEl = hint ? h('p', { class: 'hint', id: fid + '-hint' }, hint) : null;
    if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
    return { el: h('div', { class: 'field' }, h('label', { for: fid }, label), input, hintEl, extra || null, err), err, input };
  }
  function jobType() {
    if (st.existing && st.incremental) return 'all';
    return st.existing ? 'full' : 'incremental';
  }

  /* ---- the job body (POST /jobs, POST /precheck, the YAML) ------------------------- */
  function conn(e) {
    const o = { host: e.host.trim(), port: Number(e.port), user: e.user };
    if (e.password) o.password = e.password;
    const tls = {};
    for (const k of TLS_FILES[e.tlsMode]) if (e.tls[k]) tls[k] = e.tls[k];
    if (Object.keys(tls).length) o.tls = tls;
    return o;
  }
  function quoteName(n) {
    return /[.`*?]/.test(n) ? '`' + n.replace(/`/g, '``') + '`' : n;
  }
  function lines(text) {
    return text.split('\n').map((s) => s.trim()).filter(Boolean);
  }
  function objectsOf() {
    if (st.objectsMode !== 'customize') return null;
    const databases = [];
    const tables = [];
    for (const [db, sel] of st.selected) {
      if (sel === 'all') databases.push(quoteName(db));
      else for (const t of sel) tables.push(`${quoteName(db)}.${quoteName(t)}`);
    }
    for (const p of lines(st.include)) (p.includes('.') ? tables : databases).push(p);
    const o = {};
    if (databases.length) o.databases = databases;
    if (tables.length) o.tables = tables;
    const ex = lines(st.exclude);
    if (ex.length) o.exclude = ex;
    return o;
  }
  function jobBody() {
    const b = { name: st.name, type: jobType() };
    if (st.existing) b.mode = st.mode;
    b.source = conn(st.source);
    b.target = conn(st.target);
    const objects = objectsOf();
    if (objects) b.objects = objects;
    if (!st.existing && st.startMode === 'gtid') b.start = { gtid: st.gtid.trim() };
    if (!st.existing && st.startMode === 'file') b.start = { 'binlog-file': st.binlogFile.trim(), 'binlog-pos': Number(st.binlogPos) };
    b.spec = { ...st.spec };
    if (st.ignored.size) b.precheck = { ignore: [...st.ignored].sort() };
    return b;
  }

  /* ---- step 1: connections -------------------------------------------------------- */
  function endpointFieldset(side, title) {
    const e = st[side];
    const p = `${side}-`;
    const host = field('Host name or IP address', h('input', { id: p + 'host', type: 'text', value: e.host, autocomplete: 'off', required: true, oninput: (ev) => { e.host = ev.target.value; } }));
    const port = field('Port', h('input', { id: p + 'port', type: 'number', min: 1, max: 65535, value: e.port, required: true, oninput: (ev) => { e.port = ev.target.value; } }));
    const user = field('User name', h('input', { id: p + 'user', type: 'text', value: e.user, autocomplete: 'off', required: true, oninput: (ev) => { e.user = ev.target.value; } }));
    const pw = field('Password', h('input', { id: p + 'password', type: 'password', value: e.password, autocomplete: 'new-password', oninput: (ev) => { e.password = ev.target.value; } }),
      'Kept sealed by the server; never shown again.');
    const tlsSel = h('select', { id: p + 'tls' }, TLS_MODES.map(([v, l]) => h('option', { value: v, selected: e.tlsMode === v }, l)));
    const tls = field('SSL/TLS', tlsSel, 'Upload what the server\'s TLS setup asks for. Mutual TLS is needed when the user has REQUIRE X509 or REQUIRE SSL.');
    const files = h('div', { class: 'tls-files' });
    const fileFields = {};
    function drawFiles() {
      files.replaceChildren();
      for (const k of TLS_FILES[e.tlsMode]) {
        const inp = h('input', { id: `${p}tls-${k}`, type: 'file', accept: '.pem,.crt,.cer,.key,text/plain' });
        const status = h('p', { class: 'field-ok', id: `${p}tls-${k}-status` }, e.tlsNames[k] ? `Uploaded: ${e.tlsNames[k]}` : '');
        const f = field(TLS_LABEL[k], inp, null, status);
        fileFields[k] = f;
        inp.addEventListener('change', async () => {
          const file = inp.files[0];
          fieldError(inp, f.err, null);
          status.textContent = '';
          if (!file) return;
          try {
            const text = await file.text();
            const r = await api('POST', '/files/tls', { kind: k, pem: text });
            e.tls[k] = r.path;
            e.tlsNames[k] = file.name;
            status.textContent = `Uploaded: ${file.name}`;
          } catch (err) {
            delete e.tls[k];
            fieldError(inp, f.err, `${file.name}: ${err.message}`);
          }
        });
        files.append(f.el);
      }
    }
    tlsSel.addEventListener('change', () => { e.tlsMode = tlsSel.value; drawFiles(); });
    drawFiles();
    const result = h('p', { id: p + 'result', role: 'status' });
    const fs = h('fieldset', { id: p + 'fieldset' }, h('legend', null, title),
      h('div', { class: 'grid-3' }, host.el, port.el), user.el, pw.el, tls.el, files, result);
    return { el: fs, host, port, user, pw, tls, fileFields, result };
  }

  async function checkEndpoint(side, f) {
    const e = st[side];
    for (const x of [f.host, f.port, f.user, f.pw]) fieldError(x.input, x.err, null);
    f.result.textContent = '';
    f.result.className = '';
    let bad = false;
    if (!e.host.trim()) { fieldError(f.host.input, f.host.err, 'Enter the host name or IP address.'); bad = true; }
    const port = Number(e.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) { fieldError(f.port.input, f.port.err, 'The port is a number from 1 to 65535.'); bad = true; }
    if (!e.user) { fieldError(f.user.input, f.user.err, 'Enter the user name.'); bad = true; }
    for (const k of TLS_FILES[e.tlsMode]) {
      if (!e.tls[k]) { fieldError(f.fileFields[k].input, f.fileFields[k].err, `Upload the ${TLS_LABEL[k].replace(' (PEM)', '').toLowerCase()}.`); bad = true; }
    }
    if (bad) return false;
    f.result.textContent = 'Connecting…';
    try {
      const r = await api('POST', '/connections/check', { ...conn(e), role: side });
      if (r.ok) {
        e.checked = r.server;
        f.result.className = 'field-ok';
        f.result.textContent = `Connected: ${r.server ? `${r.server.flavor} ${r.server.version}` : 'ok'}`;
        return true;
      }
      f.result.textContent = '';
      const target = r.code === 'EAUTH' ? f.pw : r.code === 'EINVAL' && TLS_FILES[e.tlsMode].length ? f.fileFields[TLS_FILES[e.tlsMode][0]] : f.host;
      fieldError(target.input, target.err, r.message);
      return false;
    } catch (err) {
      f.result.textContent = '';
      const target = err.field === 'port' ? f.port : err.field === 'user' ? f.user : f.host;
      fieldError(target.input, target.err, err.message);
      return false;
    }
  }

  function stepConnections(body, nav) {
    const nameIn = h('input', { id: 'job-name', type: 'text', value: st.name, autocomplete: 'off', required: true, maxlength: 80 });
    const name = field('Job name', nameIn, NAME_RULE);
    nameIn.addEventListener('input', () => {
      st.name = nameIn.value;
      fieldError(nameIn, name.err, nameProblem(st.name));
    });
    const src = endpointFieldset('source', 'Source database');
    const tgt = endpointFieldset('target', 'Target database');
    body.append(h('h2', null, 'Job name and connections'), name.el, h('div', { class: 'two-col' }, src.el, tgt.el));
    nav.next.textContent = 'Validate connections and next';
    return async () => {
      const np = nameProblem(st.name);
      fieldError(nameIn, name.err, np);
      if (np) { nameIn.focus(); return false; }
      try {
        await api('GET', `/jobs/${enc(st.name)}`);
        fieldError(nameIn, name.err, `A job named ${st.name} exists already; choose another name.`);
        nameIn.focus();
        return false;
      } catch (e) {
        if (e.status !== 404) { fieldError(nameIn, name.err, e.message); return false; }
      }
      const [a, b] = await Promise.all([checkEndpoint('source', src), checkEndpoint('target', tgt)]);
      if (!a || !b) {
        const firstBad = document.querySelector('[aria-invalid="true"]');
        if (firstBad) firstBad.focus();
        return false;
      }
      st.tree = null; // another source: its objects load anew
      st.precheck = null;
      return true;
    };
  }

  /* ---- step 2: job type ----------------------------------------------------------- */
  function choice(type, name, value, checked, label, hint, onchange) {
    const cid = id(name);
    const hid = hint ? cid + '-hint' : null;
    const inp = h('input', { type, name, value, id: cid, checked, 'aria-describedby': hid, onchange });
    return h('div', { class: 'choice' }, inp, h('div', null, h('label', { for: cid }, label), hint ? h('p', { class: 'hint', id: hid }, hint) : null));
  }
  function stepType(body) {
    const err = h('p', { class: 'field-error', id: 'type-error', hidden: true, role: 'alert' });
    const startBox = h('div');
    const modeBox = h('div');
    const redraw = () => { drawMode(); drawStart(); };
    const kinds = h('fieldset', null, h('legend', null, 'Data to migrate'),
      choice('checkbox', 'existing', 'existing', st.existing, 'Existing data', 'A consistent copy of what the source holds now.', (ev) => { st.existing = ev.target.checked; redraw(); }),
      choice('checkbox', 'incremental', 'incremental', st.incremental, 'Incremental data', 'Then the changes from the source\'s binary log, continuously, until you cut over. With existing data it starts exactly where the copy\'s snapshot ends: no gap, nothing twice.', (ev) => { st.incremental = ev.target.checked; redraw(); }),
      err);
    function drawMode() {
      modeBox.replaceChildren();
      if (!st.existing) return;
      modeBox.append(h('fieldset', null, h('legend', null, 'Mode of the existing-data copy'),
        choice('radio', 'mode', 'logical', st.mode === 'logical', 'Logical', 'Rows are written as SQL (LOAD DATA). Target tables may be empty or not; a row whose key exists already is replaced.', () => { st.mode = 'logical'; }),
        choice('radio', 'mode', 'physical', st.mode === 'physical', 'Physical', 'Bulk ingestion, faster for large data. Every target table must be empty; the job refuses otherwise.', () => { st.mode = 'physical'; })));
    }
    function drawStart() {
      startBox.replaceChildren();
      if (st.existing || !st.incremental) return;
      const gtid = h('input', { type: 'text', id: 'start-gtid', value: st.gtid, disabled: st.startMode !== 'gtid', oninput: (ev) => { st.gtid = ev.target.value; } });
      const file = h('input', { type: 'text', id: 'start-file', value: st.binlogFile, disabled: st.startMode !== 'file', oninput: (ev) => { st.binlogFile = ev.target.value; } });
      const pos = h('input', { type: 'number', id: 'start-pos', min: 4, value: st.binlogPos, disabled: st.startMode !== 'file', oninput: (ev) => { st.binlogPos = ev.target.value; } });
      const set = (m) => () => { st.startMode = m; drawStart(); };
      const g = field('GTID set', gtid, 'e.g. 3E11FA47-71CA-11E1-9E33-C80AA9429562:1-23, or 0-1-100 on MariaDB');
      const f = field('Binlog file', file);
      const p = field('Position', pos);
      startBox.append(h('fieldset', null, h('legend', null, 'Start position'),
        choice('radio', 'start', 'now', st.startMode === 'now', 'Now', 'From the source\'s current position when the job starts.', set('now')),
        choice('radio', 'start', 'gtid', st.startMode === 'gtid', 'From a GTID set', 'The transactions in the set are taken as applied already.', set('gtid')),
        st.startMode === 'gtid' ? g.el : null,
        choice('radio', 'start', 'file', st.startMode === 'file', 'From a binlog file and position', null, set('file')),
        st.startMode === 'file' ? h('div', { class: 'grid-3' }, f.el, p.el) : null));
      startBox.fields = { g, f, p };
    }
    redraw();
    body.append(h('h2', null, 'Choose the job type'), kinds, modeBox, startBox);
    return () => {
      if (!st.existing && !st.incremental) {
        err.textContent = 'Choose existing data, incremental data, or both.';
        err.hidden = false;
        return false;
      }
      err.hidden = true;
      const f = startBox.fields;
      if (!st.existing && f) {
        if (st.startMode === 'gtid' && !st.gtid.trim()) { fieldError(f.g.input, f.g.err, 'Enter the GTID set to start from.'); f.g.input.focus(); return false; }
        if (st.startMode === 'file') {
          if (!st.binlogFile.trim()) { fieldError(f.f.input, f.f.err, 'Enter the binlog file name, e.g. mysql-bin.000016.'); f.f.input.focus(); return false; }
          const n = Number(st.binlogPos);
          if (!Number.isInteger(n) || n < 4) { fieldError(f.p.input, f.p.err, 'The position is a whole number of at least 4.'); f.p.input.focus(); return false; }
        }
      }
      st.precheck = null;
      return true;
    };
  }

  /* ---- step 3: objects ------------------------------------------------------------ */
  function stepObjects(body) {
    const err = h('p', { class: 'field-error', id: 'objects-error', hidden: true, role: 'alert' });
    const custom = h('div', { id: 'objects-custom' });
    const modes = h('fieldset', null, h('legend', null, 'Objects to migrate'),
      choice('radio', 'objects', 'all', st.objectsMode === 'all', 'All', 'Every database and table of the source, and those created later (system schemas never).', () => { st.objectsMode = 'all'; draw(); }),
      choice('radio', 'objects', 'customize', st.objectsMode === 'customize', 'Customize', 'A whole database also takes the tables created in it later; single tables do not.', () => { st.objectsMode = 'customize'; draw(); }));
    body.append(h('h2', null, 'Choose the objects to migrate'), modes, custom, err);

    async function load() {
      custom.replaceChildren(h('p', { role: 'status' }, 'Loading the source\'s databases and tables…'));
      try {
        st.tree = await api('POST', '/sources/objects', conn(st.source));
        st.treeError = null;
      } catch (e) {
        st.treeError = e.message;
      }
      draw();
    }
    function draw() {
      custom.replaceChildren();
      if (st.objectsMode !== 'customize') return;
      if (!st.tree && !st.treeError) { load(); return; }
      if (st.treeError) {
        custom.append(h('p', { class: 'field-error', role: 'alert' }, 'Cannot list the source\'s objects: ' + st.treeError),
          h('button', { type: 'button', onclick: () => { st.treeError = null; load(); } }, 'Try again'));
        return;
      }
      const search = h('input', { type: 'search', id: 'objects-search', value: st.search, autocomplete: 'off' });
      const sf = field('Search databases and tables', search);
      const tree = h('div', { class: 'tree', id: 'objects-tree', role: 'group', 'aria-label': 'Source databases and tables' });
      const ex = h('textarea', { id: 'objects-exclude', rows: 3 }, st.exclude);
      const exf = field('Exclude (one per line)', ex, 'db or db.table; * and ? are wildcards, e.g. shop.tmp_*');
      ex.addEventListener('input', () => { st.exclude = ex.value; });
      const inc = h('textarea', { id: 'objects-include', rows: 2 }, st.include);
      const incf = field('Also include by pattern (one per line)', inc, 'db or db.table with * and ?, e.g. crm_* or logs.events_2026*');
      inc.addEventListener('input', () => { st.include = inc.value; });
      const counter = h('p', { class: 'muted', id: 'objects-count', role: 'status' });
      custom.append(sf.el, tree, counter, h('div', { class: 'two-col' }, exf.el, incf.el));

      function count() {
        let n = 0;
        for (const [db, sel] of st.selected) {
          const d = st.tree.databases.find((x) => x.name === db);
          n += sel === 'all' ? (d ? d.tables.length : 0) : sel.size;
        }
        counter.textContent = `${st.selected.size} database${st.selected.size === 1 ? '' : 's'} and ${n} table${n === 1 ? '' : 's'} selected`;
      }
      function drawTree() {
        const q = search.value.trim().toLowerCase();
        st.search = search.value;
        const ul = h('ul');
        let shown = 0;
        for (const d of st.tree.databases) {
          const dbHit = !q || d.name.toLowerCase().includes(q);
          const tabs = d.tables.filter((t) => dbHit || t.name.toLowerCase().includes(q));
          if (!dbHit && !tabs.length) continue;
          shown++;
          const sel = st.selected.get(d.name);
          const dbId = id('db');
          const dbBox = h('input', { type: 'checkbox', id: dbId, dataset: { db: d.name }, checked: sel === 'all' });
          dbBox.indeterminate = sel instanceof Set && sel.size > 0;
          const open = !!q || d.open;
          const listId = id('tables');
          const toggle = h('button', { type: 'button', class: 'toggle small', 'aria-expanded': String(open), 'aria-controls': listId, 'aria-label': `${open ? 'Hide' : 'Show'} tables of ${d.name}` }, open ? '−' : '+');
          const tl = h('ul', { id: listId, hidden: !open });
          for (const t of tabs) {
            const tId = id('tbl');
            const checked = sel === 'all' || (sel instanceof Set && sel.has(t.name));
            const tb = h('input', { type: 'checkbox', id: tId, dataset: { db: d.name, table: t.name }, checked });
            tb.addEventListener('change', () => {
              let s = st.selected.get(d.name);
              if (s === 'all') s = new Set(d.tables.map((x) => x.name));
              if (!s) s = new Set();
              if (tb.checked) s.add(t.name); else s.delete(t.name);
              if (s.size === d.tables.length && d.tables.length) st.selected.set(d.name, 'all');
              else if (s.size) st.selected.set(d.name, s);
              else st.selected.delete(d.name);
              drawTree();
              const again = tree.querySelector(`input[data-db="${CSS.escape(d.name)}"][data-table="${CSS.escape(t.name)}"]`);
              if (again) again.focus();
            });
            tl.append(h('li', null, h('div', { class: 'node' }, tb, h('label', { for: tId }, t.name, t.type === 'view' ? ' (view)' : ''))));
          }
          toggle.dataset.db = d.name;
          toggle.addEventListener('click', () => {
            d.open = !open;
            drawTree();
            const again = tree.querySelector(`button.toggle[data-db="${CSS.escape(d.name)}"]`);
            if (again) again.focus();
          });
          dbBox.addEventListener('change', () => {
            if (dbBox.checked) st.selected.set(d.name, 'all'); else st.selected.delete(d.name);
            drawTree();
            const again = tree.querySelector(`input[data-db="${CSS.escape(d.name)}"]:not([data-table])`);
            if (again) again.focus();
          });
          ul.append(h('li', null, h('div', { class: 'node' }, toggle, dbBox, h('label', { for: dbId }, h('strong', null, d.name), h('span', { class: 'muted' }, ` (${d.tables.length} table${d.tables.length === 1 ? '' : 's'})`))), tl));
        }
        tree.replaceChildren(shown ? ul : h('p', { class: 'muted' }, q ? `Nothing matches "${search.value}".` : 'The source has no databases besides its system schemas.'));
        count();
      }
      search.addEventListener('input', drawTree);
      drawTree();
    }
    draw();
    return () => {
      if (st.objectsMode === 'customize') {
        const o = objectsOf();
        if (!o || (!o.databases && !o.tables)) {
          err.textContent = 'Select at least one database or table, or add a pattern to include.';
          err.hidden = false;
          return false;
        }
      }
      err.hidden = true;
      st.precheck = null;
      return true;
    };
  }

  /* ---- step 4: precheck ----------------------------------------------------------- */
  function stepPrecheck(body, nav) {
    const out = h('div', { id: 'precheck-results', 'aria-live': 'polite' });
    const why = h('p', { class: 'hint', id: 'precheck-why' });
    const again = h('button', { type: 'button', id: 'precheck-again' }, 'Check again');
    const ignoreAll = h('button', { type: 'button', id: 'precheck-ignore-all' }, 'Ignore all warnings');
    body.append(h('h2', null, 'Precheck'),
      h('p', null, 'tidm reads both servers (it writes nothing) and checks what the job needs. Fix each failed item and check again; a warning may be ignored once you have weighed it.'),
      h('div', { class: 'actions' }, again, ignoreAll), out, why);
    nav.next.setAttribute('aria-describedby', 'precheck-why');

    function blocking() {
      if (!st.precheck) return 'Next is available once the precheck has run.';
      const fails = st.precheck.items.filter((i) => i.state === 'fail');
      const warns = st.precheck.items.filter((i) => i.state === 'warning' && !st.ignored.has(i.id));
      if (fails.length) return `Next is available when the ${fails.length} failed item${fails.length === 1 ? ' is' : 's are'} fixed (then Check again).`;
      if (warns.length) return `Next is available when the ${warns.length} warning${warns.length === 1 ? ' is' : 's are'} fixed (then Check again) or ignored.`;
      return '';
    }
    function draw() {
      out.removeAttribute('aria-busy');
      out.replaceChildren(precheckList(st.precheck, st.ignored, (itemId, on) => {
        if (on) st.ignored.add(itemId); else st.ignored.delete(itemId);
        draw();
        const cb = [...out.querySelectorAll('input[type=checkbox]')].find((x) => x.closest('.check-item').dataset.id === itemId);
        if (cb) cb.focus();
      }));
      const b = blocking();
      why.textContent = b;
      nav.next.disabled = !!b;
      ignoreAll.disabled = !st.precheck || !st.precheck.items.some((i) => i.state === 'warning' && !st.ignored.has(i.id));
    }
    async function run() {
      nav.next.disabled = true;
      again.disabled = true;
      out.setAttribute('aria-busy', 'true');
      out.replaceChildren(h('p', { role: 'status' }, 'Running the precheck…'));
      why.textContent = '';
      try {
        const b = jobBody();
        st.precheck = await api('POST', '/precheck', b);
        announce(`Precheck done: ${st.precheck.items.filter((i) => i.state === 'fail').length} failed, ${st.precheck.items.filter((i) => i.state === 'warning').length} warnings`);
      } catch (e) {
        st.precheck = null;
        out.replaceChildren(h('p', { class: 'field-error', role: 'alert' }, 'The precheck could not run: ' + e.message));
        why.textContent = 'Next is available once the precheck has run.';
        again.disabled = false;
        return;
      }
      again.disabled = false;
      draw();
    }
    again.addEventListener('click', run);
    ignoreAll.addEventListener('click', () => {
      for (const i of st.precheck.items) if (i.state === 'warning') st.ignored.add(i.id);
      draw();
    });
    if (st.precheck) draw(); else run();
    return () => !blocking();
  }

  /* ---- step 5: spec --------------------------------------------------------------- */
  function stepSpec(body) {
    const grid = h('div', { class: 'spec-grid' });
    const fields = {};
    for (const [key, label, hint, min, max] of SPEC_FIELDS) {
      const inp = h('input', { id: 'spec-' + key, type: 'number', min, max, step: 1, value: st.spec[key], required: true });
      const f = field(label, inp, `${hint} (${min}–${max})`);
      inp.addEventListener('input', () => {
        st.spec[key] = inp.value;
        if (inp.getAttribute('aria-invalid')) { // once shown, the error follows the typing
          const v = Number(inp.value);
          fieldError(inp, f.err, !Number.isInteger(v) || v < min || v > max ? `A whole number from ${min} to ${max}.` : null);
        }
      });
      fields[key] = { f, min, max };
      grid.append(f.el);
    }
    body.append(h('h2', null, 'Choose a spec'), h('p', null, 'How much tidm does in parallel. It can be changed later with Scale (not while the existing data is exported).'), grid);
    return () => {
      let ok = true;
      for (const [key, { f, min, max }] of Object.entries(fields)) {
        const v = Number(st.spec[key]);
        const bad = !Number.isInteger(v) || v < min || v > max;
        fieldError(f.input, f.err, bad ? `A whole number from ${min} to ${max}.` : null);
        if (bad && ok) { f.input.focus(); ok = false; }
        if (!bad) st.spec[key] = v;
      }
      return ok;
    };
  }

  /* ---- step 6: review and create -------------------------------------------------- */
  function describeEndpoint(e) {
    const tls = { none: 'no TLS', ca: 'TLS: CA only', client: 'TLS: client certificate', mutual: 'mutual TLS' }[e.tlsMode];
    return `${e.user}@${e.host}:${e.port} (${tls})${e.checked ? `, ${e.checked.flavor} ${e.checked.version}` : ''}`;
  }
  function stepReview(body, nav) {
    const b = jobBody();
    const o = b.objects;
    const objText = !o ? 'All' : [o.databases ? `databases: ${o.databases.join(', ')}` : '', o.tables ? `tables: ${o.tables.join(', ')}` : '', o.exclude ? `excluding: ${o.exclude.join(', ')}` : ''].filter(Boolean).join('; ');
    const startText = b.start ? (b.start.gtid ? `GTID set ${b.start.gtid}` : `${b.start['binlog-file']} at ${b.start['binlog-pos']}`) : (b.type === 'incremental' ? 'now' : 'the snapshot of the copy');
    const kv = h('dl', { class: 'kv' },
      h('dt', null, 'Job name'), h('dd', null, b.name),
      h('dt', null, 'Type'), h('dd', null, { all: 'existing and incremental data', full: 'existing data only', incremental: 'incremental data only' }[b.type]),
      b.mode ? [h('dt', null, 'Mode'), h('dd', null, b.mode)] : null,
      h('dt', null, 'Source'), h('dd', null, describeEndpoint(st.source)),
      h('dt', null, 'Target'), h('dd', null, describeEndpoint(st.target)),
      h('dt', null, 'Objects'), h('dd', null, objText),
      b.type !== 'full' ? [h('dt', null, 'Replication starts at'), h('dd', null, startText)] : null,
      h('dt', null, 'Spec'), h('dd', null, SPEC_FIELDS.map(([k, l]) => `${l.toLowerCase()} ${b.spec[k]}`).join(', ')),
      h('dt', null, 'Ignored warnings'), h('dd', null, st.ignored.size ? [...st.ignored].join(', ') : 'none'));
    const err = h('div', { class: 'error-box', id: 'create-error', hidden: true, role: 'alert' });
    const startNow = h('button', { type: 'button', class: 'primary', id: 'create-start' }, 'Create job and start');
    const createOnly = h('button', { type: 'button', id: 'create-only' }, 'Create without starting');
    body.append(h('h2', null, 'Review'), h('div', { class: 'panel' }, kv),
      h('h3', null, 'The job as a file for tidm migrate'), h('pre', { class: 'yaml', tabindex: '0', 'aria-label': 'Job file (YAML)' }, jobYaml(b)),
      err, h('div', { class: 'actions' }, startNow, createOnly));
    nav.next.hidden = true;
    async function create(start) {
      startNow.disabled = createOnly.disabled = true;
      err.hidden = true;
      const body2 = jobBody();
      const startObj = body2.start;
      if (start && !startObj) body2.start = true;
      try {
        await api('POST', '/jobs', body2);
        if (start && startObj) await api('POST', `/jobs/${enc(body2.name)}/start`);
        toast(`Job ${body2.name} created${start ? ' and started' : ''}`);
        const name = body2.name;
        st = freshState();
        location.hash = `#/jobs/${enc(name)}`;
      } catch (e) {
        err.replaceChildren(h('h2', null, 'The job was not created'), h('pre', null, e.message), e.field ? h('p', null, `Field: ${e.field}`) : null);
        err.hidden = false;
        err.setAttribute('tabindex', '-1');
        err.focus();
        startNow.disabled = createOnly.disabled = false;
      }
    }
    startNow.addEventListener('click', () => create(true));
    createOnly.addEventListener('click', () => create(false));
    return () => true;
  }

  const STEP_FNS = [stepConnections, stepType, stepObjects, stepPrecheck, stepSpec, stepReview];

  function wizardView(main, _arg, t0) {
    document.title = 'Create migration job · tidm';
    const stepsOl = h('ol', { class: 'steps', 'aria-label': 'Steps' });
    const body = h('div', { class: 'step-body' });
    const back = h('button', { type: 'button', id: 'wizard-back' }, 'Back');
    const next = h('button', { type: 'button', class: 'primary', id: 'wizard-next' }, 'Next');
    const reset = h('button', { type: 'button', id: 'wizard-reset' }, 'Start over');
    const form = h('form', { class: 'wizard', novalidate: true, 'aria-labelledby': 'wizard-title' }, stepsOl, body, h('div', { class: 'actions' }, back, next, reset));
    main.append(h('div', { class: 'page-head' }, h('h1', { id: 'wizard-title' }, 'Create migration job')), form);
    let validate = null;
    let busy = false;

    function draw(focus) {
      stepsOl.replaceChildren(...STEPS.map((s, i) => h('li', { 'aria-current': i === st.step ? 'step' : null, class: i < st.step ? 'done' : null }, s)));
      body.replaceChildren();
      next.hidden = false;
      next.disabled = false;
      next.textContent = 'Next';
      next.removeAttribute('aria-describedby');
      back.disabled = st.step === 0;
      validate = STEP_FNS[st.step](body, { next, back });
      document.title = `${STEPS[st.step]} · Create migration job · tidm`;
      document.body.dataset.step = STEPS[st.step];
      if (focus) {
        const h2 = body.querySelector('h2');
        if (h2) { h2.setAttribute('tabindex', '-1'); h2.focus(); }
      }
    }
    form.addEventListener('submit', (ev) => ev.preventDefault());
    next.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      next.disabled = true;
      let ok = false;
      try { ok = await validate(); } finally { busy = false; }
      if (ok) { st.step = Math.min(st.step + 1, STEPS.length - 1); draw(true); announce(`Step ${st.step + 1} of ${STEPS.length}: ${STEPS[st.step]}`); } else if (STEPS[st.step] !== 'Precheck') next.disabled = false;
    });
    back.addEventListener('click', () => { if (st.step > 0) { st.step--; draw(true); } });
    reset.addEventListener('click', () => { st = freshState(); draw(true); });
    draw(false);
    focusHeading(main);
    loaded('new', t0);
  }
  tidm.views.new = wizardView;
})();
