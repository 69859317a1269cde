import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { InvalidStepInputError } from './errors';
import { logger } from './logger';

/**
 * The thin Lambda adapter every workflow step shares: parse the input with zod (a mismatch is an
 * InvalidStepInputError, never a crash deeper in), tag the logs with the incident id, build the
 * deps, call the step, return plain JSON for the next state.
 */
export function stepHandler<S extends z.ZodType, D, O>(options: {
  step: string;
  schema: S;
  incidentId: (input: z.infer<S>) => string;
  /** The step's dependencies, built from its parsed input (the target account, the incident's folder, the baseline read once...). */
  deps: (input: z.infer<S>) => D | Promise<D>;
  run: (input: z.infer<S>, deps: D) => Promise<O>;
}): (event: unknown, context?: Context) => Promise<O> {
  return async (event: unknown, context?: Context) => {
    // Request id, function name, cold start: on every line of this invocation.
    if (context) logger.addContext(context);
    const parsed = options.schema.safeParse(event);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      logger.error('Step input does not match its contract', { step: options.step, issues });
      throw new InvalidStepInputError(`${options.step}: input does not match its contract: ${issues.join('; ')}`, issues);
    }
    logger.appendKeys({ incidentId: options.incidentId(parsed.data), step: options.step });
    try {
      const output = await options.run(parsed.data, await options.deps(parsed.data));
      logger.info('Step finished', { status: (output as { status?: unknown } | null)?.status });
      return output;
    } catch (error) {
      logger.error('Step failed', { error: error as Error });
      throw error;
    } finally {
      logger.removeKeys(['incidentId', 'step']);
    }
  };
}
