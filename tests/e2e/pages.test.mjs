// The salesperson's journey through the pages, in a real browser:
// signup → logout → login → two leads → search → sort → edit (an invalid
// email first) → delete with confirmation → a second browser's session →
// revoke it → change password → the old password fails.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, launch, newPage, capture, unlabelledControls } from './browser.mjs';

const user = `e2e_${Date.now().toString(36)}`;
const password = 'Orange-Kite-Sunrise-42';
const newPassword = 'Purple-Lantern-Harbor-77';
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function login(page, username, pass) {
  await page.goto(`${BASE_URL}/login`);
  await page.fill('#id_username', username);
  await page.fill('#id_password', pass);
  await page.click('main button[type=submit]');
}

async function flash(page) {
  return (await page.textContent('.flash'))?.trim();
}

test('a salesperson manages leads and sessions in the browser', async () => {
  const context = await browser.newContext({ userAgent: 'E2E Browser One' });
  const page = await newPage(context);

  // Sign up.
  await page.goto(`${BASE_URL}/`);
  assert.match(page.url(), /\/login$/);
  await page.click('text=Sign up');
  await capture(page, 'signup');
  assert.deepEqual(await unlabelledControls(page), []);
  await page.fill('#id_username', user);
  await page.fill('#id_email', `${user}@example.com`);
  await page.fill('#id_password', password);
  await page.click('main button[type=submit]');
  assert.match(page.url(), /\/leads$/);
  assert.equal(await flash(page), `Welcome, ${user}!`);
  assert.match(await page.textContent('.empty'), /no leads yet/);
  assert.match(await capture(page, 'leads-empty'), /Welcome, /, 'the flash after the redirect');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name.endsWith('leads_session'));
  assert.ok(session, 'a session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');

  // Log out, then log in.
  await page.click('header button:has-text("Log out")');
  assert.match(page.url(), /\/login$/);
  assert.equal(await flash(page), 'You have been logged out.');
  await capture(page, 'login');
  assert.deepEqual(await unlabelledControls(page), []);
  await login(page, user, 'wrong-password-0');
  assert.match(await page.textContent('.form-errors'), /Incorrect Credentials Passed\./);
  assert.equal(await page.inputValue('#id_username'), user, 'the username is kept');
  assert.match(await capture(page, 'login-error'), /Incorrect Credentials Passed\./);
  await login(page, user, password);
  assert.match(page.url(), /\/leads$/);
  assert.equal(await flash(page), `Welcome back, ${user}.`);

  // Create two leads.
  for (const [name, email, message] of [
    ['Zoe Zimmer', `zoe.${user}@example.com`, 'Wants a demo next week'],
    ['Adam Abbot', `adam.${user}@example.com`, 'Asked about pricing'],
  ]) {
    await page.click('text=New lead');
    await page.fill('#id_name', name);
    await page.fill('#id_email', email);
    await page.fill('#id_message', message);
    if (name.startsWith('Zoe')) {
      await capture(page, 'lead-new');
      assert.deepEqual(await unlabelledControls(page), []);
    }
    await page.click('main button[type=submit]');
    assert.equal(await flash(page), `Lead “${name}” created.`);
  }
  assert.equal(await page.locator('tbody tr').count(), 2);
  await capture(page, 'leads-two');

  // Search.
  await page.fill('#id_search', 'pricing');
  await page.click('form.search button');
  assert.equal(await page.locator('tbody tr').count(), 1);
  assert.equal(await page.textContent('tbody tr td'), 'Adam Abbot');
  assert.match(await page.textContent('.count'), /1 lead matching “pricing”/);
  await capture(page, 'leads-search');
  await page.click('text=Clear');

  // Sort by name, both ways.
  await page.click('th a:has-text("Name")');
  assert.deepEqual(await page.locator('tbody tr td:first-child').allTextContents(), ['Adam Abbot', 'Zoe Zimmer']);
  assert.equal(await page.getAttribute('th:has-text("Name")', 'aria-sort'), 'ascending');
  await page.click('th a:has-text("Name")');
  assert.deepEqual(await page.locator('tbody tr td:first-child').allTextContents(), ['Zoe Zimmer', 'Adam Abbot']);
  assert.equal(await page.getAttribute('th:has-text("Name")', 'aria-sort'), 'descending');
  await capture(page, 'leads-sorted');

  // Edit, with a validation error first.
  await page.click('tbody tr:has-text("Zoe Zimmer") a:has-text("Edit")');
  await page.fill('#id_email', 'not-an-email');
  await page.fill('#id_name', 'Zoe Zimmermann');
  await page.click('main button[type=submit]');
  assert.equal((await page.textContent('#id_email_errors')).trim(), 'Enter a valid email address.');
  assert.equal(await page.getAttribute('#id_email', 'aria-describedby'), 'id_email_errors');
  assert.equal(await page.inputValue('#id_name'), 'Zoe Zimmermann', 'the input is kept');
  assert.match(await capture(page, 'lead-edit-error'), /Enter a valid email address\./);
  await page.fill('#id_email', `zoe.z.${user}@example.com`);
  await page.click('main button[type=submit]');
  assert.equal(await flash(page), 'Lead “Zoe Zimmermann” saved.');
  assert.ok(await page.isVisible(`td:has-text("zoe.z.${user}@example.com")`));

  // Delete, through the confirmation page.
  await page.click('tbody tr:has-text("Adam Abbot") a:has-text("Delete")');
  assert.match(await page.textContent('h1'), /Delete lead\?/);
  assert.match(await page.textContent('main'), /Adam Abbot/);
  await capture(page, 'lead-delete-confirm');
  await page.click('button:has-text("Yes, delete it")');
  assert.equal(await flash(page), 'Lead “Adam Abbot” deleted.');
  assert.equal(await page.locator('tbody tr').count(), 1);

  // A second browser logs in: two sessions.
  const other = await browser.newContext({ userAgent: 'E2E Browser Two' });
  const otherPage = await newPage(other);
  await login(otherPage, user, password);
  assert.match(otherPage.url(), /\/leads$/);
  await page.click('text=Account');
  assert.equal(await page.locator('tbody tr').count(), 2);
  assert.match(await page.textContent('tr.current'), /E2E Browser One.*This session/s);
  assert.match(await page.textContent('tbody'), /E2E Browser Two/);
  await capture(page, 'sessions-two');

  // Revoke the other one: that browser is logged out at its next step.
  await page.click('tr:has-text("E2E Browser Two") button:has-text("Revoke")');
  assert.equal(await flash(page), 'Session revoked.');
  assert.equal(await page.locator('tbody tr').count(), 1);
  await otherPage.goto(`${BASE_URL}/leads`);
  assert.match(otherPage.url(), /\/login\?next=%2Fleads$/);
  await other.close();

  // Change the password; the old one then fails.
  await page.click('text=Change password');
  await capture(page, 'password');
  assert.deepEqual(await unlabelledControls(page), []);
  await page.fill('#id_old_password', 'not-my-password');
  await page.fill('#id_new_password', newPassword);
  await page.click('main button[type=submit]');
  assert.match(await page.textContent('#id_old_password_errors'), /old password was entered incorrectly/);
  assert.match(await capture(page, 'password-error'), /old password was entered incorrectly/);
  await page.fill('#id_old_password', password);
  await page.fill('#id_new_password', newPassword);
  await page.click('main button[type=submit]');
  assert.equal(await flash(page), 'Password changed. Your other sessions were signed out.');
  await page.click('header button:has-text("Log out")');
  await login(page, user, password);
  assert.match(await page.textContent('.form-errors'), /Incorrect Credentials Passed\./);
  await login(page, user, newPassword);
  assert.match(page.url(), /\/leads$/);

  // Error pages in the app's style.
  const missing = await page.goto(`${BASE_URL}/leads/999999999/edit`);
  assert.equal(missing.status(), 404);
  assert.equal((await page.textContent('h1')).trim(), 'Page not found');
  await capture(page, 'not-found');
  await context.close();
});
