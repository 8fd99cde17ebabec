import type { NatsConnection } from '@nats-io/transport-node';
import type { Consumer, JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { CodedError } from '../util/errors.js';

/** Names of everything the fleet keeps on NATS (one fleet per JetStream account). */
export const fleetNames = {
  /** Work-queue stream of jobs waiting for a worker. */
  stream: 'SPREED_FLEET_JOBS',
  /** Subject of queued job ids. */
  queueSubject: 'spreed.fleet.jobs',
  /** Durable pull consumer shared by all workers. */
  consumer: 'workers',
  /** KV bucket: job id → {@link JobState}. */
  jobs: 'spreed_fleet_jobs',
  /** KV bucket: worker name → {@link WorkerInfo}. */
  workers: 'spreed_fleet_workers',
  /** Object store for finished recordings (`--store nats`). */
  recordings: 'spreed_fleet_recordings',
} as const;

/** The fleet's NATS bus could not be reached or set up. */
export class FleetError extends CodedError<'nats_unavailable' | 'job_not_found' | 'job_invalid' | 'store_failed'> {
  override readonly name = 'FleetError';
}

/** An open connection with the fleet's stream, consumer, buckets and (lazily) object store. */
export interface FleetBus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jobs: KV;
  readonly workers: KV;
  consumer(): Promise<Consumer>;
  recordings(): Promise<ObjectStore>;
  /** Queues a job id for the workers; `dedupId` makes repeated queuing of the same hand-over harmless. */
  enqueue(id: string, cost: number, dedupId: string): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link openFleetBus}. */
export interface FleetBusOptions {
  /** NATS URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** Client name shown by the server. @defaultValue `'spreed-bot'` */
  name?: string;
  /** Keep reconnecting forever (workers) instead of failing after a few attempts (CLI commands). @defaultValue false */
  reconnectForever?: boolean;
}

/** The `wrong last sequence` answer of a KV compare-and-set that lost the race. */
export function isRevisionConflict(error: unknown): boolean {
  return /wrong last sequence|key exists/i.test((error as Error)?.message ?? '');
}

/**
 * Connects to NATS and makes sure the fleet's JetStream stream, consumer and KV buckets exist.
 * The `@nats-io` modules are imported here, on first use, so nothing NATS loads unless the fleet
 * is used.
 */
export async function openFleetBus(options: FleetBusOptions): Promise<FleetBus> {
  const [{ connect }, jsMod, { Kvm }] = await Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
    import('@nats-io/kv'),
  ]);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name ?? 'spreed-bot',
      maxReconnectAttempts: options.reconnectForever ? -1 : 3,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      waitOnFirstConnect: false,
    });
  } catch (error) {
    throw new FleetError('nats_unavailable', `cannot connect to NATS at ${String(options.servers)}: ${(error as Error).message}. Is nats-server running with -js?`, { cause: error });
  }
  try {
    const jsm = await jsMod.jetstreamManager(nc);
    await jsm.streams.info(fleetNames.stream).catch(async () => {
      await jsm.streams.add({
        name: fleetNames.stream,
        subjects: [fleetNames.queueSubject],
        retention: jsMod.RetentionPolicy.Workqueue,
        storage: jsMod.StorageType.File,
        duplicate_window: 120_000_000_000,
      });
    });
    await jsm.consumers.info(fleetNames.stream, fleetNames.consumer).catch(async () => {
      await jsm.consumers.add(fleetNames.stream, {
        durable_name: fleetNames.consumer,
        ack_policy: jsMod.AckPolicy.Explicit,
        ack_wait: 10_000_000_000,
        max_deliver: -1,
      });
    });
    const kvm = new Kvm(nc);
    // History 64 (the server's maximum) keeps a job's recent transitions for `jobs list` and audits.
    const jobs = await kvm.create(fleetNames.jobs, { history: 64 });
    // A registration not refreshed for a minute disappears: the worker is gone.
    const workers = await kvm.create(fleetNames.workers, { history: 1, ttl: 60_000 });
    const js = jsMod.jetstream(nc);
    let store: Promise<ObjectStore> | undefined;
    return {
      nc,
      js,
      jobs,
      workers,
      consumer: () => js.consumers.get(fleetNames.stream, fleetNames.consumer),
      recordings: () => {
        store ??= import('@nats-io/obj').then(({ Objm }) => new Objm(nc).create(fleetNames.recordings, { description: 'spreed-bot fleet recordings' }));
        return store;
      },
      enqueue: async (id, cost, dedupId) => {
        const headers = (await import('@nats-io/transport-node')).headers();
        headers.set('Spreed-Job-Cost', String(cost));
        await js.publish(fleetNames.queueSubject, new TextEncoder().encode(id), { msgID: dedupId, headers });
      },
      close: async () => {
        if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
      },
    };
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw new FleetError('nats_unavailable', `NATS at ${String(options.servers)} has no usable JetStream (start nats-server with -js): ${(error as Error).message}`, { cause: error });
  }
}
