/**
 * AwsPorts builds only the ports a Lambda entry hands over builders for: the SDK clients and adapters
 * of the others never enter the function's bundle, and a composition that reads one anyway is a wiring
 * bug that must name itself at init rather than fail on a request.
 */
import { AwsPorts } from '../../../lambdas/adapters/aws/aws-ports';
import { auditStore } from '../../../lambdas/adapters/aws/dynamodb-ports';
import { exampleConfig } from '../../infra/airlock-test-app';

describe('Class: AwsPorts', () => {
  const env = { AIRLOCK_AUDIT_TABLE: 'audit' };

  it('builds a port from the builder handed over, once, and records the adapter it wired', () => {
    // Prepare
    const ports = new AwsPorts({ config: exampleConfig(), env, builders: { auditStore } });

    // Act
    const first = ports.auditStore;
    const second = ports.auditStore;

    // Assess
    expect(second).toBe(first);
    expect(Object.keys(first)).toEqual(['append']);
    expect(ports.wired.map((w) => w.port)).toEqual(['auditStore']);
    expect(ports.wiredAdapters.map((w) => w.methods)).toEqual([['append']]);
  });

  it('refuses to read a port its entry handed over no builder for, naming the port and where to add it', () => {
    // Prepare
    const ports = new AwsPorts({ config: exampleConfig(), env, builders: { auditStore } });

    // Act
    const read = () => ports.tokenSigner;

    // Assess
    expect(read).toThrow(/reads the tokenSigner port, but its Lambda entry hands over no builder for it/);
    expect(ports.wired).toEqual([]);
  });
});
