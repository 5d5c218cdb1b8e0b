// The caretaker's status page: devices, lamp and filter hours, warnings.
import { $, t, api, live, el } from "./common.js";

function hours(value, rated) {
  if (value === null || value === undefined) return "–";
  return rated ? t("status.hours_of", { hours: value, rated }) : t("status.hours", { hours: value });
}

function render(room) {
  $("mode").textContent = t(`mode.${room.mode}`);
  $("participants").textContent = String(room.participants?.total ?? 0);
  const warnings = room.warnings || [];
  $("warnings").replaceChildren(...(warnings.length ? warnings.map((w) => el("li", { class: "warning", text: `${w.source}: ${w.message}` }))
    : [el("li", { class: "muted", text: t("status.no_warnings") })]));
  const rows = Object.entries(room.devices || {}).map(([id, d]) => {
    const s = d.state || {};
    const caps = d.capabilities || {};
    const errors = Object.entries(s.errors || {}).filter(([, v]) => v && v !== "ok").map(([k, v]) => `${k}: ${v}`).join(", ");
    return el("tr", { "data-device": id },
      el("th", { scope: "row", text: id }),
      el("td", { text: s.model || "–" }),
      el("td", { class: d.available ? "ok" : "bad", text: d.available ? t("status.available") : t("status.unavailable") }),
      el("td", { text: t(`power.${s.power || "unknown"}`) }),
      el("td", { text: hours(s.lamp_hours, caps.rated_lamp_hours) }),
      el("td", { text: hours(s.filter_hours, caps.rated_filter_hours) }),
      el("td", { text: errors || "–" }),
      el("td", { text: d.last_error || "–" }));
  });
  $("devices-body").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "8", text: t("control.no_devices") }))]));
}

function renderStreams(casting) {
  const streams = casting?.streams || [];
  const roles = Object.fromEntries((casting?.sources || []).map((src) => [src.share_id, src]));
  $("streams-empty").hidden = streams.length > 0;
  $("streams-table").hidden = streams.length === 0;
  const fmt = (v, digits = 0) => (v === undefined || v === null ? "–" : Number(v).toFixed(digits));
  $("streams-body").replaceChildren(...streams.map((st) => {
    const src = roles[st.share_id] || {};
    const dropped = st.frames ? `${st.dropped ?? 0} / ${st.frames}` : fmt(st.dropped);
    return el("tr", { "data-share": st.share_id },
      el("th", { scope: "row", text: src.role ? `${t(`role.${src.role}`)} (${src.kind || "screen"})` : st.share_id }),
      el("td", { text: st.codec || "–" }),
      el("td", { text: st.decoder || "–" }),
      el("td", { text: st.width ? `${st.width}×${st.height}` : "–" }),
      el("td", { text: fmt(st.fps, 1) }),
      el("td", { class: st.decode_ms > 20 ? "bad" : "", text: fmt(st.decode_ms, 1) }),
      el("td", { text: dropped }));
  }));
}

$("logout").addEventListener("click", async () => { await api("/api/v1/logout", {}); location.reload(); });
live((msg) => {
  if (msg.type === "snapshot") {
    render(msg.room);
    renderStreams(msg.room.casting);
  }
});
