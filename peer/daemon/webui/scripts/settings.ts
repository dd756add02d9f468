// The web UI's daemon settings (served at /webui/settings.js): a checkbox per setting of
// /api/v1/settings, named by its data-setting attribute. Each change is saved at once with PATCH; the
// boxes then show what the daemon answered, and after a refusal (its message shown) what it still has.

export const SETTINGS_JS = `import { $ } from "/webui/dom.js";
import { api } from "/webui/api.js";

function boxes() { return document.querySelectorAll("#settings-form input[data-setting]"); }

function show(settings) {
  boxes().forEach(function (box) {
    box.checked = settings[box.getAttribute("data-setting")] === true;
    box.disabled = false;
  });
}

function failed(e) {
  if (e.message !== "unauthorized") $("settings-error").textContent = e.message;
}

export function loadSettings() {
  return api("GET", "/api/v1/settings").then(show).catch(failed);
}

boxes().forEach(function (box) {
  box.addEventListener("change", function () {
    var change = {};
    change[box.getAttribute("data-setting")] = box.checked;
    $("settings-error").textContent = "";
    // One change in flight at a time: the boxes wait for the daemon's answer.
    boxes().forEach(function (b) { b.disabled = true; });
    api("PATCH", "/api/v1/settings", JSON.stringify(change), { "Content-Type": "application/json" })
      .then(show)
      .catch(function (e) { failed(e); return loadSettings(); });
  });
});
`;
