// The search page: plain DOM, no build step. Every text from the server goes
// through textContent (never innerHTML), so documents cannot inject markup.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { collection: localStorage.getItem("simile.collection") || "" };

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: headers(), body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    if (res.status === 401) $("key-box").open = true;
    throw new Error((data.error && data.error.message) || "HTTP " + res.status);
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "muted";
}

// Query words to mark in the results, case-insensitive: whole words in
// scripts that space their words (a plural -s/-es allowed), word starts in
// Hangul (where particles attach: 수도 in 수도이며), any match in Han and
// kana; common English function words are left unmarked.
const STOPWORDS = new Set("a an and are as at be by for from in is it of on or the to was with".split(" "));
const spaced = (w) => !/[\p{sc=Hangul}\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]/u.test(w);

// A Hangul word without its particle (한국의 -> 한국), as texts inflect it differently.
const PARTICLE = /(?<=\p{sc=Hangul})(에서|으로|에게|까지|부터|의|은|는|이|가|을|를|에|로|와|과|도|만)$/u;

function queryTerms(query) {
  const words = query.toLowerCase().split(/[^\p{L}\p{N}]+/u)
    .flatMap((w) => (/\p{sc=Hangul}/u.test(w) && w.length > 2 ? [w, w.replace(PARTICLE, "")] : [w]))
    .filter((w) => w && !STOPWORDS.has(w) && (w.length >= 2 || !spaced(w)));
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

function highlighted(text, terms) {
  const out = document.createDocumentFragment();
  if (!terms.length) {
    out.append(text);
    return out;
  }
  const pattern = terms.map((t) => {
    const e = t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (/[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]/u.test(t)) return e;
    if (!spaced(t)) return "(?<![\\p{L}\\p{N}])" + e;
    return "(?<![\\p{L}\\p{N}])" + e + "(?:e?s)?(?![\\p{L}\\p{N}])";
  });
  const re = new RegExp(pattern.join("|"), "giu");
  let last = 0;
  for (const m of text.matchAll(re)) {
    out.append(text.slice(last, m.index), el("mark", {}, m[0]));
    last = m.index + m[0].length;
  }
  out.append(text.slice(last));
  return out;
}

function fmt(x, digits = 3) {
  return typeof x === "number" ? x.toFixed(digits) : "–";
}

async function loadCollections() {
  try {
    const data = await api("GET", "/collections");
    const select = $("collection");
    select.replaceChildren();
    for (const c of data.collections) {
      select.append(el("option", { value: c.name }, c.name + " (" + c.documents + " documents)"));
    }
    if (!data.collections.length) {
      setStatus("No collections yet: add documents with `simile add NAME FILES` or POST /collections.");
      return;
    }
    if (data.collections.some((c) => c.name === state.collection)) select.value = state.collection;
    state.collection = select.value;
    showInfo(data.collections.find((c) => c.name === select.value));
    setStatus("");
  } catch (e) {
    setStatus("Cannot list collections: " + e.message, true);
  }
}

function showInfo(c) {
  $("collection-info").textContent = c ? (c.model === "none" ? "keyword only" : c.model + ", " + c.dims + " dims") : "";
}

function hitItem(hit, terms, rank) {
  const scores = el("div", { class: "scores muted" },
    el("span", { class: "score" }, "score " + fmt(hit.score)));
  if (hit.dense && typeof hit.dense.percentile === "number") {
    scores.append(el("span", { class: "percentile", title: "share of random chunk pairs in this collection that score lower" },
      "above " + hit.dense.percentile.toFixed(1) + "% of chance pairs"));
  }
  if (hit.dense) scores.append(el("span", {}, "dense #" + hit.dense.rank));
  if (hit.keyword) scores.append(el("span", {}, "BM25 #" + hit.keyword.rank));
  if (typeof hit.rerank === "number") scores.append(el("span", {}, "re-ranked " + fmt(hit.rerank)));
  const related = el("ol", { class: "related", hidden: "" });
  const button = el("button", { class: "link related-button", type: "button" }, "related documents");
  button.addEventListener("click", () => toggleRelated(hit.id, related, terms));
  return el("li", { class: "hit", "data-id": hit.id },
    el("h2", {}, rank + ". ", highlighted(hit.title || hit.id, terms)),
    el("div", { class: "muted" }, hit.id),
    el("p", { class: "chunk" }, highlighted(hit.chunk || "", terms)),
    scores, button, related);
}

async function toggleRelated(id, list, terms) {
  if (!list.hidden) {
    list.hidden = true;
    return;
  }
  list.hidden = false;
  list.replaceChildren(el("li", { class: "muted" }, "loading…"));
  try {
    const data = await api("GET", "/collections/" + encodeURIComponent(state.collection) + "/documents/" +
      encodeURIComponent(id) + "/similar?k=5");
    list.replaceChildren();
    if (!data.results.length) list.append(el("li", { class: "muted" }, "no related documents"));
    for (const r of data.results) {
      const nested = el("ol", { class: "related", hidden: "" });
      const open = el("button", { class: "link", type: "button" }, r.title || r.id);
      open.addEventListener("click", () => toggleRelated(r.id, nested, terms));
      list.append(el("li", { class: "related-item", "data-id": r.id }, open, " ",
        el("span", { class: "muted" }, fmt(r.score)), nested));
    }
  } catch (e) {
    list.replaceChildren(el("li", { class: "error" }, e.message));
  }
}

async function search(event) {
  if (event) event.preventDefault();
  const query = $("query").value.trim();
  if (!query || !state.collection) return;
  const mode = document.querySelector("input[name=mode]:checked").value;
  const k = Math.max(1, Math.min(100, parseInt($("k").value, 10) || 10));
  setStatus("searching…");
  try {
    const data = await api("POST", "/collections/" + encodeURIComponent(state.collection) + "/search", { query, mode, k });
    const terms = queryTerms(query);
    $("results").replaceChildren(...data.results.map((h, i) => hitItem(h, terms, i + 1)));
    setStatus(data.results.length + " results, " + data.mode + ", " + data.total_ms.toFixed(1) + " ms");
  } catch (e) {
    $("results").replaceChildren();
    setStatus(e.message, true);
  }
}

$("api-key").value = localStorage.getItem("simile.key") || "";
$("api-key").addEventListener("change", () => {
  localStorage.setItem("simile.key", $("api-key").value.trim());
  loadCollections();
});
$("collection").addEventListener("change", () => {
  state.collection = $("collection").value;
  localStorage.setItem("simile.collection", state.collection);
  loadCollections();
  if ($("query").value.trim()) search();
});
for (const r of document.querySelectorAll("input[name=mode]")) r.addEventListener("change", () => search());
$("search-form").addEventListener("submit", search);
loadCollections();
