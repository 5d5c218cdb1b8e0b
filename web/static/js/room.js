// The participant's page: who I am, the school's services, casting actions (cast.js).
import { $, t, api, live } from "./common.js";

const role = $("me-role").dataset.role;
$("me-role").textContent = t(`role.${role}`);
$("control-link").hidden = role !== "presenter";
$("leave").addEventListener("click", async () => {
  await api("/api/v1/logout", {});
  location.assign("/");
});
export const roomPage = { conn: null, role };
roomPage.conn = live((msg, conn) => {
  if (msg.type === "snapshot" && msg.me) {
    roomPage.role = msg.me.role;
    $("control-link").hidden = msg.me.role !== "presenter";
  }
  document.dispatchEvent(new CustomEvent("roomctl:message", { detail: { msg, conn } }));
});
