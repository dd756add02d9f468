// The web UI's browser script, as text (served at /webui.js; no build step). Plain ES2017 and DOM APIs;
// text always goes in with textContent. Live updates: the /api/v1/events stream (read with fetch, since
// EventSource cannot send the bearer token) moves each row's progress and rates; list changes (added,
// completed, stopped, errors) reload the list; the header's totals and rate chart come from
// /api/v1/stats every two seconds.

export const WEBUI_SCRIPT = String.raw`"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var TOKEN_KEY = "btpeer-token";
  var token = localStorage.getItem(TOKEN_KEY) || "";
  var torrents = [];
  var sortKey = "name";
  var sortReverse = false;
  var detailHash = null;
  var detailTab = "files";
  var rates = [];
  var timers = [];
  var stream = null;
  var reloadTimer = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function bytes(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }
  function rate(n) { return n > 0 ? bytes(n) + "/s" : "–"; }
  function eta(s) {
    if (s === null || s === undefined) return "∞";
    if (s < 60) return s + " s";
    if (s < 3600) return Math.round(s / 60) + " min";
    if (s < 86400) return (s / 3600).toFixed(1) + " h";
    return (s / 86400).toFixed(1) + " d";
  }
  function status(text, isError) {
    var s = $("status");
    s.textContent = text;
    s.className = isError ? "error" : "";
  }

  function api(method, path, body, headers) {
    var h = headers || {};
    h.Authorization = "Bearer " + token;
    return fetch(path, { method: method, headers: h, body: body }).then(function (res) {
      if (res.status === 401) { showLogin("That token was not accepted."); throw new Error("unauthorized"); }
      if (!res.ok) {
        return res.text().then(function (text) {
          var message = res.status + " " + res.statusText;
          try { var j = JSON.parse(text); if (j && j.error) message = j.error.message || message; } catch (e) { /* not JSON */ }
          throw new Error(message);
        });
      }
      var type = res.headers.get("content-type") || "";
      return type.indexOf("application/json") === 0 ? res.json() : res.text();
    });
  }

  // ---- sign in -------------------------------------------------------------------------------------

  function showLogin(message) {
    stop();
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
  }
  function showApp() {
    $("login").hidden = true;
    $("app").hidden = false;
    start();
  }
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    token = $("token").value.trim();
    api("GET", "/api/v1/stats").then(function () {
      localStorage.setItem(TOKEN_KEY, token);
      showApp();
    }).catch(function (e) { if (e.message !== "unauthorized") $("login-error").textContent = e.message; });
  });
  $("logout").addEventListener("click", function () {
    localStorage.removeItem(TOKEN_KEY);
    token = "";
    showLogin("");
  });

  // ---- live data -----------------------------------------------------------------------------------

  function start() {
    loadList();
    loadStats();
    timers.push(setInterval(loadStats, 2000));
    timers.push(setInterval(loadList, 10000));
    timers.push(setInterval(function () { if (detailHash) loadDetail(); }, 2000));
    openStream(0);
  }
  function stop() {
    timers.forEach(clearInterval);
    timers = [];
    if (stream) { stream.abort(); stream = null; }
  }

  function openStream(attempt) {
    var controller = new AbortController();
    stream = controller;
    fetch("/api/v1/events", { headers: { Authorization: "Bearer " + token, Accept: "text/event-stream" }, signal: controller.signal })
      .then(function (res) {
        if (res.status === 401) { showLogin("That token was not accepted."); return; }
        if (!res.ok || !res.body) throw new Error("events: " + res.status);
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error("events stream ended");
            buffer += decoder.decode(chunk.value, { stream: true });
            var at;
            while ((at = buffer.indexOf("\n\n")) >= 0) {
              var block = buffer.slice(0, at);
              buffer = buffer.slice(at + 2);
              var data = block.split("\n").filter(function (l) { return l.indexOf("data:") === 0; }).map(function (l) { return l.slice(5).trim(); }).join("\n");
              if (data) { try { onEvent(JSON.parse(data)); } catch (e) { /* a line we do not read */ } }
            }
            attempt = 0;
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {
        if (stream !== controller) return;
        var wait = Math.min(30000, 1000 * Math.pow(2, attempt));
        setTimeout(function () { if (stream === controller) openStream(attempt + 1); }, wait);
      });
  }

  function onEvent(e) {
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

  function loadList() {
    return api("GET", "/api/v1/torrents").then(function (list) {
      torrents = list;
      render();
      status("", false);
    }).catch(function (e) { if (e.message !== "unauthorized") status("cannot reach the daemon: " + e.message, true); });
  }

  function loadStats() {
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
    while (svg.firstChild) svg.removeChild(svg.firstChild);
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

  // ---- the list ------------------------------------------------------------------------------------

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
    while (body.firstChild) body.removeChild(body.firstChild);
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
        if (detailHash === t.infoHash) closeDetail();
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

  // ---- adding --------------------------------------------------------------------------------------

  // Just enough bencode to list a .torrent's files before it is added.
  function bdecode(buf) {
    var i = 0;
    var text = new TextDecoder();
    function next() {
      var c = buf[i];
      if (c === 0x69) { var end = buf.indexOf(0x65, i); var n = Number(text.decode(buf.subarray(i + 1, end))); i = end + 1; return n; }
      if (c === 0x6c) { i++; var list = []; while (buf[i] !== 0x65) list.push(next()); i++; return list; }
      if (c === 0x64) { i++; var dict = {}; while (buf[i] !== 0x65) { var k = text.decode(next()); dict[k] = next(); } i++; return dict; }
      var colon = buf.indexOf(0x3a, i);
      var len = Number(text.decode(buf.subarray(i, colon)));
      var s = buf.subarray(colon + 1, colon + 1 + len);
      i = colon + 1 + len;
      return s;
    }
    return next();
  }

  var addFiles = [];
  $("add-file").addEventListener("change", function () {
    var file = $("add-file").files[0];
    var box = $("add-files");
    var list = box.querySelector("ul");
    while (list.firstChild) list.removeChild(list.firstChild);
    addFiles = [];
    box.hidden = true;
    if (!file) return;
    file.arrayBuffer().then(function (ab) {
      var meta = bdecode(new Uint8Array(ab));
      var info = meta.info;
      var text = new TextDecoder();
      addFiles = info.files ? info.files.map(function (f) { return { path: f.path.map(function (p) { return text.decode(p); }).join("/"), length: f.length }; })
        : [{ path: text.decode(info.name), length: info.length }];
      addFiles.forEach(function (f, index) {
        var li = el("li");
        var label = el("label");
        label.className = "inline";
        var cb = el("input");
        cb.type = "checkbox";
        cb.checked = true;
        cb.setAttribute("data-index", String(index));
        label.appendChild(cb);
        label.appendChild(document.createTextNode(" " + f.path + " (" + bytes(f.length) + ")"));
        li.appendChild(label);
        list.appendChild(li);
      });
      box.hidden = addFiles.length < 2;
    }).catch(function () { $("add-error").textContent = "That file is not a readable .torrent."; });
  });

  $("add-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("add-error").textContent = "";
    var form = new FormData();
    var file = $("add-file").files[0];
    var link = $("add-link").value.trim();
    if (file) form.append("torrent", file);
    else if (link.indexOf("magnet:") === 0) form.append("magnet", link);
    else if (/^https?:\/\//i.test(link)) form.append("url", link);
    else { $("add-error").textContent = "Choose a .torrent file, or paste a magnet link or an http(s) URL."; return; }
    if ($("add-path").value.trim()) form.append("savePath", $("add-path").value.trim());
    if ($("add-paused").checked) form.append("paused", "true");
    var skipped = [];
    document.querySelectorAll("#add-files input[type=checkbox]").forEach(function (cb) { if (!cb.checked) skipped.push(cb.getAttribute("data-index")); });
    if (file && skipped.length > 0) form.append("skip", skipped.join(","));
    api("POST", "/api/v1/torrents", form).then(function () {
      $("add-form").reset();
      $("add-files").hidden = true;
      loadList();
    }).catch(function (e) { if (e.message !== "unauthorized") $("add-error").textContent = e.message; });
  });

  // ---- one torrent ---------------------------------------------------------------------------------

  function openDetail(hash) {
    detailHash = hash;
    $("detail").hidden = false;
    loadDetail();
  }
  function closeDetail() {
    detailHash = null;
    $("detail").hidden = true;
  }
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
      // Leave the files tab alone while a priority menu has focus, so a refresh does not undo a choice.
      if (detailTab === "files" && body.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;
      while (body.firstChild) body.removeChild(body.firstChild);
      if (detailTab === "files") body.appendChild(filesTable(d));
      else if (detailTab === "peers") body.appendChild(table(["address", "client", "down", "up", "progress", "flags"], d.peerList.map(function (p) {
        return [p.address, p.client, rate(p.downloadRate), rate(p.uploadRate), (p.progress * 100).toFixed(0) + "%", p.flags];
      })));
      else if (detailTab === "trackers") body.appendChild(table(["url", "tier", "status", "peers", "last error"], d.trackers.map(function (t) {
        return [t.url, t.tier, t.status, t.peers, t.lastError || ""];
      })));
      else body.appendChild(pieceMap(d));
    }).catch(function (e) { if (e.message !== "unauthorized") closeDetail(); });
  }

  function table(headers, rows) {
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

  if (token) showApp(); else showLogin("");
})();
`;
