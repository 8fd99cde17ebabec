import { Gauge, type Registry } from 'prom-client';
import type { FleetWorker } from './worker.js';

/**
 * Adds a worker's figures to a Prometheus registry (the one `/metrics` serves), read at scrape
 * time: `spreed_fleet_jobs_running`, `spreed_fleet_capacity`, `spreed_fleet_capacity_used`,
 * `spreed_fleet_handovers_total{direction="in"|"out"}`, `spreed_fleet_lease_losses_total`,
 * `spreed_fleet_jobs_ended_total{outcome}`.
 */
export function registerWorkerMetrics(registry: Registry, worker: () => FleetWorker | undefined): void {
  const gauge = (name: string, help: string, labelNames: string[], rows: (w: FleetWorker) => [Record<string, string>, number][]) =>
    new Gauge({
      name,
      help,
      labelNames: ['worker', ...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        const w = worker();
        if (w) for (const [labels, value] of rows(w)) this.set({ worker: w.name, ...labels }, value);
      },
    });
  gauge('spreed_fleet_jobs_running', 'Jobs running on this worker', [], (w) => [[{}, w.runners.length]]);
  gauge('spreed_fleet_capacity', 'Capacity of this worker in cost units (a recording costs its expected streams)', [], (w) => [[{}, w.capacity]]);
  gauge('spreed_fleet_capacity_used', 'Cost units used by the jobs running here', [], (w) => [[{}, w.load]]);
  // Monotonic figures; exposed as gauges read from the worker's counters at scrape time.
  gauge('spreed_fleet_handovers_total', 'Jobs continued here after another worker died or drained (in), or handed to others (out)', ['direction'], (w) => [
    [{ direction: 'in' }, w.counters.handoversIn],
    [{ direction: 'out' }, w.counters.handoversOut],
  ]);
  gauge('spreed_fleet_lease_losses_total', 'Jobs stopped here because another worker owns them now', [], (w) => [[{}, w.counters.leaseLosses]]);
  gauge('spreed_fleet_jobs_ended_total', 'Job runs that ended on this worker, by outcome', ['outcome'], (w) =>
    Object.entries(w.counters.ended).map(([outcome, n]): [Record<string, string>, number] => [{ outcome }, n]),
  );
}
