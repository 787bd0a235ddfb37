// hiregraph's GraphiQL: queries and mutations over HTTP, subscriptions over graphql-ws, all on
// /graphql of the server that serves this page. Built by build.mjs into api/assets/graphiql.
import { createRoot } from 'react-dom/client';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import { parse } from 'graphql';
import 'graphiql/style.css';

// Monaco's workers are files next to this one (a strict CSP allows only same-origin workers).
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    const file = label === 'json' ? 'json.worker.js' : label === 'graphql' ? 'graphql.worker.js' : 'editor.worker.js';
    return new Worker(new URL(file, import.meta.url), { type: 'module' });
  },
};

// The API is `graphql` beside the page (the page is served at `/` and at `GET /graphql`).
const url = new URL('graphql', window.location.href);
const wsUrl = url.href.replace(/^http/, 'ws');
// A WebSocket authenticates once, in `connection_init`: the Authorization of the Headers tab goes
// there, and a different one opens a new connection.
let current = { authorization: undefined, fetcher: undefined, client: undefined };
const fetcherFor = (authorization) => {
  if (!current.fetcher || current.authorization !== authorization) {
    current.client?.dispose();
    const client = createClient({ url: wsUrl, lazy: true, connectionParams: authorization ? { authorization } : {} });
    current = { authorization, client, fetcher: createGraphiQLFetcher({ url: url.href, wsClient: client }) };
  }
  return current.fetcher;
};
// The toolkit sends an operation over WebSocket when the editor's parsed document says it is a
// subscription; run straight after typing, that document may still be the one before. Parse
// what is sent instead.
const parsed = (query) => {
  try {
    return parse(query);
  } catch {
    return undefined;
  }
};
// graphql-ws rejects a subscription the server refuses with its GraphQL errors; GraphiQL shows
// them in the result pane, and the same rejection also goes unhandled. Only that one is muted.
window.addEventListener('unhandledrejection', (event) => {
  const reason = event.reason;
  if (Array.isArray(reason) && reason.length > 0 && reason.every((e) => typeof e?.message === 'string')) {
    event.preventDefault();
  }
});
const fetcher = (params, options) => {
  const headers = options?.headers ?? {};
  const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  return fetcherFor(authorization)(params, { ...options, documentAST: parsed(params.query) ?? options?.documentAST });
};

const example = `# Welcome to hiregraph. Run a query with the play button (or Ctrl-Enter);
# subscriptions run here too, over graphql-ws — try this one in a second tab:
#   subscription { postingPublished { title company { name } } }
{
  postings(first: 5, filter: { workplaces: [REMOTE] }) {
    totalCount
    edges { node { title seniority salary { min max currency period } company { name } } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL fetcher={fetcher} defaultQuery={example} plugins={[HISTORY_PLUGIN]} defaultEditorToolsVisibility />,
);
