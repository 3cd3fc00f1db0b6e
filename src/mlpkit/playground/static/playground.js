/* mlpkit playground page: draws what the server (mlpkit) computes; no learning happens here. */
"use strict";

const FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"];
const FEATURE_LABELS = { x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁x₂",
  sinx1: "sin(x₁)", sinx2: "sin(x₂)" };
const NUMERIC = new Set(["n_points", "noise", "train_ratio", "batch_size", "learning_rate",
  "reg_rate", "momentum", "seed", "epochs_per_update"]);
const VIEW = { show_test: "show-test", discretize: "discretize" };  // URL keys of the page's own
                                                                    // settings: their checkboxes
const IN_FLIGHT = 3;           // train requests in flight while playing (see loop())
const NODE = 40, GAP = 10, TOP = 36;

const $ = (id) => document.getElementById(id);
const S = {                    // page state
  ws: null, nextId: 1, waiting: new Map(), config: null, sizes: [], activations: [],
  domain: [-6, 6], problem: "classification", trainPoints: [], testPoints: [],
  frame: null, playing: false, curve: [], selectedPoint: 0, selectedLink: null,
  lastTrace: null, framesDrawn: 0, firstFrameAt: 0,
};
window.__playground = S;       // for tests and measurements

/* ---------- colours: orange (low) – grey-white – blue (high), as the Playground ---------- */
const LUT = (() => {
  const neg = [245, 147, 34], mid = [232, 234, 235], pos = [8, 119, 189];
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255 * 2 - 1, [a, b, u] = t < 0 ? [mid, neg, -t] : [mid, pos, t];
    for (let c = 0; c < 3; c++) lut[i * 4 + c] = Math.round(a[c] + (b[c] - a[c]) * u);
    lut[i * 4 + 3] = 255;
  }
  return lut;
})();
const LUT32 = new Uint32Array(LUT.buffer);   // one RGBA pixel per entry
function colourOf(value, low, high) {
  const i = Math.max(0, Math.min(255, Math.round((value - low) / (high - low) * 255)));
  return `rgb(${LUT[i * 4]},${LUT[i * 4 + 1]},${LUT[i * 4 + 2]})`;
}
function decode(b64) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(b64);
  const raw = atob(b64), out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
function paint(canvas, bytes, n, discretize) {
  if (canvas.width !== n) { canvas.width = n; canvas.height = n; canvas.image = null; }
  const ctx = canvas.getContext("2d");
  const img = canvas.image || (canvas.image = ctx.createImageData(n, n));
  const pixels = new Uint32Array(img.data.buffer), colours = LUT32;
  for (let i = 0; i < n * n; i++) {
    const v = bytes[i];
    pixels[i] = colours[discretize ? (v >= 128 ? 255 : 0) : v];
  }
  ctx.putImageData(img, 0, 0);
}
function fmt(x, digits = 6) {
  if (x === null || x === undefined) return "—";
  if (x === 0) return "0";
  return Math.abs(x) >= 1e-4 && Math.abs(x) < 1e6 ? Number(x.toPrecision(digits)).toString()
    : x.toExponential(digits - 1);
}

/* ---------- connection ---------- */
function send(message) {
  const id = S.nextId++;
  return new Promise((resolve) => {
    S.waiting.set(id, resolve);
    S.ws.send(JSON.stringify({ ...message, id }));
  });
}
function showError(text) {
  const box = $("error");
  box.textContent = text; box.hidden = !text;
}
function onAnswer(answer) {
  if (answer.type === "error") { showError(answer.message); pause(); }
  else if (answer.type === "state") {
    if (!S.keepError) showError("");
    S.keepError = false;
    applyState(answer);
  }
  else if (answer.type === "frame") { drawFrame(answer); if (answer.trace) showTrace(answer.trace); }
  else if (answer.type === "trace") showTrace(answer.trace);
  else if (answer.type === "file") saveFile(answer);
}
function connect() {
  S.ws = new WebSocket(`ws://${location.host}/ws`);
  S.ws.onmessage = (event) => {
    const answer = JSON.parse(event.data);
    onAnswer(answer);
    const resolve = S.waiting.get(answer.id);
    if (resolve) { S.waiting.delete(answer.id); resolve(answer); }
  };
  S.ws.onopen = () => send({ type: "config", config: configFromHash() });
  S.ws.onclose = () => { pause(); showError("The connection to the playground server is closed; restart `mlpkit playground` and reload."); };
}

/* ---------- the URL holds the whole configuration ---------- */
function configFromHash() {             // the server's settings; the page's own (VIEW) are set here
  const config = {};
  for (const part of location.hash.replace(/^#/, "").split("&")) {
    if (!part.includes("=")) continue;
    const [key, raw] = part.split("=").map(decodeURIComponent);
    if (key in VIEW) $(VIEW[key]).checked = raw === "true" || raw === "1";
    else if (key === "features") config.features = raw ? raw.split(",") : [];
    else if (key === "hidden") config.hidden = raw ? raw.split(",").map(Number) : [];
    else if (NUMERIC.has(key)) config[key] = Number(raw);
    else config[key] = raw;
  }
  return config;
}
function writeHash(config) {
  const parts = Object.entries(config).map(([k, v]) =>
    `${k}=${encodeURIComponent(Array.isArray(v) ? v.join(",") : String(v))}`);
  for (const [key, id] of Object.entries(VIEW)) parts.push(`${key}=${$(id).checked}`);
  history.replaceState(null, "", "#" + parts.join("&"));
}
function change(fields) {             // a control changed: send the new settings
  Object.assign(S.config, fields);    // at once, so that a quick second click builds on it
  return send({ type: "config", config: fields }).then((answer) => {
    if (answer.type === "error") {    // refused: take the server's settings back
      S.keepError = true;
      send({ type: "config", config: {} });
    }
    return answer;
  });
}

/* ---------- state (after a configuration or a reset) ---------- */
function applyState(state) {
  const rebuild = JSON.stringify(state.sizes) !== JSON.stringify(S.sizes)
    || JSON.stringify(state.config.features) !== JSON.stringify(S.drawnFeatures)
    || JSON.stringify(state.activations) !== JSON.stringify(S.activations);
  S.drawnFeatures = state.config.features;
  const reset = state.frame.epoch === 0 && state.frame.updates === 0;
  Object.assign(S, { config: state.config, sizes: state.sizes, activations: state.activations,
    domain: state.domain, problem: state.problem, trainPoints: state.train_points,
    testPoints: state.test_points });
  if (reset) S.curve = [];
  S.selectedPoint = Math.min(S.selectedPoint, S.trainPoints.length - 1);
  setControls(state.config);
  writeHash(state.config);
  if (rebuild) { S.selectedLink = null; buildNetwork(); }
  drawPoints();
  drawFrame(state.frame);
  if ($("lecture").open && !S.playing) requestTrace();
}
function setControls(c) {
  for (const key of ["learning_rate", "activation", "regularization", "reg_rate", "loss", "targets",
    "optimizer", "momentum", "init", "preset", "dataset", "batch_mode", "n_points", "epochs_per_update"]) {
    const el = $(key), value = String(c[key]);
    if (![...el.options].some((o) => o.value === value)) el.add(new Option(value, value));
    el.value = value;
  }
  for (const key of ["train_ratio", "noise", "batch_size", "seed"]) {
    $(key).value = c[key];
    if ($(key + "_text")) $(key + "_text").textContent = c[key];
  }
  $("layer-count").textContent = `${c.hidden.length} hidden layer${c.hidden.length === 1 ? "" : "s"}`;
  $("batch_size").disabled = c.batch_mode !== "minibatch";
  $("momentum").disabled = c.optimizer !== "sgd";
  $("lecture-point").max = S.trainPoints.length - 1;
}

/* ---------- the network picture ---------- */
function columns() {                  // node lists per column: inputs (all features), layers
  const cols = [FEATURES.map((f) => ({ feature: f, on: S.config.features.includes(f) }))];
  for (let l = 1; l < S.sizes.length; l++) cols.push(Array.from({ length: S.sizes[l] }, (_, j) => ({ layer: l, unit: j })));
  return cols;
}
function buildNetwork() {
  const box = $("network"), svg = $("links");
  box.querySelectorAll(".node, .unit-buttons, .layer-name").forEach((el) => el.remove());
  const cols = columns(), width = box.clientWidth || 600;
  const xs = cols.map((_, c) => 60 + c * (width - 120) / Math.max(1, cols.length - 1));
  const height = TOP + Math.max(...cols.map((col) => col.length)) * (NODE + GAP) + 20;
  box.style.height = height + "px";
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  S.nodes = [];                        // S.nodes[column][index] = {x, y, canvas}
  cols.forEach((col, c) => {
    const placed = [];
    col.forEach((node, i) => {
      const div = document.createElement("div"), canvas = document.createElement("canvas");
      const x = xs[c] - NODE / 2, y = TOP + i * (NODE + GAP);
      div.className = "node" + (node.feature && !node.on ? " off" : "");
      div.style.left = x + "px"; div.style.top = y + "px";
      canvas.width = canvas.height = 32;
      div.appendChild(canvas);
      if (node.feature) {
        div.dataset.testid = `feature-${node.feature}`;
        const label = document.createElement("span");
        label.className = "label"; label.textContent = FEATURE_LABELS[node.feature];
        div.appendChild(label);
        div.onclick = () => toggleFeature(node.feature);
        div.onmousemove = (e) => tip(e, `input ${FEATURE_LABELS[node.feature]}${node.on ? "" : " (off: click to use it)"}`);
      } else {
        div.dataset.testid = `unit-${node.layer}-${node.unit + 1}`;
        div.onmousemove = (e) => tip(e, unitText(node.layer, node.unit));
      }
      div.onmouseleave = hideTip;
      box.appendChild(div);
      placed.push({ x: xs[c], y: y + NODE / 2, canvas, on: !node.feature || node.on, feature: node.feature });
    });
    S.nodes.push(placed);
    if (c > 0 && c < cols.length - 1) addUnitButtons(box, c, xs[c]);
    const name = document.createElement("div");
    name.className = "layer-name"; name.style.left = (xs[c] - 30) + "px"; name.style.top = "0px";
    name.textContent = c === 0 ? "inputs" : c === cols.length - 1 ? "output" : `hidden ${c}`;
    box.appendChild(name);
  });
  buildLinks(svg);
}
function addUnitButtons(box, c, x) {
  const bar = document.createElement("div");
  bar.className = "unit-buttons"; bar.style.left = (x - 26) + "px"; bar.style.top = "14px";
  for (const [text, delta] of [["+", 1], ["−", -1]]) {
    const b = document.createElement("button");
    b.textContent = text; b.dataset.testid = `${delta > 0 ? "add" : "remove"}-unit-${c}`;
    b.onclick = () => {
      const hidden = [...S.config.hidden];
      hidden[c - 1] = Math.max(1, Math.min(8, hidden[c - 1] + delta));
      change({ hidden, preset: "" });
    };
    bar.appendChild(b);
  }
  box.appendChild(bar);
}
function buildLinks(svg) {
  svg.innerHTML = "";
  S.links = [];                       // S.links[layer-1][i][j] = path
  const active = (c) => S.nodes[c].filter((n) => n.on);
  for (let c = 1; c < S.nodes.length; c++) {
    const sources = active(c - 1), targets = S.nodes[c], layer = [];
    sources.forEach((s, i) => {
      layer.push(targets.map((t, j) => {
        const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
        const x1 = s.x + NODE / 2, x2 = t.x - NODE / 2, mx = (x1 + x2) / 2;
        path.setAttribute("d", `M${x1},${s.y} C${mx},${s.y} ${mx},${t.y} ${x2},${t.y}`);
        path.dataset.testid = `link-${c}-${i + 1}-${j + 1}`;
        path.style.pointerEvents = "stroke";
        path.onmousemove = (e) => tip(e, linkText(c, i, j));
        path.onmouseleave = hideTip;
        path.onclick = () => selectLink(c, i, j);
        svg.appendChild(path);
        return path;
      }));
    });
    S.links.push(layer);
  }
}
function unitText(l, j) {
  const layer = S.frame && S.frame.layers[l - 1];
  const last = l === S.sizes.length - 1;
  return `${last ? "output" : "hidden"} unit ${j + 1} of layer ${l} (${S.activations[l - 1]}), bias b = ${layer ? fmt(layer.biases[j], 4) : "—"}`;
}
function inputName(l, i) {
  return l === 1 ? FEATURE_LABELS[S.config.features[i]] : `unit ${i + 1} of layer ${l - 1}`;
}
function linkText(l, i, j) {
  const w = S.frame ? S.frame.layers[l - 1].weights[i][j] : null;
  return `weight W${l}[${i + 1},${j + 1}] = ${fmt(w, 4)}: ${inputName(l, i)} → unit ${j + 1} of layer ${l} (click: lecture panel)`;
}
function tip(event, text) {
  const t = $("tooltip");
  t.textContent = text; t.hidden = false;
  t.style.left = (event.clientX + 12) + "px"; t.style.top = (event.clientY + 12) + "px";
}
function hideTip() { $("tooltip").hidden = true; }
function toggleFeature(f) {
  const on = S.config.features.includes(f);
  const features = on ? S.config.features.filter((x) => x !== f) : [...S.config.features, f];
  if (features.length) change({ features, preset: "" });
}

/* ---------- one update: losses, weights, every heatmap ---------- */
function drawFrame(frame) {
  S.frame = frame;
  $("epoch").textContent = String(frame.epoch);
  $("updates").textContent = String(frame.updates);
  $("train-loss").textContent = frame.train_loss === null ? "NaN" : frame.train_loss.toFixed(3);
  $("test-loss").textContent = frame.test_loss === null ? "NaN" : frame.test_loss.toFixed(3);
  $("train-loss").dataset.value = frame.train_loss; $("test-loss").dataset.value = frame.test_loss;
  S.curve.push([frame.train_loss, frame.test_loss]);
  if (S.curve.length > 2000) S.curve = S.curve.filter((_, i) => i % 2 === 0);
  drawCurve();
  const maps = frame.maps, discretize = $("discretize").checked;
  if (S.nodes) {
    const inputs = S.nodes[0].filter((n) => n.on);
    inputs.forEach((n, i) => paint(n.canvas, decode(maps.units[0][i]), maps.unit_grid, false));
    for (let c = 1; c < S.nodes.length; c++) {
      S.nodes[c].forEach((n, j) => paint(n.canvas, decode(maps.units[c][j]), maps.unit_grid, false));
    }
    S.nodes[0].filter((n) => !n.on).forEach((n) => n.canvas.getContext("2d").clearRect(0, 0, 32, 32));
    drawLinks(frame.layers);
  }
  const out = $("output"), scratch = S.scratch || (S.scratch = document.createElement("canvas"));
  paint(scratch, decode(maps.output), maps.output_grid, discretize && S.problem === "classification");
  const ctx = out.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, 0, 0, out.width, out.height);
  S.framesDrawn++;
}
function drawLinks(layers) {
  if (!S.links) return;
  const selected = S.selectedLink ? S.selectedLink.join() : "";
  layers.forEach((layer, l) => {
    (S.links[l] || []).forEach((row, i) => row.forEach((path, j) => {
      const w = layer.weights[i] ? layer.weights[i][j] : 0;
      // width in steps of 1/4 px, opacity in steps of 0.05, and only changed links repainted:
      // 2-8-8-1 on circle, some link changes in 24% of epochs 100-500 and 5% of 500-1500
      // (with steps of 0.1 px and 0.01: 61% and 18%); each change repaints the links' area
      const look = `${w < 0 ? "#f59322" : "#0877bd"} ${Math.round(Math.min(10, 0.5 + Math.abs(w) * 2.5) * 4) / 4} ${Math.round(Math.min(1, 0.25 + Math.abs(w)) * 20) / 20}`;
      if (path.look !== look) {            // only what changed: fewer style recalculations
        const [colour, width, opacity] = look.split(" ");
        path.setAttribute("stroke", colour);
        path.setAttribute("stroke-width", width);
        path.setAttribute("stroke-opacity", opacity);
        path.look = look;
      }
      const on = selected === [l + 1, i, j].join();
      if (on !== path.classList.contains("selected")) path.classList.toggle("selected", on);
    }));
  });
}
function drawCurve() {
  const canvas = $("curve"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const values = S.curve.flat().filter((v) => v !== null && isFinite(v));
  if (S.curve.length < 2 || !values.length) return;
  const top = Math.max(...values) || 1, n = S.curve.length;
  [[0, "#999"], [1, "#222"]].forEach(([k, colour]) => {
    ctx.beginPath(); ctx.strokeStyle = colour; ctx.lineWidth = 1.5;
    S.curve.forEach((pair, i) => {
      const x = i / (n - 1) * canvas.width, y = canvas.height - (pair[k] || 0) / top * (canvas.height - 4);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  });
}
function toPixel(x1, x2) {
  const [lo, hi] = S.domain, size = $("points").width;
  return [(x1 - lo) / (hi - lo) * size, (hi - x2) / (hi - lo) * size];
}
function drawPoints() {
  const canvas = $("points"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const draw = (points, stroke) => points.forEach(([x1, x2, label], i) => {
    const [px, py] = toPixel(x1, x2);
    ctx.beginPath(); ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = S.problem === "regression" ? colourOf(label, -1, 1) : (label >= 0.5 ? "#0877bd" : "#f59322");
    ctx.fill(); ctx.strokeStyle = stroke; ctx.lineWidth = 1; ctx.stroke();
  });
  draw(S.trainPoints, "#fff");
  if ($("show-test").checked) draw(S.testPoints, "#000");
  const p = S.trainPoints[S.selectedPoint];
  if (p && $("lecture").open) {
    const [px, py] = toPixel(p[0], p[1]);
    ctx.beginPath(); ctx.arc(px, py, 8, 0, 2 * Math.PI); ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.stroke();
  }
}

/* ---------- play / step / reset ---------- */
async function loop() {              // IN_FLIGHT requests in flight: the server trains the next
  S.looping = true;                   // updates while the page draws this one; on a busy machine
  // the third keeps the server busy while the page waits for the CPU. After pause, the
  // IN_FLIGHT - 1 updates already asked for still arrive and are drawn. A "train" message
  // trains the configuration's epochs_per_update epochs.
  const next = () => send({ type: "train" });
  const inflight = Array.from({ length: IN_FLIGHT }, next);
  while (inflight.length) {
    const answer = await inflight.shift();
    if (answer.type !== "frame") pause();
    if (S.playing) inflight.push(next());
  }
  S.looping = false;
}
function play() {
  if (S.playing || S.looping) return;
  S.playing = true; S.framesDrawn = 0; S.firstFrameAt = performance.now();
  $("play").classList.add("playing"); $("play").innerHTML = "&#10074;&#10074;";
  loop();
}
function pause() {
  S.playing = false;
  $("play").classList.remove("playing"); $("play").innerHTML = "&#9654;";
}

/* ---------- lecture panel ---------- */
function requestTrace() { return send({ type: "trace", index: S.selectedPoint }); }
function selectLink(l, i, j) {
  S.selectedLink = [l, i, j];
  $("lecture").open = true;
  if (S.frame) drawLinks(S.frame.layers);
  if (S.lastTrace) showTrace(S.lastTrace); else requestTrace();
}
function cell(text, testid, value) {
  const td = document.createElement("td");
  td.textContent = text;
  if (testid) td.dataset.testid = testid;
  if (value !== undefined && value !== null) td.dataset.value = String(value);
  return td;
}
function table(caption, header, rows) {
  const t = document.createElement("table"), cap = t.createCaption(), head = t.insertRow();
  t.className = "trace"; cap.textContent = caption;
  header.forEach((h) => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
  rows.forEach((cells) => { const tr = t.insertRow(); cells.forEach((c) => tr.appendChild(c)); });
  return t;
}
function showTrace(trace) {
  S.lastTrace = trace;
  const box = $("lecture-content");
  box.innerHTML = "";
  const head = document.createElement("p");
  head.className = "note";
  head.textContent = `Training point #${trace.point}: inputs x = (${trace.inputs.map((v) => fmt(v, 4)).join(", ")}), ` +
    `targets t = (${trace.targets.map((v) => fmt(v, 4)).join(", ")}), loss E = ${fmt(trace.loss)}` +
    (trace.applied ? " — this step was taken (one online update)." : " — shown, not taken.");
  box.appendChild(head);
  if (trace.note) { const n = document.createElement("p"); n.className = "note"; n.textContent = trace.note; box.appendChild(n); }
  const grid = document.createElement("div");
  grid.className = "lecture-grid";
  trace.layers.forEach((layer, l) => {
    const rows = layer.z.map((z, j) => [cell(String(j + 1)),
      cell(fmt(z), `z-${l + 1}-${j + 1}`, z), cell(fmt(layer.a[j]), `a-${l + 1}-${j + 1}`, layer.a[j]),
      cell(layer.delta ? fmt(layer.delta[j]) : "—", `delta-${l + 1}-${j + 1}`, layer.delta ? layer.delta[j] : null)]);
    const last = l === trace.layers.length - 1;
    grid.appendChild(table(`Layer ${l + 1} (${last ? "output" : "hidden"}, ${S.activations[l]})`,
      ["unit j", "z = Σ a_prev·W + b", "a = σ(z)", "δ = ∂E/∂z"], rows));
  });
  box.appendChild(grid);
  box.appendChild(linkTable(trace));
  const note = document.createElement("p");
  note.className = "note";
  note.textContent = "δ = ∂E/∂z (mlpkit's sign): output δ = ∂E/∂a ⊙ σ'(z) (BP1), hidden δ = (δ_next W_nextᵀ) ⊙ σ'(z) (BP2), " +
    "∂E/∂W = a_prevᵀ δ (BP4), ∂E/∂b = δ (BP3). The CS 445 lecture's δ is −∂E/∂z, so its update reads Δw = +η δ x.";
  box.appendChild(note);
  drawPoints();
}
function linkTable(trace) {
  const wrap = document.createElement("div");
  if (!S.selectedLink) {
    wrap.className = "note"; wrap.textContent = "Click a link in the network to see ∂E/∂w and its update.";
    return wrap;
  }
  const [l, i, j] = S.selectedLink, layer = trace.layers[l - 1];
  if (!layer || !layer.weights) {
    wrap.className = "note"; wrap.textContent = "No gradient for this network (step units).";
    return wrap;
  }
  const p = layer.weights, terms = Object.keys(p.terms);
  const rows = [
    [cell("w before"), cell(fmt(p.before[i][j]), "link-before", p.before[i][j])],
    [cell("∂E/∂w = a_prev δ (BP4)"), cell(fmt(p.gradient[i][j]), "link-gradient", p.gradient[i][j])],
    ...terms.map((k) => [cell(`${k}: ${p.term_equations[k]}`),
      cell(fmt(p.terms[k][i][j]), `term-${k.replace(/ /g, "-")}`, p.terms[k][i][j])]),
    [cell("Δw = sum"), cell(fmt(p.update[i][j]), "link-update", p.update[i][j])],
    [cell("w after"), cell(fmt(p.after[i][j]), "link-after", p.after[i][j])],
  ];
  wrap.appendChild(table(`Link W${l}[${i + 1},${j + 1}]: ${inputName(l, i)} → unit ${j + 1} of layer ${l}`, ["", "value"], rows));
  return wrap;
}

/* ---------- downloads ---------- */
function saveFile(answer) {
  const blob = new Blob([decode(answer.data)], { type: answer.mime });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = answer.name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/* ---------- wiring ---------- */
function wire() {
  $("play").onclick = () => (S.playing ? pause() : play());
  $("step").onclick = () => { pause(); send({ type: "train" }).then(() => { if ($("lecture").open) requestTrace(); }); };
  $("reset").onclick = () => { pause(); send({ type: "reset" }); };
  const sample = () => { pause(); send({ type: "sample", index: S.selectedPoint }); };
  $("sample").onclick = sample; $("lecture-sample").onclick = sample;
  $("regenerate").onclick = () => change({ seed: (S.config.seed + 1) % 2147483647 });
  $("add-layer").onclick = () => { if (S.config.hidden.length < 6) change({ hidden: [...S.config.hidden, 2], preset: "" }); };
  $("remove-layer").onclick = () => { if (S.config.hidden.length > 0) change({ hidden: S.config.hidden.slice(0, -1), preset: "" }); };
  for (const key of ["activation", "regularization", "loss", "targets", "optimizer", "init", "preset", "dataset", "batch_mode"]) {
    $(key).onchange = () => {
      const fields = { [key]: $(key).value };
      if (key === "loss" && fields.loss === "cross_entropy" && S.config.targets === "pm1") fields.targets = "01";
      if (key === "targets" && fields.targets === "pm1" && S.config.loss === "cross_entropy") fields.loss = "squared_error";
      change(fields);
    };
  }
  for (const key of ["learning_rate", "reg_rate", "momentum", "n_points", "train_ratio", "noise", "batch_size", "seed", "epochs_per_update"]) {
    $(key).onchange = () => change({ [key]: Number($(key).value) });
  }
  for (const key of ["train_ratio", "noise", "batch_size"]) $(key).oninput = () => { $(key + "_text").textContent = $(key).value; };
  $("show-test").onchange = () => { drawPoints(); if (S.config) writeHash(S.config); };
  $("discretize").onchange = () => { if (S.frame) drawFrame(S.frame); if (S.config) writeHash(S.config); };
  $("download-model").onclick = () => send({ type: "download", what: "model" });
  $("download-script").onclick = () => send({ type: "download", what: "script" });
  $("lecture").addEventListener("toggle", () => { drawPoints(); if ($("lecture").open) requestTrace(); });
  $("lecture-trace").onclick = () => { S.selectedPoint = clampPoint(Number($("lecture-point").value)); requestTrace(); };
  $("lecture-point").onchange = $("lecture-trace").onclick;
  $("points").onclick = (event) => {
    const rect = event.target.getBoundingClientRect(), scale = event.target.width / rect.width;
    const x = (event.clientX - rect.left) * scale, y = (event.clientY - rect.top) * scale;
    let best = 0, bestD = Infinity;
    S.trainPoints.forEach((p, i) => {
      const [px, py] = toPixel(p[0], p[1]), d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bestD) { best = i; bestD = d; }
    });
    S.selectedPoint = best; $("lecture-point").value = best;
    $("lecture").open = true; requestTrace();
  };
  window.addEventListener("resize", () => { if (S.config) { buildNetwork(); if (S.frame) drawFrame(S.frame); } });
}
function clampPoint(i) { return Math.max(0, Math.min(S.trainPoints.length - 1, Math.floor(i) || 0)); }

wire();
connect();
