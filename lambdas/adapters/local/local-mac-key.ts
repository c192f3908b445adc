/**
 * {@link MacKey} for the local pilot: a random 256-bit HMAC key in `<AIRLOCK_HOME>/keys/session-mac.key`
 * (mode 0600, in a 0700 directory), created on first start and kept, so sessions survive a restart.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MacKey } from '../../core/ports';

/** Where the key lives below the local pilot's home. */
export const SESSION_MAC_KEY_FILE = join('keys', 'session-mac.key');

export class LocalMacKey implements MacKey {
  private constructor(private readonly key: Buffer) {}

  /** A key of the given bytes (tests). */
  static of(key: Buffer): LocalMacKey {
    if (key.length < 32) throw new Error('LocalMacKey: the key must be at least 32 bytes');
    return new LocalMacKey(key);
  }

  static async loadOrCreate(home: string): Promise<LocalMacKey> {
    const file = join(home, SESSION_MAC_KEY_FILE);
    try {
      return LocalMacKey.of(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(join(home, 'keys'), { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    try {
      await writeFile(file, key.toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return LocalMacKey.loadOrCreate(home);
      throw error;
    }
    return new LocalMacKey(key);
  }

  async generateMac(message: Uint8Array): Promise<Uint8Array> {
    return createHmac('sha256', this.key).update(message).digest();
  }

  async verifyMac(message: Uint8Array, mac: Uint8Array): Promise<boolean> {
    const expected = createHmac('sha256', this.key).update(message).digest();
    return mac.length === expected.length && timingSafeEqual(expected, mac);
  }
}
