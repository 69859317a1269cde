import '#drill/polyfills';
import { terminalText } from '#shared/text';
import { triageCommand, type CommandIO } from './triage-command';

const HELP = `root-responder: automated response to an AWS root-account compromise

Usage:
  root-responder triage [--known-cidrs CIDR,...] [FILE...]
      Classify CloudTrail records (a record, an EventBridge event, a {"Records":[...]} log file,
      a LookupEvents response, or an array of these; stdin when no FILE). Prints one JSON line
      per record. Exit 2 when any input could not be read (named on stderr).
  root-responder drill [--scenario NAME|FILE] [--out DIR] [--approve MODE] [--json]
      Run the whole response state machine locally on a scenario (default unknown-ip-no-mfa),
      with no AWS account. Writes DIR/report.html, report.md, report.json, evidence/ and
      outbox/ (default DIR: drill-output/<scenario>). --approve: interactive (you decide in a
      browser; the default in a terminal), all or reject-all (simulated responders, seconds),
      none (nobody answers; the default when piped). --json prints the run as JSON.
  root-responder responders add EMAIL --name NAME --stage STAGE [--passkey --url APPROVALS_BASE_URL] [--dry-run]
      Enroll a responder for approvals: prints the otpauth:// URI for their authenticator once and
      stores the TOTP secret in Secrets Manager (root-responder/STAGE/responders). --passkey also
      prints a one-time link (24 hours) where they enroll a passkey (for a responder already
      enrolled, only the link). Needs AWS credentials for the account the responder is deployed in.
  root-responder responders unlock EMAIL --stage STAGE [--table APPROVALS_TABLE]
      End a responder's approval lockout (too many wrong codes) at once; it otherwise ends after
      15 minutes. Run it in the stack's region.
  root-responder confirm-subscription --topic TOPIC_ARN --token TOKEN
      Confirm an SNS email subscription so that unsubscribing needs authentication (mail
      scanners open the unsubscribe link in every email).
  root-responder incidents list [--status STATUS] [--json] --stage STAGE
  root-responder incidents show ID [--json] --stage STAGE
  root-responder incidents close ID --reason TEXT [--by NAME] --stage STAGE
      The stage's incidents (its incidents table, found by name; --table NAME names it). close ends
      one as resolved, keeps who and why, and releases the account: its next root event opens a
      new incident, and the deny-root SCP an incident attached to it is detached. Needs AWS
      credentials for the account the responder is deployed in.
  root-responder audit [--stage STAGE] [--profile PROFILE] [--region REGION] [--bucket BUCKET] [--members] [--json]
      Read-only readiness checks of the account your credentials belong to: root MFA (and whether
      it is a virtual device), root access keys and signing certificates, alternate contacts (against
      config/STAGE.json), CloudTrail and GuardDuty in every enabled region, centralized root access
      (--members: each member's root credentials too, in AssumeRoot audit sessions the responder
      will see as root activity), the forwarding rules and canary in every region, authenticated
      SNS subscriptions, the evidence bucket's Object Lock. Exit 0 only when every check passes.
  root-responder verify-evidence DIR --digest SHA256 [--json]
      Check an evidence bundle (a folder with manifest.json, or an incident's folder with
      evidence/manifest.json, as the drill writes it or as downloaded from the evidence bucket)
      against the manifest SHA-256 the incident's emails carry: manifest.json's own SHA-256, every
      file's size and SHA-256, no file added. Exit 0 verified, 1 not verified, 2 usage or no bundle.
  root-responder diagram [--readme]
      Print the workflow as a Mermaid flowchart generated from the ASL file; --readme rewrites
      the picture in README.md.
  root-responder scenarios [--schema]
      List the bundled drill scenarios; --schema prints the scenario file format (JSON Schema).
  root-responder --help
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Each line of the text for a terminal: line breaks kept, every other control and escape character shown (`\x1b`). */
const terminalLines = (text: string) => text.split('\n').map(terminalText).join('\n');

/**
 * Every command writes through this: what reaches the terminal shows control and escape characters
 * visibly (values from events and from AWS are escaped where they are written, too). The drill's
 * own colours are the one exception: it escapes each value itself and writes its lines as they are.
 */
function terminalIo(io: CommandIO, raw: boolean): CommandIO {
  return {
    ...io,
    stdout: raw ? io.stdout : (line) => io.stdout(terminalLines(line)),
    stderr: (line) => io.stderr(terminalLines(line)),
  };
}

export async function main(argv: string[], rawIo: CommandIO): Promise<number> {
  const [command, ...rest] = argv;
  const io = terminalIo(rawIo, command === 'drill');
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.stdout(HELP);
      return 0;
    case 'triage':
      if (rest.includes('--help')) {
        io.stdout(HELP);
        return 0;
      }
      return triageCommand(rest, io);
    case 'drill': {
      // Loaded on demand: triage should not pay for the local Step Functions runner.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { drillCommand } = require('./drill-command') as typeof import('./drill-command');
      return drillCommand(rest, io);
    }
    case 'responders':
    case 'confirm-subscription': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const commands = require('./responders-command') as typeof import('./responders-command');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { SecretsManagerClient } = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { SNSClient } = require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { DynamoDBDocumentClient } = require('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb');
      const deps = {
        secrets: () => new SecretsManagerClient({ region: 'us-east-1' }),
        sns: () => new SNSClient({ region: 'us-east-1' }),
        // The stack's region: the SDK's default chain (AWS_REGION or the profile's).
        dynamodb: () => DynamoDBDocumentClient.from(new DynamoDBClient({})),
      };
      return command === 'responders' ? commands.respondersCommand(rest, io, deps) : commands.confirmSubscriptionCommand(rest, io, deps);
    }
    case 'incidents': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { incidentsCommand } = require('./incidents-command') as typeof import('./incidents-command');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { DynamoDBDocumentClient } = require('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { STSClient } = require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { OrganizationsClient } = require('@aws-sdk/client-organizations') as typeof import('@aws-sdk/client-organizations');
      const region = rest.includes('--region') ? rest[rest.indexOf('--region') + 1] : undefined;
      const dynamodb = new DynamoDBClient({ region: region ?? process.env['AWS_REGION'] ?? 'us-east-1', maxAttempts: 4 });
      return incidentsCommand(rest, io, {
        dynamodb: () => dynamodb,
        ddb: () => DynamoDBDocumentClient.from(dynamodb),
        sts: () => new STSClient({ region: 'us-east-1' }),
        organizations: () => new OrganizationsClient({ region: 'us-east-1', maxAttempts: 4 }),
        now: () => new Date(),
      });
    }
    case 'audit': {
      if (rest.includes('--help')) {
        io.stdout(HELP);
        return 0;
      }
      const profile = rest[rest.indexOf('--profile') + 1];
      if (rest.includes('--profile') && profile) process.env['AWS_PROFILE'] = profile;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { auditCommand } = require('./audit-command') as typeof import('./audit-command');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const aws = require('./audit-clients') as typeof import('./audit-clients');
      return auditCommand(rest, io, aws.liveAuditDeps());
    }
    case 'verify-evidence': {
      if (rest.includes('--help')) {
        io.stdout(HELP);
        return 0;
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { verifyEvidenceCommand } = require('./verify-evidence') as typeof import('./verify-evidence');
      return verifyEvidenceCommand(rest, io);
    }
    case 'diagram': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const d = require('./diagram') as typeof import('./diagram');
      if (!rest.includes('--readme')) {
        io.stdout(d.mermaid());
        return 0;
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fs = require('node:fs') as typeof import('node:fs');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const path = require('node:path') as typeof import('node:path');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { PROJECT_ROOT } = require('#drill/deployment') as typeof import('#drill/deployment');
      const file = path.join(PROJECT_ROOT, 'README.md');
      const readme = fs.readFileSync(file, 'utf8');
      const start = readme.indexOf(d.README_DIAGRAM_START);
      const end = readme.indexOf(d.README_DIAGRAM_END);
      if (start < 0 || end < 0) {
        io.stderr('diagram: README.md has no workflow-diagram markers');
        return 2;
      }
      fs.writeFileSync(file, readme.slice(0, start) + d.readmeDiagramBlock() + readme.slice(end + d.README_DIAGRAM_END.length));
      io.stdout('README.md: workflow diagram rewritten from the ASL file');
      return 0;
    }
    case 'scenarios': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { listScenarios, scenarioJsonSchema } = require('#drill/scenario') as typeof import('#drill/scenario');
      if (rest.includes('--schema')) {
        io.stdout(JSON.stringify(scenarioJsonSchema(), null, 2));
        return 0;
      }
      for (const s of listScenarios()) io.stdout(`${s.name.padEnd(24)} ${s.description}`);
      return 0;
    }
    default:
      io.stderr(`root-responder: unknown command "${terminalText(command)}" (see --help)`);
      return 2;
  }
}

if (require.main === module || process.env['ROOT_RESPONDER_CLI'] === '1') {
  const io: CommandIO = {
    isTTY: Boolean(process.stdout.isTTY),
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    readStdin,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`root-responder: ${terminalLines((error as Error).stack ?? String(error))}\n`);
      process.exitCode = 1;
    },
  );
}
