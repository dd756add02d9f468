// bittorrent-tracker (npm) as a plain HTTP tracker for bench/tracker-http.ts: no UDP, no WebSocket,
// no stats page, on 127.0.0.1:PORT. Run with Node, as its users do. Prints "listening PORT" when ready.
// The "/server" entry alone: the package root also loads the WebRTC client, whose native module needs install scripts.
import Server from "bittorrent-tracker/server";

const port = Number(process.argv[2] ?? 8000);
const server = new Server({ http: true, udp: false, ws: false, stats: false, trustProxy: false });
server.on("error", (err) => {
  console.error(`bittorrent-tracker error: ${err.message}`);
  process.exit(1);
});
server.on("warning", () => {}); // a bad request is answered with a failure reason; no log per request
server.http.listen(port, "127.0.0.1", () => console.log(`listening ${port}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
