import type { BridgeConfig } from "../config.ts";
import { hetznerProvider } from "./hetzner.ts";
import { sshProvider } from "./ssh.ts";
import type { Provider } from "./types.ts";

/** The provider `bridge.provider` names. */
export function makeProvider(config: BridgeConfig): Provider {
  return config.provider === "hetzner" ? hetznerProvider(config) : sshProvider(config);
}
