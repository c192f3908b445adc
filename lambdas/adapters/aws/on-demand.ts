/**
 * Loading code on first use. The functions are bundled split (lib/constructs/airlock-function.ts): a
 * package imported with `await import(...)` is a chunk of its own that Node reads the first time a call
 * needs it, instead of parsing and evaluating it at every cold start. A connector kind's AWS SDK client
 * is loaded this way: a call reaches one connector, so a cold start pays for none of them and a first
 * call for its own kind only.
 */

/** `load`, run once on the first call and shared by later ones; a failed load is tried again next time. */
export function onDemand<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

/** An SDK client as an adapter takes it: built already (tests inject a mocked one) or built on first use. */
export type ClientSource<C extends object> = C | (() => Promise<C>);

/** The client of a {@link ClientSource}. */
export function clientOf<C extends object>(source: ClientSource<C>): Promise<C> {
  return typeof source === 'function' ? source() : Promise.resolve(source);
}
