// Charts: every <canvas data-chart="bar|line" data-source="ID" data-series="field:Label,...">
// draws the JSON in <script type="application/json" id="ID"> ({labels: [...], field: [...]}).
(function () {
  "use strict";
  var palette = ["#2457d6", "#d6452a", "#1d9a5a", "#b7791f", "#7b4bd6", "#0f8fa8", "#c2367a", "#5f6b7a"];
  var charts = [];
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var series = (canvas.getAttribute("data-series") || "").split(",").filter(Boolean);
    var datasets;
    if (data.datasets) {
      datasets = data.datasets.map(function (d, i) {
        return { label: d.label, data: d.data, backgroundColor: palette[i % palette.length],
                 borderColor: palette[i % palette.length], stack: canvas.getAttribute("data-stack") || undefined };
      });
    } else {
      datasets = series.map(function (spec, i) {
        var parts = spec.split(":");
        return { label: parts[1] || parts[0], data: data[parts[0]] || [], backgroundColor: palette[i % palette.length],
                 borderColor: palette[i % palette.length], yAxisID: i === 0 ? "y" : "y" + i };
      });
    }
    var scales = { x: { ticks: { color: css("--muted") }, grid: { color: css("--line") }, stacked: !!data.datasets } };
    datasets.forEach(function (d, i) {
      var id = d.yAxisID || "y";
      if (scales[id]) { return; }
      scales[id] = { beginAtZero: true, position: i === 0 ? "left" : "right", stacked: !!data.datasets,
                     ticks: { color: css("--muted") }, grid: { color: css("--line"), drawOnChartArea: i === 0 } };
    });
    var chart = new window.Chart(canvas, {
      type: canvas.getAttribute("data-chart") || "bar",
      data: { labels: data.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { labels: { color: css("--fg") } } }, scales: scales }
    });
    canvas.setAttribute("data-drawn", String(datasets.reduce(function (n, d) {
      return n + d.data.reduce(function (a, b) { return a + (Number(b) || 0); }, 0);
    }, 0)));
    charts.push(chart);
  }
  function drawAll() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("sy-theme", drawAll);
})();
