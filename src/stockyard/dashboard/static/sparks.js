// Small line charts drawn with lightweight-charts from JSON the server rendered into the
// page: the Overview's equity curve ([data-equity-chart]) and the System tab's CPU and
// memory sparklines ([data-spark]). Panels are swapped by htmx; each new one is drawn on
// htmx's load event. Each chart writes how many points it drew into data-points.
(function () {
  "use strict";
  var LWC = window.LightweightCharts;

  function seconds(iso) { return Math.floor(Date.parse(iso) / 1000); }

  function colours() {
    var css = getComputedStyle(document.documentElement);
    return {
      fg: css.getPropertyValue("--fg").trim() || "#1d1f21",
      bg: css.getPropertyValue("--card").trim() || "#ffffff",
      line: css.getPropertyValue("--line").trim() || "#dcdfe3",
      accent: css.getPropertyValue("--accent").trim() || "#1f6feb"
    };
  }

  function series(rows, key) {
    var seen = new Map();  // one point a second: the last one wins
    rows.forEach(function (r) { seen.set(seconds(r.time), { time: seconds(r.time), value: r[key] }); });
    return Array.from(seen.values()).sort(function (a, b) { return a.time - b.time; });
  }

  function draw(el, rows, key, format, spark) {
    var c = colours();
    var chart = LWC.createChart(el, {
      autoSize: true,
      layout: { background: { color: c.bg }, textColor: c.fg, attributionLogo: !spark },
      grid: { vertLines: { visible: !spark, color: c.line }, horzLines: { visible: !spark, color: c.line } },
      timeScale: { timeVisible: true, secondsVisible: spark, visible: !spark },
      rightPriceScale: { visible: !spark },
      handleScroll: !spark, handleScale: !spark,
      crosshair: { horzLine: { visible: !spark }, vertLine: { visible: !spark } },
      localization: { priceFormatter: format }
    });
    var data = series(rows, key);
    var line = chart.addSeries(LWC.LineSeries, {
      color: c.accent, lineWidth: spark ? 1 : 2, priceLineVisible: false, lastValueVisible: !spark
    });
    line.setData(data);
    chart.timeScale().fitContent();
    el.dataset.points = String(data.length);
    document.addEventListener("stockyard:theme", function () {
      var n = colours();
      chart.applyOptions({ layout: { background: { color: n.bg }, textColor: n.fg } });
      line.applyOptions({ color: n.accent });
    });
  }

  var money = function (v) { return "$" + v.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }); };
  var formats = {
    cpu: function (v) { return v.toFixed(1) + " %"; },
    rss: function (v) { return (v / 1048576).toFixed(1) + " MiB"; }
  };

  function drawAll(root) {
    root.querySelectorAll("[data-equity-chart]:not([data-drawn])").forEach(function (el) {
      el.dataset.drawn = "1";
      draw(el, JSON.parse(document.getElementById(el.dataset.seed).textContent), "equity", money, false);
    });
    root.querySelectorAll("[data-spark]:not([data-drawn])").forEach(function (el) {
      el.dataset.drawn = "1";
      var key = el.dataset.spark;
      draw(el, JSON.parse(el.dataset.samples), key, formats[key], true);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:load", function (e) { drawAll(e.target); });
})();
