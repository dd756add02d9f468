// The dashboard at `/`: a static page, its style sheet and its script, served as they are (no build
// step, the same on Workers, Deno and Bun). Nothing inline, so the page works under the strict
// Content-Security-Policy it is sent with: the script and the style sheet come from this origin, and
// the numbers from /dashboard.json.

export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>btswarm tracker</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
<h1>btswarm tracker</h1>
<p>Announce at <code>/announce</code>, scrape at <code>/scrape</code>; JSON at <code>/stats</code>, Prometheus at <code>/metrics</code>.</p>
<p id="status" role="status">loading…</p>
</header>
<section class="totals">
<div><span class="label">swarms</span><span class="value" id="swarms">–</span></div>
<div><span class="label">seeders</span><span class="value" id="seeders">–</span></div>
<div><span class="label">leechers</span><span class="value" id="leechers">–</span></div>
<div><span class="label">announces</span><span class="value" id="announces">–</span></div>
<div><span class="label">scrapes</span><span class="value" id="scrapes">–</span></div>
</section>
<section>
<h2>Announces per minute, last hour</h2>
<svg id="chart" viewBox="0 0 600 130" role="img" aria-label="announces per minute over the last hour"></svg>
<p class="axis"><span>60 min ago</span><span id="chart-max"></span><span>now</span></p>
</section>
<section>
<h2>Busiest swarms</h2>
<table id="busiest">
<thead><tr><th>info hash</th><th>seeders</th><th>leechers</th></tr></thead>
<tbody></tbody>
</table>
</section>
</body>
</html>
`;

export const DASHBOARD_CSS = `body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 960px; padding: 0 1rem; color: #1d2430; background: #f7f8fa; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
header p { margin: .2rem 0; color: #4a5568; }
#status.error { color: #b42318; }
.totals { display: flex; gap: .75rem; flex-wrap: wrap; margin-top: 1rem; }
.totals div { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: .6rem 1rem; min-width: 7rem; }
.label { display: block; color: #4a5568; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
.value { display: block; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
#chart { width: 100%; height: auto; background: #fff; border: 1px solid #dde2ea; border-radius: 8px; }
#chart rect { fill: #3b6fd8; }
#chart line { stroke: #dde2ea; }
.axis { display: flex; justify-content: space-between; color: #4a5568; font-size: .8rem; margin: .2rem 0; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde2ea; }
th, td { text-align: left; padding: .35rem .7rem; border-bottom: 1px solid #eef1f5; }
td:not(:first-child), th:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
td code { font-size: .85rem; }
`;
