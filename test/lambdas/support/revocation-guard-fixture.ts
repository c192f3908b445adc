/**
 * A real RevocationGuard over test doubles: a kill switch whose state the test sets, and either a
 * revocation store of its own or a set of principals whose every token counts as revoked.
 */
import type { KillSwitchState } from '../../../lambdas/core/kill-switch';
import type { RevocationEntries, RevocationQuery, RevocationStore } from '../../../lambdas/core/ports';
import { RevocationGuard } from '../../../lambdas/core/revocation-guard';

export const TEST_KILL_SWITCH_PREFIX = '/airlock/pilot/kill-switch';

/** The switch as released at deployment. */
export function releasedState(): KillSwitchState {
  return { engaged: false, scope: null, reason: 'not engaged', revokeIssuedBefore: null };
}

/** A revocation store in which every token of the given principals is revoked, and nothing else. */
export function principalsRevoked(principals: ReadonlySet<string>): Pick<RevocationStore, 'readEntries'> {
  return {
    readEntries: async (query: RevocationQuery): Promise<RevocationEntries> => ({
      killSwitch: {},
      ...(query.principal !== undefined && principals.has(query.principal)
        ? { principal: { blocked: false, issuedBeforeMs: Number.MAX_SAFE_INTEGER } }
        : {}),
    }),
  };
}

export function testGuard(options: {
  killSwitch: { readonly state: KillSwitchState };
  revocations: Pick<RevocationStore, 'readEntries'>;
}): RevocationGuard {
  return new RevocationGuard({
    revocations: options.revocations,
    killSwitch: { check: async () => options.killSwitch.state },
    prefix: TEST_KILL_SWITCH_PREFIX,
  });
}
