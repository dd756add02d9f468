// The web UI's reader of /api/v1/events (served at /webui/events.js): read with fetch, since
// EventSource cannot send the bearer token; a stream that breaks is opened again after 1, 2, 4 … 30 s.

export const EVENTS_JS = String.raw`import { authorization, rejected } from "/webui/api.js";

var stream = null;

/** Opens the stream, handing each event to onEvent; closeEvents ends it. */
export function openEvents(onEvent, attempt) {
  attempt = attempt || 0;
  var controller = new AbortController();
  stream = controller;
  fetch("/api/v1/events", { headers: { Authorization: authorization(), Accept: "text/event-stream" }, signal: controller.signal })
    .then(function (res) {
      if (res.status === 401) { rejected(); return; }
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
      setTimeout(function () { if (stream === controller) openEvents(onEvent, attempt + 1); }, wait);
    });
}

export function closeEvents() {
  if (stream) { stream.abort(); stream = null; }
}
`;
