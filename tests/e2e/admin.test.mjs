// A superuser (made with `leads createsuperuser`) works through the admin
// pages in a real browser: search, owner filter, sorting both ways by two
// columns, paging, bulk delete through the confirmation page, reassign, CSV
// export of the filtered list, deactivate and reactivate a user.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BASE_URL, launch, newPage, capture, unlabelledControls } from './browser.mjs';

const ADMIN = process.env.ADMIN_USER;
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
const run = Date.now().toString(36);
const PASSWORD = 'Seller-Password-Strong-9';
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function api(method, path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Token ${token}`;
  const response = await fetch(`${BASE_URL}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** RFC 4180 rows: quoted fields may hold commas, quotes and newlines. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r') continue;
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

async function resultCount(page) {
  const text = await page.textContent('#result-count');
  const match = text.match(/(\d+) results? \((\d+) total\)/);
  return { count: Number(match[1]), total: Number(match[2]) };
}

async function firstColumn(page, index) {
  return page.locator(`tbody tr td:nth-child(${index})`).allTextContents();
}

test('a superuser manages every lead and user from the admin pages', async () => {
  assert.ok(ADMIN && ADMIN_PASSWORD, 'ADMIN_USER and ADMIN_PASSWORD name the CLI-made superuser');

  // Three salespeople with leads, through the API.
  const sellers = {};
  for (const name of ['ana', 'ben', 'cy']) {
    const username = `${name}_${run}`;
    const reg = await api('POST', '/api/auth/register', { username, email: `${username}@example.com`, password: PASSWORD });
    assert.equal(reg.status, 200);
    sellers[name] = { username, token: reg.body.token, id: reg.body.user.id };
  }
  for (let i = 0; i < 30; i++) {
    const owner = ['ana', 'ben', 'cy'][i % 3];
    const r = await api('POST', '/api/leads/', {
      name: `${String.fromCharCode(65 + (i % 26))}${run} Lead ${String(i).padStart(2, '0')}`,
      email: `lead${i}.${run}@example.com`,
      message: i % 5 === 0 ? `needle ${run} in the message` : 'hay',
    }, sellers[owner].token);
    assert.equal(r.status, 201);
  }

  const context = await browser.newContext({ acceptDownloads: true });
  const page = await newPage(context);
  await page.goto(`${BASE_URL}/admin/leads`);
  assert.match(page.url(), /\/login\?next=%2Fadmin%2Fleads$/);
  await page.fill('#id_username', ADMIN);
  await page.fill('#id_password', ADMIN_PASSWORD);
  await page.click('main button[type=submit]');
  assert.match(page.url(), /\/admin\/leads$/);
  const start = await resultCount(page);
  assert.ok(start.count >= 30 && start.count === start.total);
  assert.deepEqual(await unlabelledControls(page), []);
  await capture(page, 'admin-leads');

  // Search.
  await page.fill('#id_q', `needle ${run}`);
  await page.click('form.filters button[type=submit]');
  assert.deepEqual(await resultCount(page), { count: 6, total: start.total });
  await capture(page, 'admin-search');
  await page.click('text=Reset');

  // Filter by owner.
  await page.selectOption('#id_owner', { label: sellers.ben.username });
  await page.selectOption('#id_per_page', '25');
  await page.click('form.filters button[type=submit]');
  assert.deepEqual(await resultCount(page), { count: 10, total: start.total });
  assert.deepEqual(new Set(await firstColumn(page, 6)), new Set([sellers.ben.username]));

  // Sort both ways by name, then by email.
  await page.click('th a:has-text("Name")');
  let names = await firstColumn(page, 3);
  assert.deepEqual(names, [...names].sort());
  assert.equal(await page.getAttribute('th:has-text("Name")', 'aria-sort'), 'ascending');
  await page.click('th a:has-text("Name")');
  names = await firstColumn(page, 3);
  assert.deepEqual(names, [...names].sort().reverse());
  assert.equal(await page.getAttribute('th:has-text("Name")', 'aria-sort'), 'descending');
  await page.click('th a:has-text("Email")');
  let emails = await firstColumn(page, 4);
  assert.deepEqual(emails, [...emails].sort());
  await page.click('th a:has-text("Email")');
  emails = await firstColumn(page, 4);
  assert.deepEqual(emails, [...emails].sort().reverse());
  assert.match(page.url(), /owner=\d+/, 'the filter survives sorting');
  await capture(page, 'admin-sorted');

  // Pages: every lead, 25 a page.
  await page.goto(`${BASE_URL}/admin/leads?per_page=25&ordering=id`);
  const pages = Math.ceil(start.count / 25);
  assert.match(await page.textContent('.pagination'), new RegExp(`Page 1 of ${pages}`));
  await page.click('.pagination a[rel=next]');
  assert.match(await page.textContent('.pagination'), new RegExp(`Page 2 of ${pages}`));
  assert.match(page.url(), /per_page=25/);

  // Bulk delete three of ben's leads, through the confirmation page.
  await page.goto(`${BASE_URL}/admin/leads?owner=${sellers.ben.id}&ordering=id`);
  const boxes = page.locator('tbody input[type=checkbox]');
  for (let i = 0; i < 3; i++) await boxes.nth(i).check();
  await page.selectOption('#id_action', 'delete');
  await page.click('.bulk button');
  assert.match(await page.textContent('h1'), /Are you sure\?/);
  assert.equal(await page.locator('ul.doomed li').count(), 3);
  assert.match(await capture(page, 'admin-confirm-delete'), /Are you sure\?/);
  await page.click('button:has-text("Yes, I’m sure")');
  assert.equal((await page.textContent('.flash')).trim(), 'Deleted 3 leads.');
  assert.deepEqual(await resultCount(page), { count: 7, total: start.total - 3 });
  assert.match(await capture(page, 'admin-deleted'), /Deleted 3 leads\./);

  // Reassign two of them to cy.
  for (let i = 0; i < 2; i++) await boxes.nth(i).check();
  await page.selectOption('#id_action', 'reassign');
  await page.selectOption('#id_new_owner', { label: sellers.cy.username });
  await page.click('.bulk button');
  assert.equal((await page.textContent('.flash')).trim(), 'Reassigned 2 leads.');
  assert.equal((await resultCount(page)).count, 5);
  const cyLeads = await api('GET', '/api/leads/', null, sellers.cy.token);
  assert.equal(cyLeads.body.length, 12);

  // Export the filtered list: the file's rows are the list's rows.
  await page.goto(`${BASE_URL}/admin/leads?owner=${sellers.cy.id}&ordering=-name&per_page=100`);
  const shownIds = await firstColumn(page, 2);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export CSV')]);
  const rows = parseCsv(readFileSync(await download.path(), 'utf8'));
  assert.deepEqual(rows[0], ['id', 'name', 'email', 'message', 'owner', 'created_at']);
  assert.deepEqual(rows.slice(1).map((r) => r[0]), shownIds);
  assert.ok(rows.slice(1).every((r) => r[4] === sellers.cy.username));

  // Deactivate ana: her token stops working at once; then reactivate.
  await page.goto(`${BASE_URL}/admin/users?q=${run}`);
  await capture(page, 'admin-users');
  assert.deepEqual(await unlabelledControls(page), []);
  await page.click(`#user-${sellers.ana.username} button:has-text("Deactivate")`);
  assert.match(await page.textContent('.flash'), /Deactivated .*their sessions were revoked/);
  assert.equal((await api('GET', '/api/leads/', null, sellers.ana.token)).status, 401);
  const refused = await api('POST', '/api/auth/login', { username: sellers.ana.username, password: PASSWORD });
  assert.equal(refused.status, 400);
  await page.click(`#user-${sellers.ana.username} button:has-text("Reactivate")`);
  assert.match(await page.textContent('.flash'), /Reactivated/);
  const back = await api('POST', '/api/auth/login', { username: sellers.ana.username, password: PASSWORD });
  assert.equal(back.status, 200);
  await context.close();
});
