import { extractRecords } from '#shared/cloudtrail';
import { defaultTriageContext, triage, type Triage } from '#shared/triage';
import { fixture, manifest, type ManifestEntry } from '../helpers';

/**
 * Every published sample is judged against the label its curator gave it in manifest.json
 * (the `category` column), never against the classifier's own output.
 */
const ctx = defaultTriageContext();

function triageFile(entry: ManifestEntry, cidrs: string[] = []): Triage[] {
  const doc = fixture(`cloudtrail/${entry.file}`);
  const { records, problems } = extractRecords(doc, entry.file);
  expect(problems).toEqual([]);
  const c = cidrs.length ? defaultTriageContext(cidrs) : ctx;
  return records.map(({ record, envelope }) => triage(record, c, envelope));
}

function innerCategory(category: string): string {
  return category.replace(/^(eventbridge_envelope|edge_case):/, '');
}

type Check = (t: Triage, entry: ManifestEntry) => void;

const notRoot: Check = (t) => {
  expect(t).toMatchObject({ isRoot: false, startsIncident: false, severity: 'info' });
};

const rootSignInSuccess: Check = (t) => {
  expect(t).toMatchObject({ isRoot: true, benign: false, startsIncident: true, severity: 'critical', categories: ['sign-in'] });
};

const CHECKS: Record<string, Check> = {
  non_root_control: notRoot,
  signin_nonroot_failure: notRoot,
  signin_nonroot_other: notRoot,
  signin_nonroot_success_nomfa: notRoot,
  signin_nonroot_success_mfa_unknown: notRoot,
  benign_service_event: (t) => {
    expect(t).toMatchObject({ isRoot: false, benign: true, startsIncident: false, severity: 'info' });
  },
  billing_console_action: (t) => {
    expect(t).toMatchObject({ isRoot: false, startsIncident: false, severity: 'low' });
    expect(t.categories).toContain('billing');
    expect(t.reasons.join(' ')).toMatch(/no userIdentity\.type/);
  },
  signin_root_success_nomfa: (t) => {
    rootSignInSuccess(t, {} as ManifestEntry);
    expect(t.reasons.join(' ')).toMatch(/without MFA/);
  },
  signin_root_success_mfa: rootSignInSuccess,
  signin_root_success_mfa_unknown: rootSignInSuccess,
  signin_root_failure: (t) => {
    expect(t).toMatchObject({ isRoot: true, benign: false, startsIncident: false, severity: 'medium', categories: ['sign-in-failure'] });
  },
  signin_root_other: (t, entry) => {
    expect(t).toMatchObject({ isRoot: true, benign: false });
    // Hand-labelled by what each sample is (see the manifest's `what`).
    const expected: Record<string, Partial<Triage>> = {
      PasswordUpdated: { startsIncident: true, severity: 'critical', categories: ['root-credentials'] },
      ExternalIdPDirectoryLogin: { startsIncident: false, severity: 'medium', categories: ['sign-in-failure'] },
      NonConsoleLogin: { startsIncident: true, categories: ['sign-in'] },
      ConsoleLogin: { startsIncident: true, categories: ['sign-in'] },
    };
    expect(t).toMatchObject(expected[entry.eventName ?? t.eventName] ?? { startsIncident: true });
  },
  root_api_persistence: (t) => {
    expect(t).toMatchObject({ isRoot: true, benign: false, startsIncident: true, severity: 'critical' });
    expect(t.categories.some((c) => c === 'root-credentials' || c === 'iam-persistence')).toBe(true);
  },
  root_api_defense_evasion: (t) => {
    expect(t).toMatchObject({ isRoot: true, startsIncident: true, severity: 'critical' });
    expect(t.categories).toContain('logging-tampering');
  },
  root_api_account_billing: (t) => {
    expect(t).toMatchObject({ isRoot: true, startsIncident: true, severity: 'critical' });
    expect(t.categories.some((c) => c === 'billing' || c === 'account-settings')).toBe(true);
  },
  root_api_readonly: (t) => {
    expect(t).toMatchObject({ isRoot: true, benign: false, startsIncident: true, severity: 'medium', categories: ['read-only'] });
  },
  root_api_other: (t) => {
    if (t.eventName === 'CreateServiceLinkedRole') {
      // DESIGN.md: AWS creates service-linked roles on root's behalf.
      expect(t).toMatchObject({ isRoot: true, benign: true, startsIncident: false, severity: 'info' });
      return;
    }
    expect(t).toMatchObject({ isRoot: true, benign: false, startsIncident: true });
    expect(['high', 'critical']).toContain(t.severity);
  },
};

describe('triage over every published sample, by its curated category', () => {
  const entries = manifest().filter((e) => e.category !== 'lookup_events_response' && e.category !== 'timeline');

  it.each(entries.map((e) => [e.file, e] as const))('%s', (_file, entry) => {
    const results = triageFile(entry);
    expect(results).toHaveLength(1);
    const check = CHECKS[innerCategory(entry.category)];
    expect(check).toBeDefined();
    check!(results[0]!, entry);
    if (entry.eventName && entry.eventName !== '...') expect(results[0]!.eventName).toBe(entry.eventName);
  });

  it('covers every category the manifest uses', () => {
    const used = new Set(manifest().map((e) => innerCategory(e.category)));
    for (const category of used) {
      if (category === 'lookup_events_response' || category === 'timeline') continue;
      expect(Object.keys(CHECKS)).toContain(category);
    }
  });
});

describe('container formats', () => {
  it('reads each record of a LookupEvents response (CloudTrailEvent is a JSON string)', () => {
    const [rootLogin] = triageFile({ file: 'lookup_events/awsdocs_ct__lookup_events_cli_root_consolelogin.json' } as ManifestEntry);
    expect(rootLogin).toMatchObject({
      eventName: 'ConsoleLogin',
      isRoot: true,
      startsIncident: true,
      severity: 'critical',
      accountId: '111122223333',
      sourceIPAddress: '203.0.113.4',
    });
    const [roleLogin] = triageFile({ file: 'lookup_events/awscli__lookup_events_consolelogin_example.json' } as ManifestEntry);
    expect(roleLogin).toMatchObject({ eventName: 'ConsoleLogin', isRoot: false, startsIncident: false });
  });

  it('judges each record of a timeline by its own identity and outcome', () => {
    const records = fixture<Record<string, unknown>[]>(
      'timeline/panther_scenario__compromised_root_creds__attacker_cloudtrail.json'.replace(/^/, 'cloudtrail/'),
    );
    const results = triageFile({ file: 'timeline/panther_scenario__compromised_root_creds__attacker_cloudtrail.json' } as ManifestEntry);
    expect(results).toHaveLength(records.length);
    results.forEach((t, i) => {
      const record = records[i]!;
      const type = (record['userIdentity'] as Record<string, unknown>)['type'];
      const login = (record['responseElements'] as Record<string, unknown> | null)?.['ConsoleLogin'];
      expect(t.isRoot).toBe(type === 'Root');
      expect(t.startsIncident).toBe(type === 'Root' && login !== 'Failure');
    });
    expect(results.filter((t) => t.startsIncident).map((t) => t.eventName)).toEqual([
      'ConsoleLogin',
      'StopLogging',
      'CreateAccessKey',
      'CreateUser',
      'AttachUserPolicy',
      'AttachUserPolicy',
      'AttachUserPolicy',
      'CreateAccessKey',
    ]);
  });

  it('reports elements that are not records and keeps the rest', () => {
    const good = fixture('cloudtrail/signin/flaws_usiem__console_login_success_root.json');
    const { records, problems } = extractRecords([good, 42, { hello: 'world' }, { eventVersion: '1.05', userIdentity: {} }], 'mixed.json');
    expect(records).toHaveLength(1);
    expect(problems.map((p) => p.origin)).toEqual(['mixed.json[1]', 'mixed.json[2]', 'mixed.json[3]']);
    expect(problems[2]!.message).toBe('CloudTrail record without eventName');
  });
});

describe('rules', () => {
  const signIn = fixture('cloudtrail/signin/flaws_usiem__console_login_success_root.json');
  const ip = String(signIn['sourceIPAddress']);

  it('a root MFA sign-in from a known CIDR is high, still starts an incident', () => {
    const t = triage(signIn, defaultTriageContext([`${ip}/32`]));
    expect(t).toMatchObject({ severity: 'high', startsIncident: true });
    expect(t.reasons.join(' ')).toMatch(/confirm/);
  });

  it('a root sign-in without MFA is critical even from a known CIDR', () => {
    const noMfa = fixture('cloudtrail/signin/panther__aws_console_root_login__t0__successful_root_login.json');
    const t = triage(noMfa, defaultTriageContext([`${String(noMfa['sourceIPAddress'])}/32`]));
    expect(t).toMatchObject({ severity: 'critical', startsIncident: true });
  });

  it('reads MFAUsed in any case', () => {
    for (const [flag, severity] of [
      ['YES', 'high'],
      ['Yes', 'high'],
      ['yes', 'high'],
      ['No', 'critical'],
      ['NO', 'critical'],
    ] as const) {
      const record = { ...signIn, additionalEventData: { MFAUsed: flag } };
      expect(triage(record, defaultTriageContext([`${ip}/32`])).severity).toBe(severity);
    }
  });

  it('judges records without readOnly by the operation name', () => {
    const base = fixture('cloudtrail/root_api/panther__aws_root_activity__t5__root_read_only_enumeration.json');
    const { readOnly: _dropped, ...old } = base;
    expect('readOnly' in old).toBe(false);
    expect(triage({ ...old, eventName: 'DescribeInstances', eventSource: 'ec2.amazonaws.com' }, ctx)).toMatchObject({
      severity: 'medium',
      categories: ['read-only'],
    });
    expect(triage({ ...old, eventName: 'TerminateInstances', eventSource: 'ec2.amazonaws.com' }, ctx)).toMatchObject({
      severity: 'high',
      categories: ['resource-change'],
    });
  });

  it('a service acting for root is benign; a console session as root is not', () => {
    expect(triage(fixture('written/root_invokedby_glue_getdataaccess__written.json'), ctx)).toMatchObject({
      isRoot: true,
      benign: true,
      startsIncident: false,
    });
    const console = triage(fixture('written/root_console_session_createuser_sessioncredentialfromconsole__written.json'), ctx);
    expect(console).toMatchObject({
      isRoot: true,
      benign: false,
      startsIncident: true,
      severity: 'critical',
      categories: ['iam-persistence'],
    });
    const old = triage(fixture('cloudtrail/edge_cases/streamalert__root_account_usage__1.json')['detail'] as Record<string, unknown>, ctx);
    expect(old).toMatchObject({ isRoot: true, benign: false, startsIncident: true });
  });

  it("this tool's own AssumeRoot session is benign only by its recorded access key id", () => {
    const record = fixture('written/root_assumeroot_session_deleteaccesskey__written.json');
    expect(triage(record, ctx)).toMatchObject({ benign: false, startsIncident: true, severity: 'critical' });
    const ours = { ...ctx, ownSessionAccessKeyIds: new Set(['ASIAROOTSESSIONEXAMPLE']) };
    expect(triage(record, ours)).toMatchObject({ benign: true, startsIncident: false });
    const other = { ...ctx, ownSessionAccessKeyIds: new Set(['ASIASOMEOTHERSESSION']) };
    expect(triage(record, other)).toMatchObject({ benign: false, startsIncident: true });
  });

  it('a root password recovery is critical', () => {
    expect(triage(fixture('written/root_password_recovery_requested__written.json'), ctx)).toMatchObject({
      severity: 'critical',
      categories: ['password-recovery'],
      startsIncident: true,
    });
  });

  it('fails open: a root-typed record with broken fields still starts an incident, flagged unparsed', () => {
    const t = triage({ userIdentity: { type: 'Root' }, eventName: 42, eventTime: null }, ctx);
    expect(t).toMatchObject({ isRoot: true, startsIncident: true, parsed: false });
    expect(['high', 'critical']).toContain(t.severity);
  });

  it('names the documented fields in the documented order', () => {
    expect(Object.keys(triage(signIn, ctx)).slice(0, 11)).toEqual([
      'eventId',
      'eventName',
      'eventSource',
      'accountId',
      'sourceIPAddress',
      'isRoot',
      'benign',
      'startsIncident',
      'severity',
      'categories',
      'reasons',
    ]);
  });
});
