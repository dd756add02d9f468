// The dashboard's browser script, as text (served at /dashboard.js; no build step). It reads
// /dashboard.json every few seconds (10 by default, `?every=<seconds>` in the page's address for
// another; paused while the tab is hidden, since each read costs the store a bounded scan) and
// draws the chart as SVG rectangles. Plain ES2017, DOM APIs only; text goes in with textContent.

// biome-ignore lint/complexity/noUselessStringRaw: served byte for byte; raw keeps any backslash written into the script literal
export const DASHBOARD_SCRIPT = String.raw`"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var asked = Number(new URLSearchParams(location.search).get("every"));
  var every = asked >= 1 ? asked * 1000 : 10000;
  var timer = null;
  var loading = false;

  function show(id, n) {
    document.getElementById(id).textContent = Number(n).toLocaleString("en");
  }

  function drawChart(perMinute) {
    var svg = document.getElementById("chart");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var max = Math.max.apply(null, perMinute.concat([1]));
    var width = 600 / perMinute.length;
    var base = document.createElementNS(SVG, "line");
    base.setAttribute("x1", "0");
    base.setAttribute("x2", "600");
    base.setAttribute("y1", "125");
    base.setAttribute("y2", "125");
    svg.appendChild(base);
    perMinute.forEach(function (count, i) {
      if (count === 0) return;
      var h = Math.max(1, (count / max) * 115);
      var bar = document.createElementNS(SVG, "rect");
      bar.setAttribute("x", String(i * width + 1));
      bar.setAttribute("y", String(125 - h));
      bar.setAttribute("width", String(Math.max(1, width - 2)));
      bar.setAttribute("height", String(h));
      bar.setAttribute("data-count", String(count));
      var title = document.createElementNS(SVG, "title");
      title.textContent = count + " announces, " + (perMinute.length - 1 - i) + " min ago";
      bar.appendChild(title);
      svg.appendChild(bar);
    });
    document.getElementById("chart-max").textContent = "peak " + max + "/min";
  }

  function drawBusiest(list) {
    var body = document.querySelector("#busiest tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    list.forEach(function (s) {
      var row = document.createElement("tr");
      var hash = document.createElement("code");
      hash.textContent = s.infoHash;
      [hash, String(s.seeders), String(s.leechers)].forEach(function (content) {
        var cell = document.createElement("td");
        if (typeof content === "string") cell.textContent = content;
        else cell.appendChild(content);
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
  }

  function render(d) {
    show("swarms", d.swarms);
    show("seeders", d.seeders);
    show("leechers", d.leechers);
    show("announces", d.announces);
    show("scrapes", d.scrapes);
    drawChart(d.perMinute);
    drawBusiest(d.busiest);
    var status = document.getElementById("status");
    status.className = "";
    status.textContent = "updated " + new Date(d.now).toLocaleTimeString("en-GB") + (d.approximate ? " (counts are lower bounds)" : "") + ", every " + every / 1000 + " s";
  }

  function failed(text) {
    var status = document.getElementById("status");
    status.className = "error";
    status.textContent = text;
  }

  function refresh() {
    timer = null;
    loading = true;
    fetch("/dashboard.json", { cache: "no-store" })
      .then(function (res) {
        return res.json().then(function (d) {
          if (!res.ok) throw new Error(d && d.problem ? d.problem : "HTTP " + res.status);
          render(d);
        });
      })
      .catch(function (err) { failed("not updated: " + err.message); })
      .then(schedule);
  }

  function schedule() {
    loading = false;
    if (timer === null && !document.hidden) timer = setTimeout(refresh, every);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    } else if (timer === null && !loading) refresh();
  });
  refresh();
})();
`;
