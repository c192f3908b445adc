import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ApprovalRecord, ApprovalStore } from '../../../lambdas/core/approval-desk';
import type { AuditStore } from '../../../lambdas/core/audit-ledger';
import type { AuditRecord } from '../../../lambdas/core/audit-record';
import type { CounterStore } from '../../../lambdas/core/counter-store';
import {
  DEFAULT_DEADLINES,
  DEPENDENCY_LABELS,
  withDeadline,
  withDependencyDeadlines,
} from '../../../lambdas/core/dependency-deadline';
import { DependencyError } from '../../../lambdas/core/errors';
import type {
  KillSwitchParameterSource,
  RevocationStore,
  SecretSource,
  TokenSigner,
} from '../../../lambdas/core/ports';

/** A secret source whose answer the test controls: answer, fail, or never answer. */
class FakeSecretSource implements SecretSource {
  mode: 'answer' | 'fail' | 'hang' | 'throw' = 'answer';
  calls = 0;
  #value = { clientId: 'id', clientSecret: 'not-a-real-secret' };

  getJson(name: string): Promise<Record<string, string>> {
    this.calls++;
    if (this.mode === 'throw') throw new Error(`synchronous failure reading ${name}`);
    if (this.mode === 'fail') return Promise.reject(new Error(`secret ${name} is unreachable`));
    if (this.mode === 'hang') return new Promise(() => undefined);
    return Promise.resolve({ ...this.#value });
  }
}

/** Resolves after `ms` of (fake) time. */
function after<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

describe('Function: withDeadline', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('passes an answer within the budget through unchanged and leaves no timer behind', async () => {
    // Prepare
    const source = new FakeSecretSource();
    const bounded = withDeadline(source, ['getJson'], { dependency: 'secret store', timeoutMs: 100 });

    // Act
    const value = await bounded.getJson('erp');

    // Assess
    expect(value).toEqual({ clientId: 'id', clientSecret: 'not-a-real-secret' });
    expect(source.calls).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('refuses a call that has not answered when its budget is spent, naming the dependency and the budget', async () => {
    // Prepare
    const source = new FakeSecretSource();
    source.mode = 'hang';
    const bounded = withDeadline(source, ['getJson'], { dependency: 'secret store', timeoutMs: 250 });
    const outcome = bounded.getJson('erp').then(
      () => 'answered',
      (error: unknown) => error,
    );

    // Act
    await jest.advanceTimersByTimeAsync(249);
    const beforeBudget = await Promise.race([outcome, Promise.resolve('still waiting')]);
    await jest.advanceTimersByTimeAsync(1);
    const error = await outcome;

    // Assess
    expect(beforeBudget).toBe('still waiting');
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({
      dependency: 'secret store',
      message: 'secret store did not answer within 250 ms',
    });
  });

  it('lets a failure within the budget through as it is (the port already said what went wrong)', async () => {
    // Prepare
    const source = new FakeSecretSource();
    source.mode = 'fail';
    const bounded = withDeadline(source, ['getJson'], { dependency: 'secret store', timeoutMs: 100 });

    // Act
    const outcome = bounded.getJson('erp');

    // Assess
    await expect(outcome).rejects.toThrow('secret erp is unreachable');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('turns a synchronous throw into a rejection', async () => {
    // Prepare
    const source = new FakeSecretSource();
    source.mode = 'throw';
    const bounded = withDeadline(source, ['getJson'], { dependency: 'secret store', timeoutMs: 100 });

    // Act
    const outcome = bounded.getJson('erp');

    // Assess
    await expect(outcome).rejects.toThrow('synchronous failure reading erp');
  });

  it('ignores an answer that arrives after the budget', async () => {
    // Prepare
    const port: KillSwitchParameterSource = {
      read: () => after(500, { '/airlock/pilot/kill-switch': '{}' }),
    };
    const bounded = withDeadline(port, ['read'], { dependency: 'kill switch parameters', timeoutMs: 100 });
    const outcome = bounded.read(['/airlock/pilot/kill-switch']).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );

    // Act
    await jest.advanceTimersByTimeAsync(600);

    // Assess
    expect(await outcome).toEqual({ error: expect.any(DependencyError) });
  });

  it('keeps the rest of the port as it is: properties, and unlisted methods bound to the port', async () => {
    // Prepare
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    class Signer implements TokenSigner {
      readonly keyId = 'key-1';
      #publicKey: KeyObject = publicKey;
      sign(_data: Uint8Array): Promise<Uint8Array> {
        return Promise.resolve(new Uint8Array(64));
      }
      getPublicKey(): Promise<KeyObject> {
        return Promise.resolve(this.#publicKey);
      }
    }
    const bounded = withDeadline(new Signer(), ['sign'], { dependency: 'token signer', timeoutMs: 100 });

    // Act
    const key = await bounded.getPublicKey();
    const signature = await bounded.sign(new Uint8Array([1]));

    // Assess
    expect(bounded.keyId).toBe('key-1');
    expect(key).toBe(publicKey);
    expect(signature).toHaveLength(64);
  });

  it.each([0, -1, 1.5, Number.NaN, 16 * 60 * 1000])('refuses a budget of %p ms', (timeoutMs) => {
    // Act
    const wrap = () =>
      withDeadline(new FakeSecretSource(), ['getJson'], { dependency: 'secret store', timeoutMs });

    // Assess
    expect(wrap).toThrow(/timeoutMs must be an integer number of milliseconds from 1 to 900000/);
  });

  it('refuses to wrap a method the port does not have', () => {
    // Prepare
    const port = { getJson: 'not a function' } as unknown as SecretSource;

    // Act
    const wrap = () => withDeadline(port, ['getJson'], { dependency: 'secret store', timeoutMs: 100 });

    // Assess
    expect(wrap).toThrow('withDeadline(secret store): the port has no method "getJson".');
  });
});

describe('Function: withDependencyDeadlines', () => {
  /** Ports whose every async method hangs, counting calls. */
  function hangingPorts() {
    const hang = () => new Promise<never>(() => undefined);
    const signer: TokenSigner = { keyId: 'k', sign: hang, getPublicKey: hang };
    const killSwitchSource: KillSwitchParameterSource = { read: hang };
    const revocations: RevocationStore = { revokeToken: hang, revokePrincipal: hang, readEntries: hang };
    const auditStore: AuditStore = {
      append: hang,
      readRecord: hang,
      listChainHeads: hang,
      // biome-ignore lint/correctness/useYield: a chain that never yields.
      readChain: async function* (): AsyncGenerator<AuditRecord> {
        await hang();
      },
    };
    const approvalStore: ApprovalStore = {
      create: hang,
      get: hang as () => Promise<ApprovalRecord | undefined>,
      listByStatus: hang,
      transition: hang,
    };
    const secretSource: SecretSource = { getJson: hang };
    const counterStore: CounterStore = { add: hang };
    return { signer, killSwitchSource, revocations, auditStore, approvalStore, secretSource, counterStore };
  }

  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('bounds each dependency by its default budget, named as users read it', async () => {
    // Prepare
    const ports = withDependencyDeadlines(hangingPorts());
    const calls = {
      signer: () => ports.signer.sign(new Uint8Array([1])),
      killSwitchSource: () => ports.killSwitchSource.read(['/airlock/pilot/kill-switch']),
      revocations: () => ports.revocations.readEntries({ jti: 'j', principal: 'alice' }),
      auditStore: () => ports.auditStore.listChainHeads(),
      approvalStore: () => ports.approvalStore.get('apr_1'),
      secretSource: () => ports.secretSource.getJson('erp'),
      counterStore: () => ports.counterStore.add('spend#w#2026-11-02', 1, { expiresAt: new Date(0) }),
    };
    const outcomes = Object.entries(calls).map(([name, call]) => {
      const started = Date.now();
      return call().then(
        () => ({ name, answered: true }),
        (error: DependencyError) => ({ name, message: error.message, waitedMs: Date.now() - started }),
      );
    });

    // Act
    await jest.advanceTimersByTimeAsync(2000);
    const results = await Promise.all(outcomes);

    // Assess
    expect(results).toEqual([
      { name: 'signer', message: 'token signer did not answer within 2000 ms', waitedMs: 2000 },
      {
        name: 'killSwitchSource',
        message: 'kill switch parameters did not answer within 2000 ms',
        waitedMs: 2000,
      },
      { name: 'revocations', message: 'revocation list did not answer within 1000 ms', waitedMs: 1000 },
      { name: 'auditStore', message: 'audit ledger did not answer within 2000 ms', waitedMs: 2000 },
      { name: 'approvalStore', message: 'approvals store did not answer within 2000 ms', waitedMs: 2000 },
      { name: 'secretSource', message: 'secret store did not answer within 2000 ms', waitedMs: 2000 },
      { name: 'counterStore', message: 'counter store did not answer within 1000 ms', waitedMs: 1000 },
    ]);
    expect(DEFAULT_DEADLINES).toEqual({
      signer: 2000,
      killSwitchSource: 2000,
      revocations: 1000,
      auditStore: 2000,
      approvalStore: 2000,
      runReadLog: 1000,
      secretSource: 2000,
      counterStore: 1000,
    });
  });

  it('takes a budget per dependency and wraps only the ports it is given', async () => {
    // Prepare
    const { auditStore } = hangingPorts();
    const extra = { name: 'not a dependency' };
    const ports = withDependencyDeadlines({ auditStore, extra }, { auditStore: 50 });
    const outcome = ports.auditStore.append({} as AuditRecord).catch((error: Error) => error.message);

    // Act
    await jest.advanceTimersByTimeAsync(50);

    // Assess
    expect(await outcome).toBe(`${DEPENDENCY_LABELS.auditStore} did not answer within 50 ms`);
    expect(ports.extra).toBe(extra);
    expect(Object.keys(ports).sort()).toEqual(['auditStore', 'extra']);
  });

  it('leaves a store without the optional readRecord without one', () => {
    // Prepare
    const { auditStore } = hangingPorts();
    const { readRecord: _omitted, ...withoutReadRecord } = auditStore;

    // Act
    const ports = withDependencyDeadlines({ auditStore: withoutReadRecord as AuditStore });

    // Assess
    expect(ports.auditStore.readRecord).toBeUndefined();
  });
});
