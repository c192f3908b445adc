/**
 * Builds Airlock's stacks the way `cdk synth` does (cdk.json's context, so the same feature flags),
 * with bundling skipped unless asked for.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig, parseConfig } from '../../lib/config/load-config';
import type { AirlockConfig } from '../../lib/config/schema';
import { type AirlockStacks, createAirlockStacks } from '../../lib/stacks/airlock-stacks';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

const cdkContext = (require('../../cdk.json') as { context: Record<string, unknown> }).context;

/** The example pilot's config, as `cdk synth` loads it. */
export function exampleConfig(): AirlockConfig {
  return loadConfig(path.join(REPO_ROOT, 'config', 'airlock.config.yaml'));
}

/** The `oauth` section the OAuth tests deploy (the example pilot has none). */
export const TEST_OAUTH_SECTION = {
  publicUrl: 'https://mcp.airlock.example.com',
  workflow: 'expense-summary',
  certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/11111111-1111-1111-1111-111111111111',
  identityProvider: {
    issuer: 'https://login.example.com',
    clientId: 'airlock',
    clientSecretName: 'airlock/idp-client',
    groupMapping: { 'Finance Team': 'finance', 'Finance Managers': 'managers' },
  },
  allowedSourceCidrs: ['160.79.104.0/23', '2607:6bc0::/48'],
} as const;

/** The example pilot plus an `oauth` section (edited by `edit`), validated like a config file. */
export function oauthConfig(
  edit: (section: Record<string, unknown>) => Record<string, unknown> = (s) => s,
): AirlockConfig {
  const example = loadConfig(path.join(REPO_ROOT, 'config', 'airlock.config.yaml'));
  return parseConfig({ ...example, oauth: edit(structuredClone({ ...TEST_OAUTH_SECTION })) }, 'test config');
}

/**
 * The example pilot plus an `mcp-server` connector whose upstream takes a static header from Secrets
 * Manager, in the workflow: what the permission proof checks the new kind's grants on.
 */
export function mcpServerConfig(tickets: Record<string, unknown> = {}): AirlockConfig {
  const example = loadConfig(path.join(REPO_ROOT, 'config', 'airlock.config.yaml'));
  const config = structuredClone({ ...example }) as unknown as {
    connectors: Record<string, unknown>;
    workflows: Record<string, { connectors: Record<string, string[]> }>;
  };
  config.connectors = {
    ...example.connectors,
    tickets: {
      kind: 'mcp-server',
      description: 'The IT ticket desk (an MCP server)',
      url: 'https://mcp.tickets.example.com/mcp',
      allowedHosts: ['mcp.tickets.example.com'],
      auth: { type: 'header', header: 'authorization', secretName: 'airlock/pilot/tickets-mcp' },
      ...tickets,
      operations: {
        lookupTicket: {
          tool: 'lookup',
          description: 'Look up an IT ticket by id',
          access: 'read',
          action: 'Read',
          classification: 'internal',
        },
      },
    },
  };
  config.workflows = {
    ...example.workflows,
    'expense-summary': {
      ...example.workflows['expense-summary'],
      connectors: { ...example.workflows['expense-summary'].connectors, tickets: ['lookupTicket'] },
    },
  };
  return parseConfig(config, 'test config');
}

export interface AirlockTestApp extends AirlockStacks {
  readonly app: App;
  readonly foundationTemplate: Template;
  readonly apiTemplate: Template;
  readonly monitoringTemplate: Template;
}

/** Creates the stacks for a config (default: the example pilot) and synthesizes them. */
export function synthesizeAirlock(
  config: AirlockConfig = exampleConfig(),
  options: {
    /** Bundle the functions' code, as `cdk synth` does. */
    bundle?: boolean;
    /** Changes the app before it is synthesized (e.g. adds tags). */
    beforeSynth?: (app: App, stacks: AirlockStacks) => void;
  } = {},
): AirlockTestApp {
  const app = new App({
    context: { ...cdkContext, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const stacks = createAirlockStacks(app, config);
  options.beforeSynth?.(app, stacks);
  return {
    app,
    ...stacks,
    foundationTemplate: Template.fromStack(stacks.foundation),
    apiTemplate: Template.fromStack(stacks.api),
    monitoringTemplate: Template.fromStack(stacks.monitoring),
  };
}

/** The VPC of the private ticket desk in the test configs (ids only: synth looks nothing up). */
export const TEST_CONNECTOR_VPC = {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  subnetIds: ['subnet-0a1b2c3d4e5f60711', 'subnet-0a1b2c3d4e5f60722'],
} as const;

/**
 * The pilot with a private MCP server that acts on behalf of the signed-in user: RFC 8693 token exchange
 * at its authorization server, reached through a VPC (security group created by the stack unless given).
 */
export function mcpTokenExchangeConfig(vpc: Record<string, unknown> = TEST_CONNECTOR_VPC): AirlockConfig {
  return mcpServerConfig({
    url: 'https://tickets.internal.example.com:8443/mcp',
    allowedHosts: ['tickets.internal.example.com', 'login.internal.example.com'],
    auth: {
      type: 'oauth2-token-exchange',
      tokenUrl: 'https://login.internal.example.com/oauth2/token',
      secretName: 'airlock/pilot/tickets-exchange',
      audience: 'ticket-desk',
      scope: 'tickets.read',
    },
    vpc,
  });
}

/** The approvers' chat channel the chat tests deploy: one Slack and one Teams channel. */
export const TEST_CHAT_SECTION = {
  slack: { workspaceId: 'T0123ABCD', channelId: 'C0123ABCDEF' },
  teams: {
    tenantId: '11111111-2222-4333-8444-555555555555',
    teamId: '66666666-7777-4888-9999-000000000000',
    channelId: '19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2',
  },
} as const;

/** The pilot with the OAuth entry point (the approvals page) and the approvers' chat channel. */
export function chatConfig(): AirlockConfig {
  const withOAuth = oauthConfig();
  return parseConfig(
    { ...withOAuth, approvals: { ...withOAuth.approvals, chat: structuredClone({ ...TEST_CHAT_SECTION }) } },
    'test config',
  );
}
