/* The process detail page: draws a version with bpmn-js (NavigatedViewer, from npm) and
   marks the elements the server found added (bb-added), changed (bb-changed) or, on the
   older version, removed (bb-removed). The data comes from the json_script tag. */
(function () {
  "use strict";

  var MARKERS = { added: "bb-added", changed: "bb-changed", removed: "bb-removed" };

  function draw(container, data) {
    var viewer = new window.BpmnJS({ container: container });
    viewer.importXML(data.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport", "auto");
      Object.keys(MARKERS).forEach(function (kind) {
        (data[kind] || []).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, MARKERS[kind]); }
        });
      });
      container.dataset.drawn = "true";
    }).catch(function (error) {
      container.dataset.drawn = "error";
      container.textContent = (error && error.message) || String(error);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("process-diagrams");
    if (!source || typeof window.BpmnJS !== "function") { return; }
    var diagrams = JSON.parse(source.textContent);
    document.querySelectorAll("[data-process-diagram]").forEach(function (container) {
      var data = diagrams[container.dataset.processDiagram];
      if (data) { draw(container, data); }
    });
  });
})();
