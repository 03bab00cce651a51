// painterly-vae's page: plain JavaScript and SVG, nothing loaded from elsewhere.
"use strict";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
const state = { run: null, points: [], artists: [], hidden: new Set(), answerPoint: null };
const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function colourOf(artist) { return COLOURS[state.artists.indexOf(artist) % COLOURS.length]; }
function percent(p) { return `${Math.round(p * 100)}%`; }

async function json(response) {
  const body = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
  return body;
}

// ---------------------------------------------------------------- tabs
document.querySelectorAll("nav button").forEach((button) => button.addEventListener("click", () => show(button.dataset.tab)));
function show(tab) {
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === `tab-${tab}`));
}

// ---------------------------------------------------------------- dropping a painting
["dragenter", "dragover"].forEach((kind) => document.addEventListener(kind, (event) => {
  event.preventDefault();
  document.body.classList.add("dragging");
}));
["dragleave", "drop"].forEach((kind) => document.addEventListener(kind, () => document.body.classList.remove("dragging")));
document.addEventListener("drop", (event) => {
  event.preventDefault();
  const file = event.dataTransfer && event.dataTransfer.files[0];
  if (file) attributeFile(file);
});
$("file").addEventListener("change", (event) => { if (event.target.files[0]) attributeFile(event.target.files[0]); });

async function attributeFile(file) {
  const form = new FormData();
  form.append("painting", file, file.name);
  await answer(fetch("/api/attribute", { method: "POST", body: form }));
}

async function attributeCollection(id) {
  show("attribute");
  await answer(fetch(`/api/attribute/${id}`, { method: "POST" }));
}

async function answer(request) {
  $("error").hidden = true;
  $("working").hidden = false;
  try {
    const result = await json(await request);
    showAnswer(result);
  } catch (error) {
    $("error").textContent = error.message;
    $("error").hidden = false;
    $("result").hidden = true;
  } finally {
    $("working").hidden = true;
  }
}

function showAnswer(result) {
  const a = result.answer;
  $("result").hidden = false;
  $("query").src = result.input;
  $("verdict-title").textContent = a.unknown
    ? `${a.path}: unknown artist`
    : `${a.path}: ${a.artist}, ${percent(a.ranking[0].probability)}`;
  let likeness = a.likeness ? `${a.likeness[0].toUpperCase()}${a.likeness.slice(1)}` : "";
  if (a.unknown) likeness += `: below what the run accepts, so it is probably by none of its painters; if it had to be one of them, the ranking below.`;
  else if (likeness) likeness += ".";
  if (a.seen_in) likeness += ` This is ${a.seen_in === "train" ? "one of the paintings the run trained on" : "one of the paintings the run calibrated on"}: its answer is no evidence.`;
  $("likeness").textContent = likeness;
  $("likeness").title = a.familiarity == null ? "" :
    `familiarity ${a.familiarity.toPrecision(3)}; the run calls a painting unknown below ${a.threshold.toPrecision(3)}`;
  $("year").textContent = a.year_text ? `Painted ${a.year_text.replace(/^painted /, "")}.` : "";
  $("hard-pair").textContent = a.hard_pair ? `Read the first two with care: ${a.hard_pair}.` : "";
  $("plausible").textContent = a.plausible_sentence
    ? `${a.plausible_sentence[0].toUpperCase()}${a.plausible_sentence.slice(1)}.` : "";
  $("warnings").replaceChildren(...a.warnings.map((w) => el("li", {}, `Warning: ${w}`)));
  $("ranking").replaceChildren(...a.ranking.map((r) => el("li", { class: "rank" },
    el("span", { class: "swatch", style: `background:${colourOf(r.artist)}` }),
    `${r.artist} ${percent(r.probability)}`,
    el("span", { class: "bar", style: `width:${Math.max(1, r.probability * 200)}px` }))));
  $("evidence").replaceChildren(...result.evidence.map((candidate) => el("div", { class: "candidate" },
    el("p", {}, `${candidate.artist} (${percent(candidate.probability)}): its nearest training paintings`),
    el("div", { class: "strip" }, ...candidate.paintings.map((p) => figure(p, () => attributeCollection(p.id)))))));
  $("crossings").replaceChildren(...result.crossings.map((c) => el("figure", { class: c.own ? "own crossing" : "crossing" },
    el("img", { src: c.image, alt: `through ${c.artist}'s encoder` }), `${c.artist}${c.own ? " (its own)" : ""}`)));
  state.answerPoint = result.point;
  drawMap($("answer-map"), result.point);
}

function figure(painting, onclick) {
  const caption = [painting.title || painting.file, painting.year, painting.license].filter(Boolean).join(" · ");
  return el("figure", { class: "evidence", title: caption },
    el("img", { src: `/api/thumbnails/${painting.id}`, alt: painting.title || `painting ${painting.id}`, onclick }),
    caption);
}

// ---------------------------------------------------------------- the map
function drawMap(svg, query = null) {
  const width = 640, height = 420, pad = 20;
  const shown = state.points.filter((p) => !state.hidden.has(p.artist));
  const all = query ? [...state.points, query] : state.points;
  const xs = all.map((p) => p.x), ys = all.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * pad);
  const sy = (y) => height - pad - ((y - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
  const ns = "http://www.w3.org/2000/svg";
  const circles = shown.map((p) => {
    const c = document.createElementNS(ns, "circle");
    c.setAttribute("cx", sx(p.x)); c.setAttribute("cy", sy(p.y)); c.setAttribute("r", 4);
    c.setAttribute("fill", colourOf(p.artist)); c.dataset.id = p.id;
    c.addEventListener("mouseenter", (event) => tooltip(event, p));
    c.addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
    c.addEventListener("click", () => details(p.id));
    return c;
  });
  if (query) {
    const q = document.createElementNS(ns, "circle");
    q.setAttribute("cx", sx(query.x)); q.setAttribute("cy", sy(query.y)); q.setAttribute("r", 9);
    q.setAttribute("fill", "#ffd400"); q.setAttribute("class", "query"); q.setAttribute("id", `${svg.id}-query`);
    circles.push(q);
  }
  svg.replaceChildren(...circles);
}

function tooltip(event, point) {
  const tip = $("tooltip");
  tip.replaceChildren(el("img", { src: `/api/thumbnails/${point.id}`, alt: "" }),
    [point.artist, point.title, point.year].filter(Boolean).join(" · "));
  tip.style.left = `${event.clientX + 12}px`;
  tip.style.top = `${event.clientY + 12}px`;
  tip.hidden = false;
}

async function details(id) {
  const p = await json(await fetch(`/api/paintings/${id}`));
  const box = $("details");
  box.replaceChildren(el("img", { src: `/api/thumbnails/${id}`, alt: p.title || "" }),
    el("div", {},
      el("p", {}, el("strong", {}, p.title || p.file || `painting ${id}`), ` by ${p.artist}${p.year ? `, ${p.year}` : ""}`),
      el("p", { class: "hint" }, [p.source, p.license, p.credit].filter(Boolean).join(" · ") || p.file || ""),
      el("button", { class: "button", onclick: () => attributeCollection(id) }, "Ask who painted it")));
  box.hidden = false;
  show("collection");
}

function drawFilters() {
  $("filters").replaceChildren(...state.artists.map((artist) => {
    const box = el("input", { type: "checkbox", checked: "", onchange: (event) => {
      if (event.target.checked) state.hidden.delete(artist); else state.hidden.add(artist);
      drawMap($("collection-map"));
      if (state.answerPoint) drawMap($("answer-map"), state.answerPoint);
    } });
    return el("label", {}, box, el("span", { class: "swatch", style: `background:${colourOf(artist)}` }), artist);
  }));
}

// ---------------------------------------------------------------- the run
function showRun(run) {
  $("run-line").textContent = `Run ${run.name}: ${run.artists.length} painters (${run.artists.join(", ")})`;
  $("among").textContent = run.header.split("\n").slice(1).join(" ");
  const counts = Object.entries(run.training_paintings).map(([a, n]) => `${a} ${n}`).join(", ");
  $("run-summary").replaceChildren(
    el("h2", {}, `Run ${run.name}`),
    el("p", {}, `${run.encoders === "single" ? "One encoder" : "One encoder per painter"}, one shared decoder; ${run.steps} steps at ${run.image_size} px${run.trunk ? `, reading ${run.trunk}'s maps` : ""}.`),
    el("p", {}, `Training paintings: ${counts}.`),
    el("p", {}, `Attribution: ${run.attribution}.`),
    el("p", {}, run.header.split("\n").slice(1).join(" ")));
  const r = run.report;
  if (!r) {
    $("report").replaceChildren(el("p", { class: "hint" }, "No evaluation yet: `painterly-vae evaluate` writes one, and this page shows it."));
    return;
  }
  const rows = [el("tr", {}, el("th", {}, ""), el("th", {}, "top-1"), el("th", {}, "balanced"), el("th", {}, "the run's lead (top-1, 95% interval)"))];
  rows.push(el("tr", {}, el("td", {}, "this run"), el("td", {}, percent(r.top1)), el("td", {}, r.balanced == null ? "-" : percent(r.balanced)), el("td", {}, "")));
  for (const b of r.baselines) {
    rows.push(el("tr", {}, el("td", {}, b.label), el("td", {}, percent(b.top1)), el("td", {}, b.balanced == null ? "-" : percent(b.balanced)),
      el("td", { class: b.verdict || "" }, b.lead ? `${b.verdict}: ${b.lead}` : "")));
  }
  const confusion = [el("tr", {}, el("th", {}, "painted by \\ attributed to"), ...r.artists.map((a) => el("th", {}, a)))];
  r.confusion.forEach((row, i) => confusion.push(el("tr", {}, el("td", {}, r.artists[i]), ...row.map((n) => el("td", {}, String(n))))));
  $("report").replaceChildren(
    el("h2", {}, `Latest evaluation: ${r.paintings.known} ${r.split} paintings`),
    el("table", { id: "report-table" }, ...rows),
    el("p", {}, `Calibration error ${r.calibration_error.toFixed(3)}; known paintings wrongly called unknown ${percent(r.false_rejections)}${r.auroc == null ? "" : `; unknown painters told apart with AUROC ${r.auroc.toFixed(2)}`}.`),
    el("h3", {}, "Confusion"), el("table", {}, ...confusion),
    el("div", { class: "plots" }, ...r.plots.map((p) => el("img", { src: `/api/plots/${p.split("/").pop()}`, alt: p }))));
}

async function start() {
  try {
    const [run, collection] = await Promise.all([json(await fetch("/api/run")), json(await fetch("/api/collection"))]);
    state.run = run; state.artists = collection.artists; state.points = collection.points;
    showRun(run);
    drawFilters();
    drawMap($("collection-map"));
  } catch (error) {
    $("run-line").textContent = `The run could not be read: ${error.message}`;
  }
}
start();
