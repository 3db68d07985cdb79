/**
 * The other ways to reach an engine, for tests of --docker-host: TLS certificates made with
 * openssl, and an sshd (with an ssh-agent holding the client key) inside the engine's namespace.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, sleep, which } from "./_exec.ts";

/** A CA, a server certificate for 127.0.0.1 and a client certificate, in Docker's file names. */
export async function makeTlsFiles(): Promise<{ dir: string; server: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), "dockernet-tls-"));
  const ssl = (args: string[]) => exec("openssl", args, { timeoutMs: 30_000 });
  const at = (file: string) => join(dir, file);
  await ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dockernet test CA", "-keyout", at("ca-key.pem"), "-out", at("ca.pem")]);
  for (const [name, extension] of [["server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"], ["client", "extendedKeyUsage=clientAuth"]] as const) {
    await writeFile(at(`${name}.ext`), `${extension}\n`);
    await ssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", at(`${name}-key.pem`), "-out", at(`${name}.csr`)]);
    await ssl(["x509", "-req", "-in", at(`${name}.csr`), "-CA", at("ca.pem"), "-CAkey", at("ca-key.pem"), "-CAcreateserial", "-days", "2", "-extfile", at(`${name}.ext`), "-out", at(`${name}-cert.pem`)]);
  }
  // DOCKER_CERT_PATH wants ca.pem, cert.pem and key.pem for the client.
  await exec("cp", [at("client-cert.pem"), at("cert.pem")]);
  await exec("cp", [at("client-key.pem"), at("key.pem")]);
  const server = ["--tlsverify", "--tlscacert", at("ca.pem"), "--tlscert", at("server-cert.pem"), "--tlskey", at("server-key.pem")];
  return { dir, server };
}

export interface SshAccess extends AsyncDisposable {
  /** `ssh://root@127.0.0.1:2222`, reachable inside the engine's namespace. */
  url: string;
  /** SSH_AUTH_SOCK of an agent holding the client key. */
  agentSocket: string;
  /** The server's key as a known_hosts line. */
  knownHostsLine: string;
}

/**
 * An sshd on 127.0.0.1:2222 in the engine's namespace that lets root in with a generated key and
 * points the remote `docker` at the engine (what `docker system dial-stdio` connects to).
 */
export async function startSsh(netns: string, engineHost: string): Promise<SshAccess> {
  const sshd = (await which("sshd")) ?? "/usr/sbin/sshd";
  const dir = await mkdtemp(join(tmpdir(), "dockernet-ssh-"));
  await mkdir("/run/sshd", { recursive: true }); // privilege separation directory
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  await exec("cp", [join(dir, "client_key.pub"), join(dir, "authorized_keys")]);
  const config = [
    "Port 2222",
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_key")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "StrictModes no",
    "UsePAM no",
    // SHLVL=1 keeps Debian's bash from sourcing this machine's ~/.bashrc for sshd's commands (see remote-host.ts).
    `SetEnv DOCKER_HOST=${engineHost} PATH=${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"} SHLVL=1`,
  ];
  await writeFile(join(dir, "sshd_config"), `${config.join("\n")}\n`);
  const server: ChildProcess = spawn("nsenter", [`--net=/run/netns/${netns}`, sshd, "-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  const agentSocket = join(dir, "agent.sock");
  const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
  await sleep(300);
  await exec("ssh-add", [join(dir, "client_key")], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
  const [type, key] = (await readFile(join(dir, "host_key.pub"), "utf8")).split(" ");
  return {
    url: "ssh://root@127.0.0.1:2222",
    agentSocket,
    knownHostsLine: `[127.0.0.1]:2222 ${type} ${key}\n`,
    async [Symbol.asyncDispose]() {
      server.kill("SIGTERM");
      agent.kill("SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
