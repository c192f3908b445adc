import { Tags, Token } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Actual spend, in percent of the monthly limit, at which the owner hears about it. */
export const BUDGET_ACTUAL_ALERT_PERCENT = 80;
/** Forecast spend, in percent of the monthly limit, at which the owner hears about it. */
export const BUDGET_FORECAST_ALERT_PERCENT = 100;
/** The cost allocation tag every resource a workflow owns carries (activate it in Billing). */
export const WORKFLOW_COST_TAG = 'airlock:workflow';

export interface WorkflowBudgetProps {
  /** Deployment stage; part of the budget's name `airlock-<stage>-<workflow>`. */
  readonly stage: string;
  /** The workflow whose spend the budget tracks (the value of the `airlock:workflow` tag). */
  readonly workflow: string;
  /** Monthly limit in USD (`workflows.<name>.monthlyBudgetUsd`). */
  readonly monthlyLimitUsd: number;
  /** Topic the notifications go to; its policy must let budgets.amazonaws.com publish. */
  readonly topic: sns.ITopic;
}

/**
 * An AWS Budget for one workflow: monthly cost, filtered by the cost allocation tag
 * `airlock:workflow=<workflow>`, with notifications at 80 % of the limit actually spent and at
 * 100 % forecast. It reads the AWS bill, so it only sees resources carrying the tag, and only
 * once the tag is activated as a cost allocation tag in the Billing console (a payer-account setting).
 */
export class WorkflowBudget extends Construct {
  /** The budget (construct id `Resource`). */
  public readonly budget: budgets.CfnBudget;
  /** `airlock-<stage>-<workflow>`. */
  public readonly budgetName: string;

  constructor(scope: Construct, id: string, props: WorkflowBudgetProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.monthlyLimitUsd) && !(props.monthlyLimitUsd > 0)) {
      throw new Error(
        `WorkflowBudget: monthlyLimitUsd of workflow "${props.workflow}" must be greater than 0 (got ${props.monthlyLimitUsd}); set workflows.${props.workflow}.monthlyBudgetUsd`,
      );
    }
    this.budgetName = `airlock-${props.stage}-${props.workflow}`;
    if (this.budgetName.length > 100) {
      throw new Error(
        `WorkflowBudget: the budget name "${this.budgetName}" is longer than the 100 characters AWS Budgets allows; shorten the stage or workflow name`,
      );
    }
    const subscribers = [{ subscriptionType: 'SNS', address: props.topic.topicArn }];
    this.budget = new budgets.CfnBudget(this, 'Resource', {
      budget: {
        budgetName: this.budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyLimitUsd, unit: 'USD' },
        // Budgets names a user-defined cost allocation tag as `user:<key>$<value>`.
        costFilters: { TagKeyValue: [`user:${WORKFLOW_COST_TAG}$${props.workflow}`] },
      },
      notificationsWithSubscribers: [
        {
          notification: {
            notificationType: 'ACTUAL',
            comparisonOperator: 'GREATER_THAN',
            threshold: BUDGET_ACTUAL_ALERT_PERCENT,
            thresholdType: 'PERCENTAGE',
          },
          subscribers,
        },
        {
          notification: {
            notificationType: 'FORECASTED',
            comparisonOperator: 'GREATER_THAN',
            threshold: BUDGET_FORECAST_ALERT_PERCENT,
            thresholdType: 'PERCENTAGE',
          },
          subscribers,
        },
      ],
    });
    Tags.of(this.budget).add(WORKFLOW_COST_TAG, props.workflow);
  }
}
