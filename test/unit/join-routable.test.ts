import { describe, expect, test } from "bun:test";
import { routability, routableByLabels, routingEnvNames } from "../../src/modes/join/routable.ts";
import { joinConfig } from "./_join-fixtures.ts";

const config = joinConfig();

describe("routability", () => {
  test("a label under a prefix of join.label_prefixes makes a container routable, without reading its env", () => {
    expect(routableByLabels({ "traefik.http.routers.web.rule": "Host(`x`)", "com.example": "1" }, config)).toEqual({ routable: true, by: "label traefik.http.routers.web.rule" });
    expect(routableByLabels({ "traefik.enable": "true" }, config)).toEqual({ routable: true, by: "label traefik.enable" });
  });

  test("traefik.enable=false wins over every label and env var, in Traefik's spellings of false", () => {
    for (const value of ["false", "False", "FALSE", "0", "f"]) {
      const labels = { "traefik.enable": value, "traefik.http.routers.web.rule": "Host(`x`)" };
      expect(routability(labels, ["VIRTUAL_HOST"], config)).toEqual({ routable: false, by: `label traefik.enable=${value}` });
    }
  });

  test("without a deciding label, the env decides; labels alone cannot when join.env_vars is set", () => {
    expect(routableByLabels({ "com.example": "1" }, config)).toBeUndefined();
    expect(routability({}, ["VIRTUAL_HOST"], config)).toEqual({ routable: true, by: "env VIRTUAL_HOST" });
    expect(routability({}, [], config)).toEqual({ routable: false, by: "no routing label or env var" });
    expect(routableByLabels({}, joinConfig({ env_vars: [] }))).toEqual({ routable: false, by: "no routing label" });
  });

  test("env names come from KEY=VALUE entries; only exact names of join.env_vars count", () => {
    const env = ["PATH=/bin", "VIRTUAL_HOST=a.example=b", "VIRTUAL_HOSTS=x", "LETSENCRYPT_HOST", "virtual_host=x"];
    expect(routingEnvNames(env, config)).toEqual(["VIRTUAL_HOST"]);
    expect(routingEnvNames(env, joinConfig({ env_vars: ["LETSENCRYPT_HOST", "VIRTUAL_HOST"] }))).toEqual(["LETSENCRYPT_HOST", "VIRTUAL_HOST"]);
    expect(routingEnvNames(["VIRTUAL_HOST="], config)).toEqual(["VIRTUAL_HOST"]); // set, even if empty
  });

  test("other label prefixes are configurable", () => {
    const custom = joinConfig({ label_prefixes: ["caddy", "com.example.proxy."] });
    expect(routableByLabels({ caddy: "x.example" }, custom)).toMatchObject({ routable: true });
    expect(routableByLabels({ "traefik.http.routers.a.rule": "x" }, custom)).toBeUndefined();
  });
});
