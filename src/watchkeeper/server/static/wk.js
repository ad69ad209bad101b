/* watchkeeper dashboard charts: each .wk-chart element names its data, either an API URL
   (data-series-url, data-top-values-url, on the live server) or an inline JSON block
   (data-series-id, data-top-values-id, in a report), and is drawn with uPlot: the
   statistic, the detector's band where it judged the series, SLO limits as dashed lines,
   and incidents as markers; or a categorical column's top values over time. */
(function () {
  "use strict";

  function seconds(partition) { return Date.parse(partition) / 1000; }

  function build(data, width) {
    var xs = data.points.map(function (p) { return seconds(p.partition); });
    var index = {};
    xs.forEach(function (x, i) { index[x] = i; });
    var values = data.points.map(function (p) { return p.value; });
    var low = xs.map(function () { return null; });
    var high = low.slice(), marks = low.slice();
    data.bands.forEach(function (b) {
      var i = index[seconds(b.partition)];
      if (i !== undefined) { low[i] = b.low; high[i] = b.high; }
    });
    data.alerts.forEach(function (a) {
      var i = index[seconds(a.partition)];
      if (i !== undefined) { marks[i] = values[i]; }
    });
    var series = [{}, {label: data.statistic, stroke: "#1f5fa8", width: 1.5}];
    var columns = [xs, values];
    if (data.bands.length) {
      series.push({label: "band low", stroke: "#2a9d8f", width: 0, points: {show: true, size: 7}});
      series.push({label: "band high", stroke: "#2a9d8f", width: 0, points: {show: true, size: 7}});
      columns.push(low, high);
    }
    data.limits.forEach(function (limit) {
      ["min", "max"].forEach(function (end) {
        if (limit[end] === null || limit[end] === undefined) { return; }
        series.push({label: "SLO " + limit.check + " " + end, stroke: "#c1121f", dash: [6, 4],
                     width: 1, points: {show: false}});
        columns.push(xs.map(function () { return limit[end]; }));
      });
    });
    if (data.alerts.length) {
      series.push({label: "incident", stroke: "#d62828", width: 0,
                   points: {show: true, size: 11, fill: "#d62828"}});
      columns.push(marks);
    }
    return {opts: {width: width, height: 220, series: series, scales: {x: {time: true}},
                   legend: {live: false}}, data: columns};
  }

  function draw(element, data) {
    if (!data.points.length) { element.textContent = "no values stored for this statistic"; return; }
    var width = Math.max(320, Math.min(element.clientWidth || 760, 1100));
    var chart = build(data, width);
    element.textContent = "";
    new uPlot(chart.opts, chart.data, element);
    element.setAttribute("data-drawn", String(data.points.length));
  }

  // Top values over time: one line per value among the 6 with the largest total share.
  function drawTopValues(element, items) {
    if (!items.length) { element.textContent = "no top values stored"; return; }
    var partitions = [], index = {}, totals = {};
    items.forEach(function (r) {
      if (!(r.partition in index)) { index[r.partition] = partitions.length; partitions.push(r.partition); }
      totals[r.value] = (totals[r.value] || 0) + (r.ratio || 0);
    });
    var values = Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a]; }).slice(0, 6);
    var palette = ["#1f5fa8", "#e76f51", "#2a9d8f", "#8e44ad", "#e9c46a", "#6c757d"];
    var columns = [partitions.map(seconds)], series = [{}];
    values.forEach(function (v, k) {
      var line = partitions.map(function () { return 0; });
      items.forEach(function (r) { if (String(r.value) === v) { line[index[r.partition]] = r.ratio; } });
      columns.push(line);
      series.push({label: v, stroke: palette[k], width: 1.5});
    });
    var width = Math.max(320, Math.min(element.clientWidth || 760, 1100));
    element.textContent = "";
    new uPlot({width: width, height: 200, series: series, scales: {x: {time: true}},
               legend: {live: false}}, columns, element);
    element.setAttribute("data-drawn", String(partitions.length));
  }

  function load(element) {
    if (element.getAttribute("data-started")) { return; }  // one page, several outputs
    element.setAttribute("data-started", "1");
    var inline = element.getAttribute("data-series-id");
    if (inline) {
      draw(element, JSON.parse(document.getElementById(inline).textContent));
      return;
    }
    var inlineTop = element.getAttribute("data-top-values-id");
    if (inlineTop) {
      drawTopValues(element, JSON.parse(document.getElementById(inlineTop).textContent));
      return;
    }
    var topValues = element.getAttribute("data-top-values-url");
    fetch(topValues || element.getAttribute("data-series-url"), {credentials: "same-origin"})
      .then(function (r) {
        if (r.ok) { return r.json(); }
        return r.json().then(function (body) { throw new Error("HTTP " + r.status + ": " + body.detail); },
                             function () { throw new Error("HTTP " + r.status); });
      })
      .then(function (data) { if (topValues) { drawTopValues(element, data.items); } else { draw(element, data); } })
      .catch(function (e) { element.textContent = "chart unavailable: " + e.message; });
  }

  function start() {
    var charts = Array.prototype.slice.call(document.querySelectorAll(".wk-chart"));
    if (!("IntersectionObserver" in window)) { charts.forEach(load); return; }
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { seen.unobserve(e.target); load(e.target); }
      });
    }, {rootMargin: "400px"});
    charts.forEach(function (c) { seen.observe(c); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
