// Casting from /room: "Share screen" (teachers), "Ask to share" (students), "Share camera" (phones).
import { $, t, el } from "./common.js";
import { roomPage } from "./room.js";
import { PRESETS, PREVIEW, newPeer, setRemote, addCandidate, limitSender, scaleFor } from "./webrtc.js";

// Test and benchmark hook: { preferCurrentTab, audio, source: async (kind) => MediaStream }.
const options = window.roomctlCast || {};
const state = { conn: null, socket: null, role: "", stream: null, shareId: "", status: "", kind: "screen",
  preset: "slides", view: {}, peers: new Map(), ask: null, beat: null, requested: false, ended: new Set() };

const canScreen = !!navigator.mediaDevices?.getDisplayMedia;
const send = (msg) => state.conn?.send(msg);
const say = (text) => { $("cast-message").textContent = text; };

function buttons() {
  const root = $("cast-actions");
  const sharing = !!state.stream;
  const presetPicker = el("label", { class: "preset" }, t("cast.preset"), " ",
    el("select", { id: "cast-preset", onchange: (ev) => { state.preset = ev.target.value; } },
      el("option", { value: "slides", text: t("cast.preset_slides"), selected: state.preset === "slides" }),
      el("option", { value: "video", text: t("cast.preset_video"), selected: state.preset === "video" })));
  const items = [];
  if (!sharing) {
    if (canScreen) {
      const key = state.role === "presenter" ? "cast.share_screen" : "cast.ask_to_share";
      items.push(el("button", { type: "button", id: "cast-share", class: "primary", text: t(key), onclick: () => start("screen") }));
    }
    if (!canScreen || navigator.maxTouchPoints > 0) {
      items.push(el("button", { type: "button", id: "cast-camera", text: t("cast.share_camera"), onclick: () => start("camera") }));
    }
    items.push(presetPicker);
  } else {
    const key = state.status === "pending" ? "cast.withdraw" : "cast.stop";
    items.push(el("button", { type: "button", id: "cast-stop", class: "danger", text: t(key), onclick: () => stop(true) }));
  }
  root.replaceChildren(...items);
}

async function capture(kind) {
  if (options.source) return options.source(kind);
  const preset = PRESETS[state.preset];
  if (kind === "camera") {
    return navigator.mediaDevices.getUserMedia({ audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } } });
  }
  const constraints = { video: { frameRate: preset.frameRate }, audio: options.audio ?? true };
  if (options.preferCurrentTab) constraints.preferCurrentTab = true;
  return navigator.mediaDevices.getDisplayMedia(constraints);
}

async function start(kind) {
  try {
    state.stream = await capture(kind);
  } catch (err) {
    say(t("cast.capture_failed"));
    return;
  }
  state.kind = kind;
  for (const track of state.stream.getVideoTracks()) {
    track.contentHint = kind === "camera" ? "detail" : PRESETS[state.preset].hint;
    track.addEventListener("ended", () => stop(true));
  }
  state.requested = true;
  send({ type: "cast.request", kind, preset: state.preset, audio: state.stream.getAudioTracks().length > 0 });
  say(t(state.role === "presenter" ? "cast.starting" : "cast.asking"));
  buttons();
}

function stop(tell) {
  if (tell && (state.shareId || state.requested)) send({ type: "cast.withdraw" });
  if (state.shareId) state.ended.add(state.shareId);
  state.requested = false;
  for (const peer of state.peers.values()) peer.pc.close();
  state.peers.clear();
  state.stream?.getTracks().forEach((tr) => tr.stop());
  state.stream = null;
  state.shareId = "";
  state.status = "";
  clearInterval(state.beat);
  buttons();
}

function key(target, panel) { return target === "preview" ? `preview:${panel}` : "display"; }

async function connect(target, panel) {
  if (!state.stream || !state.shareId) return;
  const k = key(target, panel);
  state.peers.get(k)?.pc.close();
  const peer = newPeer(state.view.ice_servers, (candidate, p) =>
    send({ type: "cast.ice", share_id: state.shareId, pc: p.id, target, candidate, ...(panel ? { panel } : {}) }));
  peer.target = target;
  state.peers.set(k, peer);
  const tracks = target === "preview" ? state.stream.getVideoTracks() : state.stream.getTracks();
  for (const track of tracks) peer.pc.addTrack(track, state.stream);
  await applyLimits(peer);
  const offer = await peer.pc.createOffer();
  await peer.pc.setLocalDescription(offer);
  send({ type: "cast.offer", share_id: state.shareId, pc: peer.id, target, sdp: offer.sdp, ...(panel ? { panel } : {}) });
}

async function applyLimits(peer) {
  const video = peer.pc.getSenders().find((s) => s.track?.kind === "video");
  if (!video) return;
  const track = video.track;
  if (peer.target === "preview") {
    await limitSender(video, { ...PREVIEW, scale: scaleFor(track, PREVIEW.maxWidth, PREVIEW.maxHeight) });
    return;
  }
  const preset = PRESETS[state.preset];
  const ask = state.ask || {};
  await limitSender(video, { ...preset, scale: scaleFor(track, ask.max_width, ask.max_height) });
}

function findPeer(pcid) { return [...state.peers.values()].find((p) => p.id === pcid); }

const STATUS_TEXT = { pending: "cast.status.pending", live: "cast.status.live", denied: "cast.status.denied",
  expired: "cast.status.expired", stopped: "cast.status.stopped", lost: "cast.status.lost", withdrawn: "cast.status.withdrawn" };

async function onStatus(msg) {
  // a late status of an earlier share must not touch this one
  if (state.ended.has(msg.share_id) || (state.shareId ? msg.share_id !== state.shareId : !state.requested)) return;
  state.shareId = msg.share_id;
  state.status = msg.status;
  say(t(STATUS_TEXT[msg.status] || "cast.status.stopped"));
  if (msg.status === "live") {
    clearInterval(state.beat);
    state.beat = setInterval(() => send({ type: "cast.keepalive", share_id: state.shareId }), 1000);
    for (const [k, peer] of state.peers) if (k.startsWith("preview:")) { peer.pc.close(); state.peers.delete(k); }
    await connect("display");
  } else if (msg.status !== "pending") {
    stop(false);
  }
  buttons();
}

function onView(view) {
  state.view = view || {};
  const me = state.view.me;
  if (me && state.status === "live" && me.warming_s > 0) say(t("cast.warming", { seconds: me.warming_s }));
  if (!me && state.stream && state.shareId) stop(false);
}

async function onMessage(msg) {
  switch (msg.type) {
    case "snapshot":
      if (msg.me) state.role = msg.me.role;
      onView(msg.cast);
      if (!state.stream) buttons();
      break;
    case "cast.status": await onStatus(msg); break;
    case "cast.renegotiate":
      if (msg.share_id === state.shareId) await connect(msg.target, msg.panel);
      break;
    case "cast.answer": { const p = findPeer(msg.pc); if (p) await setRemote(p, { type: "answer", sdp: msg.sdp }); break; }
    case "cast.ice": { const p = findPeer(msg.pc); if (p) await addCandidate(p, msg.candidate); break; }
    case "cast.ask": {
      state.ask = msg;
      const p = state.peers.get("display");
      if (p) await applyLimits(p);
      break;
    }
    case "error":
      if (msg.ref === "cast.request" || msg.ref === state.shareId) {
        if (["locked", "full", "forbidden"].includes(msg.error)) { say(t(`cast.refused.${msg.error}`)); stop(false); }
      }
      break;
    default: break;
  }
}

function fromRoom(msg, conn) {
  state.conn = conn;
  if (conn.socket !== state.socket) {
    state.socket = conn.socket;
    conn.send({ type: "cast.hello", page: "sender" });
    if (state.shareId) state.status = ""; // the server re-sends our status
  }
  onMessage(msg).catch((e) => console.error("cast", e));
}
document.addEventListener("roomctl:message", (ev) => fromRoom(ev.detail.msg, ev.detail.conn));
// under load the first snapshot can arrive before this module runs: it would wait for a change
if (roomPage.last) fromRoom(roomPage.last, roomPage.conn);
window.addEventListener("pagehide", () => { if (state.shareId) send({ type: "cast.withdraw" }); });
window.__cast = state;
