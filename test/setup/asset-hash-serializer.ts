/**
 * Snapshot serializer that redacts 64-hex asset hashes (Lambda code, S3 assets), so stack
 * snapshots change only when the template does, not when function code does.
 */
const HAS_ASSET_HASH = /[0-9a-f]{64}/;
const ASSET_HASHES = /[0-9a-f]{64}/g;

const serializer: import('pretty-format').Plugin = {
  test: (value: unknown) => typeof value === 'string' && HAS_ASSET_HASH.test(value),
  serialize: (value: string, config, indentation, depth, refs, printer) =>
    printer(value.replace(ASSET_HASHES, '[ASSET_HASH]'), config, indentation, depth, refs),
};

module.exports = serializer;
