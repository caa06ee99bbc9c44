/* Draws a case's BPMN diagram with bpmn-js (NavigatedViewer, from npm) and marks the
   elements the server reported: completed (bb-done), active (bb-active) and the task
   being worked (bb-current). The case's data comes from a json_script tag next to it; the
   model from its version's URL (data.model), which the browser keeps: a version never
   changes, and the page stays small. */
(function () {
  "use strict";

  function mark(viewer, ids, marker) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    (ids || []).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  // The whole model fitted into a phone-sized box makes 6 px labels: never zoom out below
  // READABLE, and centre the task at hand (or the first active one) instead.
  var READABLE = 0.75;

  function fit(canvas, focusId, viewer) {
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() >= READABLE) { return; }
    canvas.zoom(READABLE);
    var element = focusId && viewer.get("elementRegistry").get(focusId);
    if (element) { canvas.scrollToElement(element); }
  }

  // A sequence flow is taken when its source is done and its target done or active.
  function takenFlows(viewer, data) {
    var done = new Set(data.completed || []);
    var reached = new Set((data.completed || []).concat(data.active || []));
    return viewer.get("elementRegistry").filter(function (element) {
      return element.type === "bpmn:SequenceFlow" && element.source && element.target &&
        done.has(element.source.id) && reached.has(element.target.id);
    }).map(function (element) { return element.id; });
  }

  function draw(container) {
    if (container.dataset.drawn) { return; }
    container.dataset.drawn = "pending";
    var source = document.getElementById(container.dataset.diagram);
    if (!source || typeof window.BpmnJS !== "function") { return; }
    var data = JSON.parse(source.textContent);
    var viewer = new window.BpmnJS({ container: container });
    var model = fetch(data.model, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    });
    model.then(function (xml) { return viewer.importXML(xml); }).then(function () {
      var canvas = viewer.get("canvas");
      fit(canvas, data.current || (data.active || [])[0], viewer);
      mark(viewer, data.completed, "bb-done");
      mark(viewer, data.active, "bb-active");
      mark(viewer, takenFlows(viewer, data), "bb-taken");
      if (data.current) { mark(viewer, [data.current], "bb-current"); }
      container.dataset.drawn = "true";
      var tools = container.previousElementSibling;
      if (tools && tools.classList.contains("diagram-tools")) {
        tools.addEventListener("click", function (event) {
          var action = event.target.closest("[data-diagram-zoom]");
          if (!action) { return; }
          var how = action.dataset.diagramZoom;
          if (how === "fit") { fit(canvas, data.current || (data.active || [])[0], viewer); }
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
