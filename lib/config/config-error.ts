/** A config that cannot be used. `message` is one line naming the file, the field path and what was expected. */
export class ConfigError extends Error {
  public readonly name = 'ConfigError';
  constructor(
    message: string,
    public readonly issues: readonly string[] = [message],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
