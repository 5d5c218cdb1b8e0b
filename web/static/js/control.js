// The teacher's page: PIN, people, devices, room actions; casting lives in cast-control.js.
import { $, t, api, live, el, errorText } from "./common.js";
import { renderDevices } from "./devices.js";

const root = $("control");
const isPresenter = root.dataset.isPresenter === "1";
export const controlPage = { conn: null };

function say(id, text) { $(id).textContent = text; }

async function act(id, path, body = {}) {
  try {
    const data = await api(path, body);
    say("room-message", t("control.done"));
    return data;
  } catch (err) {
    say("room-message", errorText(err));
    return null;
  }
}

function sceneLabel(name) {
  const key = `scene.${name}`;
  const text = t(key);
  return text === key ? name : text;
}

let shownScenes = "";
function renderScenes(names) {
  if (names.join() === shownScenes) return;
  shownScenes = names.join();
  $("scenes-card").hidden = names.length === 0;
  $("scenes").replaceChildren(...names.map((name) => el("button", { type: "button", "data-scene": name,
    onclick: () => act("scene", `/api/v1/scenes/${encodeURIComponent(name)}`), text: sceneLabel(name) })));
}

let airplayActive = false;
function renderAirplay(air) {
  $("airplay-card").hidden = !air || !air.available;
  if (!air || !air.available) return;
  airplayActive = air.active;
  const until = air.until ? new Date(air.until * 1000).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" }) : "";
  $("airplay-state").textContent = air.active
    ? (air.source_active ? t("control.airplay_showing") : t("control.airplay_on", { until }))
    : t("control.airplay_off");
  $("airplay-toggle").textContent = air.active ? t("control.airplay_end") : t("control.airplay_allow");
  $("airplay-toggle").setAttribute("aria-pressed", String(air.active));
}

if (!isPresenter) {
  $("pin-card").hidden = false;
  $("pin").focus();
  $("pin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("/api/v1/presenter", { pin: $("pin").value });
      location.reload();
    } catch (err) {
      say("pin-message", errorText(err));
    }
  });
} else {
  $("teacher").hidden = false;
  let locked = false;
  $("lock").addEventListener("click", async () => {
    const data = await act("lock", "/api/v1/room/lock", { locked: !locked });
    if (data) locked = data.locked;
  });
  $("rotate").addEventListener("click", () => act("rotate", "/api/v1/pairing/rotate"));
  $("airplay-toggle").addEventListener("click", () => act("airplay", "/api/v1/airplay", { enabled: !airplayActive }));
  $("help").addEventListener("click", async () => {
    if (await act("help", "/api/v1/help", { topic: "general" })) say("room-message", t("control.help_sent"));
  });
  $("end-lesson").addEventListener("click", async () => {
    if (confirm(t("control.end_lesson_confirm"))) {
      await act("end-lesson", "/api/v1/room/end-lesson");
      location.assign("/");
    }
  });
  $("message-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = $("message-text").value.trim();
    if (text && (await act("message", "/api/v1/messages", { text, seconds: 60 }))) $("message-text").value = "";
  });
  controlPage.conn = live((msg, conn) => {
    if (msg.type === "snapshot") controlPage.last = msg; // for modules that load after it arrived
    if (msg.type === "snapshot") {
      const room = msg.room;
      locked = room.locked;
      $("lock").setAttribute("aria-pressed", String(locked));
      $("lock").textContent = locked ? t("control.unlock") : t("control.lock");
      renderDevices($("devices"), room.devices, $("device-message"));
      renderScenes(room.scenes || []);
      renderAirplay(room.airplay);
      if (msg.participants) {
        $("people-count").textContent = `(${msg.participants.length})`;
        $("people").replaceChildren(...msg.participants.map((p) =>
          el("li", { "data-role": p.role }, el("span", { class: "person", text: p.name }), el("span", { class: "muted", text: ` ${t(`role.${p.role}`)}` }))));
      }
    }
    document.dispatchEvent(new CustomEvent("roomctl:message", { detail: { msg, conn } }));
  });
}
