import { AirlockError } from '../../../lambdas/core/errors';

/**
 * The AirlockError that `act` throws, for asserting its code and message; fails the test when `act`
 * succeeds or throws anything else (an unexpected error is a bug, not a refusal).
 */
export function refusal(act: () => unknown): AirlockError {
  try {
    act();
  } catch (error) {
    if (error instanceof AirlockError) return error;
    throw error;
  }
  throw new Error('expected an AirlockError refusal, but the call succeeded');
}

/** {@link refusal} for a call that settles later: the AirlockError it rejects with. */
export async function refusalAsync(act: Promise<unknown> | (() => unknown)): Promise<AirlockError> {
  try {
    await (typeof act === 'function' ? act() : act);
  } catch (error) {
    if (error instanceof AirlockError) return error;
    throw error;
  }
  throw new Error('expected an AirlockError refusal, but the call succeeded');
}
