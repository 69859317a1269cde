/** `npm run soak`: the long fault runs (every scenario, every refusal, many seeds), kept out of `npm test`. */
const base = require('./jest.config.cjs');

module.exports = { ...base, testMatch: ['**/*.soak.ts'], testTimeout: 1_800_000 };
