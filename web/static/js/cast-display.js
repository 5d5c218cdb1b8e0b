// The display's receiver: one RTCPeerConnection per sharer, tiles with names, decoder figures.
import { $, el } from "./common.js";
import { displayState } from "./display.js";
import { newPeer, setRemote, addCandidate, lowLatency, preferCodecs, videoStats } from "./webrtc.js";

const params = new URLSearchParams(location.search);
const state = { conn: null, view: { sources: [] }, peers: new Map(), tiles: new Map(), profile: null };
window.__cast = state;

// Pi 4: H.264 first (hardware, at most two decoders); Pi 5 and others: the cheapest software path.
async function decoderProfile() {
  const hint = params.get("pi");
  if (hint === "4") return "pi4";
  if (hint === "5") return "software";
  try {
    const info = await navigator.mediaCapabilities.decodingInfo({ type: "webrtc",
      video: { contentType: "video/H264", width: 1920, height: 1080, bitrate: 4_000_000, framerate: 30 } });
    return info.supported && info.powerEfficient ? "pi4" : "software";
  } catch { return "software"; }
}

function codecOrder(index) {
  if (state.profile === "pi4" && index < 2) return ["video/H264", "video/VP8", "video/VP9"];
  return ["video/VP8", "video/H264", "video/VP9"];
}

function tileLimit() {
  const n = state.view.tiles || 1;
  return n >= 3 ? { max_width: 960, max_height: 540 } : { max_width: 1920, max_height: 1080 };
}

function tileFor(source) {
  let tile = state.tiles.get(source.share_id);
  if (!tile) {
    const video = el("video", { autoplay: true, playsinline: true });
    tile = el("div", { class: "tile", "data-share": source.share_id }, video, el("span", { class: "tile-name" }));
    tile.video = video;
    state.tiles.set(source.share_id, tile);
  }
  const label = tile.querySelector(".tile-name");
  label.textContent = source.name || "";
  label.hidden = !state.view.show_names || !source.name;
  tile.video.muted = !!source.muted;
  return tile;
}

function render() {
  const shown = (state.view.sources || []).filter((s) => s.shown);
  const stage = $("stage");
  for (const [id, tile] of state.tiles) if (!shown.some((s) => s.share_id === id)) { tile.remove(); }
  stage.replaceChildren(...shown.map(tileFor));
  stage.dataset.layout = String(Math.max(1, Math.min(4, shown.length)));
  stage.hidden = shown.length === 0;
  for (const tile of stage.children) tile.video.play().catch(() => { tile.video.muted = true; tile.video.play().catch(() => {}); });
}

function close(shareId) {
  state.peers.get(shareId)?.pc.close();
  state.peers.delete(shareId);
  state.tiles.get(shareId)?.remove();
  state.tiles.delete(shareId);
}

async function onOffer(msg) {
  close(msg.share_id);
  const index = (state.view.sources || []).findIndex((s) => s.share_id === msg.share_id);
  const peer = newPeer(state.view.ice_servers, (candidate) =>
    state.conn.send({ type: "cast.ice", share_id: msg.share_id, pc: msg.pc, target: "sender", candidate }));
  peer.id = msg.pc;
  state.peers.set(msg.share_id, peer);
  peer.pc.ontrack = (ev) => {
    lowLatency(ev.receiver);
    const source = (state.view.sources || []).find((s) => s.share_id === msg.share_id) || { share_id: msg.share_id, name: msg.name };
    const tile = tileFor(source);
    tile.video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
    tile.video.play().catch(() => {});
    peer.firstFrameAt = null;
    tile.video.requestVideoFrameCallback?.(() => { peer.firstFrameAt = Date.now(); });
  };
  peer.pc.onconnectionstatechange = () => { if (peer.pc.connectionState === "failed") close(msg.share_id); };
  await setRemote(peer, { type: "offer", sdp: msg.sdp });
  for (const tr of peer.pc.getTransceivers()) {
    if (tr.receiver.track?.kind === "video") preferCodecs(tr, codecOrder(index < 0 ? 0 : index));
  }
  const answer = await peer.pc.createAnswer();
  await peer.pc.setLocalDescription(answer);
  state.conn.send({ type: "cast.answer", share_id: msg.share_id, pc: msg.pc, sdp: answer.sdp });
  state.conn.send({ type: "cast.ask", share_id: msg.share_id, codecs: codecOrder(index), ...tileLimit() });
  render();
}

async function report() {
  const streams = [];
  for (const [shareId, peer] of state.peers) {
    const s = await videoStats(peer.pc).catch(() => null);
    if (s) streams.push({ share_id: shareId, ...s });
  }
  state.lastStats = streams;
  if (streams.length) state.conn?.send({ type: "cast.stats", streams: streams.slice(0, 4) });
}

function onView(view) {
  const before = state.view.tiles;
  state.view = view || { sources: [] };
  const live = new Set((state.view.sources || []).map((s) => s.share_id));
  for (const id of [...state.peers.keys()]) if (!live.has(id)) close(id);
  render();
  if (before !== state.view.tiles) {
    for (const id of state.peers.keys()) {
      const index = state.view.sources.findIndex((s) => s.share_id === id);
      state.conn?.send({ type: "cast.ask", share_id: id, codecs: codecOrder(index), ...tileLimit() });
    }
  }
}

async function onMessage(msg) {
  switch (msg.type) {
    case "snapshot": if (msg.cast) onView(msg.cast); break;
    case "cast.offer": if (msg.target === "display") await onOffer(msg); break;
    case "cast.ice": { const p = state.peers.get(msg.share_id); if (p && p.id === msg.pc) await addCandidate(p, msg.candidate); break; }
    case "cast.closed": close(msg.share_id); render(); break;
    default: break;
  }
}

function opened(conn) {
  state.conn = conn;
  for (const id of [...state.peers.keys()]) close(id);
  state.conn.send({ type: "cast.hello", page: "display" });
}
document.addEventListener("roomctl:open", (ev) => opened(ev.detail.conn));
document.addEventListener("roomctl:message", (ev) => {
  state.conn = ev.detail.conn;
  onMessage(ev.detail.msg).catch((e) => console.error("cast", e));
});
// under load the socket can open before this module runs: say hello and show the last snapshot
if (displayState.open) {
  opened(displayState.open);
  if (displayState.last) onMessage(displayState.last).catch((e) => console.error("cast", e));
}
decoderProfile().then((p) => { state.profile = p; });
setInterval(() => report().catch(() => {}), 2000);
