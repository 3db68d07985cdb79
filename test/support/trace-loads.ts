import { plugin } from "bun";
plugin({
  name: "trace",
  setup(build) {
    build.onLoad({ filter: /node_modules\/(dockerode|ssh2|socket\.io|docker-modem)\// }, (args) => {
      console.error("LOADED", args.path);
      throw new Error(`loaded ${args.path}`);
    });
  },
});
