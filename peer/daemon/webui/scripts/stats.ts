// The web UI's header (served at /webui/stats.js): the daemon's totals and a chart of the last two
// minutes of download and upload rates, from /api/v1/stats.

export const STATS_JS = `import { $, SVG, clear, rate } from "/webui/dom.js";
import { api } from "/webui/api.js";

var rates = [];

export function loadStats() {
  api("GET", "/api/v1/stats").then(function (s) {
    $("t-torrents").textContent = String(s.torrents);
    $("t-down").textContent = rate(s.downloadRate);
    $("t-up").textContent = rate(s.uploadRate);
    $("t-peers").textContent = String(s.peers);
    rates.push([s.downloadRate, s.uploadRate]);
    if (rates.length > 60) rates.shift();
    drawChart();
  }).catch(function () { /* shown by the list */ });
}

function drawChart() {
  var svg = $("chart");
  clear(svg);
  var max = 1;
  rates.forEach(function (r) { max = Math.max(max, r[0], r[1]); });
  ["down", "up"].forEach(function (kind, k) {
    var points = rates.map(function (r, i) { return (i * 5) + "," + (58 - (r[k] / max) * 54).toFixed(1); }).join(" ");
    var line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("class", kind);
    svg.appendChild(line);
  });
}
`;
