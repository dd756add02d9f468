// The web UI's calls to /api/v1 (served at /webui/api.js): every request carries the bearer token the
// user signed in with; a 401 hands over to the sign-in form (through the hook main.js sets), and an API
// error becomes an Error with the API's message.

export const API_JS = `var token = "";
var unauthorized = function () {};

export function setToken(t) { token = t; }
export function authorization() { return "Bearer " + token; }
/** What a 401 does (main.js: back to the sign-in form). */
export function onUnauthorized(fn) { unauthorized = fn; }
export function rejected() { unauthorized(); }

export function api(method, path, body, headers) {
  var h = headers || {};
  h.Authorization = authorization();
  return fetch(path, { method: method, headers: h, body: body }).then(function (res) {
    if (res.status === 401) { rejected(); throw new Error("unauthorized"); }
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
`;
