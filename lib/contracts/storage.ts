/**
 * Where things are kept in the buckets Airlock creates: the anchor writes the signed audit digests
 * below this prefix, the auditor and `airlock audit verify` read them there, and the grants name it.
 */
export const DIGEST_PREFIX = 'digests/';
