import { readAccountState } from '#functions/collect-evidence/account-state';
import { activeAccounts, enabledRegions } from '#shared/inventory';
import { virtualTimer } from '#shared/rate-limit';
import { ScenarioSchema, scenarioWorld } from '#drill/scenario';
import { SimulatedAws } from '#drill/simulated-aws';

/** The shared listings follow every page (the simulated APIs page small on purpose). */
const REGIONS = Array.from({ length: 25 }, (_, i) => `xx-test-${i + 1}`);

function aws(accounts: number): SimulatedAws {
  const ids = Array.from({ length: accounts }, (_, i) => String(300000000000 + i));
  const scenario = ScenarioSchema.parse({
    name: 'inventory',
    description: 'paging',
    mode: 'organization',
    organization: { id: 'o-a1b2c3d4e5', managementAccountId: ids[0], features: [] },
    accounts: ids.map((accountId) => ({ accountId, name: `n-${accountId}`, root: {}, enabledRegions: REGIONS })),
    sources: [{ file: 'unused.json' }],
  });
  return new SimulatedAws(scenarioWorld(scenario, []), virtualTimer(0));
}

describe('shared inventory', () => {
  it('reads every enabled region, page after page, and so does the evidence collection', async () => {
    const sim = aws(1);
    const clients = sim.targetClients({ accountId: '300000000000' });
    expect(await enabledRegions(clients)).toEqual(REGIONS);
    expect(sim.calls.filter((c) => c.command === 'ListRegionsCommand')).toHaveLength(3);
    expect((await readAccountState(clients)).regions).toEqual(REGIONS);
  });

  it('lists every active account of the organization, up to a cap when asked', async () => {
    const sim = aws(45);
    const responder = sim.targetClients({ accountId: '300000000000' });
    const all = await activeAccounts(responder);
    expect(all.map((a) => a.id)).toEqual(Array.from({ length: 45 }, (_, i) => String(300000000000 + i)));
    expect(all[3]).toEqual({ id: '300000000003', name: 'n-300000000003', joined: new Date('2019-06-01T00:00:00Z') });
    expect(await activeAccounts(responder, 20)).toHaveLength(20);
  });
});
