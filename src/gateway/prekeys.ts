import type { z } from 'zod';
import { Signed } from '../../protocol/v1/certificate.js';
import {
  MAX_PREKEYS_PER_DEVICE,
  type PrekeyGetRequest,
  type PrekeyPublishRequest,
} from '../../protocol/v1/events.js';
import { PREKEY_AHEAD_MS, PREKEY_LIFETIME_MS } from '../../protocol/v1/prekey.js';
import { verifyPrekey } from '../crypto/prekey.js';
import type { Directory } from '../directory/directory.js';
import type { BoardPrekey, PrekeyBoard } from '../engine/prekey-board.js';
import { LiaisonError } from '../errors.js';

/**
 * `prekeys:publish` (PROTOCOL.md §5.6): keeps the session device's prekeys once each verifies
 * under its current certificate and ends no further ahead than the schedule allows. The gateway
 * checks only to keep garbage off the board: senders verify every prekey themselves.
 */
export async function publishPrekeys(
  board: PrekeyBoard,
  directory: Directory,
  device: { deviceId: string; keyId: string },
  request: z.infer<typeof PrekeyPublishRequest>,
  now: number,
): Promise<{ stored: number }> {
  const certificate = directory.usableKey(device.deviceId, device.keyId, now);
  const kept: BoardPrekey[] = [];
  for (const signed of request.prekeys) {
    const prekey = verifyPrekey(signed, certificate);
    if (prekey.notBefore > now + PREKEY_AHEAD_MS + PREKEY_LIFETIME_MS) {
      throw new LiaisonError('PREKEY_INVALID', 'prekey starts further ahead than the schedule');
    }
    if (prekey.notAfter <= now) continue;
    kept.push({
      prekeyId: prekey.prekeyId,
      notAfter: prekey.notAfter,
      text: JSON.stringify(signed),
    });
  }
  await board.put(device.deviceId, kept, now);
  return { stored: kept.length };
}

/**
 * `prekeys:get`: each device's prekeys valid now or later (at most MAX_PREKEYS_PER_DEVICE, the
 * soonest first), plus any of `prekeyIds` it still keeps (older ones, for readers).
 */
export async function servePrekeys(
  board: PrekeyBoard,
  request: z.infer<typeof PrekeyGetRequest>,
  now: number,
): Promise<{ prekeys: { deviceId: string; prekeys: Signed[] }[] }> {
  const named = new Set(request.prekeyIds ?? []);
  const kept = await board.get([...new Set(request.deviceIds)]);
  return {
    prekeys: [...kept].map(([deviceId, list]) => {
      const live = list
        .filter((p) => p.notAfter > now)
        .sort((a, b) => a.notAfter - b.notAfter)
        .slice(0, MAX_PREKEYS_PER_DEVICE);
      const asked = list.filter((p) => named.has(p.prekeyId) && p.notAfter <= now);
      const prekeys = [...live, ...asked].slice(0, MAX_PREKEYS_PER_DEVICE).flatMap((p) => {
        const signed = Signed.safeParse(safeJson(p.text));
        return signed.success ? [signed.data] : [];
      });
      return { deviceId, prekeys };
    }),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
