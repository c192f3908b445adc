import { LocalMacKey } from '../../../lambdas/adapters/local/local-mac-key';
import {
  ApproverCookieSeal,
  type ApproverSession,
  decisionCsrfToken,
  sameSecret,
} from '../../../lambdas/core/approver-session';

const session: ApproverSession = {
  kind: 'session',
  principal: 'bob',
  groups: ['managers'],
  subject: '00u1bob00example',
  sid: 'sid-1',
  iat: 1000,
  exp: 5000,
};
const seal = () => new ApproverCookieSeal(LocalMacKey.of(Buffer.alloc(32, 7)));

describe('Class: ApproverCookieSeal', () => {
  describe('Method: open', () => {
    it('opens what it sealed, before it expires', async () => {
      // Act
      const opened = await seal().open(await seal().seal(session), 'session', 4999);

      // Assess
      expect(opened).toEqual(session);
    });

    it('attack: a forged session (payload changed to another principal, MAC kept) is not opened', async () => {
      // Prepare
      const [, mac] = (await seal().seal(session)).split('.');
      const payload = Buffer.from(JSON.stringify({ ...session, principal: 'alice' })).toString('base64url');

      // Act / Assess
      await expect(seal().open(`${payload}.${mac}`, 'session', 2000)).resolves.toBeUndefined();
    });

    it('attack: a session sealed with another key is not opened', async () => {
      // Prepare
      const other = new ApproverCookieSeal(LocalMacKey.of(Buffer.alloc(32, 8)));

      // Act / Assess
      await expect(seal().open(await other.seal(session), 'session', 2000)).resolves.toBeUndefined();
    });

    it('attack: a sign-in cookie is not accepted as a session, and an expired session is not opened', async () => {
      // Prepare
      const signIn = await seal().seal({
        kind: 'sign-in',
        state: 's',
        nonce: 'n',
        codeVerifier: 'v',
        back: '/approvals',
        exp: 5000,
      });

      // Act / Assess
      await expect(seal().open(signIn, 'session', 2000)).resolves.toBeUndefined();
      await expect(seal().open(await seal().seal(session), 'session', 5000)).resolves.toBeUndefined();
      await expect(seal().open('not.a-cookie', 'session', 2000)).resolves.toBeUndefined();
    });
  });
});

describe('Function: decisionCsrfToken', () => {
  it('binds the token to the session and the approval', () => {
    // Act
    const token = decisionCsrfToken(session, 'apr_1');

    // Assess
    expect(sameSecret(token, decisionCsrfToken(session, 'apr_1'))).toBe(true);
    expect(sameSecret(token, decisionCsrfToken(session, 'apr_2'))).toBe(false);
    expect(sameSecret(token, decisionCsrfToken({ sid: 'sid-2' }, 'apr_1'))).toBe(false);
    expect(sameSecret(undefined, token)).toBe(false);
  });
});
