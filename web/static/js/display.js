// The room display: clock, rotating code and QR, messages; live over the WebSocket.
import { $, t, live } from "./common.js";

const isDisplay = $("display").dataset.isDisplay === "1";
let pairing = null;
let pairingAt = 0;
let lastToken = "";
export const displayState = { room: null };

function tickClock() {
  const now = new Date();
  $("clock").textContent = now.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  if (pairing) {
    const left = Math.max(0, pairing.seconds_left - (Date.now() - pairingAt) / 1000);
    const pct = Math.round((100 * left) / pairing.period_s);
    $("countdown").setAttribute("aria-valuenow", String(pct));
    $("countdown-bar").style.width = `${pct}%`;
  }
}

function showPairing(p) {
  pairing = p;
  pairingAt = Date.now();
  $("code").textContent = `${p.code.slice(0, 3)} ${p.code.slice(3)}`;
  $("code").dataset.code = p.code;
  if (p.token !== lastToken) {
    lastToken = p.token;
    $("qr").src = `/api/v1/pairing/qr.svg?w=${encodeURIComponent(p.token)}`;
    $("qr").hidden = false;
  }
}

function showRoom(room) {
  displayState.room = room;
  const n = room.participants?.total ?? 0;
  $("participants").textContent = t("display.participants", { count: n });
  const messages = room.messages || [];
  const banner = $("banner");
  if (messages.length) {
    const m = messages[messages.length - 1];
    banner.textContent = m.text.startsWith("notice.") ? t(m.text) : m.text;
    banner.dataset.kind = m.kind;
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
  const co2 = room.environment?.readings?.co2_ppm;
  const env = $("environment");
  env.textContent = co2 ? t("display.co2", { ppm: Math.round(co2) }) : "";
  env.dataset.high = room.environment?.co2_high ? "1" : "0";
  const air = room.airplay;
  $("airplay").textContent = air?.active
    ? (air.pin ? t("display.airplay_pin", { name: room.room.name || room.room.id, pin: air.pin }) : t("display.airplay_on", { name: room.room.name || room.room.id }))
    : "";
  const main = Object.values(room.devices || {}).find((d) => d.role === "main_display");
  $("device-status").textContent = main?.lockout?.reason ? t(`device.lockout.${main.lockout.reason}`, { seconds: Math.round(main.lockout.seconds_left) }) : "";
  document.dispatchEvent(new CustomEvent("roomctl:room", { detail: room }));
}

async function loadAddress() {
  try {
    const resp = await fetch("/api/v1/pairing", { headers: { Accept: "application/json" } });
    if (resp.ok) $("join-address").textContent = (await resp.json()).join_address.replace(/^https?:\/\//, "").replace(/\/$/, "");
  } catch { /* shown on the next snapshot */ }
}

if (!isDisplay) {
  $("not-display").hidden = false;
  document.querySelector(".pairing-grid").hidden = true;
} else {
  loadAddress();
  live((msg, conn) => {
    if (msg.type === "snapshot") {
      if (msg.pairing) showPairing(msg.pairing);
      showRoom(msg.room);
    }
    if (msg.type === "snapshot") displayState.last = msg; // for modules that load after it arrived
    document.dispatchEvent(new CustomEvent("roomctl:message", { detail: { msg, conn } }));
  }, (conn) => {
    displayState.open = conn;
    conn.send({ type: "heartbeat" });
    clearInterval(window.__roomctlBeat);
    window.__roomctlBeat = setInterval(() => conn.send({ type: "heartbeat" }), 5000);
    document.dispatchEvent(new CustomEvent("roomctl:open", { detail: { conn } }));
  });
}
setInterval(tickClock, 250);
tickClock();
