/**
 * Explicit time budgets for every dependency, as port decorators: a port wrapped by
 * {@link withDeadline} has the same interface, but its listed async methods reject with a
 * {@link DependencyError} once their budget is spent. The core services stay unchanged, and a hanging
 * dependency costs a request its budget, never the function's whole timeout: the request is refused
 * (503 `unavailable`), as everything undecidable is.
 *
 * The call that overran is not cancelled (ports take no signal); its late answer is ignored. The
 * audit ledger copes with a write that lands after its deadline (see `AuditLedger`).
 */

import type { ApprovalStore } from './approval-desk';
import type { AuditStore } from './audit-ledger';
import type { CounterStore } from './counter-store';
import { DependencyError } from './errors';
import type { KillSwitchParameterSource, RevocationStore, SecretSource, TokenSigner } from './ports';
import type { RunReadLog } from './run-read-log';

/** The names of `T`'s methods that return a promise: the ones a deadline can bound. */
export type AsyncMethodName<T> = {
  // biome-ignore lint/suspicious/noExplicitAny: any argument list; only the promise result matters.
  [K in keyof T]-?: NonNullable<T[K]> extends (...args: any[]) => Promise<unknown> ? K : never;
}[keyof T];

export interface DeadlineOptions {
  /** Names the dependency in the error and so in the 503 message, e.g. `audit ledger`. */
  readonly dependency: string;
  /** The budget of one call, in milliseconds. */
  readonly timeoutMs: number;
}

/** Ports below this are almost certainly a unit mistake (seconds for milliseconds). */
const MIN_TIMEOUT_MS = 1;
/** Above the longest Lambda timeout: a budget this long bounds nothing. */
const MAX_TIMEOUT_MS = 15 * 60 * 1000;

/**
 * Wraps `port` so each method in `methods` rejects with
 * `DependencyError(dependency, '<dependency> did not answer within <n> ms')` when it has not settled
 * within `timeoutMs`. Answers and failures within the budget pass through unchanged. Every other
 * member is the port's own (methods bound to the port, so private state keeps working).
 * The timer is cleared when the call settles and never keeps the process alive.
 * @throws RangeError when `timeoutMs` is not an integer from 1 to 900000
 * @throws TypeError when a listed method is not a function of the port
 */
export function withDeadline<T extends object, K extends AsyncMethodName<T>>(
  port: T,
  methods: readonly K[],
  options: DeadlineOptions,
): T {
  const { dependency, timeoutMs } = options;
  if (!Number.isInteger(timeoutMs) || timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `withDeadline(${dependency}): timeoutMs must be an integer number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}, got ${timeoutMs}.`,
    );
  }
  const bounded = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  for (const method of methods) {
    const original: unknown = Reflect.get(port, method);
    if (typeof original !== 'function') {
      throw new TypeError(`withDeadline(${dependency}): the port has no method "${String(method)}".`);
    }
    bounded.set(method, (...args: unknown[]) =>
      raceDeadline(() => (original as (...a: unknown[]) => Promise<unknown>).apply(port, args), options),
    );
  }
  // biome-ignore lint/complexity/noBannedTypes: any method of any port.
  const bound = new WeakMap<Function, unknown>();
  return new Proxy(port, {
    get(target, property) {
      const wrapped = bounded.get(property);
      if (wrapped) return wrapped;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      // Methods run against the port itself, never the proxy (class private fields need the real `this`).
      let method = bound.get(value);
      if (method === undefined) {
        method = value.bind(target);
        bound.set(value, method);
      }
      return method;
    },
  });
}

function raceDeadline<R>(call: () => Promise<R>, { dependency, timeoutMs }: DeadlineOptions): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new DependencyError(dependency, `${dependency} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    // A pending budget must not hold a Lambda (or a test run) open after everything else is done.
    timer.unref?.();
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      outcome();
    };
    let pending: Promise<R>;
    try {
      pending = Promise.resolve(call());
    } catch (error) {
      // A port that throws synchronously failed like one that rejects.
      settle(() => reject(error));
      return;
    }
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

/** The dependencies whose calls carry a budget; a function wires the ones it uses. */
export interface DependencyPorts {
  readonly signer: TokenSigner;
  readonly killSwitchSource: KillSwitchParameterSource;
  readonly revocations: RevocationStore;
  readonly auditStore: AuditStore;
  readonly approvalStore: ApprovalStore;
  readonly runReadLog: RunReadLog;
  readonly secretSource: SecretSource;
  readonly counterStore: CounterStore;
}

export type DependencyName = keyof DependencyPorts;

/**
 * The budget of one call to each dependency, in milliseconds. Upstream calls are not here: they
 * carry the connector's own `timeoutMs`. The kill switch also bounds its reads itself (and then
 * counts as engaged); this budget is the same, so either way a hanging parameter store costs 2 s.
 */
export const DEFAULT_DEADLINES: Readonly<Record<DependencyName, number>> = {
  signer: 2000,
  killSwitchSource: 2000,
  revocations: 1000,
  auditStore: 2000,
  approvalStore: 2000,
  runReadLog: 1000,
  secretSource: 2000,
  counterStore: 1000,
};

/** How each dependency is named in errors and in the 503 message a user reads. */
export const DEPENDENCY_LABELS: Readonly<Record<DependencyName, string>> = {
  signer: 'token signer',
  killSwitchSource: 'kill switch parameters',
  revocations: 'revocation list',
  auditStore: 'audit ledger',
  approvalStore: 'approvals store',
  runReadLog: 'run read log',
  secretSource: 'secret store',
  counterStore: 'counter store',
};

/** The methods each dependency's budget covers (optional ones are covered when the port has them). */
const BOUNDED_METHODS: { readonly [N in DependencyName]: readonly AsyncMethodName<DependencyPorts[N]>[] } = {
  signer: ['sign', 'getPublicKey'],
  killSwitchSource: ['read'],
  revocations: ['readEntries', 'revokeToken', 'revokePrincipal'],
  auditStore: ['append', 'readRecord', 'listChainHeads'],
  approvalStore: ['create', 'get', 'listByStatus', 'transition'],
  runReadLog: ['append', 'list'],
  secretSource: ['getJson'],
  counterStore: ['add'],
};

/**
 * Puts every port present in `ports` under its budget: {@link DEFAULT_DEADLINES}, overridden per
 * dependency by `deadlines`. Ports not listed in {@link DependencyPorts} pass through untouched.
 * This is what the local pilot (`wrapPorts`) and each Lambda entry call on the ports they build.
 * @example
 *   const ports = withDependencyDeadlines({ signer, auditStore, killSwitchSource });
 */
export function withDependencyDeadlines<P extends Partial<DependencyPorts>>(
  ports: P,
  deadlines: Partial<Record<DependencyName, number>> = {},
): P {
  const wrapped: Record<string, unknown> = { ...ports };
  for (const name of Object.keys(BOUNDED_METHODS) as DependencyName[]) {
    const port = ports[name];
    if (port === undefined) continue;
    const methods = (BOUNDED_METHODS[name] as readonly PropertyKey[]).filter(
      (method) => typeof Reflect.get(port, method) === 'function',
    );
    wrapped[name] = withDeadline(port as object, methods as never[], {
      dependency: DEPENDENCY_LABELS[name],
      timeoutMs: deadlines[name] ?? DEFAULT_DEADLINES[name],
    });
  }
  return wrapped as P;
}
