import { BlockList, isIP } from 'node:net';
import { ConfigError } from './errors';

/** The responders' known source networks (office, VPN egress), as CIDRs. */
export interface KnownSources {
  readonly cidrs: readonly string[];
  contains(address: string | undefined): boolean;
}

const CIDR = /^(?<address>[0-9a-fA-F:.]+)\/(?<prefix>\d{1,3})$/;

/** Parse CIDRs once; a malformed one is a ConfigError that names it. */
export function knownSources(cidrs: readonly string[]): KnownSources {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const match = CIDR.exec(cidr.trim());
    const address = match?.groups?.['address'] ?? '';
    const prefix = Number(match?.groups?.['prefix']);
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (!match || family === 0 || prefix > max) {
      throw new ConfigError(`Known source "${cidr}" is not a CIDR (e.g. 203.0.113.0/24 or 2001:db8::/32)`, [cidr]);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    cidrs: [...cidrs],
    contains(candidate) {
      if (!candidate) return false;
      const family = isIP(candidate);
      if (family === 0) return false;
      return list.check(candidate, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
