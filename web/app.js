// The workbench page (main thread): UI only. All model work happens in
// worker.js. Everything from a package is shown with textContent, never HTML.
const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const state = {
  ready: false, opened: false, running: false, evaluating: false, samples: [], ids: [],
  cases: null, casesName: '', evidence: null,
  adapters: [],  // {id, name, ok, on, scale, description | message}
};

const fmtBytes = (n) => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB`
  : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
const fmtRate = (r) => (r > 0 ? `${r >= 100 ? r.toFixed(0) : r.toFixed(1)} tok/s` : '–');

function showError(message) {
  const e = $('error');
  e.textContent = message;
  e.hidden = !message;
}

function setStatus(text) { $('status').textContent = text; }

function updateButtons() {
  const busy = state.running || state.evaluating;
  $('run').disabled = !(state.ready && state.opened) || busy;
  $('stop').disabled = !state.running;
  $('eval-run').disabled = !(state.ready && state.opened && state.cases) || busy;
  $('eval-stop').disabled = !state.evaluating;
}

function addKv(dl, key, value) {
  const dt = document.createElement('dt');
  dt.textContent = key;
  const dd = document.createElement('dd');
  dd.textContent = String(value);
  dl.append(dt, dd);
}

function showPackage(m) {
  const d = m.description, c = d.config;
  const list = $('meta-list');
  list.replaceChildren();
  addKv(list, 'file', `${m.name} (${fmtBytes(d.file_size)}, opened in ${m.openMs.toFixed(0)} ms)`);
  addKv(list, 'model', `${c.arch}: ${c.n_layers} layers, dim ${c.dim}, ${c.n_heads} heads (${c.n_kv_heads} kv), hidden ${c.hidden_dim}`);
  addKv(list, 'vocab / context', `${c.vocab_size} tokens / ${c.max_seq_len} positions`);
  addKv(list, 'package digest', d.package_digest);
  addKv(list, 'tokenizer digest', d.tokenizer_digest);
  const extra = $('meta-extra');
  extra.replaceChildren();
  for (const [k, v] of Object.entries(d.provenance)) if (v) addKv(extra, `source.${k}`, v);
  for (const [k, v] of Object.entries(d.metadata)) addKv(extra, k, v);
  addKv(extra, 'tokenizer', `bos ${d.tokenizer.bos_id}, eos ${d.tokenizer.eos_id}, pre-tokenizer ${d.tokenizer.pre_tokenizer}`);
  const body = $('tensors').tBodies[0];
  body.replaceChildren();
  for (const t of d.tensors) {
    const tr = document.createElement('tr');
    for (const v of [t.name, t.dtype, t.shape.join(' × '), t.sha256]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
  $('tensor-count').textContent = String(d.tensors.length);
  $('meta').hidden = false;
}

function showDiag(d) {
  if (!d) return;
  $('d-prefill').textContent = `${fmtRate(d.prefillTokS)} (${d.promptTokens} prompt token${d.promptTokens === 1 ? '' : 's'})`;
  $('d-decode').textContent = `${fmtRate(d.decodeTokS)} (${d.generatedTokens} generated)`;
  $('d-cache').textContent = `${d.tokensInCache} / ${d.nCtx}`;
  $('d-ttft').textContent = d.timeToFirstTokenMs > 0 ? `${d.timeToFirstTokenMs.toFixed(1)} ms` : '–';
  // Pages of 16 positions (docs/kv-cache.md); used + cached + free = all.
  $('d-pages').textContent = `${d.kvPagesUsed} used, ${d.kvPagesShared} shared, ${d.kvPagesCached} cached, ${d.kvPagesFree} free`;
  $('d-hit').textContent = d.kvPromptTokens > 0
    ? `${(100 * d.prefixHitRate).toFixed(0)}% (${d.kvReusedTokens} of ${d.kvPromptTokens} prompt tokens reused)` : '–';
  $('d-evictions').textContent = String(d.kvEvictions);
  $('d-adapters').textContent = String(d.adapterCount);
  $('d-checksum').textContent = `${d.assemblyChecksum}${d.adapterCount ? '' : ' (base alone)'}`;
  $('d-memory').textContent = `${fmtBytes(d.linearMemoryBytes)} wasm memory (package ${fmtBytes(d.packageBytes)}, session ${fmtBytes(d.sessionBytes)})`;
  $('d-kernels').textContent = d.kernels;
}

function sample(d, runStart) {
  state.samples.push({ decode: d.decodeTokS, prefill: runStart ? d.prefillTokS : null });
  if (state.samples.length > 150) state.samples.shift();
  drawChart();
}

function drawChart() {
  const cv = $('chart'), g = cv.getContext('2d'), dpr = self.devicePixelRatio || 1;
  const w = cv.clientWidth || 600, h = cv.clientHeight || 120, s = state.samples;
  if (cv.width !== Math.round(w * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); }
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const max = Math.max(1, ...s.map((p) => Math.max(p.decode, p.prefill ?? 0))) * 1.1;
  g.strokeStyle = '#d9dde3';
  g.beginPath();
  for (const f of [0.25, 0.5, 0.75]) { g.moveTo(0, h * f); g.lineTo(w, h * f); }
  g.stroke();
  g.fillStyle = '#6b7280';
  g.font = '11px system-ui, sans-serif';
  g.fillText(`${max.toFixed(0)} tok/s`, 4, 12);
  const x = (i) => (s.length < 2 ? w / 2 : (i / (s.length - 1)) * (w - 8) + 4);
  const y = (v) => h - 2 - (v / max) * (h - 16);
  g.strokeStyle = '#2563eb';
  g.lineWidth = 2;
  g.beginPath();
  s.forEach((p, i) => (i ? g.lineTo(x(i), y(p.decode)) : g.moveTo(x(i), y(p.decode))));
  g.stroke();
  g.fillStyle = '#f59e0b';
  s.forEach((p, i) => { if (p.prefill) { g.beginPath(); g.arc(x(i), y(p.prefill), 3.5, 0, 7); g.fill(); } });
}

worker.onmessage = (ev) => {
  const m = ev.data;
  switch (m.type) {
    case 'ready':
      state.ready = true;
      $('engine').textContent = `slm ${m.version}, ${m.simd ? 'SIMD128' : 'scalar'} build, kernels: ${m.kernels}.`;
      $('d-kernels').textContent = m.kernels;
      break;
    case 'progress':
      $('progress-row').hidden = false;
      $('progress').max = Math.max(m.total, 1);
      $('progress').value = m.loaded;
      $('progress-text').textContent = `${fmtBytes(m.loaded)} / ${fmtBytes(m.total)}`;
      break;
    case 'opened':
      state.opened = true;
      state.adapters = [];
      renderAdapters();
      document.body.dataset.assembly = m.diag.assemblyChecksum;
      showError('');
      showPackage(m);
      showDiag(m.diag);
      setStatus('ready');
      document.body.dataset.state = 'opened';
      break;
    case 'started':
      state.ids = [];
      $('output').textContent = '';
      $('ids').textContent = '';
      $('output').dataset.promptIds = m.promptIds.join(',');
      sample(m.diag, true);
      break;
    case 'token':
      state.ids.push(...m.ids);
      $('output').append(m.text);
      $('ids').textContent = state.ids.join(' ');
      showDiag(m.diag);
      sample(m.diag, false);
      setStatus(`${state.ids.length} tokens…`);
      break;
    case 'done':
      state.running = false;
      $('output').dataset.ids = m.ids.join(',');
      showDiag(m.diag);
      setStatus(m.stopped ? `stopped after ${m.ids.length} tokens` : `done: ${m.ids.length} tokens (${m.diag.stopReason})`);
      document.body.dataset.state = 'done';
      updateButtons();
      return;
    case 'eval-progress':
      showEvalProgress(m);
      showDiag(m.diag);
      break;
    case 'eval-done':
      state.evaluating = false;
      if (m.stopped) {
        $('eval-status').textContent = `stopped after ${m.done} of ${m.total} cases (no evidence for a partial run)`;
      } else {
        state.evidence = m.evidence;
        showFitness(JSON.parse(m.evidence));
        $('eval-status').textContent = `done: ${m.total} cases`;
      }
      document.body.dataset.state = m.stopped ? 'eval-stopped' : 'evaluated';
      break;
    case 'release':
      download(m.bytes, 'release-packet.tar', 'application/x-tar');
      break;
    case 'adapter':
      state.adapters.push({ id: m.id, name: m.name, ok: m.ok, on: m.ok, scale: 1, description: m.description, message: m.message });
      renderAdapters();
      if (m.ok) sendAdapters();
      document.body.dataset.adapters = String(state.adapters.length);
      break;
    case 'adapters-set':
      showDiag(m.diag);
      document.body.dataset.assembly = m.diag.assemblyChecksum;
      break;
    case 'verified':
      showVerify(m);
      break;
    case 'error':
      state.running = false;
      state.evaluating = false;
      if (m.during === 'opening the package') { state.opened = false; $('meta').hidden = true; }
      showError(`Error ${m.during}: ${m.message}`);
      setStatus('');
      document.body.dataset.state = 'error';
      break;
    case 'log':
      console.warn(m.line);
      break;
  }
  updateButtons();
};
worker.onerror = (e) => showError(`The worker failed: ${e.message || 'could not start (module workers are required)'}`);

// ---- Adapters ----

function adapterSummary(d) {
  const kinds = {};
  for (const t of d.deltas) kinds[t.kind] = (kinds[t.kind] ?? 0) + 1;
  const ks = Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ');
  return `${ks} · ${fmtBytes(d.bytes)} · digest ${d.digest.slice(0, 16)}… · made by ${d.lineage?.method || 'unknown'}`;
}

function sendAdapters() {
  worker.postMessage({ type: 'set-adapters', list: state.adapters.filter((a) => a.ok).map(({ id, on, scale }) => ({ id, on, scale })) });
}

function renderAdapters() {
  const ul = $('adapters');
  ul.replaceChildren();
  for (const a of state.adapters) {
    const li = document.createElement('li');
    li.dataset.id = String(a.id);
    li.className = a.ok ? 'valid' : 'refused';
    const head = document.createElement('div');
    head.className = 'head';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = a.ok ? (a.description.name || a.name) : a.name;
    if (a.ok) {
      const on = document.createElement('input');
      on.type = 'checkbox';
      on.checked = a.on;
      on.className = 'on';
      on.setAttribute('aria-label', `use ${a.name}`);
      on.addEventListener('change', () => { a.on = on.checked; sendAdapters(); });
      const scale = document.createElement('input');
      scale.type = 'number';
      scale.step = '0.1';
      scale.value = String(a.scale);
      scale.className = 'scale';
      scale.setAttribute('aria-label', `scale of ${a.name}`);
      scale.addEventListener('change', () => {
        const v = Number(scale.value);
        if (!Number.isFinite(v)) return showError('an adapter scale must be a number');
        a.scale = v;
        sendAdapters();
      });
      const scaleLabel = document.createElement('label');
      scaleLabel.append('scale ', scale);
      head.append(on, name, scaleLabel);
    } else {
      head.append(name);
    }
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'remove';
    remove.addEventListener('click', () => {
      state.adapters = state.adapters.filter((x) => x !== a);
      renderAdapters();
      if (a.ok) worker.postMessage({ type: 'remove-adapter', id: a.id, remaining: state.adapters.filter((x) => x.ok).map(({ id, on, scale }) => ({ id, on, scale })) });
    });
    head.append(remove);
    const detail = document.createElement('div');
    detail.className = 'detail';
    detail.textContent = a.ok ? `valid for this base · ${adapterSummary(a.description)}` : `refused: ${a.message}`;
    li.append(head, detail);
    ul.append(li);
  }
}

// A PEFT folder is chosen as its two files together (adapter_config.json and
// adapter_model.safetensors); it is named by its folder when the browser says
// (a directory pick), else 'peft'. Every other file is one adapter.
$('adapter-file').addEventListener('change', () => {
  const files = [...$('adapter-file').files];
  const config = files.find((f) => f.name === 'adapter_config.json');
  const weights = files.find((f) => f.name === 'adapter_model.safetensors');
  if (config && weights) {
    const dir = (config.webkitRelativePath || '').split('/').slice(-2, -1)[0];
    worker.postMessage({ type: 'add-adapter', config, weights, name: dir || 'peft' });
  }
  for (const f of files) {
    if (config && weights && (f === config || f === weights)) continue;
    worker.postMessage({ type: 'add-adapter', file: f });
  }
  $('adapter-file').value = '';
});

// ---- Evaluate tab ----

function selectTab(name) {
  for (const t of ['generate', 'evaluate']) {
    $(`tab-${t}`).setAttribute('aria-selected', String(t === name));
  }
  $('gen-panel').hidden = name !== 'generate';
  $('eval-panel').hidden = name !== 'evaluate';
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.append(td);
}

function showEvalProgress(m) {
  const c = m.lastCase;
  $('eval-progress').max = m.total;
  $('eval-progress').value = m.done;
  const rate = m.ms > 0 ? m.tokens / (m.ms / 1000) : 0;
  const eta = m.done > 0 ? ((m.total - m.done) * m.ms) / m.done / 1000 : 0;
  $('eval-progress-text').textContent = `${m.done} / ${m.total} cases · ${fmtRate(rate)} · ETA ${eta.toFixed(0)} s`;
  const tr = document.createElement('tr');
  cell(tr, c.id);
  cell(tr, c.pass ? 'pass' : 'fail', c.pass ? 'pass' : 'fail');
  cell(tr, c.score.toFixed(3));
  cell(tr, c.loglik ? c.loglik.mean.toFixed(4) : '–');
  cell(tr, c.output_text);
  $('cases-table').tBodies[0].append(tr);
  $('cases-table').hidden = false;
}

function showFitness(e) {
  const f = e.fitness, t = e.timing ?? {}, dl = $('fitness');
  dl.replaceChildren();
  const pct = (x) => `${(100 * x).toFixed(1)} %`;
  addKv(dl, 'weighted pass rate', `${pct(f.weighted_pass_rate)} (${f.passed} / ${f.cases} cases)`);
  for (const [tag, v] of Object.entries(f.tags ?? {})) addKv(dl, `tag ${tag}`, `${pct(v.weighted_pass_rate)} (${v.passed} / ${v.cases})`);
  addKv(dl, 'mean log-likelihood', `${f.mean_loglik.toFixed(4)} nats/token (perplexity ${f.perplexity.toFixed(3)})`);
  if (t.prefill_tok_s !== undefined) addKv(dl, 'prefill / decode', `${fmtRate(t.prefill_tok_s)} / ${fmtRate(t.decode_tok_s)}`);
  if (t.peak_memory_bytes) addKv(dl, 'peak memory', fmtBytes(t.peak_memory_bytes));
  addKv(dl, 'package + adapters', `${fmtBytes(f.package_bytes)} + ${fmtBytes(f.adapter_bytes)}`);
  addKv(dl, 'assembly checksum', e.identity.assembly_checksum);
  addKv(dl, 'cases digest', e.identity.cases_digest);
  $('fitness-box').hidden = false;
}

function showVerify(m) {
  const r = m.report, out = $('verify-result'), list = $('verify-problems');
  out.className = r.ok ? 'status ok' : 'status bad';
  out.textContent = r.ok
    ? `${m.name}: verified — ${r.cases} cases replayed bit for bit (packet ${r.packet_digest.slice(0, 16)}…, ${m.ms.toFixed(0)} ms)`
    : `${m.name}: NOT verified — ${r.problems.length} difference(s)`;
  list.replaceChildren();
  for (const p of r.problems.slice(0, 50)) {
    const li = document.createElement('li');
    li.textContent = p;
    list.append(li);
  }
  document.body.dataset.verified = r.ok ? 'ok' : 'failed';
}

function download(bytes, name, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

$('tab-generate').addEventListener('click', () => selectTab('generate'));
$('tab-evaluate').addEventListener('click', () => selectTab('evaluate'));
$('cases-file').addEventListener('change', async () => {
  const f = $('cases-file').files[0];
  if (!f) return;
  state.cases = await f.text();
  state.casesName = f.name;
  $('cases-name').textContent = `${f.name} (${state.cases.split('\n').filter((l) => l.trim()).length} lines)`;
  updateButtons();
});
$('eval-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const seed = $('e-seed').value.trim() || '0';
  if (!/^\d+$/.test(seed)) return showError('seed must be a whole number');
  const num = (id) => Number($(id).value);
  state.evaluating = true;
  state.evidence = null;
  showError('');
  $('fitness-box').hidden = true;
  $('cases-table').tBodies[0].replaceChildren();
  $('eval-progress-row').hidden = false;
  $('eval-progress').value = 0;
  $('eval-progress-text').textContent = 'starting…';
  $('eval-status').textContent = `evaluating ${state.casesName}…`;
  document.body.dataset.state = 'evaluating';
  updateButtons();
  worker.postMessage({
    type: 'evaluate', cases: state.cases,
    sampler: { temperature: num('e-temperature'), topK: num('e-top-k'), topP: num('e-top-p'), seed },
  });
});
$('eval-stop').addEventListener('click', () => worker.postMessage({ type: 'stop' }));
$('dl-evidence').addEventListener('click', () => {
  if (state.evidence) download(state.evidence, 'evidence.json', 'application/json');
});
$('dl-packet').addEventListener('click', () => worker.postMessage({ type: 'release', includeBase: $('include-base').checked }));
$('packet-file').addEventListener('change', () => {
  const f = $('packet-file').files[0];
  if (!f) return;
  $('verify-result').className = 'status';
  $('verify-result').textContent = `verifying ${f.name}…`;
  $('verify-problems').replaceChildren();
  worker.postMessage({ type: 'verify', file: f });
});

function open(msg) {
  if (state.running) worker.postMessage({ type: 'stop' });
  state.opened = false;
  showError('');
  $('meta').hidden = true;
  $('progress').value = 0;
  $('progress-row').hidden = false;
  $('progress-text').textContent = 'starting…';
  document.body.dataset.state = 'opening';
  updateButtons();
  worker.postMessage(msg);
}

$('file').addEventListener('change', () => { const f = $('file').files[0]; if (f) open({ type: 'open', file: f }); });
$('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $('url').value.trim();
  if (!url) return;
  try { open({ type: 'open', url: new URL(url, location.href).href }); } catch { showError(`Not a URL: ${url}`); }
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer.files[0];
  if (f) open({ type: 'open', file: f });
});

$('gen-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const num = (id) => Number($(id).value);
  const msg = {
    type: 'generate', prompt: $('prompt').value, temperature: num('temperature'), topK: num('top-k'),
    topP: num('top-p'), minP: num('min-p'), repeatPenalty: num('repeat-penalty'),
    presencePenalty: num('presence-penalty'), frequencyPenalty: num('frequency-penalty'),
    seed: $('seed').value.trim() || '0', maxTokens: num('max-tokens'),
  };
  if (!/^\d+$/.test(msg.seed)) return showError('seed must be a whole number');
  state.running = true;
  setStatus('prefill…');
  document.body.dataset.state = 'running';
  showError('');
  updateButtons();
  worker.postMessage(msg);
});
$('stop').addEventListener('click', () => worker.postMessage({ type: 'stop' }));

const params = new URLSearchParams(location.search);
if (params.get('tab') === 'evaluate') selectTab('evaluate');
if (params.get('package')) { $('url').value = params.get('package'); open({ type: 'open', url: new URL(params.get('package'), location.href).href }); }
drawChart();
self.addEventListener('resize', drawChart);
