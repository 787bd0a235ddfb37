// Serves the peer on 127.0.0.1:$PORT with $PEER_WORKERS processes under node:cluster (1 = no
// cluster). Run with the Node from node_modules (see install.sh) and NODE_ENV=production.
import cluster from "node:cluster";
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const port = Number(process.env.PORT ?? 5678);
const workers = Number(process.env.PEER_WORKERS ?? 1);

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (worker, code) => {
    console.error(`worker ${worker.process.pid} exited (${code})`);
    process.exit(1);
  });
} else {
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.keepAliveTimeout = 65_000;
  serv.addTo(server).then(() => server.listen(port, "127.0.0.1"));
}
