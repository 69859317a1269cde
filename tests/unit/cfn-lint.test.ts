import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '#drill/deployment';

/**
 * cfn-lint, AWS's CloudFormation linter, over every template `serverless package --stage test`
 * writes (`npm test` packages before jest runs), with the project's `.cfnlintrc.yaml`: no error,
 * and no warning that the config does not ignore with its reason. One cfn-lint process lints
 * them all, together with a canary template that must fail, so a lint that reads nothing, or a
 * config that silences everything, fails here too.
 */
const CONFIG = join(PROJECT_ROOT, '.cfnlintrc.yaml');
const TEMPLATES = [
  '.serverless/cloudformation-template-create-stack.json',
  '.serverless/cloudformation-template-update-stack.json',
  '.serverless/member-forwarding.json',
  '.serverless/member-roles.json',
  '.serverless/organization-stacksets.json',
];

// CI must lint (its image has cfn-lint); on a workstation without it the test says so and is skipped.
const installed = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
const run = installed || process.env['CI'] === 'true';
if (!run) console.warn('cfn-lint.test.ts: skipped, cfn-lint is not installed (it is a Python package: pip install cfn-lint)');
const describeLint = run ? describe : describe.skip;

interface Finding {
  Filename: string;
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Path: (string | number)[] };
}

/**
 * Fails three ways, each asserted below: an error (a runtime Lambda does not have), a warning
 * (a Fn::Sub with nothing to substitute) and a warning the config ignores (W3005, a redundant
 * DependsOn). Its valid function runs on nodejs24.x, the runtime the project moves to next.
 */
const CANARY = {
  AWSTemplateFormatVersion: '2010-09-09',
  Resources: {
    CanaryRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
      },
    },
    UnknownRuntimeFunction: {
      Type: 'AWS::Lambda::Function',
      DependsOn: ['CanaryRole'],
      Properties: {
        Runtime: 'nodejs99.x',
        Handler: 'index.handler',
        Role: { 'Fn::GetAtt': ['CanaryRole', 'Arn'] },
        Code: { ZipFile: 'exports.handler = async () => ({})' },
      },
    },
    NextRuntimeFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        Role: { 'Fn::Sub': 'arn:aws:iam::123456789012:role/canary' },
        Code: { ZipFile: 'exports.handler = async () => ({})' },
      },
    },
  },
};

const describeFinding = (f: Finding) => `${f.Level} ${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`;

describeLint('cfn-lint on the packaged templates', () => {
  let canaryFile: string;
  let findings: Finding[];

  beforeAll(() => {
    if (!installed)
      throw new Error('cfn-lint is missing: CI must lint every packaged template (pip install cfn-lint; .ci/run says where it comes from)');
    for (const template of TEMPLATES) {
      if (!existsSync(join(PROJECT_ROOT, template)))
        throw new Error(`${template} is missing: run \`npm run package\` first (npm test does)`);
    }
    canaryFile = join(mkdtempSync(join(tmpdir(), 'cfn-lint-canary-')), 'canary.json');
    writeFileSync(canaryFile, JSON.stringify(CANARY, null, 2));
    const lint = spawnSync('cfn-lint', ['--config-file', CONFIG, '--format', 'json', '--', ...TEMPLATES, canaryFile], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    try {
      findings = JSON.parse(lint.stdout) as Finding[];
    } catch {
      throw new Error(`cfn-lint printed no JSON (exit ${lint.status}): ${lint.stderr || lint.stdout}`);
    }
  }, 120_000);

  afterAll(() => {
    if (canaryFile) rmSync(join(canaryFile, '..'), { recursive: true, force: true });
  });

  it('lints the list the config names, which is every template `serverless package` writes', () => {
    const config = parse(readFileSync(CONFIG, 'utf8')) as { templates: string[] };
    expect(config.templates).toEqual(TEMPLATES);
  });

  it.each(TEMPLATES)('%s: no error, no warning', (template) => {
    expect(findings.filter((f) => f.Filename === template).map(describeFinding)).toEqual([]);
  });

  it('still fails the canary: errors and warnings are reported, the configured ignore applies, nodejs24.x is a known runtime', () => {
    const canary = findings.filter((f) => f.Filename === canaryFile).map((f) => `${f.Level} ${f.Rule.Id} ${f.Location.Path.join('/')}`);
    expect(canary.sort()).toEqual([
      'Error E3030 Resources/UnknownRuntimeFunction/Properties/Runtime',
      'Warning W1020 Resources/NextRuntimeFunction/Properties/Role/Fn::Sub',
    ]);
    // Nothing else: no finding for a file cfn-lint was not given.
    expect(findings.filter((f) => f.Filename !== canaryFile && !TEMPLATES.includes(f.Filename))).toEqual([]);
  });
});
