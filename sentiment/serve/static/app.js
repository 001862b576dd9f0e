// The page's behaviour: no framework, no build step, nothing fetched from other hosts.
"use strict";

const $ = (id) => document.getElementById(id);
let apiKey = "";

async function call(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (apiKey) headers["Authorization"] = "Bearer " + apiKey;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = (data.error && data.error.message) || response.statusText;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return data;
}

function percent(p) {
  return (100 * p).toFixed(1) + "%";
}

// Light red (against) to light green (towards), by |contribution| relative to the largest one.
function tint(share) {
  const a = Math.min(1, Math.abs(share));
  const mix = (from, to) => Math.round(from + (to - from) * a);
  return share >= 0
    ? `rgb(${mix(255, 120)}, ${mix(255, 215)}, ${mix(255, 120)})`
    : `rgb(${mix(255, 255)}, ${mix(255, 120)}, ${mix(255, 120)})`;
}

function showCard(card) {
  const list = $("card");
  list.replaceChildren();
  const add = (term, value) => {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  };
  add("Classes", card.classes.join(", "));
  add("Pipeline", card.primary + (card.baseline ? ` (baseline: ${card.baseline})` : ""));
  const data = card.data || {};
  if (data.source) add("Trained on", `${data.source} (${(data.train_rows || 0).toLocaleString()} rows)`);
  for (const [kind, m] of Object.entries(card.metrics || {})) {
    const fmt = (v) => (v === null || v === undefined ? "n/a" : v.toFixed(3));
    add(`Held-out (${kind})`, `accuracy ${fmt(m.accuracy)}, macro-F1 ${fmt(m.macro_f1)}, ROC AUC ${fmt(m.roc_auc)}, n = ${m.n}`);
  }
  const w2v = (card.parameters || {}).word2vec;
  if (w2v) {
    const parts = [["vector_size", " dimensions"], ["window", "window "], ["epochs", " epochs"], ["min_count", "min count "]]
      .filter(([name]) => w2v[name] !== undefined)
      .map(([name, text]) => (text.startsWith(" ") ? `${w2v[name]}${text}` : `${text}${w2v[name]}`));
    if (parts.length) add("Word vectors", parts.join(", "));
  }
  add("Created", `${card.created || "?"} by sentiment ${card.sentiment_version || "?"} (format ${card.format_version})`);
  add("Limits", `${card.limits.max_texts.toLocaleString()} texts, ${card.limits.max_body_bytes.toLocaleString()} bytes per request`);
}

function showHighlights(text, explanation) {
  const out = $("highlighted");
  out.replaceChildren();
  const largest = Math.max(1e-12, ...explanation.tokens.map((t) => Math.abs(t.contribution)));
  let position = 0;
  for (const token of explanation.tokens) {
    if (token.start === null) continue;
    if (token.start > position) out.append(document.createTextNode(text.slice(position, token.start)));
    const span = document.createElement("span");
    span.textContent = text.slice(token.start, token.end);
    span.className = "tok " + (token.contribution > 0 ? "towards" : token.contribution < 0 ? "against" : "neutral");
    if (token.known) span.style.backgroundColor = tint(token.contribution / largest);
    const sign = token.contribution >= 0 ? "+" : "";
    span.title = token.known ? `${token.token}: ${sign}${token.contribution.toFixed(4)}` : `${token.token}: unknown word`;
    out.append(span);
    position = token.end;
  }
  if (position < text.length) out.append(document.createTextNode(text.slice(position)));

  const towards = explanation.explained_class;
  const against = explanation.opposite_class ? `towards ${explanation.opposite_class}` : `against ${towards}`;
  const legend = $("legend");
  legend.replaceChildren();
  const swatch = (colour, label) => {
    const s = document.createElement("span");
    s.className = "swatch";
    s.style.backgroundColor = colour;
    s.textContent = label;
    return s;
  };
  legend.append(
    swatch(tint(1), `green, solid underline: towards ${towards}`), " ",
    swatch(tint(-1), `red, dotted underline: ${against}`),
    ` (hover a word for its value; logit ${explanation.logit.toFixed(3)} = words + constant ${explanation.constant.toFixed(3)})`
  );

  const body = $("contributions").querySelector("tbody");
  body.replaceChildren();
  const row = (a, b) => {
    const tr = document.createElement("tr");
    const th = document.createElement("td");
    th.textContent = a;
    const td = document.createElement("td");
    td.className = "number";
    td.textContent = b;
    tr.append(th, td);
    body.append(tr);
  };
  for (const token of explanation.tokens) row(token.known ? token.token : `${token.token} (unknown)`, token.contribution.toFixed(4));
  row("constant", explanation.constant.toFixed(4));
  row("logit (sum)", explanation.logit.toFixed(4));
}

async function predict(event) {
  if (event) event.preventDefault();
  const text = $("text").value;
  const status = $("status");
  status.className = "";
  if (!text.trim()) {
    status.textContent = "Type a review first.";
    $("text").focus();
    return;
  }
  apiKey = $("key").value.trim();
  status.textContent = "Predicting…";
  $("submit").disabled = true;
  try {
    const [predicted, explanation] = await Promise.all([
      call("POST", "/v1/predict", { texts: [text], baseline: true }),
      call("POST", "/v1/explain", { text }),
    ]);
    const p = predicted.predictions[0];
    $("pipeline").textContent = predicted.pipeline;
    $("label").textContent = p.label;
    $("probability").textContent = `probability ${percent(p.probability)}`;
    const base = p.baseline;
    $("baseline-pipeline").textContent = predicted.baseline_pipeline || "none";
    $("baseline-label").textContent = base && base.label ? base.label : "—";
    $("baseline-probability").textContent = base && base.label ? `probability ${percent(base.probability)}` : "";
    $("note").hidden = !p.note;
    $("note").textContent = p.note ? `Note: ${p.note} — the label is only the model's prior.` : "";
    showHighlights(text, explanation);
    $("result").hidden = false;
    status.textContent = `${p.label}, ${percent(p.probability)}`;
    if (!$("card").dataset.loaded) loadCard();
  } catch (error) {
    status.className = "error";
    status.textContent = `Error: ${error.message}`;
    if (error.status === 401) showKeyField();
  } finally {
    $("submit").disabled = false;
  }
}

function showKeyField() {
  $("key-row").hidden = false;
  $("key").focus();
}

async function loadCard() {
  try {
    showCard(await call("GET", "/v1/model"));
    $("card").dataset.loaded = "1";
  } catch (error) {
    $("card").replaceChildren();
    const dd = document.createElement("dd");
    dd.textContent = error.status === 401 ? "Enter the API key above, then predict." : `Unavailable: ${error.message}`;
    const dt = document.createElement("dt");
    dt.textContent = "Status";
    $("card").append(dt, dd);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("form").addEventListener("submit", predict);
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) predict(event);
  });
  try {
    const ready = await call("GET", "/readyz");
    if (ready.auth) $("key-row").hidden = false;
  } catch (error) {
    $("status").textContent = `The server is not ready: ${error.message}`;
  }
  loadCard();
});
