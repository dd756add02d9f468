// The mainline DHT's KRPC codec (BEP 5, 32, 42, 43), pure: bytes in, typed messages out, and back.
export * from "./compact-nodes.ts";
export * from "./errors.ts";
export * from "./krpc.ts";
export * from "./types.ts";
