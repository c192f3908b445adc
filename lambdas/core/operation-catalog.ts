/**
 * The operations a caller may reach: those its workflow includes, its token's scopes cover and the
 * policy does not refuse outright. The connector proxy resolves each call here before anything else,
 * and MCP `tools/list` shows the same list.
 */
import type { AirlockConfig, OperationConfig } from '../../lib/config/schema';
import type { Connector } from '../connectors/connector';
import type { Caller } from './caller';
import { AirlockError } from './errors';
import type { PolicyEngine } from './policy-engine';

/** An operation the caller may call, as MCP `tools/list` shows it. */
export interface AvailableOperation {
  readonly connector: string;
  readonly operation: string;
  readonly config: OperationConfig;
  readonly inputSchema: ReturnType<Connector['inputSchema']>;
  /**
   * The upstream changed the definition since it was pinned (an MCP server's tool): listed, marked,
   * and refused on call. @default false
   */
  readonly changedUpstream?: boolean;
}

/** Which operation a call names. */
export interface OperationName {
  readonly connector: string;
  readonly operation: string;
}

export class OperationCatalog {
  constructor(
    private readonly deps: {
      readonly config: AirlockConfig;
      readonly connectors: ReadonlyMap<string, Connector>;
      readonly policy: Pick<PolicyEngine, 'decide'>;
    },
  ) {}

  /** True when the config declares the operation (whatever the caller may do with it). */
  isKnown(name: OperationName): boolean {
    const connector = Object.hasOwn(this.deps.config.connectors, name.connector)
      ? this.deps.config.connectors[name.connector]
      : undefined;
    return connector !== undefined && Object.hasOwn(connector.operations, name.operation);
  }

  /**
   * The connector and the operation's config for a call the caller's workflow and scopes allow.
   * @throws AirlockError `not_found` (unknown, naming the workflow's operations) or `forbidden`
   *   (outside the workflow, or a scope the token lacks)
   */
  resolve(caller: Caller, name: OperationName): { connector: Connector; op: OperationConfig } {
    const connector = this.deps.connectors.get(name.connector);
    if (!this.isKnown(name) || !connector) {
      throw new AirlockError(
        'not_found',
        `Unknown operation ${name.connector.slice(0, 64)}/${name.operation.slice(0, 64)}. Operations of your workflow: ${this.operationsOf(caller.workflow).join(', ')}.`,
      );
    }
    const op: OperationConfig = this.deps.config.connectors[name.connector].operations[name.operation];
    const workflowConnectors = this.deps.config.workflows[caller.workflow]?.connectors ?? {};
    const allowed = Object.hasOwn(workflowConnectors, name.connector)
      ? workflowConnectors[name.connector]
      : [];
    if (!allowed.includes(name.operation)) {
      throw new AirlockError(
        'forbidden',
        `Workflow "${caller.workflow}" does not include ${name.connector}/${name.operation}.`,
        { reasons: ['operation-not-in-workflow'] },
      );
    }
    const scope = `${name.connector}:${op.access}`;
    if (!caller.scopes.has(scope)) {
      throw new AirlockError(
        'forbidden',
        `Your token lacks the scope "${scope}". Request a token with that scope from POST /v1/credentials.`,
        { reasons: [`missing-scope:${scope}`] },
      );
    }
    return { connector, op };
  }

  /** The operations the caller's scopes, its workflow and the policy allow (approval-gated ones included). */
  available(caller: Caller): AvailableOperation[] {
    const workflow = this.deps.config.workflows[caller.workflow];
    if (!workflow) return [];
    const available: AvailableOperation[] = [];
    for (const [connectorName, operations] of Object.entries(workflow.connectors)) {
      const connector = this.deps.connectors.get(connectorName);
      const connectorConfig = this.deps.config.connectors[connectorName];
      if (!connector || !connectorConfig) continue;
      for (const operation of operations) {
        const op: OperationConfig | undefined = connectorConfig.operations[operation];
        if (!op || !caller.scopes.has(`${connectorName}:${op.access}`)) continue;
        const decision = this.deps.policy.decide({
          principal: caller.principal,
          action: op.action,
          resource: {
            kind: 'resource',
            connector: connectorName,
            id: operation,
            classification: op.classification,
          },
          workflow: caller.workflow,
          context: { approval: 'none', scope: [...caller.scopes] },
        });
        if (decision.decision === 'deny') continue;
        available.push({
          connector: connectorName,
          operation,
          config: op,
          inputSchema: connector.inputSchema(operation),
        });
      }
    }
    return available;
  }

  private operationsOf(workflow: string): string[] {
    return Object.entries(this.deps.config.workflows[workflow]?.connectors ?? {}).flatMap(([c, ops]) =>
      ops.map((o) => `${c}/${o}`),
    );
  }
}
