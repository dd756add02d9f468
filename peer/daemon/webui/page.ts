// The daemon's web UI at `/`: a static page, its style sheet and its scripts (scripts/, ES modules that
// the browser loads from main.js), served as they are (no build step). Nothing inline, so the page works
// under a strict Content-Security-Policy: the scripts, the style sheet and every request come from this origin. The page talks to /api/v1 with the
// bearer token the user gives it once (kept in the browser's localStorage).

export const WEBUI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const WEBUI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>btpeer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/webui.css">
<script type="module" src="/webui/main.js"></script>
</head>
<body>
<section id="login" hidden>
<h1>btpeer</h1>
<form id="login-form">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<p class="hint">Printed by <code>btpeer daemon</code> on its first start, and kept in the file <code>api-token</code> of its state directory.</p>
<button type="submit">Sign in</button>
<p id="login-error" class="error" role="alert"></p>
</form>
</section>
<main id="app" hidden>
<header>
<h1>btpeer</h1>
<div class="totals">
<div><span class="label">torrents</span><span class="value" id="t-torrents">–</span></div>
<div><span class="label">down</span><span class="value" id="t-down">–</span></div>
<div><span class="label">up</span><span class="value" id="t-up">–</span></div>
<div><span class="label">peers</span><span class="value" id="t-peers">–</span></div>
</div>
<svg id="chart" viewBox="0 0 300 60" role="img" aria-label="download and upload rate, last two minutes"></svg>
<p id="status" role="status"></p>
<button id="logout" type="button" class="quiet">Sign out</button>
</header>
<section id="add">
<h2>Add a torrent</h2>
<form id="add-form">
<label>.torrent file <input id="add-file" type="file" accept=".torrent,application/x-bittorrent"></label>
<label>or a magnet link or URL <input id="add-link" type="text" placeholder="magnet:?xt=urn:btih:… or https://…/file.torrent"></label>
<label>save folder <input id="add-path" type="text" placeholder="the daemon's download folder"></label>
<label class="inline"><input id="add-paused" type="checkbox"> add paused</label>
<fieldset id="add-files" hidden><legend>files to download</legend><ul></ul></fieldset>
<button type="submit">Add</button>
<p id="add-error" class="error" role="alert"></p>
</form>
</section>
<section>
<div class="toolbar">
<h2>Torrents</h2>
<label>state <select id="filter">
<option value="">all</option><option>downloading</option><option>seeding</option><option>paused</option><option>checking</option><option>metadata</option><option>stopped</option><option>error</option>
</select></label>
</div>
<table id="torrents">
<thead><tr>
<th data-sort="name">name</th><th data-sort="state">state</th><th data-sort="progress">progress</th><th data-sort="size" class="wide">size</th>
<th data-sort="downloadRate">down</th><th data-sort="uploadRate" class="wide">up</th><th data-sort="peers" class="wide">peers</th>
<th data-sort="ratio" class="wide">ratio</th><th data-sort="eta" class="wide">ETA</th><th>actions</th>
</tr></thead>
<tbody></tbody>
</table>
<p id="empty" class="hint">No torrents yet.</p>
</section>
<section id="detail" hidden>
<div class="toolbar"><h2 id="detail-name"></h2><button id="detail-close" type="button" class="quiet">Close</button></div>
<nav><button type="button" data-tab="files">Files</button><button type="button" data-tab="peers">Peers</button><button type="button" data-tab="trackers">Trackers</button><button type="button" data-tab="pieces">Pieces</button></nav>
<div id="detail-body"></div>
</section>
<section id="settings">
<h2>Settings</h2>
<form id="settings-form">
<label class="inline"><input id="setting-all-tiers" type="checkbox" data-setting="announceToAllTiers" disabled> Announce to all tiers</label>
<label class="inline"><input id="setting-all-trackers" type="checkbox" data-setting="announceToAllTrackers" disabled> Announce to all trackers in a tier</label>
<p class="hint">Which of a torrent's trackers are announced to: every tier on its own (off: a tier only when every tracker before it failed), and every tracker of a tier, not only the first that answers. Saved at once and kept across restarts; every torrent follows them from its next announce.</p>
<p id="settings-error" class="error" role="alert"></p>
</form>
</section>
<dialog id="remove-dialog">
<form method="dialog">
<p>Remove <strong id="remove-name"></strong>?</p>
<label class="inline"><input id="remove-data" type="checkbox"> also delete its files</label>
<menu><button value="cancel">Cancel</button><button value="remove" id="remove-confirm">Remove</button></menu>
</form>
</dialog>
</main>
</body>
</html>
`;

export const WEBUI_CSS = `* { box-sizing: border-box; }
body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem; color: #1d2430; background: #f7f8fa; }
h1 { margin: 0; font-size: 1.5rem; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 .5rem; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; }
.totals { display: flex; gap: .5rem; flex-wrap: wrap; }
.totals div { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: .35rem .8rem; min-width: 5.5rem; }
.label { display: block; color: #4a5568; font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; }
.value { display: block; font-size: 1.2rem; font-variant-numeric: tabular-nums; }
#chart { width: 220px; height: 60px; background: #fff; border: 1px solid #dde2ea; border-radius: 8px; }
#chart .down { fill: none; stroke: #3b6fd8; stroke-width: 1.5; }
#chart .up { fill: none; stroke: #1f9d55; stroke-width: 1.5; }
.error { color: #b42318; }
.hint { color: #4a5568; font-size: .85rem; }
form label { display: block; margin: .4rem 0; }
form label.inline { display: inline-block; }
input[type=text], input[type=password] { width: 100%; max-width: 40rem; padding: .4rem; border: 1px solid #c7cfdb; border-radius: 6px; font: inherit; }
button { font: inherit; padding: .3rem .7rem; border: 1px solid #3b6fd8; background: #3b6fd8; color: #fff; border-radius: 6px; cursor: pointer; }
button.quiet, td button { background: #fff; color: #1d2430; border-color: #c7cfdb; }
#login { max-width: 26rem; margin: 4rem auto; }
#add, #settings { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: .2rem 1rem .8rem; }
#settings { margin-top: 1rem; }
#settings label.inline { margin-right: 1.5rem; }
#add-files ul { list-style: none; padding: 0; margin: 0; max-height: 12rem; overflow: auto; }
.toolbar { display: flex; align-items: center; justify-content: space-between; gap: 1rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde2ea; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #eef1f5; vertical-align: middle; }
th[data-sort] { cursor: pointer; user-select: none; }
th.sorted::after { content: " ▾"; }
th.sorted.reverse::after { content: " ▴"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { overflow-wrap: anywhere; cursor: pointer; color: #1f4fb0; }
.bar { position: relative; height: .9rem; min-width: 5rem; background: #eef1f5; border-radius: 4px; overflow: hidden; }
.bar span { position: absolute; inset: 0 auto 0 0; background: #3b6fd8; }
.bar em { position: relative; font-style: normal; font-size: .75rem; padding-left: .3rem; }
td button { padding: .1rem .4rem; font-size: .8rem; margin: .1rem; }
#detail { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: 0 1rem 1rem; margin-top: 1rem; }
#detail nav button { background: #fff; color: #1d2430; border-color: #c7cfdb; }
#detail nav button.active { background: #3b6fd8; color: #fff; }
#detail-body td:first-child { overflow-wrap: anywhere; }
#tracker-form { display: flex; gap: .5rem; margin-top: .6rem; }
#pieces { width: 100%; height: auto; border: 1px solid #dde2ea; }
#pieces .have { fill: #1f9d55; }
#pieces .missing { fill: #eef1f5; }
dialog menu { display: flex; gap: .5rem; justify-content: flex-end; padding: 0; }
@media (max-width: 700px) {
  body { padding: .5rem; }
  .wide { display: none; }
  th, td { padding: .3rem .2rem; font-size: .9rem; }
  .bar { min-width: 3.5rem; }
  td button { display: block; width: 100%; }
  #chart { width: 100%; }
}
`;
