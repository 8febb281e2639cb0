// Connections the operator makes for a tenant's Dataset check the address a name resolved to, at
// connect time: a name that passed the policy may still resolve to the metadata service (or be
// rebound to it between a check and the connection).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';

/** Why the operator must not connect to this address, or undefined when it may. */
export type AddressCheck = (address: string) => string | undefined;

export class AddressRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefused';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/http agents that fails when any address the name resolves to is refused. */
export function guardedLookup(check: AddressCheck) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const refused = addresses.map((a) => check(a.address)).find((why) => why !== undefined);
      if (refused) return callback(new AddressRefused(`${hostname} ${refused}`), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** The addresses `host` resolves to, all checked; the first to connect to. */
export async function resolveChecked(host: string, check: AddressCheck): Promise<string> {
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, a) => (err ? reject(err) : resolve(a)));
  });
  const refused = addresses.map((a) => check(a.address)).find((why) => why !== undefined);
  if (refused) throw new AddressRefused(`${host} ${refused}`);
  return addresses[0].address;
}
