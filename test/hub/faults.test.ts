import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientToken } from '../../src/crypto/token.js';
import { type Deployment, HUB_AUDIENCE, makeDeployment } from '../fixtures/deployment.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { chat, connect, request, seal } from '../fixtures/gateway.js';
import { metric } from '../fixtures/metrics.js';
import { freePort } from '../fixtures/ports.js';
import {
  type ServerProcess,
  startGatewayProcess,
  startHubProcess,
  stopProcess,
} from '../fixtures/processes.js';
import { device } from '../fixtures/world.js';

// The hub stopped (SIGTERM) or killed (SIGKILL) while several pairs send through a gateway, all
// three real processes on a real Redis: once the hub is back, every envelope acknowledged to a
// sender is in its recipient's inbox once and in the record once, and the chain verifies.

/** No request may wait longer than this for its answer: one that does counts as hung. */
const ANSWER_WITHIN_MS = 30_000;

interface Counts {
  acked: number;
  refused: string[];
  hung: number;
}

describe('the hub under faults', () => {
  let deployment: Deployment;
  let gateway: ServerProcess;
  let hub: ServerProcess | undefined;
  let hubPort: number;
  /** Every envelope acknowledged to its sender in this file, by receiving office. */
  const acked = new Map<string, Set<string>>();
  const allAcked = () => [...acked.values()].flatMap((ids) => [...ids]);

  beforeAll(async () => {
    deployment = await makeDeployment(REDIS_URL);
    const gatewayPort = await freePort();
    do hubPort = await freePort();
    while (hubPort === gatewayPort);
    gateway = await startGatewayProcess(gatewayPort, deployment.gatewayEnv);
    hub = await startHubProcess(hubPort, deployment.hubEnv);
  }, 300_000);
  afterAll(async () => {
    if (hub) await stopProcess(hub.process, 'SIGKILL');
    if (gateway) await stopProcess(gateway.process, 'SIGKILL');
    await deployment?.destroy();
  });

  /**
   * Every pair's sender sends chats to its linked office, five in flight at a time, until
   * `running()` says stop. Pairs keep their own socket; an unanswered send counts as hung.
   */
  async function traffic(running: () => boolean, counts: Counts): Promise<void> {
    await Promise.all(
      deployment.pairs.map(async ([from, office]) => {
        const keys = device(deployment, from);
        const got = acked.get(office) ?? new Set<string>();
        acked.set(office, got);
        const socket: Socket = await connect(gateway, keys);
        try {
          while (running() && counts.hung === 0 && counts.refused.length === 0) {
            await Promise.all(
              Array.from({ length: 5 }, async () => {
                const envelope = await seal(deployment, keys, [office], chat(`to ${office}`));
                const answer = await request<{ ok: boolean; error?: { code: string } }>(
                  socket,
                  'envelope:send',
                  envelope,
                  ANSWER_WITHIN_MS,
                ).catch(() => undefined);
                if (!answer) counts.hung++;
                else if (answer.ok) {
                  got.add(envelope.header.id);
                  counts.acked++;
                } else counts.refused.push(answer.error?.code ?? 'no code');
              }),
            );
            await sleep(200);
          }
        } finally {
          socket.close();
        }
      }),
    );
  }

  /** Waits for `condition`, or for a send to go unanswered or refused (checked afterwards). */
  const until = async (counts: Counts, condition: () => boolean) => {
    while (!condition() && counts.hung === 0 && counts.refused.length === 0) await sleep(100);
  };

  /**
   * Stops the hub with `signal` under traffic, lets a backlog of 1,000 envelopes build, and starts
   * it again; `killWhileCatchingUp` SIGKILLs the new hub as soon as it is ready (in the middle of
   * that backlog) and starts another. Traffic flows throughout and for 100 more after.
   */
  async function faultUnderTraffic(
    signal: 'SIGTERM' | 'SIGKILL',
    killWhileCatchingUp = false,
  ): Promise<Counts> {
    const counts: Counts = { acked: 0, refused: [], hung: 0 };
    let sending = true;
    const flow = traffic(() => sending, counts);
    await until(counts, () => counts.acked >= 100);
    const stopped = hub as ServerProcess;
    hub = undefined;
    await stopProcess(stopped.process, signal);
    if (signal === 'SIGTERM') expect(stopped.process.exitCode, 'hub exit code').toBe(0);
    const whileDown = counts.acked;
    await until(counts, () => counts.acked >= whileDown + 1_000);
    hub = await startHubProcess(hubPort, deployment.hubEnv);
    if (killWhileCatchingUp) {
      await stopProcess(hub.process, 'SIGKILL');
      hub = await startHubProcess(hubPort, deployment.hubEnv);
    }
    const whileBack = counts.acked;
    await until(counts, () => counts.acked >= whileBack + 100);
    sending = false;
    await flow;
    return counts;
  }

  /** Waits until the hub has recorded every accepted envelope (its lag gauge reads 0). */
  async function hubCaughtUp(): Promise<void> {
    // A SIGKILLed hub's unacknowledged batch is taken over once it is 30 s stale.
    await expect
      .poll(() => metric(hub as ServerProcess, 'liaison_hub_lag_seconds'), {
        timeout: 180_000,
        interval: 500,
      })
      .toBe(0);
  }

  const asAnalyst = async (path: string) => {
    const token = await createClientToken(device(deployment, 'CARICC/analyst-1'), {
      audience: HUB_AUDIENCE,
    });
    const response = await fetch(`${(hub as ServerProcess).url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status, path).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: checked by the assertions that use it
    return (await response.json()) as any;
  };

  /** Every record entry's envelope id and status, in order, through GET /v1/record. */
  async function recordedIds(): Promise<{ id: string; status: string }[]> {
    const entries: { id: string; status: string }[] = [];
    let after = 0;
    for (;;) {
      const page = await asAnalyst(`/v1/record?after=${after}&limit=500`);
      entries.push(...page.entries.map((e: { id: string; status: string }) => e));
      after = page.next;
      if (!page.more) return entries;
    }
  }

  /** Every envelope id in the office's inbox, as its desk device fetches it from the start. */
  async function inboxIds(receiver: string): Promise<string[]> {
    const socket = await connect(gateway, device(deployment, receiver));
    try {
      const ids: string[] = [];
      let after = 0;
      for (;;) {
        const page = await request<{
          items: { offset: number; envelope: { header: { id: string } } }[];
          more: boolean;
        }>(socket, 'inbox:fetch', { after, limit: 500 }, ANSWER_WITHIN_MS);
        ids.push(...page.items.map((item) => item.envelope.header.id));
        after = page.items.at(-1)?.offset ?? after;
        if (!page.more) return ids;
      }
    } finally {
      socket.close();
    }
  }

  /** Acked = delivered once = recorded once, over everything this file sent so far. */
  async function expectAckedDeliveredRecordedOnce(counts: Counts): Promise<void> {
    expect(counts.hung, 'sends that got no answer').toBe(0);
    expect(counts.refused, 'sends refused').toEqual([]);
    const sent = allAcked();
    for (const [, office, receiver] of deployment.pairs) {
      const inbox = await inboxIds(receiver);
      const want = [...(acked.get(office) ?? [])];
      expect(new Set(inbox).size, `${office}: ${inbox.length} inbox items, unique`).toBe(
        inbox.length,
      );
      expect(
        new Set(inbox),
        `${office}: delivered (${inbox.length}) = acked (${want.length})`,
      ).toEqual(new Set(want));
    }
    await hubCaughtUp();
    const record = await recordedIds();
    const ids = record.map((e) => e.id);
    expect(new Set(ids).size, `record: ${ids.length} entries, unique envelope ids`).toBe(
      ids.length,
    );
    expect(new Set(ids), `recorded (${ids.length}) = acked (${sent.length})`).toEqual(
      new Set(sent),
    );
    expect(
      record.filter((e) => e.status !== 'compliant'),
      'entries not compliant',
    ).toEqual([]);
    const verify = await asAnalyst('/v1/record/verify');
    expect(verify, `verify over ${ids.length} entries`).toMatchObject({
      ok: true,
      entries: sent.length,
    });
  }

  // Three processes compiled on the fly, a restart, and a 30 s takeover: minutes when busy.
  it('a hub stopped with SIGTERM under traffic and started again records every acked envelope once', {
    timeout: 480_000,
  }, async () => {
    const counts = await faultUnderTraffic('SIGTERM');
    await expectAckedDeliveredRecordedOnce(counts);
  });

  it('a hub killed with SIGKILL under traffic, and again while it catches up, records every acked envelope once', {
    timeout: 480_000,
  }, async () => {
    const counts = await faultUnderTraffic('SIGKILL', true);
    await expectAckedDeliveredRecordedOnce(counts);
  });
});
