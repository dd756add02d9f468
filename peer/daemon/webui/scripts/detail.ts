// The web UI's view of one torrent (served at /webui/detail.js): its files (with a priority menu each),
// peers, trackers (each removable, and a field to add one) and a piece map, from /api/v1/torrents/<hash>,
// read again every two seconds while open.

export const DETAIL_JS = `import { $, SVG, bytes, clear, el, rate, status, table } from "/webui/dom.js";
import { api } from "/webui/api.js";

var detailHash = null;
var detailTab = "files";

export function openDetail(hash) {
  detailHash = hash;
  $("detail").hidden = false;
  loadDetail();
}
export function closeDetail() {
  detailHash = null;
  $("detail").hidden = true;
}
export function detailShows(hash) { return detailHash === hash; }
/** The periodic refresh: reads the open torrent again, if one is open. */
export function refreshDetail() { if (detailHash) loadDetail(); }

$("detail-close").addEventListener("click", closeDetail);
document.querySelectorAll("#detail nav button").forEach(function (b) {
  b.addEventListener("click", function () { detailTab = b.getAttribute("data-tab"); loadDetail(); });
});

function loadDetail() {
  var hash = detailHash;
  api("GET", "/api/v1/torrents/" + hash).then(function (d) {
    if (hash !== detailHash) return;
    $("detail-name").textContent = d.name;
    document.querySelectorAll("#detail nav button").forEach(function (b) { b.className = b.getAttribute("data-tab") === detailTab ? "active" : ""; });
    var body = $("detail-body");
    // Leave the tab alone while a priority menu or the tracker field has focus, so a refresh does not undo a
    // choice or wipe what is being typed.
    var focused = body.contains(document.activeElement) ? document.activeElement.tagName : "";
    if (focused === "SELECT" || focused === "INPUT") return;
    clear(body);
    if (detailTab === "files") body.appendChild(filesTable(d));
    else if (detailTab === "peers") body.appendChild(table(["address", "client", "down", "up", "progress", "flags"], d.peerList.map(function (p) {
      return [p.address, p.client, rate(p.downloadRate), rate(p.uploadRate), (p.progress * 100).toFixed(0) + "%", p.flags];
    })));
    else if (detailTab === "trackers") trackersView(d).forEach(function (n) { body.appendChild(n); });
    else body.appendChild(pieceMap(d));
  }).catch(function (e) { if (e.message !== "unauthorized") closeDetail(); });
}

function filesTable(d) {
  return table(["file", "size", "progress", "priority"], d.files.map(function (f) {
    var select = el("select");
    select.setAttribute("data-file", String(f.index));
    ["skip", "normal", "high"].forEach(function (p) {
      var o = el("option", p);
      o.value = p;
      if (p === f.priority) o.selected = true;
      select.appendChild(o);
    });
    select.addEventListener("change", function () {
      var priorities = {};
      priorities[f.index] = select.value;
      api("PATCH", "/api/v1/torrents/" + d.infoHash, JSON.stringify({ filePriorities: priorities }), { "Content-Type": "application/json" })
        .then(function () { select.blur(); loadDetail(); })
        .catch(function (e) { status("priority not changed: " + e.message, true); });
    });
    return [f.path, bytes(f.length), (f.progress * 100).toFixed(1) + "%", select];
  }));
}

/** The trackers, each with a button that removes it, and a form that adds one. */
function trackersView(d) {
  var path = "/api/v1/torrents/" + d.infoHash + "/trackers";
  var list = table(["url", "tier", "status", "peers", "last error", ""], d.trackers.map(function (t) {
    var remove = el("button", "Remove", "quiet");
    remove.type = "button";
    remove.setAttribute("data-tracker", t.url);
    remove.addEventListener("click", function () {
      api("DELETE", path + "?url=" + encodeURIComponent(t.url))
        .then(loadDetail)
        .catch(function (e) { status("tracker not removed: " + e.message, true); });
    });
    return [t.url, t.tier, t.status, t.peers, t.lastError || "", remove];
  }));
  var form = el("form");
  form.id = "tracker-form";
  var input = el("input");
  input.id = "tracker-url";
  input.type = "text";
  input.placeholder = "udp://tracker.example:6969/announce";
  input.setAttribute("aria-label", "tracker URL to add");
  var add = el("button", "Add tracker");
  add.type = "submit";
  form.appendChild(input);
  form.appendChild(add);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", path, JSON.stringify({ urls: [input.value.trim()] }), { "Content-Type": "application/json" })
      .then(function () { input.value = ""; input.blur(); loadDetail(); })
      .catch(function (e) { status("tracker not added: " + e.message, true); });
  });
  return [list, form];
}

function pieceMap(d) {
  var bits = atob(d.pieces);
  var count = d.pieceCount;
  // At most 2,000 cells: above that a cell stands for several pieces, shown as had when all are.
  var per = Math.max(1, Math.ceil(count / 2000));
  var cells = Math.ceil(count / per);
  var cols = Math.min(cells, 100);
  var rows = Math.ceil(cells / cols);
  var svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("id", "pieces");
  svg.setAttribute("viewBox", "0 0 " + cols * 6 + " " + rows * 6);
  for (var c = 0; c < cells; c++) {
    var have = true;
    for (var p = c * per; p < Math.min(count, (c + 1) * per); p++) {
      if (!((bits.charCodeAt(p >> 3) >> (7 - (p & 7))) & 1)) { have = false; break; }
    }
    var r = document.createElementNS(SVG, "rect");
    r.setAttribute("x", String((c % cols) * 6));
    r.setAttribute("y", String(Math.floor(c / cols) * 6));
    r.setAttribute("width", "5");
    r.setAttribute("height", "5");
    r.setAttribute("class", have ? "have" : "missing");
    svg.appendChild(r);
  }
  return svg;
}
`;
