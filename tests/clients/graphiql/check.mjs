// Drives Debian's Chromium (headless) through hiregraph's GraphiQL with every other origin cut
// off, as on a machine with no internet:
//   node check.mjs http://127.0.0.1:PORT ACCESS_TOKEN POSTING_ID DRAFT_POSTING_ID
// The page renders its editor, a query typed into it runs and its data shows in the result pane;
// the Headers tab and the docs explorer are there; a subscription typed into it receives the
// change this script then makes through the API; with the owner's token in the Headers tab, a
// subscription to their draft (hidden from the public) receives its change too. Prints one line per step, exits 0 when all pass.
import { chromium } from 'playwright-core';

const [base, token, posting, draft] = process.argv.slice(2);
const origin = new URL(base).origin;
const wsOrigin = origin.replace(/^http/, 'ws');
const browser = await chromium.launch({
  executablePath: process.env.HIREGRAPH_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const failures = [];
const foreign = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => failures.push(`page error: ${e?.message ?? ''} ${JSON.stringify(e)} ${e?.stack ?? ''}`));
  page.on('console', (m) => m.type() === 'error' && failures.push(`console error: ${m.text()}`));
  // Offline: whatever is not this server is refused.
  await page.route(
    (url) => url.origin !== origin && url.origin !== wsOrigin && url.protocol !== 'data:',
    (route) => {
      foreign.push(route.request().url());
      return route.abort();
    },
  );
  await page.goto(`${base}/`);
  const queryEditor = page.locator('.graphiql-query-editor .monaco-editor').first();
  await queryEditor.waitFor({ timeout: 30_000 });
  console.log('rendered: the query editor is there');

  const response = page.locator('.graphiql-response .view-lines').first();
  const execute = page.locator('.graphiql-execute-button').first();
  const run = async (document) => {
    // While a subscription runs, the button stops it.
    if ((await execute.getAttribute('aria-label'))?.startsWith('Stop')) await execute.click();
    await queryEditor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(document);
    await execute.click();
  };
  const responseContains = async (text, timeout = 15_000) => {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const shown = (await response.innerText().catch(() => '')).replace(/\s+/g, ' ');
      if (shown.includes(text)) return shown;
      await page.waitForTimeout(100);
    }
    throw new Error(`the result pane never showed ${text}: ${await response.innerText().catch(() => '(none)')}`);
  };

  await run('{ posting(id: "' + posting + '") { title status } }');
  await responseContains('"status": "PUBLISHED"');
  console.log('query: typed, run, its data in the result pane');

  await page.getByRole('button', { name: 'Headers' }).first().waitFor({ timeout: 5_000 });
  console.log('headers: the Headers tab is there');
  await page.locator('[aria-label="Show Documentation Explorer"]').first().click();
  await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().waitFor({ timeout: 10_000 });
  console.log('docs: the explorer shows the schema');

  const api = async (query, variables) => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()).data;
  };
  const retitle = async (id, title) => {
    const { posting: current } = await api('query($id: ID!) { posting(id: $id) { version } }', { id });
    await api('mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { title } } }', {
      i: { id, expectedVersion: current.version, title },
    });
  };
  const subscription = (id) => `subscription { postingChanged(id: "${id}") { type posting { title status } } }`;

  await run(subscription(posting));
  await page.waitForTimeout(1_000);
  await retitle(posting, 'Seen live in GraphiQL');
  await responseContains('Seen live in GraphiQL');
  console.log('subscription: typed, run over graphql-ws, the change arrived');

  // Anonymous, the draft is not found; with the token in the Headers tab it is followed.
  await run(subscription(draft));
  await responseContains('NOT_FOUND');
  await page.getByRole('button', { name: 'Headers' }).first().click();
  const headersEditor = page.locator('.graphiql-editor-tool .monaco-editor').last();
  await headersEditor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
  await page.waitForTimeout(500);
  await run(subscription(draft));
  await page.waitForTimeout(1_000);
  await retitle(draft, 'A draft seen by its owner');
  await responseContains('A draft seen by its owner');
  console.log('signed-in subscription: the Headers tab authorization reached connection_init');
  if (process.env.HIREGRAPH_SCREENSHOT) await page.screenshot({ path: process.env.HIREGRAPH_SCREENSHOT });
} catch (err) {
  failures.push(String(err));
} finally {
  await browser.close();
}
if (foreign.length) failures.push(`requests to other origins: ${foreign.join(', ')}`);
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('ok');
