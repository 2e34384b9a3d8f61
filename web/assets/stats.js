// The statistics page's charts (Chart.js), drawn from the figures the page embeds.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("stats-data").textContent);
  const stacked = (canvas, lines) => new Chart(document.getElementById(canvas), {
    type: "bar",
    data: {
      labels: lines.map((l) => l.key),
      datasets: [
        { label: "answered", data: lines.map((l) => l.answered), backgroundColor: "#067647" },
        { label: "missed", data: lines.map((l) => l.missed), backgroundColor: "#b42318" },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  stacked("per-day", data.days);
  stacked("per-hour", data.hours);
  document.body.dataset.charts = "drawn";
})();
