// chapmark edit: the page. Plain JavaScript, no framework, nothing from the network.
// The server parses, validates and writes; the page only holds the rows as typed.
'use strict';

const token = new URLSearchParams(location.search).get('token') || '';
const $ = (id) => document.getElementById(id);
const ed = {
  rows: [],          // {start, title, url, orig, ms}
  durationMs: 0,
  hours: false,
  peaks: null,       // {peaks, rms} in per-mille
  from: 0, to: 1,    // the visible span (ms)
  diags: [],
  snaps: [],
  drag: -1,
  checkSeq: 0,
  checks: 0,
  dirty: false,
  audioVersion: 0,
};

async function call(path, body) {
  const headers = { 'X-Chapmark-Token': token };
  const opts = body === undefined ? { headers } :
    { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const r = await fetch('api/' + path, opts);
  let data;
  try { data = await r.json(); } catch (e) { data = { message: r.status + ' ' + r.statusText }; }
  return { ok: r.ok, status: r.status, data };
}

function say(text, kind) {
  const s = $('status');
  s.textContent = text;
  s.className = kind || '';
}

// Like chapmark's Time::clock: MM:SS or H:MM:SS, plus .mmm off the whole second.
function fmt(ms) {
  ms = Math.max(0, Math.round(ms));
  const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60, r = ms % 1000;
  const p2 = (n) => String(n).padStart(2, '0');
  let out = ed.hours ? `${h}:${p2(m)}:${p2(s)}` : `${p2(h * 60 + m)}:${p2(s)}`;
  if (r) out += '.' + String(r).padStart(3, '0');
  return out;
}

function payload(extra) {
  return Object.assign({
    chapters: ed.rows.map((r) => ({ start: r.start, title: r.title, url: r.url, orig: r.orig })),
    profile: $('profile').value,
  }, extra || {});
}

// ---- the list ----------------------------------------------------------------------

function setRows(chapters) {
  ed.rows = chapters.map((c) => ({ start: c.start, title: c.title, url: c.url || '', orig: c.orig, ms: c.startMs }));
  ed.snaps = [];
  renderRows();
  check();
}

function cell(tag, cls) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

function input(cls, value, label, i, type) {
  const e = cell('input', cls);
  e.type = type || 'text';
  e.value = value;
  e.dataset.field = cls;
  e.setAttribute('aria-label', `${label} of chapter ${i + 1}`);
  e.setAttribute('aria-describedby', `problems-${i}`);
  e.spellcheck = false;
  return e;
}

function button(cls, text, label, title) {
  const b = cell('button', cls);
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  if (title) b.title = title;
  return b;
}

function renderRows() {
  const body = document.querySelector('#chapters tbody');
  body.textContent = '';
  ed.rows.forEach((r, i) => {
    const tr = cell('tr');
    tr.dataset.index = i;
    const num = cell('th');
    num.scope = 'row';
    num.textContent = i + 1;
    const start = cell('td');
    start.append(input('start', r.start, 'Start', i));
    const tools = cell('td', 'tools');
    tools.append(button('here', '⇤ playhead', `Set the start of chapter ${i + 1} to the playhead`, 'Alt+S'),
      ' ', button('play', '▶', `Play from chapter ${i + 1}`));
    const title = cell('td');
    title.append(input('title', r.title, 'Title', i));
    const url = cell('td');
    url.append(input('url', r.url, 'URL', i, 'url'));
    const del = cell('td');
    del.append(button('del', '✕', `Delete chapter ${i + 1}`));
    const probs = cell('td', 'problems');
    probs.id = `problems-${i}`;
    probs.setAttribute('aria-live', 'polite');
    tr.append(num, start, tools, title, url, del, probs);
    body.append(tr);
  });
  showDiagnostics();
  draw();
}

function edited() {
  ed.dirty = true;
  clearTimeout(ed.timer);
  document.body.dataset.idle = 'false';
  ed.timer = setTimeout(check, 200);
}

function onListInput(ev) {
  const t = ev.target;
  const tr = t.closest('tr');
  if (!tr || !t.dataset.field) return;
  const r = ed.rows[+tr.dataset.index];
  r[t.dataset.field] = t.value;
  edited();
}

function onListClick(ev) {
  const b = ev.target.closest('button');
  const tr = ev.target.closest('tr');
  if (!b || !tr) return;
  const i = +tr.dataset.index;
  if (b.classList.contains('del')) {
    ed.rows.splice(i, 1);
    ed.dirty = true;
    renderRows();
    check();
    const next = document.querySelector(`#chapters tbody tr:nth-child(${Math.min(i + 1, ed.rows.length)}) input.title`);
    (next || $('add')).focus();
  } else if (b.classList.contains('here')) {
    setStart(i, $('player').currentTime * 1000);
  } else if (b.classList.contains('play')) {
    playFrom(ed.rows[i].ms);
  } else if (b.classList.contains('snap-to')) {
    setStart(i, +b.dataset.ms);
  }
}

function setStart(i, ms) {
  const r = ed.rows[i];
  if (!r) return;
  r.ms = Math.max(0, Math.round(ms));
  r.start = fmt(r.ms);
  const inp = document.querySelector(`#chapters tbody tr[data-index="${i}"] input.start`);
  if (inp) inp.value = r.start;
  draw();
  edited();
}

function addAtPlayhead() {
  const ms = Math.round($('player').currentTime * 1000);
  let at = ed.rows.findIndex((r) => r.ms !== null && r.ms > ms);
  if (at < 0) at = ed.rows.length;
  ed.rows.splice(at, 0, { start: fmt(ms), title: '', url: '', orig: null, ms });
  ed.dirty = true;
  renderRows();
  check();
  document.querySelector(`#chapters tbody tr[data-index="${at}"] input.title`).focus();
}

// ---- validation --------------------------------------------------------------------

async function check() {
  // A direct check supersedes a debounced one still waiting (no second, stale answer).
  clearTimeout(ed.timer);
  document.body.dataset.idle = 'false';
  const seq = ++ed.checkSeq;
  const { ok, data } = await call('check', payload());
  if (seq !== ed.checkSeq) return;  // a newer edit is being checked
  // Idle: no edit waiting and this is the newest answer (tests wait for it).
  document.body.dataset.idle = 'true';
  if (!ok) { say(data.message || 'validation failed', 'error'); return; }
  (data.startsMs || []).forEach((ms, i) => { if (ed.rows[i]) ed.rows[i].ms = ms; });
  ed.diags = data.diagnostics;
  showDiagnostics(data);
  draw();
  document.body.dataset.checks = ++ed.checks;
}

function diagItem(d) {
  const li = cell('li', 'sev-' + d.severity);
  const code = cell('code');
  code.textContent = d.code;
  li.append(`${d.severity} `, code, ` ${d.message}`);
  if (d.hint) li.append(` (${d.hint})`);
  return li;
}

function showDiagnostics(counts) {
  const general = $('general');
  general.textContent = '';
  const perRow = ed.rows.map(() => []);
  for (const d of ed.diags) {
    if (d.chapter && perRow[d.chapter - 1]) perRow[d.chapter - 1].push(d);
    else general.append(diagItem(d));
  }
  document.querySelectorAll('#chapters tbody tr').forEach((tr, i) => {
    const td = tr.querySelector('.problems');
    td.textContent = '';
    const list = perRow[i] || [];
    if (list.length) {
      const ul = cell('ul');
      list.forEach((d) => ul.append(diagItem(d)));
      td.append(ul);
    }
    for (const s of ed.snaps.filter((s) => s.index === i)) {
      const b = button('snap-to snap', `Snap to ${s.to}`, `Move chapter ${i + 1} to the pause at ${s.to}`);
      b.dataset.ms = s.toMs;
      td.append(b);
    }
    tr.classList.toggle('has-error', list.some((d) => d.severity === 'error'));
  });
  if (counts) {
    const e = counts.errors, w = counts.warnings;
    $('summary').textContent = `— ${ed.rows.length} chapters, ${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}`;
  }
}

// ---- save, export, paste, snaps ------------------------------------------------------

async function save() {
  say('saving…');
  const { ok, data } = await call('save', payload());
  if (data.diagnostics) ed.diags = data.diagnostics;
  if (ok) {
    ed.dirty = false;
    setRows(data.chapters);
    reloadAudio();
    say(`${data.message} (${data.kind})`, 'ok');
  } else {
    showDiagnostics(data.errors === undefined ? null : data);
    say(data.message || 'not saved', 'error');
  }
  document.body.dataset.saves = (+(document.body.dataset.saves || 0)) + 1;
}

async function exportFile() {
  const { ok, data } = await call('export', payload({ format: $('format').value }));
  say(data.message || (ok ? 'exported' : 'not exported'), ok ? 'ok' : 'error');
}

async function reload() {
  if (ed.dirty && !confirm('Discard the unsaved changes and reload the chapters from the file?')) return;
  const { ok, data } = await call('reload', {});
  if (!ok) { say(data.message || 'cannot read the file', 'error'); return; }
  ed.dirty = false;
  setRows(data.chapters);
  say(`the file holds ${data.chapters.length} chapters`);
}

async function suggestSnaps() {
  say('looking for pauses near each start…');
  const { ok, data } = await call('snaps', payload());
  if (!ok) { say(data.message || 'no suggestions', 'error'); return; }
  ed.snaps = data.snaps;
  showDiagnostics();
  draw();
  say(data.snaps.length ? `${data.snaps.length} snap suggestions: see the Problems column` : 'no snap suggestions');
}

function openPaste() {
  const dlg = $('paste-dialog');
  $('paste-text').value = '';
  dlg.showModal();
}

async function onPasteClose() {
  if ($('paste-dialog').returnValue !== 'ok') return;
  const { ok, data } = await call('paste', { text: $('paste-text').value });
  if (!ok) { say(data.message || 'cannot read that', 'error'); return; }
  ed.dirty = true;
  setRows(data.chapters);
  say(`read ${data.chapters.length} chapters (${data.format})`);
}

// ---- audio -------------------------------------------------------------------------

function reloadAudio() {
  const p = $('player');
  const t = p.currentTime;
  ed.audioVersion++;
  p.src = `media/${encodeURIComponent(ed.audio)}?token=${token}&v=${ed.audioVersion}`;
  p.currentTime = t;
}

function playFrom(ms) {
  if (ms === null || ms === undefined) return;
  const p = $('player');
  p.currentTime = ms / 1000;
  p.play().catch(() => {});
}

function togglePlay() {
  const p = $('player');
  if (p.paused) p.play().catch(() => {}); else p.pause();
}

function currentIndex(ms) {
  let cur = -1;
  ed.rows.forEach((r, i) => { if (r.ms !== null && r.ms <= ms) cur = i; });
  return cur;
}

function jump(delta) {
  const ms = $('player').currentTime * 1000;
  const order = ed.rows.map((r, i) => [r.ms, i]).filter(([m]) => m !== null).sort((a, b) => a[0] - b[0]);
  const target = delta > 0 ? order.find(([m]) => m > ms + 1) :
    order.filter(([m]) => m < ms - 1500).pop();
  if (!target) return;
  $('player').currentTime = target[0] / 1000;
  document.querySelector(`#chapters tbody tr[data-index="${target[1]}"] input.title`)?.focus();
}

function onTime() {
  const ms = $('player').currentTime * 1000;
  const cur = currentIndex(ms);
  document.querySelectorAll('#chapters tbody tr').forEach((tr, i) => {
    tr.classList.toggle('current', i === cur);
    if (i === cur) tr.setAttribute('aria-current', 'true'); else tr.removeAttribute('aria-current');
  });
  $('wave').setAttribute('aria-valuenow', Math.round(ms / 1000));
  $('wave').setAttribute('aria-valuetext', fmt(ms));
  draw();
}

// ---- the waveform ------------------------------------------------------------------

function xOf(ms, w) { return (ms - ed.from) / (ed.to - ed.from) * w; }
function msOf(x, w) { return ed.from + x / w * (ed.to - ed.from); }

function draw() {
  const c = $('wave');
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  drawPeaks(g, w, h);
  drawMarks(g, w, h);
  const play = xOf($('player').currentTime * 1000, w);
  g.fillStyle = '#e53935';
  g.fillRect(Math.round(play), 0, 2, h);
  $('view').textContent = `${fmt(ed.from)} – ${fmt(ed.to)}`;
}

function drawPeaks(g, w, h) {
  const mid = h / 2 + 8;
  g.fillStyle = '#e0e0e0';
  g.fillRect(0, mid, w, 1);
  if (!ed.peaks) return;
  const n = ed.peaks.peaks.length, d = ed.durationMs || 1;
  for (let x = 0; x < w; x++) {
    const a = Math.floor(msOf(x, w) / d * n), b = Math.max(a + 1, Math.floor(msOf(x + 1, w) / d * n));
    let pk = 0, rm = 0;
    for (let k = Math.max(0, a); k < Math.min(n, b); k++) {
      pk = Math.max(pk, ed.peaks.peaks[k]);
      rm = Math.max(rm, ed.peaks.rms[k]);
    }
    const ph = pk / 1000 * (h / 2 - 12), rh = rm / 1000 * (h / 2 - 12);
    g.fillStyle = '#9db7e8';
    g.fillRect(x, mid - ph, 1, ph * 2 + 1);
    g.fillStyle = '#3d6fd1';
    g.fillRect(x, mid - rh, 1, rh * 2 + 1);
  }
}

function drawMarks(g, w, h) {
  const bad = new Set(ed.diags.filter((d) => d.severity === 'error' && d.chapter).map((d) => d.chapter - 1));
  g.font = '12px system-ui, "Noto Sans CJK JP", sans-serif';
  g.textBaseline = 'top';
  for (const s of ed.snaps) {
    const x = xOf(s.toMs, w);
    g.strokeStyle = '#2e7d32';
    g.setLineDash([4, 3]);
    g.beginPath(); g.moveTo(x, 16); g.lineTo(x, h); g.stroke();
    g.setLineDash([]);
  }
  ed.rows.forEach((r, i) => {
    if (r.ms === null || r.ms === undefined) return;
    // A start past the end is drawn at the right edge, where it can be seen and grabbed.
    const x = Math.min(xOf(Math.min(r.ms, ed.durationMs), w), w - 6);
    if (x < -2 || x > w + 2) return;
    g.fillStyle = bad.has(i) ? '#c62828' : (i === ed.drag ? '#ff8f00' : '#1d1d1f');
    g.fillRect(Math.round(x) - 1, 0, 2, h);
    g.fillRect(Math.round(x) - 5, 0, 10, 14);
    g.fillStyle = '#fff';
    g.fillText(String(i + 1), Math.round(x) - 3, 1);
    g.fillStyle = bad.has(i) ? '#c62828' : '#333';
    g.fillText(r.title.slice(0, 24), Math.round(x) + 7, 1);
  });
}

async function loadPeaks() {
  const { ok, data } = await call('peaks');
  if (!ok) { say('no waveform: ' + (data.message || ''), 'error'); return; }
  ed.peaks = data;
  draw();
  document.body.dataset.waveform = 'ready';
}

function zoom(factor, centerMs) {
  const span = Math.min(ed.durationMs, Math.max(2000, (ed.to - ed.from) * factor));
  const c = centerMs === undefined ? (ed.from + ed.to) / 2 : centerMs;
  ed.from = Math.max(0, Math.min(ed.durationMs - span, c - span / 2));
  ed.to = ed.from + span;
  syncPan();
  draw();
}

function syncPan() {
  const free = ed.durationMs - (ed.to - ed.from);
  $('pan').value = free > 0 ? Math.round(ed.from / free * 1000) : 0;
  $('pan').disabled = free <= 0;
}

function onPan() {
  const span = ed.to - ed.from;
  ed.from = (ed.durationMs - span) * $('pan').value / 1000;
  ed.to = ed.from + span;
  draw();
}

function markNear(x, w) {
  let best = -1, bestD = 7;
  ed.rows.forEach((r, i) => {
    if (r.ms === null || r.ms === undefined) return;
    const d = Math.abs(xOf(r.ms, w) - x);
    if (d < bestD) { best = i; bestD = d; }
  });
  return best;
}

function onPointerDown(ev) {
  const c = $('wave');
  const x = ev.clientX - c.getBoundingClientRect().left;
  const i = markNear(x, c.clientWidth);
  if (i >= 0) {
    ed.drag = i;
    c.setPointerCapture(ev.pointerId);
  } else {
    $('player').currentTime = Math.max(0, msOf(x, c.clientWidth)) / 1000;
  }
  draw();
}

function onPointerMove(ev) {
  if (ed.drag < 0) return;
  const c = $('wave');
  const x = ev.clientX - c.getBoundingClientRect().left;
  // To a round time the pointer can actually resolve at this zoom (1 s, 0.1 s or 10 ms).
  const perPx = (ed.to - ed.from) / c.clientWidth;
  const step = perPx >= 500 ? 1000 : perPx >= 50 ? 100 : 10;
  const ms = Math.round(msOf(x, c.clientWidth) / step) * step;
  setStart(ed.drag, Math.min(ed.durationMs, Math.max(0, ms)));
}

function onPointerUp() {
  if (ed.drag < 0) return;
  ed.drag = -1;
  draw();
  check();
}

function onWaveKey(ev) {
  const p = $('player');
  const step = ev.shiftKey ? 30 : 5;
  if (ev.key === 'ArrowLeft') p.currentTime = Math.max(0, p.currentTime - step);
  else if (ev.key === 'ArrowRight') p.currentTime = Math.min(ed.durationMs / 1000, p.currentTime + step);
  else if (ev.key === 'Home') p.currentTime = 0;
  else if (ev.key === '+' || ev.key === '=') zoom(0.5, p.currentTime * 1000);
  else if (ev.key === '-') zoom(2, p.currentTime * 1000);
  else return;
  ev.preventDefault();
  onTime();
}

// ---- keyboard ----------------------------------------------------------------------

function focusedRow() {
  const tr = document.activeElement && document.activeElement.closest && document.activeElement.closest('#chapters tbody tr');
  return tr ? +tr.dataset.index : -1;
}

function onKey(ev) {
  const typing = /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(ev.target.tagName) || $('paste-dialog').open;
  const k = ev.key.toLowerCase();
  if (ev.ctrlKey && k === 's') { ev.preventDefault(); save(); return; }
  if (ev.altKey && !ev.ctrlKey) {
    const acts = {
      p: togglePlay,
      n: () => jump(1),
      b: () => jump(-1),
      a: addAtPlayhead,
      s: () => {
        let i = focusedRow();
        if (i < 0) i = currentIndex($('player').currentTime * 1000);
        setStart(i, $('player').currentTime * 1000);
      },
    };
    // ev.code: Alt+letter types another character on some layouts (macOS).
    const act = acts[(ev.code || '').replace('Key', '').toLowerCase()] || acts[k];
    if (act) { ev.preventDefault(); act(); }
    return;
  }
  if (k === ' ' && !typing && ev.target.tagName !== 'AUDIO') { ev.preventDefault(); togglePlay(); }
}

// ---- start ------------------------------------------------------------------------

async function start() {
  const { ok, data } = await call('state');
  if (!ok) { say(data.message || 'cannot load the episode', 'error'); return; }
  ed.audio = data.audio;
  ed.durationMs = data.durationMs;
  ed.hours = data.durationMs >= 3600000;
  ed.from = 0;
  ed.to = data.durationMs || 1;
  document.title = `${data.audio} — chapmark edit`;
  $('name').textContent = data.audio;
  $('duration').textContent = `${data.duration} · ${data.container}` + (data.chaptersFile ? ` · chapters from ${data.chaptersFile}` : '');
  $('wave').setAttribute('aria-valuemax', Math.round(data.durationMs / 1000));
  for (const p of data.profiles) $('profile').append(new Option(p, p, false, p === data.profile));
  for (const f of data.formats) $('format').append(new Option(`${f.name} (.${f.extension})`, f.name));
  $('player').src = `media/${encodeURIComponent(data.audio)}?token=${token}`;
  setRows(data.chapters);
  syncPan();
  document.body.dataset.ready = 'true';
  window.chapmarkReadyMs = performance.now();
  loadPeaks();
  setInterval(() => call('heartbeat', {}), 5000);
}

function wire() {
  const body = document.querySelector('#chapters tbody');
  body.addEventListener('input', onListInput);
  body.addEventListener('click', onListClick);
  $('save').addEventListener('click', save);
  $('export').addEventListener('click', exportFile);
  $('paste').addEventListener('click', openPaste);
  $('paste-dialog').addEventListener('close', onPasteClose);
  $('snap').addEventListener('click', suggestSnaps);
  $('reload').addEventListener('click', reload);
  $('add').addEventListener('click', addAtPlayhead);
  $('profile').addEventListener('change', check);
  $('zoom-in').addEventListener('click', () => zoom(0.5, $('player').currentTime * 1000));
  $('zoom-out').addEventListener('click', () => zoom(2, $('player').currentTime * 1000));
  $('zoom-fit').addEventListener('click', () => { ed.from = 0; ed.to = ed.durationMs || 1; syncPan(); draw(); });
  $('pan').addEventListener('input', onPan);
  const c = $('wave');
  c.addEventListener('pointerdown', onPointerDown);
  c.addEventListener('pointermove', onPointerMove);
  c.addEventListener('pointerup', onPointerUp);
  c.addEventListener('keydown', onWaveKey);
  c.addEventListener('wheel', (ev) => {
    if (!ev.ctrlKey && !ev.altKey) return;
    ev.preventDefault();
    const x = ev.clientX - c.getBoundingClientRect().left;
    zoom(ev.deltaY < 0 ? 0.5 : 2, msOf(x, c.clientWidth));
  }, { passive: false });
  $('player').addEventListener('timeupdate', onTime);
  $('player').addEventListener('seeked', onTime);
  document.addEventListener('keydown', onKey);
  window.addEventListener('resize', draw);
  // Closing the page stops the server; a reload comes back within its grace period.
  window.addEventListener('pagehide', () => navigator.sendBeacon(`api/bye?token=${token}`));
  window.addEventListener('beforeunload', (ev) => { if (ed.dirty) { ev.preventDefault(); ev.returnValue = ''; } });
}

wire();
start();
