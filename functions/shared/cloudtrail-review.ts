import { type CloudTrailClient, type LookupAttribute, LookupEventsCommand, ThrottlingException } from '@aws-sdk/client-cloudtrail';
import { type JsonObject, parseLookupEvent } from './cloudtrail';
import { isAwsError, isTransientAwsError, typedAwsError } from './errors';
import type { QueryStats } from './contracts/evidence-collection';
import type { LimiterPool, Timer } from './rate-limit';

/**
 * Review CloudTrail with LookupEvents: one lookup attribute per call, 50 events per page, every
 * page (NextToken), never more than 2 calls/s per account and region (one limiter each, regions
 * in parallel), backing off on ThrottlingException. Each page is handed to `onPage` as it arrives
 * (the evidence writer streams it to a file) so the whole result is never one payload.
 */
export const LOOKUP_RATE_PER_SECOND = 2;
export const PAGE_SIZE = 50;

export const cloudTrailReviewPermissions = ['cloudtrail:LookupEvents'] as const;

export interface LookupQuery {
  /** A short label for files and counts, e.g. "root" or "access-key-AKIA...". */
  label: string;
  attribute: LookupAttribute;
  startTime: Date;
  endTime: Date;
}

export interface ReviewedEvent {
  region: string;
  query: string;
  record: JsonObject;
}

export interface ReviewDeps {
  cloudtrail: (region: string) => Pick<CloudTrailClient, 'send'>;
  limiters: LimiterPool;
  timer: Timer;
  accountId: string;
  onPage?: (page: { region: string; query: string; page: number; events: JsonObject[] }) => Promise<void>;
  /** Retries of one page after throttling or a transient error. */
  maxAttempts?: number;
}

/** Every page of one query in one region. */
export async function lookupAll(
  region: string,
  query: LookupQuery,
  deps: ReviewDeps,
): Promise<{ events: ReviewedEvent[]; stats: QueryStats }> {
  const client = deps.cloudtrail(region);
  const limiter = deps.limiters.for(`${deps.accountId}:${region}`);
  const maxAttempts = deps.maxAttempts ?? 8;
  const stats: QueryStats = { region, query: query.label, calls: 0, pages: 0, events: 0, throttled: 0 };
  const events: ReviewedEvent[] = [];
  let nextToken: string | undefined;
  do {
    let attempt = 0;
    for (;;) {
      await limiter.take();
      stats.calls += 1;
      try {
        const out = await client.send(
          new LookupEventsCommand({
            LookupAttributes: [query.attribute],
            StartTime: query.startTime,
            EndTime: query.endTime,
            MaxResults: PAGE_SIZE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        const page = (out.Events ?? []).map(parseLookupEvent).filter((e): e is JsonObject => e !== undefined);
        stats.pages += 1;
        stats.events += page.length;
        for (const record of page) events.push({ region, query: query.label, record });
        await deps.onPage?.({ region, query: query.label, page: stats.pages, events: page });
        nextToken = out.NextToken;
        break;
      } catch (error) {
        attempt += 1;
        const throttled = isAwsError(error, ThrottlingException);
        if (throttled) stats.throttled += 1;
        if (!(throttled || isTransientAwsError(error)) || attempt >= maxAttempts) {
          // Throttling and 5xx become TransientAwsError (the state machine retries), the rest typed.
          throw typedAwsError(`cloudtrail:LookupEvents ${region}`, error);
        }
        // Exponential backoff with a cap; the limiter still spaces the retry.
        await deps.timer.sleep(Math.min(8000, 250 * 2 ** (attempt - 1)));
      }
    }
  } while (nextToken);
  return { events, stats };
}

/** Run queries in every region: regions in parallel, each region's queries in turn under its limiter. */
export async function reviewRegions(
  regions: readonly string[],
  queriesFor: (region: string) => LookupQuery[],
  deps: ReviewDeps,
): Promise<{ events: ReviewedEvent[]; stats: QueryStats[] }> {
  const perRegion = await Promise.all(
    regions.map(async (region) => {
      const events: ReviewedEvent[] = [];
      const stats: QueryStats[] = [];
      for (const query of queriesFor(region)) {
        const result = await lookupAll(region, query, deps);
        events.push(...result.events);
        stats.push(result.stats);
      }
      return { events, stats };
    }),
  );
  return { events: perRegion.flatMap((r) => r.events), stats: perRegion.flatMap((r) => r.stats) };
}
