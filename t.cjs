require('tsx/cjs'); require('/work/main/functions/local/polyfills.ts');
const { StateMachine } = require('aws-local-stepfunctions');
const def = { StartAt: 'P', States: { P: { Type: 'Parallel', Branches: [
  { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: {FunctionName: 'x', 'Payload.$': '$'}, ResultSelector: {'Payload.$': '$.Payload'}, ResultPath: '$', End: true } } },
  { StartAt: 'B', States: { B: { Type: 'Pass', Result: {Payload: 2}, End: true } } } ],
  ResultPath: '$.r', End: true } } };
const sm = new StateMachine(def);
const r = sm.run({x: 1}, { overrides: { taskResourceLocalHandlers: { A: async (p) => ({Payload: {ok: true}, StatusCode: 200}) } } });
r.result.then(x => console.log(JSON.stringify(x)), e => console.log('ERR', e.message));
