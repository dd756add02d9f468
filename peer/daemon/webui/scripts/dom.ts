// The web UI's helpers (served at /webui/dom.js): DOM lookups, elements with their text set through
// textContent (never markup), numbers in the units the page shows, the status line and plain tables.

export const DOM_JS = `export var SVG = "http://www.w3.org/2000/svg";

export function $(id) { return document.getElementById(id); }
export function el(tag, text, cls) {
  var e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}
export function bytes(n) {
  var units = ["B", "KiB", "MiB", "GiB", "TiB"];
  var i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}
export function rate(n) { return n > 0 ? bytes(n) + "/s" : "–"; }
export function eta(s) {
  if (s === null || s === undefined) return "∞";
  if (s < 60) return s + " s";
  if (s < 3600) return Math.round(s / 60) + " min";
  if (s < 86400) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toFixed(1) + " d";
}
export function status(text, isError) {
  var s = $("status");
  s.textContent = text;
  s.className = isError ? "error" : "";
}

export function table(headers, rows) {
  var t = el("table");
  var head = el("tr");
  headers.forEach(function (h) { head.appendChild(el("th", h)); });
  t.appendChild(el("thead")).appendChild(head);
  var body = t.appendChild(el("tbody"));
  rows.forEach(function (r) {
    var tr = el("tr");
    r.forEach(function (cell) { tr.appendChild(cell instanceof Node ? wrap(cell) : el("td", cell)); });
    body.appendChild(tr);
  });
  return t;
}
function wrap(node) { var td = el("td"); td.appendChild(node); return td; }
`;
