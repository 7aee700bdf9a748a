import { newContext, shot, signIn, startStack } from './stack.js';

const stack = await startStack();
const ctx = await newContext(stack);
const page = await signIn(stack, ctx, 'KZ-KORDAI/desk-1');
page.on('console', (m) => console.log('console:', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message, e.stack));
await page.getByTestId('office-KG-AKZHOL').waitFor();
await page.locator('textarea[name=message]').fill('Convoy of three trucks at 10:40');
await page.getByRole('button', { name: 'Send', exact: true }).click();
await page.waitForTimeout(3000);
await shot(page, 'debug-2');
console.log(await page.locator('main').innerText());
await stack.close();
