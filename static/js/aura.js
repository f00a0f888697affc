// Connection indicator for pages holding a live WebSocket (htmx ws extension events).
(function () {
  function setStatus(text, state) {
    var el = document.getElementById("connection");
    if (el) { el.textContent = text; el.dataset.state = state; }
  }
  document.addEventListener("htmx:wsOpen", function () { setStatus("live", "live"); });
  document.addEventListener("htmx:wsClose", function () { setStatus("reconnecting…", "reconnecting"); });
  document.addEventListener("htmx:wsError", function () { setStatus("reconnecting…", "reconnecting"); });
})();
