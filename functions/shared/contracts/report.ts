import { z } from 'zod';
import { INCIDENT_STATUSES } from '../schemas';
import { invoked, SeveritySchema } from './common';

/** Write Incident Report's output: a reference to the report, not the report (256 KiB a state). */
export const ReportWrittenSchema = z.object({
  step: z.literal('write-incident-report'),
  status: z.literal('done'),
  incidentStatus: z.enum(INCIDENT_STATUSES),
  severity: SeveritySchema,
  findings: z.number().int().min(0),
  openItems: z.array(z.string()),
  stored: z.object({ location: z.string(), files: z.array(z.string()) }),
});
export type ReportWritten = z.infer<typeof ReportWrittenSchema>;

/** `$.report`. */
export const ReportResultSchema = invoked(ReportWrittenSchema);
