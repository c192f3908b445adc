/**
 * LLM usage measured by the provider, not reported by the agent, end to end on the local pilot: a model
 * call through the workflow's inference profile on the local Bedrock stand-in is counted by the
 * stand-in's metrics, the daily spend cap counts it, and `airlock cost report --local` shows it as
 * measured, with its source named.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/program';
import { localInferenceProfileArn } from '../../lambdas/adapters/local/provider-metrics-usage-source';
import { loadConfig } from '../../lib/config/load-config';
import type { AirlockConfig } from '../../lib/config/schema';
import { startLocalPilot } from '../../local/local-pilot';
import { fakeCliIo } from '../cli/support/fake-cli-io';
import { e2eClientFor } from './e2e-client';

const WORKFLOW = 'expense-summary';

async function airlock(home: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  const io = fakeCliIo({ env: { AIRLOCK_HOME: home } });
  const code = await runCli(['node', 'airlock', ...args], io);
  return { code, stdout: io.stdout.text };
}

describe('Measured LLM usage through the local Bedrock stand-in', () => {
  const base = loadConfig();
  // A cap one long conversation passes: 200,000 characters ≈ 50,000 input tokens ≈ $0.15 at $3 per million.
  const config: AirlockConfig = {
    ...base,
    workflows: { ...base.workflows, [WORKFLOW]: { ...base.workflows[WORKFLOW], dailySpendCapUsd: 0.1 } },
  };
  let home: string;
  let refusal: { status: number; body: Record<string, unknown> };
  let report: {
    measuredLlmSource?: string;
    workflows: {
      workflow: string;
      llmMeasuredInputTokens: number;
      cost: { llm: number; llmMeasured: number };
    }[];
  };
  let html: string;
  let usage: { inputTokens: number; outputTokens: number };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-e2e-measured-llm-'));
    const pilot = await startLocalPilot({ home, port: 0, config });
    const alice = e2eClientFor(pilot, 'alice');
    try {
      // The agent talks to the model through the workflow's profile and reports nothing.
      const reply = await pilot.bedrock.converse(localInferenceProfileArn(config.stage, WORKFLOW), [
        { role: 'user', content: [{ text: 'Summarise these receipts. '.repeat(8_000) }] },
      ]);
      usage = reply.usage;
      const token = await alice.getToken(WORKFLOW, ['receipts:read'], 15);
      const response = await alice.request('POST', '/v1/connectors/receipts/list', { token, body: {} });
      refusal = { status: response.status, body: response.json as Record<string, unknown> };
    } finally {
      alice.close();
      await pilot.close();
    }
    const json = await airlock(home, ['--json', 'cost', 'report', '--local']);
    expect(json.code).toBe(0);
    report = JSON.parse(json.stdout);
    html = (await airlock(home, ['cost', 'report', '--local', '--format', 'html'])).stdout;
  });

  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('refuses calls once the measured LLM spend reached the daily cap, though the agent reported nothing', () => {
    expect(refusal.status).toBe(429);
    const error = refusal.body.error as { code: string; reasons: string[]; details?: Record<string, number> };
    expect(error.code).toBe('rate_limited');
    expect(error.reasons).toEqual(['daily-spend-cap']);
  });

  it('shows the stand-in’s token counts as measured LLM cost, labelled with their source', () => {
    const price = config.prices.models[config.workflows[WORKFLOW].llm?.model ?? ''];
    const workflow = report.workflows.find((w) => w.workflow === WORKFLOW)!;
    expect(usage.inputTokens).toBeGreaterThan(40_000);
    expect(workflow.llmMeasuredInputTokens).toBe(usage.inputTokens);
    expect(workflow.cost.llmMeasured).toBeCloseTo(
      (usage.inputTokens * price.inputPerMillionTokens + usage.outputTokens * price.outputPerMillionTokens) /
        1e6,
      12,
    );
    expect(workflow.cost.llm).toBe(0); // nothing self-reported
    expect(report.measuredLlmSource).toMatch(/local Bedrock stand-in/);
    expect(html).toContain('LLM usage measured by: local Bedrock stand-in');
    expect(html).toContain('LLM (measured)');
  });
});
