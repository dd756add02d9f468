// GET /metrics: the Prometheus text format. Tracker-wide figures come from the store, so every
// instance on one store reports the same ones: announces and scrapes from the counters the announce
// script and the scrape pipeline keep (no extra call on the request path), swarms, seeders and
// leechers from the same bounded scan as /stats. What cannot live in the store (requests refused
// before reaching it, store calls that failed) is this instance's own, labelled `instance_id`.
import type { Context } from "hono";
import { TrackerError } from "../errors.ts";
import { FAILURE_CODES, STORE_FAILURE_KINDS, type InstanceCounters } from "../metrics/instance-counters.ts";
import { PROMETHEUS_CONTENT_TYPE, renderMetrics, type Metric } from "../../shared/prometheus-text.ts";
import type { StoreCounters, StoreStats, SwarmStore } from "../store/swarm-store.ts";
import { callStore, type TrackerContext } from "./common.ts";

export async function handleMetrics(c: Context, t: TrackerContext, store: SwarmStore | null): Promise<Response> {
  const now = Date.now();
  let fromStore: [StoreStats, StoreCounters] | null = null;
  if (store) {
    try {
      fromStore = await callStore(t, "metrics", () => Promise.all([store.stats(now), store.counters(now)]));
    } catch (err) {
      // The store is down: still answer, with this instance's series and btswarm_store_up 0.
      if (!(err instanceof TrackerError)) throw err;
    }
  }
  c.header("Cache-Control", "no-store");
  c.header("Content-Type", PROMETHEUS_CONTENT_TYPE);
  return c.body(renderMetrics([...storeMetrics(fromStore), ...instanceMetrics(t.counters)]));
}

/** The label value of an announce event: BEP 3's regular announce has none. */
export function eventLabel(event: string): string {
  return event === "" ? "none" : event;
}

function storeMetrics(fromStore: [StoreStats, StoreCounters] | null): Metric[] {
  const up: Metric = {
    name: "btswarm_store_up",
    help: "1 when this scrape could read the swarm store, else 0.",
    type: "gauge",
    samples: [{ value: fromStore ? 1 : 0 }],
  };
  if (!fromStore) return [up];
  const [stats, counters] = fromStore;
  return [
    up,
    {
      name: "btswarm_announces_total",
      help: "Announces that reached the store, by event and outcome (ignored: the peer id is listed from another address).",
      type: "counter",
      samples: counters.announces.map((a) => ({ labels: { event: eventLabel(a.event), outcome: a.outcome }, value: a.count })),
    },
    { name: "btswarm_scrapes_total", help: "Scrape requests that reached the store.", type: "counter", samples: [{ value: counters.scrapes }] },
    { name: "btswarm_swarms", help: "Swarms with at least one live peer.", type: "gauge", samples: [{ value: stats.torrents }] },
    { name: "btswarm_seeders", help: "Live seeders over all swarms.", type: "gauge", samples: [{ value: stats.seeders }] },
    { name: "btswarm_leechers", help: "Live leechers over all swarms.", type: "gauge", samples: [{ value: stats.leechers }] },
    {
      name: "btswarm_stats_approximate",
      help: "1 when swarms, seeders and leechers come from a bounded scan that stopped early (lower bounds).",
      type: "gauge",
      samples: [{ value: stats.approximate ? 1 : 0 }],
    },
  ];
}

function instanceMetrics(counters: InstanceCounters): Metric[] {
  const instance_id = counters.id;
  return [
    {
      name: "btswarm_failures_total",
      help: "Requests this instance answered with a failure, by error code (per instance: most never reach the store).",
      type: "counter",
      samples: FAILURE_CODES.map((code) => ({ labels: { instance_id, code }, value: counters.failuresOf(code) })),
    },
    {
      name: "btswarm_store_errors_total",
      help: "Store calls of this instance that failed, by kind.",
      type: "counter",
      samples: STORE_FAILURE_KINDS.map((kind) => ({ labels: { instance_id, kind }, value: counters.storeErrorsOf(kind) })),
    },
    {
      name: "btswarm_instance_start_time_seconds",
      help: "When this instance (process or Workers isolate) started, Unix time.",
      type: "gauge",
      samples: [{ labels: { instance_id }, value: counters.startedAt }],
    },
  ];
}
