// The npm graphql-ws client against a running hiregraph: subscribes to one posting's changes,
// waits for the first event, prints it as JSON, completes the subscription and exits 0.
//   node subscribe.mjs ws://127.0.0.1:PORT/graphql POSTING_ID
// Prints `ready` once the server has acknowledged the subscription's connection, so the caller
// knows when to make the change.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, postingId] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  on: { connected: () => console.log("ready") },
});
const timeout = setTimeout(() => {
  console.error("no event within 20 s");
  process.exit(2);
}, 20_000);
const events = client.iterate({
  query: "subscription($id: ID!) { postingChanged(id: $id) { type posting { title } } }",
  variables: { id: postingId },
});
for await (const event of events) {
  console.log(JSON.stringify(event));
  break; // leaving the loop completes the subscription
}
clearTimeout(timeout);
await client.dispose();
process.exit(0);
