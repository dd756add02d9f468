// How many requests to keep outstanding with one peer: enough to cover a few seconds at the rate the
// peer currently delivers (so the link never idles waiting for our next request), within a floor and a
// cap, and never above what the peer says it will queue (its BEP 10 `reqq`).
import { BLOCK_SIZE } from "../../shared/wire/types.ts";

export const PIPELINE_SECONDS = 3;
export const PIPELINE_FLOOR = 16;
export const PIPELINE_CAP = 500;
/** For peers that did not say (no BEP 10 `reqq`): what the older clients are known to accept. */
export const PIPELINE_CAP_UNKNOWN_REQQ = 250;

export function pipelineDepth(bytesPerSecond: number, peerReqq: number | null): number {
  const cap = Math.min(PIPELINE_CAP, peerReqq ?? PIPELINE_CAP_UNKNOWN_REQQ);
  const wanted = Math.ceil((bytesPerSecond * PIPELINE_SECONDS) / BLOCK_SIZE);
  return Math.max(1, Math.min(cap, Math.max(PIPELINE_FLOOR, wanted)));
}
