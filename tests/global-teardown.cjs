// Stop every moto_server the workers started for the contract tests (each also has a watchdog
// that ends it with this jest process; see tests/contract/moto-server.ts).
require('tsx/cjs');
const { stopRunServers } = require('./contract/moto-server.ts');

module.exports = async () => {
  stopRunServers();
};
