import { plugin } from "bun";
plugin({
  name: "trace",
  setup(build) {
    // DN_TRACE_PACKAGES=citty,consola traces those packages instead of the heavy ones.
    const packages = process.env.DN_TRACE_PACKAGES?.split(",") ?? ["dockerode", "docker-modem", "ssh2", "socket.io", "socket.io-client", "engine.io", "engine.io-client", "tar-fs"];
    const names = packages.map((name) => name.replace(/[.]/g, "\\."));
    build.onLoad({ filter: new RegExp(`node_modules/(${names.join("|")})/`) }, (args) => {
      console.error("LOADED", args.path);
      throw new Error(`loaded ${args.path}`);
    });
  },
});
