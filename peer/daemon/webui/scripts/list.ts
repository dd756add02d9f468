// The web UI's list of torrents (served at /webui/list.js): sorted by any column, filtered by state,
// each row with its actions (pause or resume, recheck, remove). Progress events move rows in place;
// any other event (added, completed, stopped, failed) reads the list again.

export const LIST_JS = `import { $, bytes, el, eta, rate, status } from "/webui/dom.js";
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

// Rows live as long as their torrent: a redraw fills the same row nodes and only moves them when the order
// changes. Progress events come every second per torrent; a row built anew each time would swallow a click
// whose press and release landed on two different nodes.
var rowsByHash = new Map();

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
  var shown = new Set();
  rows.forEach(function (t, i) {
    shown.add(t.infoHash);
    var tr = rowsByHash.get(t.infoHash);
    if (!tr) {
      tr = row(t.infoHash);
      rowsByHash.set(t.infoHash, tr);
    }
    fill(tr, t);
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
  });
  rowsByHash.forEach(function (tr, hash) {
    if (shown.has(hash)) return;
    tr.remove();
    if (!torrents.some(function (t) { return t.infoHash === hash; })) rowsByHash.delete(hash);
  });
  $("empty").hidden = torrents.length > 0;
  document.querySelectorAll("#torrents th[data-sort]").forEach(function (th) {
    th.className = (th.getAttribute("data-sort") === sortKey ? "sorted" + (sortReverse ? " reverse" : "") : "") + (th.classList.contains("wide") ? " wide" : "");
  });
}

function current(hash) {
  return torrents.find(function (x) { return x.infoHash === hash; });
}

/** A row's cells and buttons, made once; what they show comes from fill. The handlers read the torrent as it is when clicked. */
function row(hash) {
  var tr = el("tr");
  tr.setAttribute("data-hash", hash);
  var name = el("td", "", "name");
  name.title = hash;
  name.addEventListener("click", function () { openDetail(hash); });
  tr.appendChild(name);
  tr.appendChild(el("td"));
  var bar = el("div", null, "bar");
  bar.appendChild(el("span"));
  bar.appendChild(el("em"));
  var progress = el("td");
  progress.appendChild(bar);
  tr.appendChild(progress);
  tr.appendChild(el("td", "", "num wide"));
  tr.appendChild(el("td", "", "num"));
  tr.appendChild(el("td", "", "num wide"));
  tr.appendChild(el("td", "", "num wide"));
  tr.appendChild(el("td", "", "num wide"));
  tr.appendChild(el("td", "", "num wide"));
  var actions = el("td");
  actions.appendChild(button("pause", function () {
    var t = current(hash);
    if (t) act(t, isPaused(t) ? "resume" : "pause");
  }));
  actions.appendChild(button("recheck", function () {
    var t = current(hash);
    if (t) act(t, "recheck");
  }));
  actions.appendChild(button("remove", function () {
    var t = current(hash);
    if (t) askRemove(t);
  }));
  tr.appendChild(actions);
  return tr;
}

function isPaused(t) {
  return t.state === "paused" || t.state === "stopped" || t.state === "error";
}

function fill(tr, t) {
  var c = tr.cells;
  tr.setAttribute("data-state", t.state);
  c[0].textContent = t.name;
  c[1].textContent = t.state + (t.error ? ": " + t.error : "");
  var percent = (t.progress * 100).toFixed(1) + "%";
  c[2].setAttribute("data-progress", String(t.progress));
  c[2].querySelector("span").style.width = percent;
  c[2].querySelector("em").textContent = percent;
  c[3].textContent = bytes(t.size);
  c[4].textContent = rate(t.downloadRate);
  c[5].textContent = rate(t.uploadRate);
  c[6].textContent = t.peers + " (" + t.seeds + ")";
  c[7].textContent = t.ratio.toFixed(2);
  c[8].textContent = t.progress >= 1 ? "–" : eta(t.eta);
  var toggle = c[9].firstChild;
  var label = isPaused(t) ? "resume" : "pause";
  toggle.textContent = label;
  toggle.setAttribute("data-action", label);
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
