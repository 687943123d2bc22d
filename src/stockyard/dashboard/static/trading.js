// The Trading tab's price chart: candles from the page's one event stream (topic "bars"),
// a marker per fill (topic "fills") and a price line per open order. The server renders
// the recent bars, fills and open orders into the page; this script only draws them and
// what the stream adds. The chart mirrors what it drew into data- attributes
// (data-bars, data-markers, data-last-fill, data-fill-orders) so a test can see a marker
// was drawn, and for which order.
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
      up: css.getPropertyValue("--pass").trim() || "#1a7f37",
      down: css.getPropertyValue("--fail").trim() || "#cf222e",
      accent: css.getPropertyValue("--accent").trim() || "#1f6feb"
    };
  }

  function PriceChart(el) {
    var seed = JSON.parse(document.getElementById(el.dataset.seed).textContent);
    this.el = el;
    this.symbol = el.dataset.symbol;
    this.bars = new Map();      // time (s) -> candle
    this.fills = new Map();     // fill id -> marker
    this.orders = new Map();    // client order id -> price line
    var c = colours();
    this.chart = LWC.createChart(el, {
      autoSize: true,
      layout: { background: { color: c.bg }, textColor: c.fg, attributionLogo: true },
      grid: { vertLines: { color: c.line }, horzLines: { color: c.line } },
      timeScale: { timeVisible: true, secondsVisible: false },
      localization: { priceFormatter: function (p) { return "$" + p.toFixed(2); } }
    });
    this.series = this.chart.addSeries(LWC.CandlestickSeries, {
      upColor: c.up, downColor: c.down, borderVisible: false,
      wickUpColor: c.up, wickDownColor: c.down
    });
    this.markers = LWC.createSeriesMarkers(this.series, []);
    var self = this;
    seed.bars.forEach(function (b) { self.addBar(b, false); });
    this.series.setData(this.sortedBars());
    seed.fills.forEach(function (f) { self.addFill(f, false); });
    this.drawMarkers();
    seed.orders.forEach(function (o) { self.addOrder(o); });
    this.chart.timeScale().fitContent();
    el.dataset.bars = String(this.bars.size);
    document.addEventListener("stockyard:theme", function () { self.restyle(); });
  }

  PriceChart.prototype.sortedBars = function () {
    return Array.from(this.bars.values()).sort(function (a, b) { return a.time - b.time; });
  };

  PriceChart.prototype.addBar = function (b, live) {
    if (b.symbol && b.symbol !== this.symbol) { return; }
    var candle = { time: seconds(b.timestamp), open: +b.open, high: +b.high, low: +b.low, close: +b.close };
    var last = this.bars.size ? Math.max.apply(null, Array.from(this.bars.keys())) : -Infinity;
    this.bars.set(candle.time, candle);
    if (live) {
      if (candle.time >= last) { this.series.update(candle); } else { this.series.setData(this.sortedBars()); }
      this.el.dataset.bars = String(this.bars.size);
    }
  };

  // A marker sits on the bar the fill happened in (the last bar at or before its time).
  PriceChart.prototype.barTime = function (t) {
    var best = null;
    this.bars.forEach(function (_c, time) { if (time <= t && (best === null || time > best)) { best = time; } });
    return best === null ? t : best;
  };

  PriceChart.prototype.addFill = function (f, live) {
    if (f.symbol !== this.symbol || this.fills.has(f.id)) { return; }
    var buy = String(f.side).toLowerCase() === "buy";
    var c = colours();
    this.fills.set(f.id, {
      time: this.barTime(seconds(f.timestamp)),
      position: buy ? "belowBar" : "aboveBar",
      shape: buy ? "arrowUp" : "arrowDown",
      color: buy ? c.up : c.down,
      text: (buy ? "buy " : "sell ") + f.qty + " @ $" + Number(f.price).toFixed(2),
      id: f.id,
      order: f.client_order_id
    });
    if (live) { this.drawMarkers(f.id); }
  };

  PriceChart.prototype.drawMarkers = function (lastId) {
    var list = Array.from(this.fills.values()).sort(function (a, b) { return a.time - b.time; });
    this.markers.setMarkers(list);
    var el = this.el;
    window.requestAnimationFrame(function () {   // drawn on this frame
      el.dataset.markers = String(list.length);
      el.dataset.fillOrders = list.map(function (m) { return m.order; }).join(" ");
      if (lastId) { el.dataset.lastFill = lastId; }
    });
  };

  PriceChart.prototype.addOrder = function (o) {
    if (o.symbol !== this.symbol) { return; }
    var open = !o.status || ["new", "accepted", "pending_new", "partially_filled", "held"].indexOf(String(o.status).toLowerCase()) >= 0;
    var known = this.orders.get(o.client_order_id);
    if (known) { this.series.removePriceLine(known); this.orders.delete(o.client_order_id); }
    var price = o.limit_price || o.stop_price;
    if (open && price) {
      var c = colours();
      this.orders.set(o.client_order_id, this.series.createPriceLine({
        price: +price, color: c.accent, lineStyle: 2, axisLabelVisible: true,
        title: String(o.side) + " " + (o.qty || "") + " (open)"
      }));
    }
    this.el.dataset.orders = String(this.orders.size);
  };

  PriceChart.prototype.restyle = function () {
    var c = colours();
    this.chart.applyOptions({
      layout: { background: { color: c.bg }, textColor: c.fg },
      grid: { vertLines: { color: c.line }, horzLines: { color: c.line } }
    });
  };

  function start() {
    var charts = [];
    document.querySelectorAll("[data-price-chart]").forEach(function (el) { charts.push(new PriceChart(el)); });
    if (!charts.length) { return; }
    // The page's one stream: this hidden element asks htmx-ext-sse for these topics and
    // hands each message here instead of swapping it into the page.
    var feed = document.getElementById("chart-feed");
    if (!feed) { return; }
    feed.addEventListener("htmx:sseBeforeMessage", function (evt) {
      evt.preventDefault();
      var message = evt.detail;
      var event = JSON.parse(message.data);
      charts.forEach(function (chart) {
        if (message.type === "bars") { chart.addBar(event.data, true); }
        if (message.type === "fills") { chart.addFill(event.data, true); }
        if (message.type === "orders") { chart.addOrder(event.data); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
