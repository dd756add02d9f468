// bench:tracker's reference servers for the bound of our tracker on Bun (--only bun-serve,bun-serve-request):
// Bun.serve answering every request with the same valid announce reply, 50 IPv4 peers as ours gives
// under the load, with the same headers as ours. BARE=fixed answers at once; BARE=request first reads
// what any tracker must (the URL and the client's address, server.requestIP) and answers a fresh copy.
// What ours costs above the second is our own work: query, store, reply.
const PEERS = new Uint8Array(300).fill(0x7f);
const text = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const head = text("d8:completei10e10:downloadedi0e10:incompletei40e8:intervali1800e12:min intervali900e5:peers300:");
const tail = text("6:peers60:e");
const REPLY = new Uint8Array(head.length + PEERS.length + tail.length);
REPLY.set(head);
REPLY.set(PEERS, head.length);
REPLY.set(tail, head.length + PEERS.length);
const INIT: ResponseInit = { headers: new Headers({ "Content-Type": "text/plain; charset=binary", "Cache-Control": "no-store" }) };
const readRequest = process.env.BARE === "request";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  development: false,
  fetch(request, srv) {
    if (!readRequest) return new Response(REPLY, INIT);
    const url = request.url;
    const ip = srv.requestIP(request)?.address;
    if (ip === undefined || url.length === 0) return new Response("no address", { status: 500 });
    return new Response(REPLY.slice(), INIT);
  },
});
console.log(`listening on ${server.port}`);
