// Renders every chart of a pack page as SVG with the folder's own Vega bundle (no network).
// When all are drawn, <body data-rendered="N"> holds their number and window.packRendered resolves;
// a chart that fails is named in data-failed and in the console.
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("pack-specs").textContent);
  var failed = [];
  var jobs = Array.prototype.map.call(document.querySelectorAll("[data-chart]"), function (el) {
    var spec = specs[Number(el.getAttribute("data-chart"))];
    return vegaEmbed(el, spec, { renderer: "svg", actions: false, ast: false })
      .then(function (result) {
        var svg = el.querySelector("svg");
        if (svg) {
          svg.setAttribute("role", "img");
          svg.setAttribute("aria-label", spec.description || spec.title || "chart");
        }
        return result;
      })
      .catch(function (error) {
        failed.push(el.getAttribute("data-chart"));
        console.error("chart " + el.getAttribute("data-chart") + " failed: " + error);
      });
  });
  window.packRendered = Promise.all(jobs).then(function () {
    document.body.setAttribute("data-rendered", String(jobs.length - failed.length));
    document.body.setAttribute("data-failed", failed.join(","));
    return jobs.length - failed.length;
  });
})();
