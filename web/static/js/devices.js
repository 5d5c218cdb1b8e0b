// Device controls generated from each device's declared capabilities and live state.
import { t, api, el, formatSeconds } from "./common.js";

function features(dev) {
  const caps = dev.capabilities || {};
  return new Set(caps.features || []);
}

async function send(id, name, args, messageEl) {
  messageEl.textContent = t("device.sending");
  try {
    await api(`/api/v1/devices/${encodeURIComponent(id)}/commands`, { name, args });
    messageEl.textContent = t("device.done");
  } catch (err) {
    messageEl.textContent = t("device.failed", { message: err.message });
  }
}

function stateLine(dev) {
  const s = dev.state || {};
  const parts = [t(`power.${s.power || "unknown"}`)];
  if (dev.lockout && dev.lockout.reason) {
    parts.push(t(`device.lockout.${dev.lockout.reason}`, { seconds: Math.round(dev.lockout.seconds_left || 0) }));
  }
  if (s.input) parts.push(t("device.input_now", { input: s.input }));
  if (!dev.available) parts.push(t("device.unavailable"));
  return parts.join(" · ");
}

export function renderDevices(container, devices, messageEl) {
  container.replaceChildren();
  const entries = Object.entries(devices || {});
  if (!entries.length) {
    container.append(el("p", { class: "muted", text: t("control.no_devices") }));
    return;
  }
  for (const [id, dev] of entries) {
    const f = features(dev);
    const s = dev.state || {};
    const title = dev.name || (s.model ? `${s.model}` : id);
    const box = el("div", { class: "device", role: "group", "aria-label": title });
    box.append(el("h3", { text: title }), el("p", { class: "device-state", "aria-live": "polite", text: stateLine(dev) }));
    const row = el("div", { class: "actions" });
    if (f.has("power")) {
      const on = s.power === "on" || s.power === "warming";
      row.append(el("button", { type: "button", "aria-pressed": String(on), "data-cmd": "power",
        onclick: () => send(id, "power", { on: !on }, messageEl), text: on ? t("device.power_off") : t("device.power_on") }));
    }
    if (f.has("blank")) {
      row.append(el("button", { type: "button", "aria-pressed": String(!!s.blank), "data-cmd": "blank",
        onclick: () => send(id, "blank", { on: !s.blank }, messageEl), text: t("device.blank") }));
    }
    if (f.has("freeze")) {
      row.append(el("button", { type: "button", "aria-pressed": String(!!s.freeze), "data-cmd": "freeze",
        onclick: () => send(id, "freeze", { on: !s.freeze }, messageEl), text: t("device.freeze") }));
    }
    if (f.has("mute")) {
      row.append(el("button", { type: "button", "aria-pressed": String(!!s.mute), "data-cmd": "mute",
        onclick: () => send(id, "mute", { on: !s.mute }, messageEl), text: t("device.mute") }));
    }
    if (f.has("volume") && s.volume !== null && s.volume !== undefined) {
      row.append(el("button", { type: "button", "data-cmd": "volume-down", "aria-label": t("device.volume_down"),
        onclick: () => send(id, "volume", { level: Math.max(0, s.volume - 5) }, messageEl), text: "−" }));
      row.append(el("span", { class: "volume", text: t("device.volume", { level: s.volume }) }));
      row.append(el("button", { type: "button", "data-cmd": "volume-up", "aria-label": t("device.volume_up"),
        onclick: () => send(id, "volume", { level: s.volume + 5 }, messageEl), text: "+" }));
    }
    if (f.has("brightness") && s.brightness !== null && s.brightness !== undefined) {
      row.append(el("button", { type: "button", "data-cmd": "brightness",
        onclick: () => send(id, "brightness", { level: s.brightness >= 100 ? 30 : 100 }, messageEl),
        text: t("device.brightness", { level: s.brightness }) }));
    }
    box.append(row);
    const inputs = (dev.capabilities || {}).inputs || [];
    if (f.has("input") && inputs.length) {
      const label = el("label", { for: `input-${id}`, text: t("device.input") });
      const select = el("select", { id: `input-${id}` });
      for (const name of inputs) select.append(el("option", { value: name, text: name, selected: name === s.input }));
      select.addEventListener("change", () => send(id, "input", { input: select.value }, messageEl));
      box.append(el("div", { class: "field inline" }, label, select));
    }
    container.append(box);
  }
}

export { formatSeconds };
