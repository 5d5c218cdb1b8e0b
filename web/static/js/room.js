// The participant's page: who I am, the school's services, casting actions (cast.js).
import { $, t, api, live } from "./common.js";

const role = $("me-role").dataset.role;
$("me-role").textContent = t(`role.${role}`);
function controlLink(current) {
  // teachers get their controls; anyone else can reach the PIN form from here
  $("control-link").textContent = current === "presenter" ? t("room.to_control") : t("room.teacher_pin");
}
controlLink(role);
$("leave").addEventListener("click", async () => {
  await api("/api/v1/logout", {});
  location.assign("/");
});
export const roomPage = { conn: null, role };
roomPage.conn = live((msg, conn) => {
  if (msg.type === "snapshot") roomPage.last = msg; // for modules that load after it arrived
  if (msg.type === "snapshot" && msg.me) {
    roomPage.role = msg.me.role;
    controlLink(msg.me.role);
  }
  document.dispatchEvent(new CustomEvent("roomctl:message", { detail: { msg, conn } }));
});
