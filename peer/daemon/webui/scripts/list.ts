// The web UI's list of torrents (served at /webui/list.js): sorted by any column, filtered by state,
// each row with its actions (pause or resume, recheck, remove). Progress events move rows in place;
// any other event (added, completed, stopped, failed) reads the list again.

export const LIST_JS = `import { $, bytes, clear, el, eta, rate, status } from "/webui/dom.js";
import { api } from "/webui/api.js";
import { closeDetail, detailShows, openDetail } from "/webui/detail.js";

var torrents = [];
var sortKey = "name";
var sortReverse = false;
var reloadTimer = null;

export function loadList() {
  return api("GET", "/api/v1/torrents").then(function (list) {
    torrents = list;
    render();
    status("", false);
  }).catch(function (e) { if (e.message !== "unauthorized") status("cannot reach the daemon: " + e.message, true); });
}

export function onEvent(e) {
  if (e.event === "progress") {
    var t = torrents.find(function (x) { return x.infoHash === e.infoHash; });
    if (t) {
      t.downloadRate = e.downRate;
      t.uploadRate = e.upRate;
      t.peers = e.peers;
      t.eta = e.eta;
      if (e.pieces > 0) t.progress = Math.max(t.progress, e.have / e.pieces);
      render();
    }
    return;
  }
  // Anything else may change the list (a torrent added, completed, stopped, failed): read it again soon.
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadList, 300);
}

function render() {
  var filter = $("filter").value;
  var rows = torrents.filter(function (t) { return !filter || t.state === filter; });
  rows.sort(function (a, b) {
    var x = a[sortKey], y = b[sortKey];
    if (x === null || x === undefined) x = Infinity;
    if (y === null || y === undefined) y = Infinity;
    var c = typeof x === "string" ? x.localeCompare(y) : x - y;
    return sortReverse ? -c : c;
  });
  var body = $("torrents").tBodies[0];
  clear(body);
  rows.forEach(function (t) { body.appendChild(row(t)); });
  $("empty").hidden = torrents.length > 0;
  document.querySelectorAll("#torrents th[data-sort]").forEach(function (th) {
    th.className = (th.getAttribute("data-sort") === sortKey ? "sorted" + (sortReverse ? " reverse" : "") : "") + (th.classList.contains("wide") ? " wide" : "");
  });
}

function row(t) {
  var tr = el("tr");
  tr.setAttribute("data-hash", t.infoHash);
  tr.setAttribute("data-state", t.state);
  var name = el("td", t.name, "name");
  name.title = t.infoHash;
  name.addEventListener("click", function () { openDetail(t.infoHash); });
  tr.appendChild(name);
  tr.appendChild(el("td", t.state + (t.error ? ": " + t.error : "")));
  var bar = el("div", null, "bar");
  var fill = el("span");
  fill.style.width = (t.progress * 100).toFixed(1) + "%";
  bar.appendChild(fill);
  bar.appendChild(el("em", (t.progress * 100).toFixed(1) + "%"));
  var progress = el("td");
  progress.setAttribute("data-progress", String(t.progress));
  progress.appendChild(bar);
  tr.appendChild(progress);
  tr.appendChild(el("td", bytes(t.size), "num wide"));
  tr.appendChild(el("td", rate(t.downloadRate), "num"));
  tr.appendChild(el("td", rate(t.uploadRate), "num wide"));
  tr.appendChild(el("td", t.peers + " (" + t.seeds + ")", "num wide"));
  tr.appendChild(el("td", t.ratio.toFixed(2), "num wide"));
  tr.appendChild(el("td", t.progress >= 1 ? "–" : eta(t.eta), "num wide"));
  var actions = el("td");
  var paused = t.state === "paused" || t.state === "stopped" || t.state === "error";
  actions.appendChild(button(paused ? "resume" : "pause", function () { act(t, paused ? "resume" : "pause"); }));
  actions.appendChild(button("recheck", function () { act(t, "recheck"); }));
  actions.appendChild(button("remove", function () { askRemove(t); }));
  tr.appendChild(actions);
  return tr;
}

function button(label, onClick) {
  var b = el("button", label);
  b.type = "button";
  b.setAttribute("data-action", label);
  b.addEventListener("click", onClick);
  return b;
}

function act(t, action) {
  api("POST", "/api/v1/torrents/" + t.infoHash + "/" + action).then(loadList).catch(function (e) { status(action + " failed: " + e.message, true); });
}

function askRemove(t) {
  var dialog = $("remove-dialog");
  $("remove-name").textContent = t.name;
  $("remove-data").checked = false;
  dialog.onclose = function () {
    if (dialog.returnValue !== "remove") return;
    var withData = $("remove-data").checked;
    api("DELETE", "/api/v1/torrents/" + t.infoHash + "?deleteData=" + withData).then(function () {
      if (detailShows(t.infoHash)) closeDetail();
      loadList();
    }).catch(function (e) { status("remove failed: " + e.message, true); });
  };
  dialog.showModal();
}

document.querySelectorAll("#torrents th[data-sort]").forEach(function (th) {
  th.addEventListener("click", function () {
    var key = th.getAttribute("data-sort");
    sortReverse = key === sortKey ? !sortReverse : false;
    sortKey = key;
    render();
  });
});
$("filter").addEventListener("change", render);
`;
