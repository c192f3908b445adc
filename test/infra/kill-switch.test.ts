import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { type App, Tags } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { INITIAL_KILL_SWITCH_STATE } from '../../lib/constructs/kill-switch';
import type { AirlockStacks } from '../../lib/stacks/airlock-stacks';
import { exampleConfig, synthesizeAirlock } from './airlock-test-app';

/** Every kill-switch parameter of a template: logical id → properties. */
function killSwitchParameters(template: Template): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::SSM::Parameter')).map(([id, r]) => [id, r.Properties]),
  );
}

const INITIAL_VALUE =
  '{"engaged":false,"reason":"initial deployment","changedBy":"cdk","changedAt":"2026-01-01T00:00:00.000Z","revokeIssuedBefore":null}';

describe('Class: KillSwitch', () => {
  describe('Method: constructor', () => {
    it('keeps every property of the parameters exactly as deployed, so no deploy rewrites a switch', () => {
      // Act
      const parameters = killSwitchParameters(synthesizeAirlock().apiTemplate);

      // Assess: changing any of these makes CloudFormation overwrite operators' values (docs/runbooks/kill-switch.md#deployments).
      expect(parameters).toEqual({
        KillSwitchB3461A48: {
          Name: '/airlock/pilot/kill-switch',
          Description: 'Airlock pilot: global kill switch (engaged refuses every call)',
          Tags: { 'airlock:stage': 'pilot' },
          Tier: 'Standard',
          Type: 'String',
          Value: INITIAL_VALUE,
        },
        KillSwitchWorkflowexpensesummary88597F07: {
          Name: '/airlock/pilot/kill-switch/expense-summary',
          Description: 'Airlock pilot: kill switch of the expense-summary workflow',
          Tags: { 'airlock:stage': 'pilot', 'airlock:workflow': 'expense-summary' },
          Tier: 'Standard',
          Type: 'String',
          Value: INITIAL_VALUE,
        },
        KillSwitchWorkflowcustomerfollowupC84B2BFC: {
          Name: '/airlock/pilot/kill-switch/customer-follow-up',
          Description: 'Airlock pilot: kill switch of the customer-follow-up workflow',
          Tags: { 'airlock:stage': 'pilot', 'airlock:workflow': 'customer-follow-up' },
          Tier: 'Standard',
          Type: 'String',
          Value: INITIAL_VALUE,
        },
        KillSwitchWorkflowonboardingchecklist99D03C05: {
          Name: '/airlock/pilot/kill-switch/onboarding-checklist',
          Description: 'Airlock pilot: kill switch of the onboarding-checklist workflow',
          Tags: { 'airlock:stage': 'pilot', 'airlock:workflow': 'onboarding-checklist' },
          Tier: 'Standard',
          Type: 'String',
          Value: INITIAL_VALUE,
        },
      });
      expect(JSON.stringify(INITIAL_KILL_SWITCH_STATE)).toBe(INITIAL_VALUE);
    });

    it('leaves the parameters untouched when tags are added to the app or the stack', () => {
      // Prepare
      const before = killSwitchParameters(synthesizeAirlock().apiTemplate);
      const addTags = (app: App, stacks: AirlockStacks) => {
        Tags.of(app).add('cost-centre', 'FIN-042');
        Tags.of(stacks.api).add('owner', 'platform-team');
      };

      // Act
      const airlock = synthesizeAirlock(exampleConfig(), { beforeSynth: addTags });
      const after = killSwitchParameters(airlock.apiTemplate);

      // Assess: the tags reach the other resources, not the switches
      expect(JSON.stringify(airlock.apiTemplate.toJSON())).toContain('platform-team');
      expect(after).toEqual(before);
    });

    it('leaves the existing parameters untouched when the config changes elsewhere or gains a workflow', () => {
      // Prepare
      const before = killSwitchParameters(synthesizeAirlock().apiTemplate);
      const config = exampleConfig();
      const changed = {
        ...config,
        killSwitch: { backstopSeconds: 30, stalenessSeconds: 120 },
        prices: { ...config.prices, hourlyRateUsd: 120 },
        workflows: {
          ...config.workflows,
          'expense-summary': { ...config.workflows['expense-summary'], monthlyBudgetUsd: 999 },
          'travel-review': { ...config.workflows['expense-summary'], description: 'Travel' },
        },
      };

      // Act
      const after = killSwitchParameters(synthesizeAirlock(changed).apiTemplate);

      // Assess
      expect(Object.keys(after)).toHaveLength(Object.keys(before).length + 1);
      for (const [id, properties] of Object.entries(before)) expect(after[id]).toEqual(properties);
    });
  });
});
