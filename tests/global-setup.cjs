// Build the deployed handlers' bundles once, before the test workers start (they load them from
// .build/bundles; see drill/bundles.ts). Workers then find them current and never build.
// Then make the folder where each worker notes the moto_server it starts for the contract tests
// (tests/contract/moto-server.ts); nothing is started here, so a run without them costs nothing.
require('tsx/cjs');
const { ensureBundles } = require('../drill/bundles.ts');
const { deployedFunctions, PROJECT_ROOT } = require('../drill/deployment.ts');
const { prepareRunDir } = require('./contract/moto-server.ts');

module.exports = async () => {
  const entries = [...deployedFunctions().values()].map((f) => f.modulePath);
  ensureBundles(PROJECT_ROOT, entries);
  prepareRunDir();
};
