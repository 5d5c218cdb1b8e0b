// Live tiles and command results over Server-Sent Events; the page works without it.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !window.EventSource) { return; }

  function setTile(id, status) {
    var tile = document.getElementById("tile-" + id);
    if (tile && tile.getAttribute("data-status") !== status) {
      tile.className = "tile st-" + status;
      tile.setAttribute("data-status", status);
      var label = tile.querySelector(".st");
      if (label) { label.textContent = main.getAttribute("data-l-" + status) || status; }
    }
    var room = document.getElementById("room-status");
    if (room && room.getAttribute("data-id") === id) {
      room.textContent = main.getAttribute("data-l-" + status) || status;
      room.setAttribute("data-status", status);
    }
  }

  function setCommand(cmdId, status) {
    var cell = document.getElementById("cmd-" + cmdId);
    if (cell) {
      cell.textContent = main.getAttribute("data-c-" + status) || status;
      cell.setAttribute("data-status", status);
    }
  }

  // Whatever changed between rendering the page and opening the stream.
  function catchUp() {
    var room = document.getElementById("room-status");
    var url = "/api/snapshot" + (room ? "?room=" + encodeURIComponent(room.getAttribute("data-id")) : "");
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
      Object.keys(s.tiles).forEach(function (id) { setTile(id, s.tiles[id]); });
      Object.keys(s.cmds).forEach(function (id) { setCommand(id, s.cmds[id]); });
    }).catch(function () { /* the stream still updates */ });
  }

  var source = new EventSource("/live");
  source.onopen = catchUp;
  source.onmessage = function (msg) {
    var update;
    try { update = JSON.parse(msg.data); } catch (e) { return; }
    if (update.t === "tile") { setTile(update.id, update.status); }
    else if (update.t === "cmd") { setCommand(update.cmd_id, update.status); }
  };
})();
