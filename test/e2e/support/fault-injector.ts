/**
 * Fault injection for the local pilot's ports: wraps each port (through `startLocalPilot`'s
 * `wrapPorts`) so a test can make one method fail, hang, or answer garbage, from a given call on,
 * while everything else behaves as built.
 *
 * @example
 *   const faults = new FaultInjector();
 *   const pilot = await startLocalPilot({ home, port: 0, wrapPorts: (ports) => faults.wrap(ports) });
 *   faults.inject({ port: 'auditStore', method: 'append', mode: 'fail' });
 */

import { DependencyError } from '../../../lambdas/core/errors';
import type { LocalPilotPorts } from '../../../local/local-ports';

export type PortName = keyof LocalPilotPorts;

/**
 * - `fail`: rejects the way the port's adapters fail (a {@link DependencyError});
 * - `hang`: never answers (only a deadline gets the caller out);
 * - `garbage`: answers something of the wrong shape (see {@link GARBAGE}).
 */
export type FaultMode = 'fail' | 'hang' | 'garbage';

export interface Fault {
  readonly port: PortName;
  readonly method: string;
  readonly mode: FaultMode;
  /** Calls of the method that still behave normally before the fault starts. @default 0 */
  readonly healthyCalls?: number;
}

/** What each port answers in `garbage` mode: values of the right type's wrong shape, as a broken service might send. */
export const GARBAGE: Readonly<Record<string, (...args: unknown[]) => unknown>> = {
  // KMS's DER signature where JOSE wants 64 raw bytes (r||s).
  'signer.sign': () => Buffer.concat([Buffer.from([0x30, 0x45, 0x02, 0x20]), Buffer.alloc(67, 0x7f)]),
  // A parameter store answering values that are not kill-switch JSON.
  'killSwitchSource.read': (names) =>
    Object.fromEntries((names as string[]).map((name) => [name, '{"engaged":"no"}'])),
  // "Not revoked" spelled as something other than an entry (and no kill-switch copies at all).
  'revocations.readEntries': () => ({ token: 'no' }),
  // A secret of the wrong shape.
  'secretSource.getJson': () => ({ clientId: 42 }),
  // An approval record that is not the approved call.
  'approvalStore.get': (id) => ({ id, status: 'approved' }),
};

/** Switchable faults for the pilot's ports; one injector per pilot. */
export class FaultInjector {
  private readonly faults = new Map<string, Fault>();
  private readonly counts = new Map<string, number>();

  /** Makes `fault.port`.`fault.method` misbehave from now on (replacing an earlier fault of that method). */
  inject(fault: Fault): void {
    if (fault.mode === 'garbage' && !GARBAGE[`${fault.port}.${fault.method}`]) {
      throw new Error(`FaultInjector: no garbage answer is defined for ${fault.port}.${fault.method}`);
    }
    const key = `${fault.port}.${fault.method}`;
    this.faults.set(key, fault);
    this.counts.set(key, 0);
  }

  /** Every port behaves as built again. */
  clear(): void {
    this.faults.clear();
    this.counts.clear();
  }

  /** Calls of the method since its fault was injected (0 when it has none). */
  callsOf(port: PortName, method: string): number {
    return this.counts.get(`${port}.${method}`) ?? 0;
  }

  /** The pilot's ports, each behind a switch. Pass as (or inside) `wrapPorts`. */
  wrap(ports: LocalPilotPorts): LocalPilotPorts {
    const wrapped: Record<string, unknown> = {};
    for (const [name, port] of Object.entries(ports) as [PortName, object][]) {
      wrapped[name] = this.wrapPort(name, port);
    }
    return wrapped as unknown as LocalPilotPorts;
  }

  private wrapPort<T extends object>(name: PortName, port: T): T {
    return new Proxy(port, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        const key = `${name}.${property}`;
        return (...args: unknown[]) => {
          const fault = this.faults.get(key);
          if (fault) {
            const seen = (this.counts.get(key) ?? 0) + 1;
            this.counts.set(key, seen);
            if (seen > (fault.healthyCalls ?? 0)) return misbehave(fault, args);
          }
          return value.apply(target, args);
        };
      },
    });
  }
}

function misbehave(fault: Fault, args: unknown[]): unknown {
  switch (fault.mode) {
    case 'fail':
      return Promise.reject(
        new DependencyError(fault.port, `injected fault: ${fault.port}.${fault.method} is unavailable`),
      );
    case 'hang':
      return new Promise(() => undefined);
    case 'garbage':
      return Promise.resolve(GARBAGE[`${fault.port}.${fault.method}`](...args));
  }
}
