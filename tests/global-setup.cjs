// Build the deployed handlers' bundles once, before the test workers start (they load them from
// .build/bundles; see functions/local/bundles.ts). Workers then find them current and never build.
require('tsx/cjs');
const { ensureBundles } = require('../functions/local/bundles.ts');
const { deployedFunctions, PROJECT_ROOT } = require('../functions/local/deployment.ts');

module.exports = async () => {
  const entries = [...deployedFunctions().values()].map((f) => f.modulePath);
  ensureBundles(PROJECT_ROOT, entries);
};
