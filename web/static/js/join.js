// The join page: the code (or the QR token) and a display name.
import { $, t, api, errorText } from "./common.js";

const form = $("join-form");
const hasToken = form.dataset.hasToken === "1";
if (hasToken) $("code-field").hidden = true;
(hasToken ? $("name") : $("code")).focus();

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = { name: $("name").value.trim() };
  if (hasToken) body.token = $("token").value;
  else body.code = $("code").value.replace(/\s+/g, "");
  if (!body.name) {
    $("join-message").textContent = t("error.name_required");
    $("name").focus();
    return;
  }
  $("join-message").textContent = t("join.joining");
  try {
    const data = await api("/api/v1/join", body);
    location.assign(data.next || "/room");
  } catch (err) {
    $("join-message").textContent = errorText(err);
    (hasToken ? $("name") : $("code")).focus();
  }
});
