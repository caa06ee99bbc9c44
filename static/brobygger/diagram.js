/* Draws a case's BPMN diagram with bpmn-js (NavigatedViewer, from npm) and marks the
   elements the server reported: completed (bb-done), active (bb-active) and the task
   being worked (bb-current). The data comes from a json_script tag next to it. */
(function () {
  "use strict";

  function mark(viewer, ids, marker) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    (ids || []).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  function draw(container) {
    if (container.dataset.drawn) { return; }
    container.dataset.drawn = "pending";
    var source = document.getElementById(container.dataset.diagram);
    if (!source || typeof window.BpmnJS !== "function") { return; }
    var data = JSON.parse(source.textContent);
    var viewer = new window.BpmnJS({ container: container });
    viewer.importXML(data.xml).then(function () {
      var canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport", "auto");
      mark(viewer, data.completed, "bb-done");
      mark(viewer, data.active, "bb-active");
      if (data.current) { mark(viewer, [data.current], "bb-current"); }
      container.dataset.drawn = "true";
      var tools = container.previousElementSibling;
      if (tools && tools.classList.contains("diagram-tools")) {
        tools.addEventListener("click", function (event) {
          var action = event.target.closest("[data-diagram-zoom]");
          if (!action) { return; }
          var how = action.dataset.diagramZoom;
          if (how === "fit") { canvas.zoom("fit-viewport", "auto"); }
          else { canvas.zoom(canvas.zoom() * (how === "in" ? 1.25 : 0.8)); }
        });
      }
    }).catch(function (error) {
      container.dataset.drawn = "error";
      container.textContent = container.dataset.errorText + " " + (error && error.message ? error.message : "");
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-diagram]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:load", function (event) { drawAll(event.target); });
})();
