// Tells the reader when the ledger has moved on since the page was drawn.
// The page works without it; it only adds a notice with a reload link.
(function () {
  var after = document.body && document.body.getAttribute("data-live-after");
  if (!after || !window.EventSource) { return; }
  var box = document.getElementById("live");
  var src = new EventSource("/live?from=" + (Number(after) + 1));
  var count = 0;
  src.onmessage = function () {
    count++;
    box.className = "flash";
    box.textContent = "";
    var text = document.createTextNode((count === 1 ? "One event has" : count + " events have") + " been recorded since this page was drawn. ");
    var a = document.createElement("a");
    a.href = window.location.href;
    a.textContent = "Reload to see them";
    box.appendChild(text);
    box.appendChild(a);
  };
  src.onerror = function () { if (src.readyState === 2) { src.close(); } };
  // Free the connection when leaving the page (browsers allow only a few
  // per server, and a page kept in the back-forward cache would hold it).
  window.addEventListener("pagehide", function () { src.close(); });
})();
