import type { Stack } from 'aws-cdk-lib';
import { CrossStackReferences, ReferenceStrength } from 'aws-cdk-lib';
import { DEFAULT_CROSS_STACK_REFERENCES } from 'aws-cdk-lib/cx-api';

/**
 * Makes a stack read what it uses from the Foundation stack with `Fn::GetStackOutput` (weak
 * references) instead of `Fn::ImportValue` of Foundation's exports.
 *
 * Why: CloudFormation refuses to delete an export while another stack imports it, and CDK deploys
 * Foundation before the stacks that use it. With exports, removing a connector or the `oauth`
 * section from the config deadlocks: Foundation's update wants to drop the export of the secret,
 * bucket or table it no longer has, the Api stack still imports it, and the Api stack cannot be
 * updated first because it depends on Foundation. With weak references Foundation publishes plain
 * outputs, nothing is ever "in use", and the Api stack stops reading an output on its own update.
 *
 * What weak references do not do: keep Foundation from being deleted while the Api stack runs
 * (Foundation's resources are retained anyway), or refresh the Api stack when a Foundation output
 * changes value without the Api template changing. Outputs change value only when a Foundation
 * resource is replaced; the ones the config drives (secret names, connectors) change the config the
 * functions bundle too, and with it the Api template, so `cdk deploy --all` updates both.
 *
 * Migrating a deployment made with exports: deploy once with
 * `-c @aws-cdk/core:defaultCrossStackReferences=both` (Foundation keeps its exports and adds the
 * outputs; the Api stack switches to them), then deploy normally. That one value of the context is
 * honoured; any other is replaced by weak.
 */
export function consumeWeakReferences(stack: Stack): void {
  const requested = stack.node.tryGetContext(DEFAULT_CROSS_STACK_REFERENCES);
  CrossStackReferences.of(stack).consume(
    requested === ReferenceStrength.BOTH ? ReferenceStrength.BOTH : ReferenceStrength.WEAK,
  );
}
