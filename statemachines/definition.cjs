// The state machine file is plain ASL (JSONPath) whose Lambda tasks name their function by its
// serverless.yml key ("FunctionName": "intake"). The drill binds those keys to the handler
// modules; for deployment this swaps each key for the function's ARN.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Serverless's logical id for a function key: first letter up, '-' -> Dash, '_' -> Underscore. */
function lambdaLogicalId(key) {
  const normalized = key.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized[0].toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

function withFunctionArns(node) {
  if (Array.isArray(node)) return node.map(withFunctionArns);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'FunctionName' && typeof value === 'string' && /^[a-zA-Z][a-zA-Z0-9]*$/.test(value)) {
      out[key] = { 'Fn::GetAtt': [lambdaLogicalId(value), 'Arn'] };
    } else {
      out[key] = withFunctionArns(value);
    }
  }
  return out;
}

function definition() {
  return JSON.parse(readFileSync(join(__dirname, 'root-compromise-response.asl.json'), 'utf8'));
}

module.exports = async () => withFunctionArns(definition());
module.exports.definition = definition;
module.exports.lambdaLogicalId = lambdaLogicalId;
