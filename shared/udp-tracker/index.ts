// The UDP tracker protocol (BEP 15) codec, for the tracker (edge/udp) and for clients.
export * from "./errors.ts";
export * from "./requests.ts";
export * from "./responses.ts";
export * from "./types.ts";
