import { z } from 'zod';

/** `GET /v1/record`'s paging (the filter is the protocol's `RecordFilter`). */
export const Paging = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** `GET /v1/stats`'s query. */
export const StatsQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
  until: z.coerce.number().int().min(0).optional(),
  silentHours: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
});
