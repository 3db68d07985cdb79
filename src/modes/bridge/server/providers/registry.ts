import type { BridgeConfig } from "../../config.ts";
import { hetznerSection } from "./hetzner/config.ts";
import type { Provider, ProviderEntry } from "./types.ts";

/**
 * The one list of providers, as `bridge.provider` names them. Each entry is light (its class is
 * loaded when a bridge uses it); a provider with settings of its own declares them as a block
 * `[bridge.<name>]`, which `[bridge]` holds (config.ts).
 */
// Written out (not inferred): BridgeConfig is made from these blocks, and a provider class is made from BridgeConfig.
type Providers = { ssh: ProviderEntry; hetzner: ProviderEntry & { config: typeof hetznerSection } };

export const providers: Providers = {
  ssh: {
    summary: "an existing host",
    createsServers: false,
    load: async () => (await import("./ssh.ts")).SshProvider,
  },
  hetzner: {
    summary: "a server created on demand",
    createsServers: true,
    config: hetznerSection,
    load: async () => (await import("./hetzner/provider.ts")).HetznerProvider,
  },
};

/** A provider's name, as `bridge.provider` takes it. */
export type ProviderName = keyof Providers;

export const providerNames = Object.keys(providers) as ProviderName[];

/** The providers that create servers (`bridge server list` works with these). */
export const creatingProviders = providerNames.filter((name) => providers[name].createsServers);

/** The provider `bridge.provider` names, made from the config. */
export async function makeProvider(config: BridgeConfig): Promise<Provider> {
  const Class = await providers[config.provider].load();
  return new Class(config);
}
