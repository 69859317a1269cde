// The bundle options: one source for `serverless package` (serverless-esbuild reads this file through
// `custom.esbuild.config`) and for the drill and the tests, which build the same bundles with the same
// options (drill/bundles.ts), so what the tests run is what deploys.
//
// keepNames: `minify` renames classes, and an error class's `name` is what Lambda reports as the error
// type and what the state machine's Retry / Catch match on (ErrorEquals). Without it TransientAwsError
// would be named `s` in the bundle and never retried.
const esbuildOptions = Object.freeze({
  bundle: true,
  minify: true,
  keepNames: true,
  sourcemap: false,
  // Lambda runs nodejs24.x (serverless.yml provider.runtime); the tests run the same bundles on Node 20+.
  target: 'node24',
  platform: 'node',
  format: 'cjs',
  mainFields: ['module', 'main'],
  // The AWS SDK is bundled (and tree-shaken), not taken from the runtime: pinned and reproducible.
  external: [],
});

/** serverless-esbuild's view: the esbuild options plus its own (which it removes before building). */
module.exports = () => ({ ...esbuildOptions, mainFields: [...esbuildOptions.mainFields], external: [], exclude: [] });
module.exports.esbuildOptions = esbuildOptions;
