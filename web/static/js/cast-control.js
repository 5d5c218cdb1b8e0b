// The teacher's casting panel on /control: requests with a live preview, shares, layout.
import { $, t, el } from "./common.js";
import { controlPage } from "./control.js";
import { newPeer, setRemote, addCandidate } from "./webrtc.js";

const state = { conn: null, socket: null, view: null, previews: new Map(), asked: new Set(), videos: new Map() };
window.__cast = state;
const send = (msg) => state.conn?.send(msg);

function previewVideo(shareId) {
  let video = state.videos.get(shareId);
  if (!video) {
    video = el("video", { class: "cast-preview", autoplay: true, playsinline: true, muted: true, "data-share": shareId });
    video.muted = true;
    state.videos.set(shareId, video);
  }
  return video;
}

function button(text, onclick, attrs = {}) {
  return el("button", { type: "button", text, onclick, ...attrs });
}

function requestItem(r) {
  return el("li", { class: "cast-request", "data-share": r.share_id },
    previewVideo(r.share_id),
    el("span", { class: "person", text: r.name }),
    el("span", { class: "muted", text: ` ${t(`cast.kind.${r.kind}`)} · ${t("cast.expires", { seconds: r.expires_in })}` }),
    button(t("cast.approve"), () => send({ type: "cast.approve", share_id: r.share_id }), { class: "primary", "data-action": "approve" }),
    button(t("cast.deny"), () => send({ type: "cast.deny", share_id: r.share_id }), { "data-action": "deny" }));
}

function sourceItem(s, view) {
  const layout = (main) => send({ type: "cast.layout", tiles: view.tiles_choice ?? 0, main, show_names: view.show_names });
  return el("li", { class: "cast-source", "data-share": s.share_id },
    el("span", { class: "person", text: s.name }),
    el("span", { class: "muted", text: ` ${t(`cast.kind.${s.kind}`)}${s.shown ? "" : ` · ${t("cast.hidden")}`}` }),
    button(view.main === s.share_id ? t("cast.is_main") : t("cast.make_main"), () => layout(s.share_id), { "data-action": "main", "aria-pressed": String(view.main === s.share_id) }),
    s.audio ? button(s.muted ? t("cast.unmute") : t("cast.mute"), () => send({ type: "cast.mute", share_id: s.share_id, muted: !s.muted }), { "data-action": "mute" }) : null,
    button(t("cast.stop"), () => send({ type: "cast.stop", share_id: s.share_id }), { class: "danger", "data-action": "stop" }));
}

function layoutPicker(view) {
  const select = el("select", { id: "cast-tiles", onchange: () => apply() });
  for (const n of [0, 1, 2, 3, 4]) select.append(el("option", { value: String(n), text: n ? t("cast.tiles", { count: n }) : t("cast.tiles_auto"), selected: (state.tilesChoice || 0) === n }));
  const names = el("input", { type: "checkbox", id: "cast-names", checked: view.show_names, onchange: () => apply() });
  const apply = () => {
    state.tilesChoice = Number(select.value);
    send({ type: "cast.layout", tiles: state.tilesChoice, main: view.main, show_names: names.checked });
  };
  return el("div", { class: "cast-layout" },
    el("label", { for: "cast-tiles", text: t("cast.layout") }), select,
    el("label", {}, names, " ", t("cast.show_names")));
}

function render(view) {
  const panel = $("cast-panel");
  const requests = view.requests || [];
  const sources = view.sources || [];
  view.tiles_choice = state.tilesChoice || 0;
  const parts = [];
  if (requests.length) parts.push(el("h3", { text: t("cast.requests") }), el("ul", { class: "cast-requests" }, ...requests.map(requestItem)));
  if (sources.length) parts.push(el("h3", { text: t("cast.sharing_now") }), el("ul", { class: "cast-sources" }, ...sources.map((s) => sourceItem(s, view))));
  if (!requests.length && !sources.length) parts.push(el("p", { class: "muted", text: t("control.no_shares") }));
  parts.push(layoutPicker(view));
  if (sources.length || requests.length) parts.push(button(t("cast.stop_all"), () => send({ type: "cast.stop_all" }), { id: "cast-stop-all", class: "danger" }));
  panel.replaceChildren(...parts);
  for (const video of state.videos.values()) video.play().catch(() => {});
  for (const r of requests) {
    if (!state.asked.has(r.share_id)) { state.asked.add(r.share_id); send({ type: "cast.preview", share_id: r.share_id }); }
  }
  const pending = new Set(requests.map((r) => r.share_id));
  for (const id of [...state.previews.keys()]) if (!pending.has(id)) closePreview(id);
}

function closePreview(shareId) {
  state.previews.get(shareId)?.pc.close();
  state.previews.delete(shareId);
  state.videos.delete(shareId);
}

async function onOffer(msg) {
  state.previews.get(msg.share_id)?.pc.close();
  const peer = newPeer(state.view?.ice_servers, (candidate) =>
    send({ type: "cast.ice", share_id: msg.share_id, pc: msg.pc, target: "sender", candidate }));
  peer.id = msg.pc;
  state.previews.set(msg.share_id, peer);
  peer.pc.ontrack = (ev) => {
    const video = previewVideo(msg.share_id);
    video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
    video.play().catch(() => {});
  };
  await setRemote(peer, { type: "offer", sdp: msg.sdp });
  const answer = await peer.pc.createAnswer();
  await peer.pc.setLocalDescription(answer);
  send({ type: "cast.answer", share_id: msg.share_id, pc: msg.pc, sdp: answer.sdp });
}

async function onMessage(msg) {
  switch (msg.type) {
    case "snapshot": if (msg.cast) { state.view = msg.cast; render(msg.cast); } break;
    case "cast.offer": if (msg.target === "preview") await onOffer(msg); break;
    case "cast.ice": { const p = state.previews.get(msg.share_id); if (p && p.id === msg.pc) await addCandidate(p, msg.candidate); break; }
    case "cast.closed": closePreview(msg.share_id); break;
    case "error": if (String(msg.ref || "").startsWith("s")) $("room-message").textContent = t(`cast.refused.${msg.error}`); break;
    default: break;
  }
}

function fromControl(msg, conn) {
  state.conn = conn;
  if (conn.socket !== state.socket) {
    state.socket = conn.socket;
    state.asked.clear(); // a new socket: ask for every preview again
    conn.send({ type: "cast.hello", page: "panel" });
  }
  onMessage(msg).catch((e) => console.error("cast", e));
}
document.addEventListener("roomctl:message", (ev) => fromControl(ev.detail.msg, ev.detail.conn));
// under load the first snapshot can arrive before this module runs: it would wait for a change
if (controlPage.last) fromControl(controlPage.last, controlPage.conn);
