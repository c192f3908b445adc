/**
 * Tokens whose signature, header and claims were verified, by their exact compact serialization.
 * Bounded: the least recently used entry goes first. Only tokens that passed verification get in, so
 * an attacker cannot fill it without valid signatures.
 */
export class VerifiedTokenCache<C> {
  private readonly claims = new Map<string, C>();

  constructor(private readonly capacity: number) {}

  /** The claims of a remembered token, which becomes the most recently used. */
  get(token: string): C | undefined {
    const claims = this.claims.get(token);
    if (claims !== undefined) {
      this.claims.delete(token);
      this.claims.set(token, claims);
    }
    return claims;
  }

  set(token: string, claims: C): void {
    if (this.capacity === 0) return;
    if (this.claims.size >= this.capacity) {
      const oldest = this.claims.keys().next().value;
      if (oldest !== undefined) this.claims.delete(oldest);
    }
    this.claims.set(token, claims);
  }

  delete(token: string): void {
    this.claims.delete(token);
  }
}
