/* The heatmap on the diagram: draws a process version with bpmn-js (NavigatedViewer, from
   npm), colours each task by its wait (bb-heat-1 .. bb-heat-5, light to dark) and puts a
   badge with the number completed and the mean days. The figures come from the json_script
   tag, already made safe to show by the server (fewer than five: no colour, "<5"). */
(function () {
  "use strict";

  function badge(text) {
    var span = document.createElement("span");
    span.className = "heat-badge";
    span.textContent = text;
    return span;
  }

  function draw(container, data) {
    var viewer = new window.BpmnJS({ container: container });
    viewer.importXML(data.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      var overlays = viewer.get("overlays");
      canvas.zoom("fit-viewport", "auto");
      Object.keys(data.elements).forEach(function (id) {
        var heat = data.elements[id];
        if (!registry.get(id)) { return; }
        if (heat.level) { canvas.addMarker(id, "bb-heat-" + heat.level); }
        var text = heat.count + " " + data.labels.passed;
        if (heat.days !== null) { text += " · " + String(heat.days).replace(".", ",") + " " + data.labels.days; }
        overlays.add(id, "heat", { position: { bottom: -4, left: 0 }, html: badge(text) });
      });
      container.dataset.drawn = "true";
    }).catch(function (error) {
      container.dataset.drawn = "error";
      container.textContent = (error && error.message) || String(error);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("heatmap-data");
    var container = document.getElementById("heatmap");
    if (!source || !container || typeof window.BpmnJS !== "function") { return; }
    var data = JSON.parse(source.textContent);
    if (data.xml) { draw(container, data); }
  });
})();
