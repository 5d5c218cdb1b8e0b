// Caretaker login.
import { $, api, errorText } from "./common.js";

$("password").focus();
$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    await api("/api/v1/login", { password: $("password").value });
    location.reload();
  } catch (err) {
    $("login-message").textContent = errorText(err);
  }
});
