// Live tiles and command results over Server-Sent Events; the page works without it.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !window.EventSource) { return; }
  var source = new EventSource("/live");
  source.onmessage = function (msg) {
    var update;
    try { update = JSON.parse(msg.data); } catch (e) { return; }
    if (update.t === "tile") {
      var tile = document.getElementById("tile-" + update.id);
      if (tile) {
        tile.className = "tile st-" + update.status;
        tile.setAttribute("data-status", update.status);
        var label = tile.querySelector(".st");
        if (label) { label.textContent = main.getAttribute("data-l-" + update.status) || update.status; }
      }
      var status = document.getElementById("room-status");
      if (status && status.getAttribute("data-id") === update.id) {
        status.textContent = main.getAttribute("data-l-" + update.status) || update.status;
        status.setAttribute("data-status", update.status);
      }
    } else if (update.t === "cmd") {
      var cell = document.getElementById("cmd-" + update.cmd_id);
      if (cell) {
        cell.textContent = main.getAttribute("data-c-" + update.status) || update.status;
        cell.setAttribute("data-status", update.status);
      }
    }
  };
})();
