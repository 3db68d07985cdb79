import { plugin } from "bun";
plugin({
  name: "trace",
  setup(build) {
    build.onLoad({ filter: /node_modules\/(dockerode|docker-modem|ssh2|socket\.io|socket\.io-client|engine\.io|engine\.io-client|tar-fs)\// }, (args) => {
      console.error("LOADED", args.path);
      throw new Error(`loaded ${args.path}`);
    });
  },
});
