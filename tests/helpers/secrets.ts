/** Secret values for tests: public, so never use them anywhere real. */

/** A `secretChecksumKey`: as long as the ones `npm run stack:init` generates (43 characters). */
export const CHECKSUM_KEY = "test-checksum-key-not-secret-0123456789abcd";
