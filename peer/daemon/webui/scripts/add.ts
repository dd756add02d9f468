// The web UI's form to add a torrent (served at /webui/add.js): a .torrent file (its files listed, each
// to keep or skip), a magnet link or an http(s) URL; a save folder; added started or paused.

export const ADD_JS = String.raw`import { $, bytes, clear, el } from "/webui/dom.js";
import { api } from "/webui/api.js";
import { loadList } from "/webui/list.js";

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
  clear(list);
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
`;
