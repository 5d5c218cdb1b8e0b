// Shared helpers: translations, JSON API calls, the live WebSocket with reconnect.
const catalogue = JSON.parse(document.getElementById("i18n")?.textContent || "{}");

export function t(key, params = {}) {
  const text = catalogue[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export const $ = (id) => document.getElementById(id);

export async function api(path, body, method = body === undefined ? "GET" : "POST") {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const resp = await fetch(path, options);
  let data = {};
  try { data = await resp.json(); } catch { data = {}; }
  if (!resp.ok) {
    const err = new Error(data.message || resp.statusText);
    err.status = resp.status;
    err.reason = data.error || "";
    err.retryAfter = Number(resp.headers.get("Retry-After") || 0);
    throw err;
  }
  return data;
}

export function errorText(err) {
  const key = `error.${err.reason}`;
  const text = t(key, { seconds: err.retryAfter || "" });
  return text === key ? t("error.generic") : text;
}

// Shown when the live channel has been down a moment (the appliance restarting, say): the
// page's code and state may be stale until it is back. <html data-live="0"> while down.
const LOST_AFTER_MS = 2000;
let lostTimer = null;
function connection(up) {
  clearTimeout(lostTimer);
  const mark = (live) => {
    document.documentElement.dataset.live = live ? "1" : "0";
    let note = document.getElementById("connection-lost");
    if (!live && !note) {
      note = el("p", { id: "connection-lost", role: "status", text: t("common.reconnecting") });
      document.body.append(note);
    }
    if (note) note.hidden = live;
  };
  if (up) mark(true);
  else lostTimer = setTimeout(() => mark(false), LOST_AFTER_MS);
}

// A live channel: calls onMessage(msg) for every server message; reconnects with backoff.
export function live(onMessage, onOpen = () => {}) {
  let delay = 500;
  const state = { socket: null, send: (msg) => state.socket?.readyState === 1 && state.socket.send(JSON.stringify(msg)) };
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    state.socket = socket;
    socket.onopen = () => { delay = 500; connection(true); onOpen(state); };
    socket.onmessage = (ev) => {
      try { onMessage(JSON.parse(ev.data), state); } catch (e) { console.error(e); }
    };
    socket.onclose = () => {
      connection(false);
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  open();
  return state;
}

export function formatSeconds(s) {
  s = Math.max(0, Math.round(s));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}
