/**
 * The pieces every Airlock function is built from: the kill switch and the revocation guard, the
 * audit ledger, the usage meter, the daily spend cap over the shared counters, and the ports under
 * their dependency deadlines (the policy engine, which only the deciding functions build, is shared
 * by shared-policy-engine.ts).
 * Each is built on first use and then shared, so a Lambda function builds only what its composition
 * reads, and the local pilot, which serves every route in one process, builds each once.
 */

import { AuditLedgerPool } from '../core/audit-ledger';
import type { CounterStore } from '../core/counter-store';
import {
  type DependencyName,
  type DependencyPorts,
  withDependencyDeadlines,
} from '../core/dependency-deadline';
import { KillSwitch } from '../core/kill-switch';
import { MeasuredLlmSpend } from '../core/measured-llm-spend';
import { RateLimiter } from '../core/rate-limiter';
import { RevocationGuard } from '../core/revocation-guard';
import { SpendCap } from '../core/spend-cap';
import { type MetricsSink, UsageMeter } from '../core/usage-meter';
import type { AirlockPorts, AirlockSettings } from './airlock-ports';

export class SharedServices {
  private readonly memo = new Map<string, unknown>();
  /** Who else hears of every metered request (the spend cap, once built). */
  private readonly usageListeners: MetricsSink[] = [];

  constructor(
    public readonly settings: AirlockSettings,
    /** The raw ports; use {@link SharedServices.bounded} for the ones a deadline covers. */
    public readonly ports: AirlockPorts,
  ) {}

  /** The pilot config as this target runs it. */
  get config() {
    return this.settings.config;
  }

  get clock() {
    return this.once('clock', () => this.ports.clock);
  }

  /**
   * A port under its dependency deadline (`settings.deadlines`, else the defaults), built once per
   * `key` (@default the dependency's name).
   */
  bounded<N extends DependencyName, P extends Partial<DependencyPorts[N]>>(
    name: N,
    port: () => P,
    key: string = name,
  ): P {
    return this.once(`bounded:${key}`, () => {
      // The deadline wraps the methods the port has: a port typed by capability keeps its type.
      const single = { [name]: port() } as unknown as Pick<DependencyPorts, N>;
      return withDependencyDeadlines(single, this.settings.deadlines)[name] as unknown as P;
    });
  }

  /**
   * The kill switch's SSM side: every parameter read in one call, every `killSwitch.backstopSeconds`
   * (± 20 %), in the background; see {@link revocationGuard} for what requests are judged by.
   */
  get killSwitch(): KillSwitch {
    return this.once(
      'killSwitch',
      () =>
        new KillSwitch({
          source: this.bounded('killSwitchSource', () => this.ports.killSwitchSource),
          prefix: this.settings.killSwitchPrefix,
          workflows: Object.keys(this.config.workflows),
          periodMs: this.config.killSwitch.backstopSeconds * 1000,
          stalenessMs: this.config.killSwitch.stalenessSeconds * 1000,
          clock: this.clock,
        }),
    );
  }

  /**
   * What IT/security revoked, checked with one consistent read of the revocations table per request
   * (tokens, principals, certificates, suspensions and the kill switch's copies), combined with the
   * kill switch's parameters. The issuance gate, both authenticators and `/v1/health` ask it.
   */
  get revocationGuard(): RevocationGuard {
    return this.once(
      'revocationGuard',
      () =>
        new RevocationGuard({
          revocations: this.bounded('revocations', () => this.ports.revocations),
          killSwitch: this.killSwitch,
          prefix: this.settings.killSwitchPrefix,
        }),
    );
  }

  /** The audit chains this process appends to (each chain strictly sequential). */
  get ledger(): AuditLedgerPool {
    return this.once(
      'ledger',
      () =>
        new AuditLedgerPool({
          store: this.bounded('auditStore', () => this.ports.auditStore),
          chainIds: this.settings.auditChainIds,
          clock: this.clock,
        }),
    );
  }

  /**
   * The daily spend cap over the shared counters; from the moment it is built it counts what the meter
   * records. Only the connector pipeline builds it: a function that never checks the cap (the broker,
   * the approvals function) needs no access to the counters.
   */
  get spendCap(): SpendCap {
    return this.once('spendCap', () => {
      const source = this.ports.llmUsageSource;
      const cap = new SpendCap({
        workflows: this.config.workflows,
        counters: this.counters,
        clock: this.clock,
        ...(source
          ? { measuredLlm: new MeasuredLlmSpend({ source, prices: this.config.prices, clock: this.clock }) }
          : {}),
      });
      this.usageListeners.push(cap);
      return cap;
    });
  }

  /** Sliding-window rate limits of this process (per token and workflow, and per token's usage reports). */
  get rateLimiter(): RateLimiter {
    return this.once('rateLimiter', () => new RateLimiter(this.clock));
  }

  /** The shared counters, under their dependency deadline. */
  get counters(): CounterStore {
    return this.bounded('counterStore', () => this.ports.counterStore);
  }

  /** Prices what requests use and writes it to the metrics sink (and the spend cap, once built). */
  get meter(): UsageMeter {
    return this.once('meter', () => {
      const sink = this.ports.metricsSink;
      return new UsageMeter(
        this.config.prices,
        {
          record: (point) => {
            sink.record(point);
            for (const listener of this.usageListeners) listener.record(point);
          },
        },
        this.settings.functionMemoryMb,
      );
    });
  }

  /** Builds `key` on first use and shares it afterwards (what several functions' compositions share). */
  once<T>(key: string, build: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, build());
    return this.memo.get(key) as T;
  }
}
