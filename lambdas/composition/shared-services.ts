/**
 * The pieces every Airlock function is built from: the kill switch, the audit ledger, the usage meter
 * with the daily spend cap, and the ports under their dependency deadlines (the policy engine, which
 * only the deciding functions build, is shared by shared-policy-engine.ts).
 * Each is built on first use and then shared, so a Lambda function builds only what its composition
 * reads, and the local pilot, which serves every route in one process, builds each once.
 */
import { AuditLedgerPool } from '../core/audit-ledger';
import {
  type DependencyName,
  type DependencyPorts,
  withDependencyDeadlines,
} from '../core/dependency-deadline';
import { KillSwitch } from '../core/kill-switch';
import { SpendCap } from '../core/spend-cap';
import { UsageMeter } from '../core/usage-meter';
import type { AirlockPorts, AirlockSettings } from './airlock-ports';

export class SharedServices {
  private readonly memo = new Map<string, unknown>();

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

  /** The kill switch, with the config's cache and staleness bound. */
  get killSwitch(): KillSwitch {
    return this.once(
      'killSwitch',
      () =>
        new KillSwitch({
          source: this.bounded('killSwitchSource', () => this.ports.killSwitchSource),
          prefix: this.settings.killSwitchPrefix,
          cacheMs: this.config.killSwitch.cacheSeconds * 1000,
          stalenessMs: this.config.killSwitch.stalenessSeconds * 1000,
          clock: this.clock,
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

  /** The daily spend cap; counts what the meter records. */
  get spendCap(): SpendCap {
    return this.once('spendCap', () => new SpendCap(this.config.workflows, this.clock));
  }

  /** Prices what requests use and writes it to the metrics sink and the spend cap. */
  get meter(): UsageMeter {
    return this.once('meter', () => {
      const sink = this.ports.metricsSink;
      const spendCap = this.spendCap;
      return new UsageMeter(
        this.config.prices,
        {
          record: (point) => {
            sink.record(point);
            spendCap.record(point);
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
