/**
 * The subject assertion key of a token-exchange connector in the local pilot: a P-256 key of that
 * connector alone in `<AIRLOCK_HOME>/keys/mcp-<connector>-subject-assertion-key.pem` (mode 0600), made on
 * first use. The local authorization server trusts its public key.
 */
import { join } from 'node:path';
import { LocalTokenSigner } from '../../adapters/local/local-token-signer';
import type { SubjectAssertionSigner } from './upstream-token-exchange';

/** The key file of a connector, below the local pilot's home. */
export function subjectAssertionKeyFile(connector: string): string {
  return join('keys', `mcp-${connector}-subject-assertion-key.pem`);
}

export class LocalSubjectAssertionSigner implements SubjectAssertionSigner {
  private signer?: Promise<LocalTokenSigner>;

  constructor(
    private readonly home: string,
    private readonly connector: string,
  ) {}

  /** The key, loaded (or made) once; a failure is not kept, so the next call tries again. */
  load(): Promise<LocalTokenSigner> {
    this.signer ??= LocalTokenSigner.loadOrCreate(this.home, subjectAssertionKeyFile(this.connector)).catch(
      (cause: unknown) => {
        this.signer = undefined;
        throw cause;
      },
    );
    return this.signer;
  }

  async keyId(): Promise<string> {
    return (await this.load()).keyId;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return (await this.load()).sign(data);
  }
}
