// Dashboard charts (园区运营看板). Each <canvas data-chart='{"type","labels","datasets"}'>
// is drawn with the vendored Chart.js; the same figures are in the table next to it, so
// without JavaScript (or for a screen reader) nothing is lost. No inline script: the
// CSP forbids it, which is why the data rides in a data- attribute.
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") {
    return;
  }
  // Colour-blind-safe palette (Okabe–Ito), in dataset order.
  var COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"];

  function config(spec) {
    var horizontal = spec.type === "hbar";
    var line = spec.type === "line";
    return {
      type: line ? "line" : "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, i) {
          var colour = COLOURS[i % COLOURS.length];
          return {
            label: set.label,
            data: set.data,
            backgroundColor: colour,
            borderColor: colour,
            tension: 0.2,
            fill: false
          };
        })
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: spec.datasets.length > 1 } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    };
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-chart"));
    } catch (e) {
      return;
    }
    new window.Chart(canvas, config(spec));
  });
})();
