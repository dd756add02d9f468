// The web UI's entry module (served at /webui/main.js, the one the page names): signing in and out, and
// while signed in the live data: the events stream, the list every 10 s, the header and an open detail
// every 2 s, the settings once. The modules it imports set up their own parts of the page as they load.

export const MAIN_JS = `import { $ } from "/webui/dom.js";
import { api, onUnauthorized, setToken } from "/webui/api.js";
import { closeEvents, openEvents } from "/webui/events.js";
import { loadList, onEvent } from "/webui/list.js";
import { loadStats } from "/webui/stats.js";
import { refreshDetail } from "/webui/detail.js";
import { loadSettings } from "/webui/settings.js";
import "/webui/add.js";

var TOKEN_KEY = "btpeer-token";
var timers = [];

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
onUnauthorized(function () { showLogin("That token was not accepted."); });

$("login-form").addEventListener("submit", function (ev) {
  ev.preventDefault();
  var typed = $("token").value.trim();
  setToken(typed);
  api("GET", "/api/v1/stats").then(function () {
    localStorage.setItem(TOKEN_KEY, typed);
    showApp();
  }).catch(function (e) { if (e.message !== "unauthorized") $("login-error").textContent = e.message; });
});
$("logout").addEventListener("click", function () {
  localStorage.removeItem(TOKEN_KEY);
  setToken("");
  showLogin("");
});

function start() {
  loadList();
  loadStats();
  loadSettings();
  timers.push(setInterval(loadStats, 2000));
  timers.push(setInterval(loadList, 10000));
  timers.push(setInterval(refreshDetail, 2000));
  openEvents(onEvent);
}
function stop() {
  timers.forEach(clearInterval);
  timers = [];
  closeEvents();
}

var saved = localStorage.getItem(TOKEN_KEY) || "";
setToken(saved);
if (saved) showApp(); else showLogin("");
`;
