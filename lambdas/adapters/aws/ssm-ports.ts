/** The port over SSM Parameter Store: the kill-switch parameters (the global switch and each workflow's). */
import { SSMClient } from '@aws-sdk/client-ssm';
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import { killSwitchParameterName, killSwitchPrefix } from '../../core/kill-switch';
import type { AwsPortBuilder } from './aws-ports';
import { SsmKillSwitchParameters } from './ssm-kill-switch-parameters';

export const killSwitchSource: AwsPortBuilder<'killSwitchSource'> = (context) => {
  const prefix = context.env[FUNCTION_ENV.killSwitchPrefix] ?? killSwitchPrefix(context.config.stage);
  const parameters = new SsmKillSwitchParameters({
    client: context.client('ssm', () => new SSMClient({})),
    // What the kill switch reads: the global switch and each workflow's.
    parameterNames: [
      killSwitchParameterName(prefix),
      ...Object.keys(context.config.workflows).map((workflow) => killSwitchParameterName(prefix, workflow)),
    ],
  });
  return context.expose('killSwitchSource', 'SsmKillSwitchParameters', parameters);
};
