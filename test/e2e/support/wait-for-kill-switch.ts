/**
 * Polls `GET /v1/health` until the kill switch, as the pilot's functions see it (through their
 * cache), is in the wanted position: the way an operator checks that an engage or release took effect.
 */
import type { E2eClient } from '../e2e-client';

/** Resolves with the milliseconds it took; rejects when the switch is not there within `timeoutMs`. */
export async function waitForKillSwitch(
  client: E2eClient,
  engaged: boolean,
  { workflow = 'expense-summary', timeoutMs = 15_000 }: { workflow?: string; timeoutMs?: number } = {},
): Promise<number> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    const response = await client.request('GET', `/v1/health?workflow=${encodeURIComponent(workflow)}`);
    last = response.text;
    if (response.status === 200 && response.json?.killSwitch?.engaged === engaged)
      return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `The kill switch did not become ${engaged ? 'engaged' : 'released'} within ${timeoutMs} ms; last health: ${last}`,
  );
}
